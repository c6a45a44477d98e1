"""PyTorch-style printing of tensors."""

from __future__ import annotations

import numpy as np

from ._dtype import bool as bool_, float32, from_np, get_default_dtype, int64

_opts = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None,
                     sci_mode=None) -> None:
    """Sets print options for tensors (as ``torch.set_printoptions``)."""
    if profile == "default":
        _opts.update(precision=4, threshold=1000, edgeitems=3, linewidth=80)
    elif profile == "short":
        _opts.update(precision=2, threshold=1000, edgeitems=2, linewidth=80)
    elif profile == "full":
        _opts.update(precision=4, threshold=float("inf"), edgeitems=3, linewidth=80)
    for k, v in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                 ("linewidth", linewidth)):
        if v is not None:
            _opts[k] = v
    _opts["sci_mode"] = sci_mode


def _float_formatter(a: np.ndarray):
    prec = _opts["precision"]
    finite = a[np.isfinite(a)] if a.size else a
    nz = np.abs(finite[finite != 0]) if finite.size else finite
    ints = finite.size == 0 or bool(np.all(finite == np.round(finite)))
    sci = _opts["sci_mode"]
    if sci is None:
        sci = bool(nz.size) and (nz.max() / nz.min() > 1000.0 or nz.max() > 1e8 or nz.min() < 1e-4)
    if ints and not sci:
        width = max((len(f"{v:.0f}") for v in finite.tolist()), default=1) + 1

        def fmt(v):
            return _special(v) or (f"{v:.0f}." )
        return fmt
    if sci:
        def fmt(v):
            return _special(v) or f"{v:.{prec}e}"
        return fmt

    def fmt(v):
        return _special(v) or f"{v:.{prec}f}"
    return fmt


def _special(v):
    if v != v:
        return "nan"
    if v == float("inf"):
        return "inf"
    if v == float("-inf"):
        return "-inf"
    return None


def _format_array(a: np.ndarray, indent: int) -> str:
    if a.dtype.kind == "b":
        fmt = lambda v: "True" if v else "False"  # noqa: E731
    elif a.dtype.kind in "iu":
        fmt = str
    elif a.dtype.kind == "c":
        def fmt(v):
            return f"{v.real:.4f}{v.imag:+.4f}j"
    else:
        fmt = _float_formatter(a.astype(np.float64))
    summarize = a.size > _opts["threshold"]
    edge = _opts["edgeitems"]
    flat = a.astype(np.float64) if a.dtype.kind == "f" else a
    cells = [fmt(v) for v in _sample(flat, summarize, edge).tolist()] if flat.size else []
    width = max((len(c) for c in cells), default=0)

    def rec(x, depth):
        if x.ndim == 0:
            return fmt(x.item()).rjust(width)
        if x.ndim == 1:
            items = x.tolist()
            if summarize and len(items) > 2 * edge:
                parts = [fmt(v).rjust(width) for v in items[:edge]] + ["..."] + \
                        [fmt(v).rjust(width) for v in items[-edge:]]
            else:
                parts = [fmt(v).rjust(width) for v in items]
            per_line = max(1, (_opts["linewidth"] - indent - depth) // (width + 2))
            lines = [", ".join(parts[i:i + per_line]) for i in range(0, len(parts), per_line)]
            return "[" + (",\n" + " " * (indent + depth + 1)).join(lines) + "]"
        n = x.shape[0]
        idx = list(range(n))
        if summarize and n > 2 * edge:
            idx = list(range(edge)) + [None] + list(range(n - edge, n))
        sep = "," + "\n" * (x.ndim - 1) + " " * (indent + depth + 1)
        parts = ["..." if i is None else rec(x[i], depth + 1) for i in idx]
        return "[" + sep.join(parts) + "]"
    return rec(a, 0)


def _sample(a, summarize, edge):
    if not summarize or a.ndim == 0:
        return a.reshape(-1)
    sl = a
    for ax in range(a.ndim):
        if sl.shape[ax] > 2 * edge:
            sl = np.concatenate([np.take(sl, range(edge), axis=ax),
                                 np.take(sl, range(sl.shape[ax] - edge, sl.shape[ax]), axis=ax)], axis=ax)
    return sl.reshape(-1)


def tensor_repr(t) -> str:
    d = t._data
    a = d if isinstance(d, np.ndarray) else d.get()
    dt = from_np(a.dtype)
    if dt.name == "bfloat16" or dt.name == "float16":
        a_print = a.astype(np.float32)
    else:
        a_print = a
    prefix = "tensor("
    suffix = []
    if t.is_cuda:
        suffix.append(f"device='{t.device}'")
    if a.size == 0 and a.ndim == 1:
        body = "[]"
    elif a.size == 0:
        body = "[]"
        suffix.append(f"size={tuple(a.shape)}")
    else:
        body = _format_array(a_print, len(prefix))
    if dt not in (get_default_dtype(), int64, bool_) or (dt is not float32 and dt is get_default_dtype()
                                                         and False):
        suffix.append(f"dtype=ferrum.{dt.name}")
    if t.grad_fn is not None:
        suffix.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffix.append("requires_grad=True")
    s = prefix + body
    if suffix:
        s += ", " + ", ".join(suffix)
    return s + ")"
