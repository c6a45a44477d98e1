"""PyTorch-style printing of tensors."""

from __future__ import annotations

import numpy as np

from ._dtype import bool as bool_, default_complex, from_np, get_default_dtype, int64

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
    """(format function, cell width) for float values ``a`` (float64), chosen as PyTorch does from
    the nonzero finite values: integer mode ("3."), fixed point ("3.1416") or scientific."""
    prec = _opts["precision"]
    finite = a[np.isfinite(a)]
    nz = finite[finite != 0]
    if nz.size == 0:  # only zeros, nan and inf
        return _int_mode_fmt, 1
    mag = np.abs(nz)
    hi, lo = float(mag.max()), float(mag.min())
    ints = bool(np.all(nz == np.ceil(nz)))
    sci = _opts["sci_mode"]
    if sci is None:
        sci = hi / lo > 1000.0 or hi > 1e8 or (not ints and lo < 1e-4)
    if sci:
        def fmt(v):
            return _special(v) or f"{v:.{prec}e}"
    elif ints:
        fmt = _int_mode_fmt
    else:
        def fmt(v):
            return _special(v) or f"{v:.{prec}f}"
    return fmt, max(len(fmt(v)) for v in nz.tolist())


def _int_mode_fmt(v) -> str:
    return _special(v) or f"{v:.0f}."


def _special(v):
    if v != v:
        return "nan"
    if v == float("inf"):
        return "inf"
    if v == float("-inf"):
        return "-inf"
    return None


def _formatter(a: np.ndarray):
    """(format function, cell width) for the (sampled) values ``a``."""
    k = a.dtype.kind
    if k == "b":
        def fmt(v):
            return "True" if v else "False"
        return fmt, (5 if not a.all() else 4) if a.size else 1
    if k in "iu":
        return str, max((len(str(v)) for v in a.tolist()), default=1)
    if k == "c":
        rfmt, rw = _float_formatter(a.real.astype(np.float64))
        ifmt, _ = _float_formatter(a.imag.astype(np.float64))

        def fmt(v):
            im = (ifmt(v.imag) + "j").lstrip()
            return rfmt(v.real).rjust(rw) + (im if im[0] in "+-" else "+" + im)
        return fmt, max((len(fmt(v)) for v in a.tolist()), default=1)
    return _float_formatter(a.astype(np.float64))


def _format_array(a: np.ndarray, indent: int) -> str:
    summarize = a.size > _opts["threshold"]
    edge = _opts["edgeitems"]
    fmt, width = _formatter(_sample(a, summarize, edge))

    def cell(v):
        return fmt(v).rjust(width)

    def rec(x, depth):
        if x.ndim == 0:
            return cell(x.item())
        if x.ndim == 1:
            items = x.tolist()
            if summarize and len(items) > 2 * edge:
                parts = [cell(v) for v in items[:edge]] + [" ..."] + [cell(v) for v in items[-edge:]]
            else:
                parts = [cell(v) for v in items]
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
    """The values that are printed: all of them, or the edge items of each dim when summarizing."""
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
        a = a.astype(np.float32)
    prefix = "tensor("
    suffix = []
    if t.is_cuda:
        suffix.append(f"device='{t.device}'")
    if a.size == 0:
        body = "[]"
        if a.ndim != 1:
            suffix.append(f"size={tuple(a.shape)}")
        if dt is not get_default_dtype():
            suffix.append(f"dtype=ferrum.{dt.name}")
    else:
        body = _format_array(a, len(prefix))
        if dt not in (get_default_dtype(), default_complex(), int64, bool_):
            suffix.append(f"dtype=ferrum.{dt.name}")
    if t.grad_fn is not None:
        suffix.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffix.append("requires_grad=True")
    s = prefix + body
    # a suffix that would overflow the line goes on a new one; lengths are measured as PyTorch's
    # ("torch." for "ferrum.") so that the layout is the same
    used = len(s) - s.rfind("\n") + 1
    for suf in suffix:
        n = len(suf) - suf.count("ferrum.")
        if used + n + 2 > _opts["linewidth"]:
            s += ",\n" + " " * len(prefix) + suf
            used = len(prefix) + n
        else:
            s += ", " + suf
            used += n + 2
    return s + ")"
