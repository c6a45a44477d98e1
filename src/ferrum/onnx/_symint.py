"""Sizes that stay symbolic during an export: ``x.shape`` and ``x.size()`` of a traced tensor.

While the tracer runs, reading the shape of a traced tensor in the model's own code (depth 0)
gives a ``Size`` of ``SymInt``s: ints with their eager value, which also carry the ONNX value
that computes them (``Gather(Shape(x), i)``, an int64 scalar). Arithmetic on them (``+ - * //``,
negation) records the same arithmetic in the graph, and the symbolics that take sizes (``view``/
``reshape``, ``expand``, slicing bounds, ``arange``, ``zeros``/``ones``/``full``) build their size
inputs from those values, so a size computed from a dynamic axis follows it: GPT's
``arange(0, T)`` positions and ``view(B, T, n_head, head_dim)`` follow the sequence length.

Anywhere else a SymInt is just its int (a constant of the trace, as without it): Python control
flow, comparisons, NumPy. Outside the exporting thread, at depth > 0 (ferrum's own code) or once
the export is over, arithmetic gives plain ints, and ``shape`` is the plain property again (the
tracer swaps it in and out with the other patches).
"""

from __future__ import annotations

from .._tensor import Size


class SymInt(int):
    """An int that is also an ONNX int64 scalar value of one export's graph."""

    def __new__(cls, value: int, name: str, graph, origin=None):
        self = super().__new__(cls, value)
        self.name = name
        self.graph = graph
        self.origin = origin   # (id(tensor), dim) for a size read off a tensor, else None
        return self

    def _live(self):
        from ._trace import _ACTIVE
        tr = _ACTIVE[0]
        return tr is not None and tr.graph is self.graph and tr.traced_here()

    def _bin(self, other, op_type: str, value: int, swap: bool = False):
        if not self._live() or not isinstance(other, int) or isinstance(other, bool):
            return value
        g = self.graph
        a = self.name
        b = other.name if isinstance(other, SymInt) and other.graph is g else g.const(_i64(int(other)), "int")
        if swap:
            a, b = b, a
        return SymInt(value, g.op(op_type, a, b), g)

    # with an int: a SymInt; with anything else (a float, a Tensor) NotImplemented, so that the
    # other operand decides (float arithmetic gives a float; a Tensor's operator gets the SymInt)
    def __add__(self, o):
        return self._bin(o, "Add", int(self) + o) if isinstance(o, int) else NotImplemented

    def __radd__(self, o):
        return self._bin(o, "Add", o + int(self), True) if isinstance(o, int) else NotImplemented

    def __sub__(self, o):
        return self._bin(o, "Sub", int(self) - o) if isinstance(o, int) else NotImplemented

    def __rsub__(self, o):
        return self._bin(o, "Sub", o - int(self), True) if isinstance(o, int) else NotImplemented

    def __mul__(self, o):
        return self._bin(o, "Mul", int(self) * o) if isinstance(o, int) else NotImplemented

    def __rmul__(self, o):
        return self._bin(o, "Mul", o * int(self), True) if isinstance(o, int) else NotImplemented

    def __floordiv__(self, o):
        # sizes are >= 0 and a divisor of a size is > 0 in a model's arithmetic, where ONNX's
        # truncating integer Div is floor division; anything else is left a plain int
        if isinstance(o, int) and not isinstance(o, bool) and o > 0 and int(self) >= 0:
            return self._bin(o, "Div", int(self) // o)
        return int(self) // o if isinstance(o, int) else NotImplemented

    def __neg__(self):
        if not self._live():
            return -int(self)
        return SymInt(-int(self), self.graph.op("Neg", self.name), self.graph)

    def __reduce__(self):
        return (int, (int(self),))


def _i64(v: int):
    import numpy as np
    return np.asarray(v, dtype=np.int64)


def symbolic_shape(g, t) -> Size:
    """``t.shape`` as SymInts of graph ``g`` (one Shape node per tensor, a Gather per dim)."""
    import numpy as np
    shape = t._data.shape
    if not shape:
        return Size(())
    s = g.op("Shape", g.name_of(t))
    return Size(SymInt(n, g.op("Gather", s, g.const(np.asarray(i, np.int64), "dim"), axis=0), g, (id(t), i))
                for i, n in enumerate(shape))


def plain(obj):
    """``obj`` with every SymInt (in tuples and lists too) turned into its int."""
    if isinstance(obj, SymInt):
        return int(obj)
    if isinstance(obj, (tuple, list)) and has_sym(obj):
        r = [plain(o) for o in obj]
        if type(obj) in (tuple, list):
            return type(obj)(r)
        return Size(r) if isinstance(obj, Size) else tuple(r)
    return obj


def has_sym(obj) -> bool:
    if isinstance(obj, SymInt):
        return True
    if isinstance(obj, (tuple, list)):
        return any(has_sym(o) for o in obj)
    return False


def int_values(g, seq) -> str:
    """A 1-D int64 value from ints and SymInts (a Concat when some are symbolic)."""
    seq = list(seq)
    if not any(isinstance(v, SymInt) and v.graph is g for v in seq):
        return g.ints([int(v) for v in seq])
    parts = [g.unsqueeze(v.name, [0]) if isinstance(v, SymInt) and v.graph is g else g.ints([int(v)])
             for v in seq]
    return g.op("Concat", *parts, axis=0)
