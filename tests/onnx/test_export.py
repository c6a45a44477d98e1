"""``ferrum.onnx.export``'s interface: torch.onnx.export's arguments, where the model goes (path,
pathlib.Path, binary file, None), names and dynamic axes, the options, the errors (an operator
without an ONNX mapping is named), and that an export leaves ferrum exactly as it was (every patched
function and hook restored, also after a failed export)."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pytest

import ferrum
from ferrum import nn
from ferrum.onnx import TrainingMode, UnsupportedOperatorError
from ferrum.onnx.errors import OnnxExporterError

from .helpers import onnx, ort

R = ferrum.randn


def _mlp():
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 3))


def test_import_ferrum_does_not_import_onnx():
    code = ("import sys, ferrum, ferrum.nn; ferrum.onnx; "
            "print('onnx' in sys.modules, 'onnxruntime' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.split() == ["False", "False"]


def test_lazy_attribute():
    import ferrum.onnx as fo
    assert ferrum.onnx is fo and callable(ferrum.onnx.export)
    assert issubclass(UnsupportedOperatorError, OnnxExporterError)
    assert issubclass(OnnxExporterError, RuntimeError)


@pytest.mark.parametrize("kind", ["str", "path", "file", "none"])
def test_destinations(kind, tmp_path):
    m, x = _mlp(), R(2, 4)
    p = tmp_path / "m.onnx"
    if kind == "str":
        proto = ferrum.onnx.export(m, (x,), str(p))
        data = p.read_bytes()
    elif kind == "path":
        proto = ferrum.onnx.export(m, x, p)
        data = p.read_bytes()
    elif kind == "file":
        buf = io.BytesIO()
        proto = ferrum.onnx.export(m, (x,), buf)
        data = buf.getvalue()
    else:
        proto = ferrum.onnx.export(m, (x,), None)
        data = proto.SerializeToString()
    assert onnx.load_from_string(data) == proto
    out = ort.InferenceSession(data, providers=["CPUExecutionProvider"]).run(None, {"input": x.numpy()})[0]
    with ferrum.no_grad():
        np.testing.assert_allclose(out, m.eval()(x).numpy(), atol=1e-6)


def test_text_file_refused(tmp_path):
    with open(tmp_path / "m.txt", "w") as f, pytest.raises(TypeError):
        ferrum.onnx.export(_mlp(), (R(2, 4),), f)


def test_names_and_dynamic_axes_forms():
    class Two(nn.Module):
        def forward(self, a, b):
            return a + b, a * b

    proto = ferrum.onnx.export(Two(), (R(2, 3), R(2, 3)), None, input_names=["a"],
                               output_names=["sum"], dynamic_axes={"a": [0], "b": {0: "n"}, "sum": {0: "n"}})
    def dims(v):
        return [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]

    ins = {i.name: dims(i) for i in proto.graph.input}
    outs = {o.name: dims(o) for o in proto.graph.output}
    assert ins == {"a": ["a_dynamic_axes_1", 3], "b": ["n", 3]}   # b: the forward's parameter name
    assert outs == {"sum": ["n", 3], "output_1": [2, 3]}


def test_bad_arguments():
    m, x = _mlp(), R(2, 4)
    with pytest.raises(ValueError, match="opset"):
        ferrum.onnx.export(m, (x,), None, opset_version=9)
    with pytest.raises(ValueError, match="dynamic_axes"):
        ferrum.onnx.export(m, (x,), None, dynamic_axes={"nope": [0]})
    with pytest.raises(ValueError, match="input_names"):
        ferrum.onnx.export(m, (x,), None, input_names=["a", "b"])
    with pytest.raises(ValueError, match="dynamic_shapes"):
        ferrum.onnx.export(m, (x,), None, dynamic_shapes={"x": {0: "b"}})
    with pytest.raises(ValueError, match="custom_opsets"):
        ferrum.onnx.export(m, (x,), None, custom_opsets={"x": 1})
    with pytest.raises(TypeError, match="nn.Module"):
        ferrum.onnx.export(lambda t: t, (x,), None)


def test_ignored_torch_options_accepted():
    ferrum.onnx.export(_mlp(), (R(2, 4),), None, dynamo=False, optimize=False, do_constant_folding=False,
                       report=False, verify=False, autograd_inlining=True)


def test_export_params_and_initializers_as_inputs():
    m, x = _mlp(), R(2, 4)
    p = ferrum.onnx.export(m, (x,), None, export_params=False)
    assert not p.graph.initializer
    assert {i.name for i in p.graph.input} == {"input", *m.state_dict()}
    p = ferrum.onnx.export(m, (x,), None, keep_initializers_as_inputs=True)
    assert {i.name for i in p.graph.input} == {"input", *[i.name for i in p.graph.initializer]}


def test_training_mode():
    m, x = _mlp(), R(2, 4)
    m.train()
    ferrum.onnx.export(m, (x,), None)               # EVAL: dropout is the identity
    assert m.training                                # the mode is restored
    with pytest.raises(UnsupportedOperatorError, match="dropout"):
        ferrum.onnx.export(m, (x,), None, training=TrainingMode.PRESERVE)
    with pytest.raises(UnsupportedOperatorError, match="batch_norm"):
        ferrum.onnx.export(nn.BatchNorm1d(4), (x,), None, training=TrainingMode.TRAINING)
    m[2].eval()
    ferrum.onnx.export(m, (x,), None)
    assert m.training and m[0].training and not m[2].training   # mixed modes are restored too


class _Uses(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn
        self.lin = nn.Linear(4, 4)

    def forward(self, x):
        return self.fn(self.lin(x))


@pytest.mark.parametrize("fn,name", [
    (lambda t: t.cumprod(1), "cumprod"),
    (lambda t: ferrum.cummax(t, 1)[0], "cummax"),
    (lambda t: t.sort(1)[0], "sort"),
    (lambda t: nn.functional.interpolate(t[:, None], scale_factor=2.0, mode="area"), "interpolate"),
    (lambda t: t[t > 0], "__getitem__"),
    (lambda t: nn.functional.max_pool1d(t[:, None], 2, return_indices=True)[0], "max_pool1d"),
])
def test_unsupported_operator_is_named(fn, name):
    with pytest.raises(UnsupportedOperatorError, match=f"'{name}'") as e:
        ferrum.onnx.export(_Uses(fn), (R(2, 4),), None)
    assert e.value.name == name


def test_untraced_computation_is_refused_not_frozen():
    """A tensor computed from the input by code the tracer does not see (here NumPy on ._data)
    must not become a constant of the trace."""

    class Sneaky(nn.Module):
        def forward(self, x):
            from ferrum._tensor import _wrap
            return _wrap(np.cumprod(x._data, 1)) + x

    with pytest.raises(UnsupportedOperatorError, match="forward"):
        ferrum.onnx.export(Sneaky(), (R(2, 4),), None)


def test_everything_restored_after_export():
    from ferrum import _tensor
    from ferrum.nn.modules import module as modmod
    from ferrum.ops import activation
    before = (ferrum.Tensor.__add__, ferrum.Tensor.view, nn.functional.relu, activation.relu_, ferrum.cat,
              _tensor._wrap, nn.Conv2d._fn, ferrum.zeros, vars(ferrum.Tensor)["T"],
              vars(ferrum.Tensor)["shape"], vars(ferrum.Tensor)["size"])
    ferrum.onnx.export(_mlp(), (R(2, 4),), None)
    with pytest.raises(UnsupportedOperatorError):
        ferrum.onnx.export(_Uses(lambda t: t.sort(0)[0]), (R(2, 4),), None)
    after = (ferrum.Tensor.__add__, ferrum.Tensor.view, nn.functional.relu, activation.relu_, ferrum.cat,
             _tensor._wrap, nn.Conv2d._fn, ferrum.zeros, vars(ferrum.Tensor)["T"],
              vars(ferrum.Tensor)["shape"], vars(ferrum.Tensor)["size"])
    assert all(a is b for a, b in zip(before, after))
    assert modmod._global_hooks_on[0] is False
    assert not ferrum.onnx.is_in_onnx_export()


def test_is_in_onnx_export():
    seen = []

    class M(nn.Module):
        def forward(self, x):
            seen.append(ferrum.onnx.is_in_onnx_export())
            return x * 2

    ferrum.onnx.export(M(), (R(2),), None)
    assert seen == [True]


def test_kwargs_and_trailing_dict():
    class M(nn.Module):
        def forward(self, x, y=None, scale=1.0):
            return x * scale + (0 if y is None else y)

    p = ferrum.onnx.export(M(), (R(2, 3), {"y": R(2, 3)}), None)
    assert [i.name for i in p.graph.input] == ["x", "y"]
    p = ferrum.onnx.export(M(), (R(2, 3),), None, kwargs={"scale": 3.0})
    assert [i.name for i in p.graph.input] == ["x"]


def test_python_value_of_traced_tensor_warns():
    from ferrum.onnx.errors import OnnxExporterWarning

    class M(nn.Module):
        def forward(self, x):
            return x * float(x.sum().item())

    with pytest.warns(OnnxExporterWarning, match="item"):
        ferrum.onnx.export(M(), (R(2, 3),), None)


def test_untraced_value_is_not_folded_through_a_traced_op():
    """A tensor made by private code from the input, then passed through a traced op, is refused
    (it would otherwise reach the graph as a constant through the op's output)."""

    class Sneaky(nn.Module):
        def forward(self, x):
            from ferrum._tensor import _wrap
            return _wrap(np.cumsum(x._data, 1)).relu()

    with pytest.raises(UnsupportedOperatorError, match="forward"):
        ferrum.onnx.export(Sneaky(), (R(2, 4),), None)


def test_unknown_arguments_of_a_known_operator():
    class M(nn.Module):
        def forward(self, x):
            return ferrum.add(x, x, out=ferrum.empty(2, 3))

    with pytest.raises(UnsupportedOperatorError, match="add"):
        ferrum.onnx.export(M(), (R(2, 3),), None)


def test_default_input_names_follow_the_forward():
    class M(nn.Module):
        def forward(self, x, k, pair, *, bias=None):
            return x * k + pair[0] - pair[1] + bias

    p = ferrum.onnx.export(M(), (R(2), 3, (R(2), R(2))), None, kwargs={"bias": R(2)})
    assert [i.name for i in p.graph.input] == ["x", "pair_0", "pair_1", "bias"]


def test_other_threads_are_not_traced():
    """A thread that runs ferrum ops during an export computes normally and adds nothing to the
    graph (the tracer follows the exporting thread only)."""
    import threading
    results = []

    class M(nn.Module):
        def forward(self, x):
            def work():
                a = ferrum.ones(3) * 2
                results.append((a + x.detach()[0, :3]).cumprod(0))   # cumprod has no mapping
            th = threading.Thread(target=work)
            th.start()
            th.join()
            return x * 2

    p = ferrum.onnx.export(M(), (R(2, 3),), None)
    assert len(results) == 1 and results[0].shape == (3,)
    assert [n.op_type for n in p.graph.node] == ["Mul", "Identity"]
