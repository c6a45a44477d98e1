"""The round trip every ONNX test makes: export, check_model(full_check=True), run in onnxruntime
on the traced inputs and on inputs of another batch size, compare with ferrum's outputs."""

from __future__ import annotations

import io

import numpy as np
import pytest

import ferrum

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _flat(obj, acc):
    if isinstance(obj, ferrum.Tensor):
        acc.append(obj.numpy())
    elif isinstance(obj, (tuple, list)):
        for o in obj:
            _flat(o, acc)
    return acc


def roundtrip(model, args, other_args=None, *, batch_axes=None, atol=1e-5, rtol=1e-5, opset=None,
              input_names=None, output_names=None, n_dynamic_out=None, **kw):
    """Exports ``model`` on ``args`` (a tuple of tensors), checks it, runs it in onnxruntime on
    ``args`` and ``other_args`` (another batch size) and compares every output with ferrum's.
    ``batch_axes``: {input index: batch axis} (default: axis 0 of every input) marked dynamic;
    every output's axis 0 (or the axis in ``kw['out_axes']``) is dynamic too. Returns the proto."""
    model.eval()
    args = tuple(args)
    names = input_names or [f"in{i}" for i in range(len(args))]
    with ferrum.no_grad():
        ref = _flat(model(*args), [])
    outs = output_names or [f"out{i}" for i in range(len(ref))]
    axes = batch_axes if batch_axes is not None else {i: 0 for i in range(len(args))}
    out_axes = kw.pop("out_axes", [0] * len(ref))
    dyn = {names[i]: {a: "batch"} for i, a in axes.items()}
    for j, a in enumerate(out_axes):
        if a is not None:
            dyn[outs[j]] = {a: "batch"}
    buf = io.BytesIO()
    ferrum.onnx.export(model, args, buf, input_names=names, output_names=outs, dynamic_axes=dyn,
                       opset_version=opset, **kw)
    proto = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(proto, full_check=True)
    sess = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])
    for a in [args] + ([tuple(other_args)] if other_args is not None else []):
        with ferrum.no_grad():
            want = _flat(model(*a), [])
        got = sess.run(None, {n: t.numpy() for n, t in zip(names, a)})
        assert len(got) == len(want)
        for w, g_ in zip(want, got):
            assert g_.shape == w.shape, (g_.shape, w.shape)
            np.testing.assert_allclose(g_, w, atol=atol, rtol=rtol)
    return proto
