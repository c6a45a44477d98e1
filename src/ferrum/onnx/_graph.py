"""The ONNX graph under construction: value names, nodes, initializers, and the small helpers the
symbolic functions (``_ops_*.py``) share.

A traced tensor is known by identity: ``values[id(t)] = (name, t)`` (the tensor is kept alive so
its id cannot be reused during the export). An in-place op rebinds the id to the new value's name,
so later reads see the written value, as they do in the eager run. A tensor the graph does not know
is resolved by ``name_of``: a parameter or buffer of the model becomes an initializer under its
state-dict name (once, even when tied: GPT's ``lm_head.weight`` is its ``wte.weight``); a tensor
with a ``grad_fn`` was computed from traced values by an operator the tracer did not see, so the
export stops with ``UnsupportedOperatorError`` naming that node; anything else (a mask built from
``ferrum.ones``, ``arange`` positions) is a constant of the traced run and becomes an initializer.

Opset differences are kept here (``reduce``: ReduceMean/Max take ``axes`` as an input from opset
18, ReduceSum from 13), so a symbolic writes one call whatever the opset.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from .errors import UnsupportedOperatorError


def _onnx():
    import onnx
    return onnx


class Graph:
    """Nodes and initializers of one export; ``opset`` is the default domain's version."""

    def __init__(self, opset: int, params: dict) -> None:
        self.opset = opset
        self.params = params            # id(tensor) -> (state-dict name, tensor)
        self.values: dict = {}          # id(tensor) -> (value name, tensor)
        self.nodes: list = []
        self.inits: dict = {}           # name -> numpy array
        self.used_names: set = set()
        self.untraced: dict = {}        # id(tensor) -> (tensor, the function that made it)
        self._n = 0

    # ------------------------------------------------------------------------------------ names
    def fresh(self, hint: str = "v") -> str:
        self._n += 1
        name = f"{hint}_{self._n}"
        self.used_names.add(name)
        return name

    def bind(self, t: Tensor, name: str) -> None:
        self.values[id(t)] = (name, t)

    def known(self, t) -> bool:
        """Whether ``t`` is a value of the graph (traced, a parameter or buffer, or made by untraced
        code: the last kind makes any operator that reads it resolve it, and so fail, rather than
        fold its result into a constant)."""
        if not isinstance(t, Tensor):
            return False
        i = id(t)
        if i in self.values or i in self.params:
            return True
        made = self.untraced.get(i)
        return made is not None and made[0] is t

    def name_of(self, t: Tensor) -> str:
        """The value name of ``t`` (see the module docstring for tensors the graph has not seen)."""
        hit = self.values.get(id(t))
        if hit is not None:
            return hit[0]
        p = self.params.get(id(t))
        if p is not None:
            name = p[0]
            self.inits[name] = _array(t)
            self.used_names.add(name)
            self.bind(t, name)
            return name
        if t.grad_fn is not None:
            node = t.grad_fn.name()
            raise UnsupportedOperatorError(node, "the traced forward computed a tensor through an operator "
                                           "that has no ONNX mapping (its autograd node is shown)")
        made = self.untraced.get(id(t))
        if made is not None and made[0] is t:
            raise UnsupportedOperatorError(made[1], "the traced forward made a tensor outside every operator "
                                           "the exporter knows (the function that made it is shown)")
        name = self.const(_array(t), "const")
        self.bind(t, name)
        return name

    # ---------------------------------------------------------------------------- constructors
    def const(self, value, hint: str = "const") -> str:
        name = self.fresh(hint)
        self.inits[name] = np.asarray(value)
        return name

    def ints(self, seq) -> str:
        """A 1-D int64 constant (shapes, axes, starts/ends)."""
        return self.const(np.asarray(list(seq), dtype=np.int64), "ints")

    def scalar(self, value, dtype) -> str:
        return self.const(np.asarray(value, dtype=dtype), "scalar")

    def op(self, op_type: str, *inputs, n_out: int = 1, **attrs):
        """Appends a node; returns its output name (a list when ``n_out > 1``). ``None`` inputs
        are ONNX's omitted optional inputs (trailing ones are dropped)."""
        onnx = _onnx()
        ins = ["" if i is None else i for i in inputs]
        while ins and ins[-1] == "":
            ins.pop()
        outs = [self.fresh(op_type.lower()) for _ in range(n_out)]
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(onnx.helper.make_node(op_type, ins, outs, **attrs))
        return outs[0] if n_out == 1 else outs

    # ------------------------------------------------------------------------------- helpers
    def cast(self, name: str, np_dtype) -> str:
        onnx = _onnx()
        return self.op("Cast", name, to=onnx.helper.np_dtype_to_tensor_dtype(np.dtype(np_dtype)))

    def operand(self, x, dtype) -> str:
        """``x`` (a Tensor or a Python number) as a value of numpy dtype ``dtype`` (a Cast where a
        tensor's dtype differs: PyTorch's promotion already decided the result's dtype)."""
        if isinstance(x, Tensor):
            n = self.name_of(x)
            return n if x._data.dtype == dtype else self.cast(n, dtype)
        from ._symint import SymInt
        if isinstance(x, SymInt) and x.graph is self:   # a size that follows a dynamic axis
            return x.name if np.dtype(dtype) == np.int64 else self.cast(x.name, dtype)
        return self.scalar(x, dtype)

    def reduce(self, op_type: str, x: str, axes, keepdims: bool) -> str:
        axes = None if axes is None else [int(a) for a in axes]
        if op_type == "ReduceSum" or self.opset >= 18:
            ax = None if axes is None else self.ints(axes)
            return self.op(op_type, x, ax, keepdims=int(keepdims))
        return self.op(op_type, x, axes=axes, keepdims=int(keepdims))

    def unsqueeze(self, x: str, axes) -> str:
        return self.op("Unsqueeze", x, self.ints(axes))

    def squeeze(self, x: str, axes) -> str:
        return self.op("Squeeze", x, self.ints(axes))

    def reshape(self, x: str, in_shape, shape, in_id: int | None = None) -> str:
        """Reshape to ``shape`` (a tuple with at most one -1) keeping dynamic axes dynamic: an
        entry equal to the input's size at the same position is written 0 (ONNX: copy that input
        dimension), so ``x.view(x.size(0), -1)`` or ``view(B, T, C)`` follows the batch size.
        Where the target has a -1, it absorbs every other change. A symbolic size (``_symint``)
        read off the input (``in_id``) at the same position is a copy too; any other symbolic size
        makes the shape a computed value."""
        from ._symint import SymInt, int_values
        if any(isinstance(s, SymInt) and s.graph is self for s in shape):
            spec = []
            for i, s in enumerate(shape):
                if isinstance(s, SymInt) and s.graph is self:
                    spec.append(0 if s.origin == (in_id, i) else s)
                else:
                    s = int(s)
                    spec.append(0 if i < len(in_shape) and s == in_shape[i] and s > 0 else s)
            return self.op("Reshape", x, int_values(self, spec))
        spec = [int(s) for s in shape]
        ok_zero = True
        for i, s in enumerate(spec):
            if i < len(in_shape) and s == in_shape[i] and s != -1 and s != 0:
                spec[i] = 0
        if 0 in [int(s) for s in shape]:
            ok_zero = False  # a literal zero-size dim: keep the literal shape with allowzero
        if not ok_zero:
            return self.op("Reshape", x, self.ints([int(s) for s in shape]), allowzero=1)
        return self.op("Reshape", x, self.ints(spec))

    def slice(self, x: str, starts, ends, axes, steps=None) -> str:
        return self.op("Slice", x, self.ints(starts), self.ints(ends), self.ints(axes),
                       None if steps is None else self.ints(steps))


def dtype_of(t: Tensor) -> np.dtype:
    """The NumPy dtype of a tensor's array (what ONNX element types are derived from)."""
    return t._data.dtype


def int_list(v, n: int) -> list:
    """An int or a sequence of ints (a kernel size, a stride...) as a list of ``n`` ints."""
    return [int(x) for x in v] if isinstance(v, (tuple, list)) else [int(v)] * n


def _array(t: Tensor) -> np.ndarray:
    a = t._data
    if not isinstance(a, np.ndarray):  # a CuPy array
        a = a.get()
    return np.ascontiguousarray(a)


# name -> symbolic ``sym(g, out, *args, **kwargs)`` (the traced function's own arguments) returning
# the value name(s) of ``out``; the _ops_*.py modules fill it
SYMBOLICS: dict = {}
# module class -> ``sym(g, out, module, *args, **kwargs)`` for layers recorded whole (RNN, LSTM, GRU)
MODULE_SYMBOLICS: dict = {}


def register(*names: str):
    def deco(fn):
        for n in names:
            SYMBOLICS[n] = fn
        return fn
    return deco
