"""``SummaryWriter``: ``torch.utils.tensorboard.SummaryWriter``'s API over tensorboardX's writer.

tensorboardX already writes TensorBoard's event files (the protobuf records, CRC-framed, that
TensorBoard and ``tensorboard.backend.event_processing`` read) with the same method names as
torch's writer; what ferrum adds is the argument side: every place torch's writer accepts a torch
tensor accepts a ferrum tensor here (converted to a NumPy array, on the CPU, detached), torch's
argument names (``log_dir``, ``run_name`` of ``add_hparams``) and torch's default folder
``runs/<Mon><DD>_<HH-MM-SS>_<host><comment>``. ``add_graph`` exports the model to ONNX with
:func:`ferrum.onnx.export` and writes that graph (TensorBoard's graph tab shows it); it needs the
``onnx`` package.

tensorboardX is imported when the first writer is made (it imports torch when torch is installed,
about 1.7 s), so importing ferrum stays cheap.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import tempfile
from datetime import datetime
from typing import Any

__all__ = ["SummaryWriter"]


def _to_numpy(x: Any) -> Any:
    """A ferrum tensor as a NumPy array (detached, on the CPU); lists, tuples and dicts converted
    element-wise; anything else unchanged."""
    from ferrum import Tensor

    if isinstance(x, Tensor):
        return x.detach().cpu().numpy()
    if isinstance(x, (list, tuple)):
        return type(x)(_to_numpy(v) for v in x)
    if isinstance(x, dict):
        return {k: _to_numpy(v) for k, v in x.items()}
    return x


def _scalar(x: Any) -> Any:
    """A one-element ferrum tensor or NumPy value as a Python number (torch's ``add_scalar`` takes
    both); other values unchanged."""
    from ferrum import Tensor

    if isinstance(x, Tensor):
        if x.numel() != 1:
            raise ValueError(f"SummaryWriter: a scalar value must have one element, got a tensor of shape "
                             f"{tuple(x.shape)}")
        return x.item()
    item = getattr(x, "item", None)
    return item() if item is not None and getattr(x, "size", 1) == 1 else x


def _tensorboardx() -> Any:
    try:
        import tensorboardX
    except ImportError:
        raise ImportError("ferrum.utils.tensorboard needs tensorboardX: pip install 'ferrum[tb]' "
                          "(or pip install tensorboardX)") from None
    return tensorboardX


class SummaryWriter:
    """Writes TensorBoard event files into ``log_dir`` (torch's ``SummaryWriter``).

    Args:
        log_dir: the folder; default ``runs/<Mon><DD>_<HH-MM-SS>_<hostname><comment>``.
        comment: appended to the default folder's name (ignored with ``log_dir``).
        purge_step: events at steps >= ``purge_step`` written by an earlier run that crashed are
            hidden (TensorBoard's "file version" purge), as in torch.
        max_queue: events kept in memory before a write.
        flush_secs: how often (seconds) pending events are written.
        filename_suffix: appended to the event files' names.

    Use as a context manager (``with SummaryWriter(d) as w: ...``) or call :meth:`close`.
    """

    def __init__(self, log_dir: str | os.PathLike | None = None, comment: str = "",
                 purge_step: int | None = None, max_queue: int = 10, flush_secs: int = 120,
                 filename_suffix: str = "") -> None:
        tbx = _tensorboardx()
        if not log_dir:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")
        self.log_dir = os.fspath(log_dir)
        self._tbx = tbx
        self._max_queue, self._flush_secs, self._suffix = max_queue, flush_secs, filename_suffix
        self._subwriters: dict[str, Any] = {}  # add_scalars' runs, by folder
        self._w = tbx.SummaryWriter(logdir=self.log_dir, purge_step=purge_step, max_queue=max_queue,
                                    flush_secs=flush_secs, filename_suffix=filename_suffix)

    def get_logdir(self) -> str:
        """The folder the event files go to."""
        return self.log_dir

    # ------------------------------------------------------------------------------------- scalars
    def add_scalar(self, tag: str, scalar_value: Any, global_step: int | None = None,
                   walltime: float | None = None, new_style: bool = False,
                   double_precision: bool = False) -> None:
        """One value (a number or a one-element tensor) of the curve ``tag`` at ``global_step``.
        ``new_style``/``double_precision`` are accepted for torch's signature; the value is stored
        as a float32 summary either way (TensorBoard's scalar charts read both)."""
        self._w.add_scalar(tag, _scalar(scalar_value), _step(global_step), walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict[str, Any], global_step: int | None = None,
                    walltime: float | None = None) -> None:
        """Several curves in one chart: each ``tag_scalar_dict`` entry goes to its own run folder
        ``<log_dir>/<main_tag>_<key>`` with the tag ``main_tag``, as torch writes them."""
        step = _step(global_step)
        for key, value in tag_scalar_dict.items():
            # torch's folder name (tensorboardX would nest main_tag/key instead)
            folder = os.path.join(self.log_dir, f"{main_tag.replace('/', '_')}_{key}")
            sub = self._subwriters.get(folder)
            if sub is None:
                sub = self._subwriters[folder] = self._tbx.SummaryWriter(
                    logdir=folder, max_queue=self._max_queue, flush_secs=self._flush_secs,
                    filename_suffix=self._suffix)
            sub.add_scalar(main_tag, _scalar(value), step, walltime)

    # ---------------------------------------------------------------------------------- tensors
    def add_histogram(self, tag: str, values: Any, global_step: int | None = None, bins: Any = "tensorflow",
                      walltime: float | None = None, max_bins: int | None = None) -> None:
        """A histogram of ``values`` (any shape, flattened); ``bins`` as in ``numpy.histogram`` or
        ``"tensorflow"`` (TensorBoard's exponential buckets)."""
        self._w.add_histogram(tag, _to_numpy(values), _step(global_step), bins, walltime, max_bins)

    def add_image(self, tag: str, img_tensor: Any, global_step: int | None = None,
                  walltime: float | None = None, dataformats: str = "CHW") -> None:
        """One image: float values in [0, 1] or uint8 in [0, 255], laid out as ``dataformats``
        (``"CHW"``, ``"HWC"``, ``"HW"``; 1, 3 or 4 channels)."""
        self._w.add_image(tag, _to_numpy(img_tensor), _step(global_step), walltime, dataformats)

    def add_images(self, tag: str, img_tensor: Any, global_step: int | None = None,
                   walltime: float | None = None, dataformats: str = "NCHW") -> None:
        """A batch of images (``dataformats`` ``"NCHW"``, ``"NHWC"``, ...) tiled into one grid image."""
        self._w.add_images(tag, _to_numpy(img_tensor), _step(global_step), walltime, dataformats)

    def add_figure(self, tag: str, figure: Any, global_step: int | None = None, close: bool = True,
                   walltime: float | None = None) -> None:
        """A matplotlib figure (or a list of them) rendered to an image; closed unless ``close=False``."""
        self._w.add_figure(tag, figure, _step(global_step), close, walltime)

    def add_text(self, tag: str, text_string: str, global_step: int | None = None,
                 walltime: float | None = None) -> None:
        """Text (Markdown) shown in TensorBoard's text tab."""
        self._w.add_text(tag, text_string, _step(global_step), walltime)

    def add_graph(self, model: Any, input_to_model: Any = None, verbose: bool = False,
                  use_strict_trace: bool = True) -> None:
        """The model's graph: ``model(*input_to_model)`` exported to ONNX (:func:`ferrum.onnx.export`)
        and written as TensorBoard's graph. Needs the ``onnx`` package (``pip install 'ferrum[onnx]'``);
        ``verbose`` and ``use_strict_trace`` (torch's tracer options) have no effect."""
        if input_to_model is None:
            raise ValueError("SummaryWriter.add_graph: input_to_model is required (the model is run on it "
                             "to record the graph)")
        try:
            import onnx  # noqa: F401
        except ImportError:
            raise ImportError("SummaryWriter.add_graph writes the model's ONNX graph and needs onnx: "
                              "pip install 'ferrum[onnx]'") from None
        import ferrum.onnx

        args = tuple(input_to_model) if isinstance(input_to_model, list) else input_to_model
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "model.onnx")
            ferrum.onnx.export(model, args, path)
            # tensorboardX prints every node's name while it converts the graph
            with contextlib.redirect_stdout(io.StringIO()):
                self._w.add_onnx_graph(path)

    def add_hparams(self, hparam_dict: dict[str, Any], metric_dict: dict[str, Any],
                    hparam_domain_discrete: dict[str, list] | None = None, run_name: str | None = None,
                    global_step: int | None = None) -> None:
        """Hyperparameters and the metrics they gave (TensorBoard's HPARAMS tab), written into the
        sub-folder ``run_name`` of ``log_dir`` (default: the current time), as torch does.
        ``hparam_domain_discrete`` (the possible values of each discrete hyperparameter) is checked
        the way torch checks it; the tab infers the domains from the runs."""
        if not isinstance(hparam_dict, dict) or not isinstance(metric_dict, dict):
            raise TypeError("hparam_dict and metric_dict should be dictionary.")
        if hparam_domain_discrete is not None:
            for k, v in hparam_domain_discrete.items():
                if k not in hparam_dict or not isinstance(v, list) or not v:
                    raise TypeError("parameter: hparam_domain_discrete should be a dictionary, its keys "
                                    "should exist in hparam_dict, and its values should be lists of the "
                                    "same type as hparam_dict's values.")
        hp = {k: _scalar(_to_numpy(v)) for k, v in hparam_dict.items()}
        metrics = {k: _scalar(v) for k, v in metric_dict.items()}
        self._w.add_hparams(hp, metrics, name=run_name, global_step=_step(global_step))

    def add_embedding(self, mat: Any, metadata: Any = None, label_img: Any = None,
                      global_step: int | None = None, tag: str = "default",
                      metadata_header: Any = None) -> None:
        """Points ``mat`` (N, D) for TensorBoard's projector, with optional per-point ``metadata``
        (labels) and ``label_img`` (N, C, H, W) thumbnails."""
        self._w.add_embedding(_to_numpy(mat), _to_numpy(metadata), _to_numpy(label_img),
                              _step(global_step), tag, metadata_header)

    # -------------------------------------------------------------------------------- lifecycle
    def flush(self) -> None:
        """Writes pending events to disk."""
        for w in (self._w, *self._subwriters.values()):
            for fw in (getattr(w, "all_writers", None) or {}).values():
                _drain(fw)
            w.flush()

    def close(self) -> None:
        """Flushes and closes the event files (more calls to ``add_*`` after this reopen them)."""
        self._w.close()
        for sub in self._subwriters.values():
            sub.close()
        self._subwriters.clear()

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __getattr__(self, name: str) -> Any:
        # the rest of tensorboardX's writer (add_pr_curve, add_mesh, add_audio, add_video,
        # add_custom_scalars, ...), with ferrum tensors among the arguments converted
        if name.startswith("_"):
            raise AttributeError(name)
        fn = getattr(self._w, name)
        if not callable(fn):
            return fn

        def call(*args: Any, **kwargs: Any) -> Any:
            return fn(*_to_numpy(args), **_to_numpy(kwargs))

        return call


def _drain(file_writer: Any) -> None:
    """Writes the events still queued in a tensorboardX ``FileWriter``: its ``flush()`` flushes the
    file but not the queue its writer thread reads, so an event added just before ``flush()`` could
    be missing on disk (torch's ``flush`` writes it). Stopping the thread writes everything queued
    before the stop signal (the queue is FIFO); a new thread then takes over the same file."""
    efw = getattr(file_writer, "event_writer", None)
    worker = getattr(efw, "_worker", None)
    if worker is None or getattr(efw, "_closed", True):
        return
    worker.stop()
    efw._worker = type(worker)(efw._event_queue, efw._ev_writer, efw._flush_secs)
    efw._worker.start()


def _step(step: Any) -> Any:
    """``global_step`` as an int (a one-element tensor or NumPy integer allowed, as in torch)."""
    if step is None:
        return None
    step = _scalar(step)
    if isinstance(step, float) and not step.is_integer():
        raise TypeError(f"SummaryWriter: global_step must be an integer, got {step!r}")
    return int(step)
