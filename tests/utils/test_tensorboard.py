"""ferrum.utils.tensorboard.SummaryWriter: what it writes is read back with TensorBoard's own event
reader (``EventAccumulator``) and checked: tags, steps, values, image sizes, histogram counts, text,
hyperparameters, embeddings, the graph. Skipped without tensorboardX and tensorboard."""

from __future__ import annotations

import glob
import os

import numpy as np
import pytest

import ferrum
from ferrum.utils.tensorboard import SummaryWriter

pytest.importorskip("tensorboardX")
pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402

EVERYTHING = {"images": 0, "histograms": 0, "scalars": 0, "tensors": 0, "compressedHistograms": 0}


def _read(path: str) -> EventAccumulator:
    ea = EventAccumulator(str(path), size_guidance=EVERYTHING)
    ea.Reload()
    return ea


def test_scalars_round_trip_with_ferrum_tensors_and_numbers(tmp_path):
    with SummaryWriter(tmp_path) as w:
        assert w.get_logdir() == str(tmp_path)
        for i in range(5):
            w.add_scalar("loss/train", ferrum.tensor(1.0 / (i + 1)), i)  # a 0-d tensor
            w.add_scalar("lr", 0.1 * i, ferrum.tensor(10 * i))  # a tensor step
        w.add_scalar("one", ferrum.tensor([3.5], dtype=ferrum.float64), 7)  # one element, 1-d
        w.add_scalar("np", np.float32(2.25), 1)
    ea = _read(tmp_path)
    assert sorted(ea.Tags()["scalars"]) == ["loss/train", "lr", "np", "one"]
    ev = ea.Scalars("loss/train")
    assert [e.step for e in ev] == [0, 1, 2, 3, 4]
    assert [e.value for e in ev] == pytest.approx([1, 1 / 2, 1 / 3, 1 / 4, 1 / 5], rel=1e-6)
    assert [e.step for e in ea.Scalars("lr")] == [0, 10, 20, 30, 40]
    assert ea.Scalars("one")[0].value == 3.5 and ea.Scalars("one")[0].step == 7
    assert ea.Scalars("np")[0].value == 2.25


def test_add_scalar_rejects_many_elements(tmp_path):
    with SummaryWriter(tmp_path) as w, pytest.raises(ValueError, match=r"one element.*\(2,\)"):
        w.add_scalar("x", ferrum.ones(2), 0)


def test_add_scalars_writes_one_run_per_key(tmp_path):
    with SummaryWriter(tmp_path) as w:
        for step in range(3):
            w.add_scalars("loss", {"train": ferrum.tensor(float(step)), "test": 10.0 + step}, step)
    for key, values in (("train", [0, 1, 2]), ("test", [10, 11, 12])):
        ea = _read(tmp_path / f"loss_{key}")
        assert [e.value for e in ea.Scalars("loss")] == values
        assert [e.step for e in ea.Scalars("loss")] == [0, 1, 2]


@pytest.mark.parametrize("bins", ["tensorflow", "auto", 7])
def test_histogram_counts(tmp_path, bins):
    values = ferrum.tensor(np.random.default_rng(0).normal(size=(20, 50)).astype(np.float32))
    with SummaryWriter(tmp_path) as w:
        w.add_histogram("weights", values, 3, bins=bins)
    h = _read(tmp_path).Histograms("weights")[0]
    assert h.step == 3
    hv = h.histogram_value
    a = values.numpy().astype(np.float64)
    assert hv.num == 1000 and sum(hv.bucket) == 1000
    assert hv.min == pytest.approx(a.min()) and hv.max == pytest.approx(a.max())
    assert hv.sum == pytest.approx(a.sum(), abs=1e-3)
    assert hv.sum_squares == pytest.approx((a * a).sum(), rel=1e-5)
    if bins == 7:  # 7 bins (and a leading empty one, as torch writes them)
        assert len(hv.bucket) in (7, 8)


@pytest.mark.parametrize("shape,fmt", [((3, 8, 10), "CHW"), ((8, 10, 3), "HWC"), ((8, 10), "HW"),
                                       ((1, 8, 10), "CHW")])
def test_add_image_shapes(tmp_path, shape, fmt):
    img = ferrum.rand(*shape)
    with SummaryWriter(tmp_path) as w:
        w.add_image("img", img, 2, dataformats=fmt)
        w.add_image("img_u8", (img * 255).to(ferrum.uint8), 2, dataformats=fmt)
    ea = _read(tmp_path)
    for tag in ("img", "img_u8"):
        ev = ea.Images(tag)[0]
        assert (ev.step, ev.width, ev.height) == (2, 10, 8)
        assert ev.encoded_image_string[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("fmt", ["NCHW", "NHWC"])
def test_add_images_makes_a_grid(tmp_path, fmt):
    batch = ferrum.rand(4, 1, 6, 5) if fmt == "NCHW" else ferrum.rand(4, 6, 5, 3)
    with SummaryWriter(tmp_path) as w:
        w.add_images("batch", batch, 0, dataformats=fmt)
    ev = _read(tmp_path).Images("batch")[0]
    # four images side by side in one row (tensorboardX's grid: up to 8 per row)
    assert (ev.width, ev.height) == (4 * 5, 6)


def test_add_figure(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(3, 2), dpi=50)
    plt.plot([0, 1, 2], [2, 0, 1])
    with SummaryWriter(tmp_path) as w:
        w.add_figure("fig", fig, 4)
    ev = _read(tmp_path).Images("fig")[0]
    assert (ev.step, ev.width, ev.height) == (4, 150, 100)
    assert not plt.fignum_exists(fig.number)  # close=True by default


def test_add_text(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_text("notes", "**hello** ferrum", 5)
    ea = _read(tmp_path)
    ev = ea.Tensors("notes/text_summary")[0]
    assert ev.step == 5 and ev.tensor_proto.string_val[0] == b"**hello** ferrum"


def test_add_hparams_writes_a_run_with_the_metrics(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_hparams({"lr": ferrum.tensor(0.01), "optimizer": "adam", "layers": 3}, {"hparam/accuracy": 0.9},
                      run_name="trial1")
    ea = _read(tmp_path / "trial1")
    assert ea.Scalars("hparam/accuracy")[0].value == pytest.approx(0.9)
    meta = ea.SummaryMetadata("_hparams_/session_start_info")
    assert meta.plugin_data.plugin_name == "hparams"
    with SummaryWriter(tmp_path) as w, pytest.raises(TypeError):
        w.add_hparams([("lr", 0.1)], {"a": 1.0})


def test_add_embedding(tmp_path):
    mat = ferrum.randn(6, 4)
    with SummaryWriter(tmp_path) as w:
        w.add_embedding(mat, metadata=["a", "b", "c", "d", "e", "f"], label_img=ferrum.rand(6, 3, 4, 4),
                        global_step=0, tag="points")
    tsv = glob.glob(str(tmp_path / "*" / "points" / "tensors.tsv"))
    assert len(tsv) == 1
    got = np.loadtxt(tsv[0], delimiter="\t", dtype=np.float32)
    np.testing.assert_allclose(got, mat.numpy(), rtol=1e-6)
    folder = os.path.dirname(tsv[0])
    assert open(os.path.join(folder, "metadata.tsv")).read().split() == list("abcdef")
    assert os.path.getsize(os.path.join(folder, "sprite.png")) > 0
    assert "points" in open(tmp_path / "projector_config.pbtxt").read()


def test_add_graph_through_onnx(tmp_path):
    pytest.importorskip("onnx")
    model = ferrum.nn.Sequential(ferrum.nn.Linear(4, 3), ferrum.nn.ReLU(), ferrum.nn.Linear(3, 2))
    with SummaryWriter(tmp_path) as w:
        w.add_graph(model, ferrum.randn(2, 4))
        with pytest.raises(ValueError, match="input_to_model"):
            w.add_graph(model)
    ea = _read(tmp_path)
    assert ea.Tags()["graph"]
    ops = [n.op for n in ea.Graph().node]
    assert ops.count("Gemm") + ops.count("MatMul") >= 2 and "Relu" in ops


def test_default_log_dir_is_torchs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    import socket

    w = SummaryWriter(comment="_trial")
    w.add_scalar("x", 1.0, 0)
    w.close()
    (d,) = os.listdir(tmp_path / "runs")
    assert d.endswith(f"_{socket.gethostname()}_trial") and w.get_logdir() == os.path.join("runs", d)
    assert glob.glob(str(tmp_path / "runs" / d / "events.out.tfevents.*"))


def test_flush_writes_before_close_and_other_methods_pass_through(tmp_path):
    w = SummaryWriter(tmp_path, flush_secs=3600, filename_suffix=".mine")
    w.add_scalar("x", 2.0, 1)
    w.flush()
    (f,) = glob.glob(str(tmp_path / "events.out.tfevents.*.mine"))
    assert [e.value for e in _read(tmp_path).Scalars("x")] == [2.0]
    # a method torch's writer has and this class does not spell out goes to tensorboardX, tensors converted
    w.add_pr_curve("pr", ferrum.tensor([0, 1, 1, 0]), ferrum.tensor([0.1, 0.9, 0.8, 0.3]), 0)
    w.close()
    assert "pr" in _read(tmp_path).Tags()["tensors"]
    assert os.path.getsize(f) > 0


def test_same_events_as_torchs_writer(tmp_path, torch):
    """The same calls through torch's SummaryWriter and ferrum's give the same tags, steps, values,
    histogram buckets, image sizes and add_scalars folders."""
    tb = pytest.importorskip("torch.utils.tensorboard")
    a = np.random.default_rng(1).normal(size=(300,)).astype(np.float32)
    img = np.random.default_rng(2).random((3, 5, 7)).astype(np.float32)
    for name, W, T in (("torch", tb.SummaryWriter, torch.from_numpy),
                       ("ferrum", SummaryWriter, ferrum.from_numpy)):
        with W(tmp_path / name) as w:
            for i in range(3):
                w.add_scalar("s", T(a[i:i + 1].copy()).squeeze(), i)
            w.add_scalars("group/m", {"x": 1.0, "y": 2.0}, 4)
            w.add_histogram("h", T(a), 1)
            w.add_histogram("h8", T(a), 1, bins=8)
            w.add_image("i", T(img), 2)
    theirs, ours = _read(tmp_path / "torch"), _read(tmp_path / "ferrum")
    folders = [sorted(d for d in os.listdir(tmp_path / n) if not d.startswith("events"))
               for n in ("torch", "ferrum")]
    assert folders[0] == folders[1] == ["group_m_x", "group_m_y"]
    assert [(e.step, e.value) for e in theirs.Scalars("s")] == [(e.step, e.value) for e in ours.Scalars("s")]
    for tag in ("h", "h8"):
        t, o = theirs.Histograms(tag)[0].histogram_value, ours.Histograms(tag)[0].histogram_value
        assert list(o.bucket) == list(t.bucket) and o.num == t.num
        np.testing.assert_allclose(o.bucket_limit, t.bucket_limit, rtol=1e-6)
    ti, oi = theirs.Images("i")[0], ours.Images("i")[0]
    assert (oi.width, oi.height) == (ti.width, ti.height)
