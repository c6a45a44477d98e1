"""``ferrum.onnx``: export a model to ONNX by tracing one forward pass (``torch.onnx.export``).

``export(model, args, f)`` runs ``model(*args)`` once on the given inputs while the tracer
(``_trace.py``) records each operator it calls, maps each to ONNX nodes (``_ops_*.py``), stores the
parameters and buffers it reads as initializers under their state-dict names, checks the model with
``onnx.checker.check_model(full_check=True)`` and writes it. ``onnx`` is imported on the first
export, never by ``import ferrum``; the extra ``ferrum-dl[onnx]`` installs onnx and onnxruntime.

Differences from PyTorch: there is one exporter, the tracing one (``dynamo=`` is accepted and
ignored, ``dynamic_shapes=`` is refused: use ``dynamic_axes``); the ONNX ``ModelProto`` is also
returned (torch returns None, or an ``ONNXProgram`` from its dynamo exporter); ``f`` may be None
(nothing is written). The exporter options that have no meaning here (``optimize``, ``report``,
``verify``, ``profile``, ``dump_exported_program``, ``artifacts_dir``, ``autograd_inlining``,
``do_constant_folding``: constants are folded during the trace anyway) are accepted and ignored;
``custom_opsets``, ``custom_translation_table``, ``export_modules_as_functions`` and
``operator_export_type`` other than the defaults raise ``ValueError``.

Like every tracer, the graph is the path the traced run took: Python control flow on values or
shapes is frozen at the traced values (``item()``, ``tolist()``, ``bool(t)`` on a traced tensor
warn with ``OnnxExporterWarning``). Sizes, though, stay symbolic: ``x.shape`` and ``x.size()`` of a
traced tensor give ints that carry their ONNX value (``_symint.py``), arithmetic on them is
recorded, and ``view``/``reshape``, ``expand``, slicing, ``arange`` and ``zeros``/``ones``/``full``
built from them follow the dynamic axes (GPT exports with a dynamic batch and sequence length).
A literal size passed to ``view``/``reshape`` that equals the input's size at the same position is
written as ONNX's "copy this dimension" (0), and ``flatten`` writes -1 for the merged range, so
``x.view(4, -1)`` traced at batch 4 keeps the batch dynamic too. What stays a constant of the
trace: sizes that went through Python outside these (``int(...)``, ``math`` functions, a loop
count) and ``squeeze()`` without a dim (it squeezes the dims that were 1 when traced).

The graph is built from public operators (``_ops_*.py``: tensor arithmetic, views, indexing and
reductions; nn.functional's layers; attention; image ops; RNN/LSTM/GRU and their cells); an
operator without a mapping raises ``UnsupportedOperatorError`` naming it, and so does a tensor made
by private code the tracer cannot see (``_trace.py`` describes the nets).
"""

from __future__ import annotations

import enum
import inspect
import io
import os
from typing import Any, Mapping, Sequence

from .errors import OnnxExporterError, UnsupportedOperatorError

__all__ = ["export", "is_in_onnx_export", "TrainingMode", "OnnxExporterError", "UnsupportedOperatorError",
           "errors"]

DEFAULT_OPSET = 18
MIN_OPSET = 17   # LayerNormalization
MAX_OPSET = 23   # what onnxruntime 1.32 runs for the ops used here


class TrainingMode(enum.IntEnum):
    """torch.onnx.TrainingMode: the module mode during the export."""
    EVAL = 0
    PRESERVE = 1
    TRAINING = 2


def is_in_onnx_export() -> bool:
    """True while :func:`export` is tracing a forward pass (in the exporting thread)."""
    from ._trace import _ACTIVE
    return _ACTIVE[0] is not None


def _load_ops() -> None:
    from . import _ops_attention, _ops_index, _ops_nn, _ops_rnn, _ops_tensor, _ops_vision  # noqa: F401


def _check_options(kw: dict) -> None:
    for name in ("custom_opsets", "custom_translation_table"):
        if kw.get(name):
            raise ValueError(f"ferrum.onnx.export: {name} is not supported (ferrum has no custom symbolics)")
    if kw.get("export_modules_as_functions"):
        raise ValueError("ferrum.onnx.export: export_modules_as_functions is not supported")
    oet = kw.get("operator_export_type")
    if oet is not None and getattr(oet, "name", oet) not in ("ONNX", 0):
        raise ValueError(f"ferrum.onnx.export: operator_export_type {oet!r} is not supported (only ONNX)")
    if kw.get("dynamic_shapes") is not None:
        raise ValueError("ferrum.onnx.export: dynamic_shapes (torch's dynamo exporter) is not supported; "
                         "mark dynamic dimensions with dynamic_axes")


def _default_names(model, args: tuple, kwargs: dict) -> list:
    """A name per tensor input: the forward's parameter name (``x``, ``idx``), suffixed ``_{k}``
    inside a tuple/list argument, the keyword for keyword inputs."""
    from .._tensor import Tensor
    from ._trace import _flat_tensors
    try:
        params = [p.name for p in inspect.signature(model.forward).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    names = []
    for j, a in enumerate(args):
        base = params[j] if j < len(params) else f"input_{j}"
        if isinstance(a, Tensor):
            names.append(base)
        else:
            names.extend(f"{base}_{k}" for k in range(len(_flat_tensors(a, []))))
    for key, a in kwargs.items():
        if isinstance(a, Tensor):
            names.append(key)
        else:
            names.extend(f"{key}_{k}" for k in range(len(_flat_tensors(a, []))))
    return names


def _input_names(model, n: int, given, args: tuple, kwargs: dict) -> list:
    names = list(given or [])
    if len(names) > n:
        raise ValueError(f"ferrum.onnx.export: {len(names)} input_names for {n} tensor inputs")
    for i, cand in enumerate(_default_names(model, args, kwargs)):
        if i >= len(names):
            names.append(cand if cand not in names else f"input_{i}")
    return names


def _dims(name: str, shape, dynamic_axes: Mapping) -> list:
    spec = dynamic_axes.get(name)
    if spec is None:
        return list(shape)
    if isinstance(spec, Mapping):
        named = {int(k): str(v) for k, v in spec.items()}
    else:
        named = {int(k): f"{name}_dynamic_axes_{i + 1}" for i, k in enumerate(spec)}
    dims: list = list(shape)
    for ax, dname in named.items():
        if not -len(dims) <= ax < len(dims):
            raise ValueError(f"ferrum.onnx.export: dynamic axis {ax} of {name!r} is out of range for its "
                             f"shape {tuple(shape)}")
        dims[ax % len(dims)] = dname
    return dims


def export(model: Any, args: Any = (), f: Any = None, *, kwargs: dict | None = None,
           verbose: bool | None = None, input_names: Sequence[str] | None = None,
           output_names: Sequence[str] | None = None, opset_version: int | None = None,
           dynamo: bool = True, external_data: bool = True, dynamic_shapes: Any = None,
           custom_translation_table: Any = None, report: bool = False, optimize: bool = True,
           verify: bool = False, profile: bool = False, dump_exported_program: bool = False,
           artifacts_dir: Any = ".", export_params: bool = True, keep_initializers_as_inputs: bool = False,
           dynamic_axes: Mapping | None = None, training: Any = TrainingMode.EVAL,
           operator_export_type: Any = None, do_constant_folding: bool = True,
           custom_opsets: Mapping | None = None, export_modules_as_functions: Any = False,
           autograd_inlining: bool = True) -> Any:
    """Exports ``model`` (an ``nn.Module``) to ONNX by running ``model(*args, **kwargs)`` once.

    ``args``: a Tensor or a tuple of positional inputs (a trailing dict is keyword inputs, as in
    torch). ``f``: a path, a ``os.PathLike`` or a binary file object (or None: nothing written).
    ``input_names``/``output_names``: the graph's value names (default: the forward's parameter
    names, ``output``/``output_{i}``). ``dynamic_axes``: ``{name: {axis: dim_name}}`` or
    ``{name: [axis, ...]}`` for inputs and outputs, e.g. ``{"x": {0: "batch"}, "output": {0:
    "batch"}}``. ``opset_version``: 17-23 (default 18). ``training``: ``TrainingMode.EVAL`` (the
    default: the model is put in eval mode during the export and restored), ``PRESERVE`` or
    ``TRAINING``. ``export_params=False`` makes the parameters graph inputs instead of
    initializers; ``keep_initializers_as_inputs`` lists the initializers among the inputs too.
    Returns the ``onnx.ModelProto``. Raises ``UnsupportedOperatorError`` naming an operator that
    has no ONNX mapping. See the module docstring for the differences from PyTorch.
    """
    _check_options(dict(custom_opsets=custom_opsets, custom_translation_table=custom_translation_table,
                        export_modules_as_functions=export_modules_as_functions,
                        operator_export_type=operator_export_type, dynamic_shapes=dynamic_shapes))
    try:
        import onnx
    except ImportError as e:
        raise ImportError("ferrum.onnx.export needs the onnx package: pip install 'ferrum-dl[onnx]' "
                          "(onnx and onnxruntime)") from e

    from .._tensor import Tensor
    from ..autograd.grad_mode import enable_grad
    from ..nn.modules.module import Module
    from ._graph import MODULE_SYMBOLICS, SYMBOLICS, Graph
    from ._trace import Tracer, _flat_tensors

    if not isinstance(model, Module):
        raise TypeError(f"ferrum.onnx.export: model must be a ferrum nn.Module, not {type(model).__name__}")
    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    top = min(MAX_OPSET, onnx.defs.onnx_opset_version())   # an older onnx knows fewer opsets
    if not MIN_OPSET <= opset <= top:
        raise ValueError(f"ferrum.onnx.export: opset_version {opset} is not supported "
                         f"({MIN_OPSET} to {top} with onnx {onnx.__version__})")
    if isinstance(args, Tensor):
        args = (args,)
    elif isinstance(args, list):
        args = tuple(args)
    elif not isinstance(args, tuple):
        args = (args,)
    call_kwargs = dict(kwargs or {})
    if args and isinstance(args[-1], dict):
        call_kwargs.update(args[-1])
        args = args[:-1]
    dynamic_axes = dict(dynamic_axes or {})
    _load_ops()

    params: dict = {}
    for name, p in model.named_parameters():
        params.setdefault(id(p), (name, p))
    for name, b in model.named_buffers():
        if b is not None:
            params.setdefault(id(b), (name, b))
    g = Graph(opset, params)
    in_tensors = _flat_tensors((args, call_kwargs), [])
    if len({id(t) for t in in_tensors}) != len(in_tensors):
        raise ValueError("ferrum.onnx.export: the same tensor is passed as two inputs")
    names_in = _input_names(model, len(in_tensors), input_names, args, call_kwargs)
    for t, n in zip(in_tensors, names_in):
        g.bind(t, n)
        g.used_names.add(n)

    mode = training if isinstance(training, TrainingMode) else TrainingMode(int(getattr(training, "value",
                                                                                         training)))
    modes = [(m, m.training) for m in model.modules()]  # each restored: mixed modes survive
    tracer = Tracer(g, SYMBOLICS, MODULE_SYMBOLICS)
    try:
        if mode == TrainingMode.EVAL:
            model.eval()
        elif mode == TrainingMode.TRAINING:
            model.train()
        try:
            tracer.install(model)  # inside the try: a partial install is undone too
            with enable_grad():
                out = model(*args, **call_kwargs)
        finally:
            tracer.uninstall()
    finally:
        for m, t in modes:
            m.training = t

    out_tensors = _flat_tensors(out, [])
    if not out_tensors:
        raise OnnxExporterError("ferrum.onnx.export: the model returned no tensor")
    out_names = list(output_names or [])
    if len(out_names) > len(out_tensors):
        raise ValueError(f"ferrum.onnx.export: {len(out_names)} output_names for {len(out_tensors)} outputs")
    for i in range(len(out_names), len(out_tensors)):
        out_names.append("output" if len(out_tensors) == 1 else f"output_{i}")
    for t, n in zip(out_tensors, out_names):
        g.nodes.append(onnx.helper.make_node("Identity", [g.name_of(t)], [n]))

    def vinfo(name: str, t: Tensor):
        et = onnx.helper.np_dtype_to_tensor_dtype(t._data.dtype)
        return onnx.helper.make_tensor_value_info(name, et, _dims(name, t.shape, dynamic_axes))

    for name in dynamic_axes:
        if name not in names_in and name not in out_names:
            raise ValueError(f"ferrum.onnx.export: dynamic_axes names {name!r}, which is neither an input "
                             f"nor an output (inputs {names_in}, outputs {out_names})")
    graph_inputs = [vinfo(n, t) for t, n in zip(in_tensors, names_in)]
    inits = [onnx.numpy_helper.from_array(a, name) for name, a in g.inits.items()]
    param_names = {v[0] for v in params.values()}
    if not export_params:
        graph_inputs += [onnx.helper.make_tensor_value_info(i.name, i.data_type, list(i.dims))
                         for i in inits if i.name in param_names]
        inits = [i for i in inits if i.name not in param_names]
    elif keep_initializers_as_inputs:
        graph_inputs += [onnx.helper.make_tensor_value_info(i.name, i.data_type, list(i.dims)) for i in inits]
    graph = onnx.helper.make_graph(g.nodes, "main_graph", graph_inputs,
                                   [vinfo(n, t) for t, n in zip(out_tensors, out_names)], initializer=inits)
    from ..version import __version__ as fv
    opsets = [onnx.helper.make_opsetid("", opset)]
    proto = onnx.helper.make_model(graph, opset_imports=opsets, producer_name="ferrum", producer_version=fv,
                                   ir_version=onnx.helper.find_min_ir_version_for(opsets))
    try:
        onnx.checker.check_model(proto, full_check=True)
    except Exception as e:  # an exporter bug, never the user's: say so with the checker's message
        raise OnnxExporterError(f"ferrum.onnx.export produced an invalid ONNX model: {e}") from e
    if verbose:
        print(onnx.helper.printable_graph(proto.graph))
    _write(proto, f, external_data)
    return proto


def _write(proto, f, external_data: bool) -> None:
    import onnx
    if f is None:
        return
    if isinstance(f, (str, os.PathLike)):
        big = proto.ByteSize() > 2_000_000_000 if external_data else False
        onnx.save_model(proto, os.fspath(f), save_as_external_data=big)
        return
    if isinstance(f, io.TextIOBase) or not hasattr(f, "write"):
        raise TypeError("ferrum.onnx.export: f must be a path or a binary file object, not "
                        f"{type(f).__name__}")
    f.write(proto.SerializeToString())

