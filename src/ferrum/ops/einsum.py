"""einsum and tensordot: the general bilinear primitive of ferrum.

``einsum`` parses an equation (or the sublist form) into integer labels and runs NumPy's einsum;
``_einsum_sub`` (integer sublists) is what tensordot here and outer, inner and addbmm in
``matmul`` are built on. The backward is again einsum, with the equation permuted so that the
operand being differentiated becomes the output.

Integer and bool operands follow PyTorch's algorithm: labels that only one operand has and the
output lacks are summed out of that operand first, in int64 (as ``sum`` does), so ``einsum('i->',
int8)`` does not overflow; products between operands stay in the operands' dtype.
"""

from __future__ import annotations

import builtins

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Node, record
from ._common import canon_dim, same_device
from ._linalg_common import _check, _conj, _const_like, _tname
from .elementwise import _write_out
from ._autocast import autocast_op

__all__ = ["einsum", "tensordot"]

_ndarray = np.ndarray
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_EINSUM_OPT_SIZE = 4096  # above this many elements in an operand, let NumPy pick a BLAS path


def _parse_einsum(equation: str, shapes) -> tuple:
    """Equation -> (subs per operand as label tuples, output labels). Labels are ints: the letters
    are 0..51, ellipsis dims get labels from 52 up (right-aligned across operands)."""
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, rhs = eq.split("->", 1)
    else:
        lhs, rhs = eq, None
    terms = lhs.split(",")
    if len(terms) > len(shapes):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(terms) < len(shapes):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    pos = 0
    parsed = []
    n_ell = 0
    for i, term in enumerate(terms):
        labels = []
        ell = None
        j = 0
        while j < len(term):
            c = term[j]
            if c == ".":
                if term[j:j + 3] != "..." or ell is not None:
                    raise RuntimeError(f"einsum(): found '.' for operand {i} that is not part of any "
                                       "ellipsis" if term[j:j + 3] != "..." else
                                       f"einsum(): found '.' for operand {i} for which an ellipsis was "
                                       "already found")
                ell = len(labels)
                j += 3
                continue
            k = _LETTERS.find(c)
            if k < 0:
                raise RuntimeError(f"einsum(): invalid subscript given at index {pos + j} in the equation "
                                   "string, subscripts must be in [a-zA-Z]")
            labels.append(k)
            j += 1
        pos += len(term) + 1
        nd = len(shapes[i])
        if ell is None and len(labels) != nd:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(labels)}) does "
                               f"not match the number of dimensions ({nd}) for operand {i} and no "
                               "ellipsis was given")
        if ell is not None and len(labels) > nd:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(labels)}) is "
                               f"more than the number of dimensions ({nd}) for operand {i}")
        if ell is not None:
            n_ell = max(n_ell, nd - len(labels))
        parsed.append((labels, ell, nd))
    subs = []
    for labels, ell, nd in parsed:
        if ell is None:
            subs.append(tuple(labels))
        else:
            k = nd - len(labels)
            subs.append(tuple(labels[:ell]) + tuple(52 + n_ell - k + m for m in range(k))
                        + tuple(labels[ell:]))
    ell_labels = tuple(range(52, 52 + n_ell))
    if rhs is None:
        counts: dict = {}
        for s in subs:
            for lab in s:
                counts[lab] = counts.get(lab, 0) + 1
        out = ell_labels + tuple(sorted(lab for lab, c in counts.items() if c == 1 and lab < 52))
    else:
        out = []
        seen_ell = False
        j = 0
        used = {lab for s in subs for lab in s}
        while j < len(rhs):
            c = rhs[j]
            if c == ".":
                if rhs[j:j + 3] != "..." or seen_ell:
                    raise RuntimeError("einsum(): found '.' for output that is not part of any ellipsis"
                                       if rhs[j:j + 3] != "..." else
                                       "einsum(): found '.' for output for which an ellipsis was "
                                       "already found")
                seen_ell = True
                out.extend(ell_labels)
                j += 3
                continue
            k = _LETTERS.find(c)
            if k < 0:
                raise RuntimeError(f"einsum(): invalid subscript given at index {len(lhs) + 2 + j} in the "
                                   "equation string, subscripts must be in [a-zA-Z]")
            if k not in used:
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for "
                                   "any input operand")
            if k in out:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the output")
            out.append(k)
            j += 1
        out = tuple(out)
    return subs, out


def _label_name(lab: int) -> str:
    return _LETTERS[lab] if 0 <= lab < 52 else "..."


def _einsum_sub(operands, subs, out, op: str = "einsum") -> Tensor:
    """einsum on integer sublists: ``operands[i]`` has labels ``subs[i]``; the result ``out``.

    Size-1 dims broadcast against other sizes of the same label, as in PyTorch.
    """
    arrays = [t._data for t in operands]
    dt = arrays[0].dtype
    for a in arrays:
        if a.dtype != dt:
            raise RuntimeError(f"expected scalar type {_tname(dt)} but found {_tname(a.dtype)}")
        if a.__class__ is not arrays[0].__class__:
            same_device(op, *operands)
    sizes: dict = {}
    for i, (s, a) in enumerate(zip(subs, arrays)):
        for lab, n in zip(s, a.shape):
            prev = sizes.get(lab)
            if prev is None or prev == 1:
                sizes[lab] = n
            elif n != prev and n != 1:
                raise RuntimeError(f"einsum(): subscript {_label_name(lab)} has size {n} for operand {i} "
                                   f"which does not broadcast with previously seen size {prev}")
    if dt.kind in "biu":
        arrays = _integer_operands(arrays, subs, out)
    # broadcast size-1 dims become labels of their own (summed away, trivially)
    nxt = max([lab for s in subs for lab in s] + list(out) + [-1]) + 1
    new_subs = []
    for s, a in zip(subs, arrays):
        if any(n == 1 and sizes[lab] != 1 for lab, n in zip(s, a.shape)):
            s2 = []
            for lab, n in zip(s, a.shape):
                if n == 1 and sizes[lab] != 1:
                    s2.append(nxt)
                    sizes[nxt] = 1
                    nxt += 1
                else:
                    s2.append(lab)
            s = tuple(s2)
        new_subs.append(tuple(s))
    subs = new_subs
    # compact the labels to 0..n-1 for NumPy (which takes at most 52)
    used = sorted({lab for s in subs for lab in s} | set(out))
    if len(used) > 52:
        raise RuntimeError(f"einsum(): too many distinct subscripts ({len(used)}); at most 52 are supported")
    remap = {lab: i for i, lab in enumerate(used)}
    subs = tuple(tuple(remap[lab] for lab in s) for s in subs)
    out = tuple(remap[lab] for lab in out)
    sizes = {remap[lab]: n for lab, n in sizes.items() if lab in remap}
    r = _raw_einsum(arrays, subs, out)
    return record(r, EinsumBackward, tuple(operands), save=tuple(operands), subs=subs, out_subs=out,
                  sizes=sizes)


def _integer_operands(arrays, subs, out) -> list:
    """Integer/bool operands as PyTorch's einsum sees them: an operand with labels of its own that
    the output lacks is summed over them first, which promotes it to int64 (as ``sum`` does).
    Operands then multiply in their dtype; a contraction between operands of different dtypes
    (int64 after such a sum against a narrower one) raises as in PyTorch, and bool operands
    cannot be contracted (no bool GEMM)."""
    counts: dict = {}
    for s in subs:
        for lab in set(s):
            counts[lab] = counts.get(lab, 0) + 1
    outs = set(out)
    arrays = [a.astype(np.int64) if any(counts[lab] == 1 and lab not in outs for lab in s) else a
              for a, s in zip(arrays, subs)]
    contracted = any(c > 1 and lab not in outs for lab, c in counts.items())
    dts = [a.dtype for a in arrays]
    if contracted:
        bad = next((d for d in dts if d != dts[0]), None)
        if bad is not None:
            raise RuntimeError(f"expected scalar type {_tname(dts[0])} but found {_tname(bad)}")
        if dts[0].kind == "b":
            raise NotImplementedError("\"bmm\" not implemented for 'Bool'")
    elif any(d != dts[0] for d in dts):
        arrays = [a.astype(np.int64) for a in arrays]
    return arrays


def _raw_einsum(arrays, subs, out):
    eq = ",".join("".join(_LETTERS[lab] for lab in s) for s in subs) + "->" + \
        "".join(_LETTERS[lab] for lab in out)
    big = len(arrays) > 2 or (len(arrays) == 2 and builtins.max(a.size for a in arrays) > _EINSUM_OPT_SIZE)
    dt = arrays[0].dtype
    if dt.kind == "V" or dt.name == "bfloat16":  # NumPy's einsum has no bfloat16 loops
        arrays = [a.astype(np.float32) for a in arrays]
    try:
        r = np.einsum(eq, *arrays, optimize=big)
    except ValueError as e:
        raise RuntimeError(f"einsum(): {e}") from None
    if r.dtype != dt:
        return np.asarray(r).astype(dt)
    if r.__class__ is not _ndarray and isinstance(r, np.generic):
        return np.asarray(r)
    for a in arrays:
        if np.may_share_memory(r, a):
            return r.copy()
    return r


class EinsumBackward(Node):
    """Gradient of operand i: the einsum of the output gradient with the other operands, whose
    output is operand i's subscripts. Labels only operand i has get a ones vector; a label repeated
    within operand i (a diagonal) gets identity matrices tying the repeats together."""

    def backward_t(self, g, *ops):
        subs, out, sizes = self.subs, self.out_subs, self.sizes
        grads = []
        nxt_label = builtins.max(sizes) + 1 if sizes else 0
        for i, s in enumerate(subs):
            if self.next[i] is None:
                grads.append(None)
                continue
            operands = [g]
            sl = [out]
            for j, (t, sj) in enumerate(zip(ops, subs)):
                if j != i:
                    operands.append(_conj(t))
                    sl.append(sj)
            have = set(out).union(*[set(x) for x in sl[1:]]) if len(sl) > 1 else set(out)
            target = []
            seen = set()
            for lab in s:
                if lab in seen:  # a repeat: a fresh label tied to the first by an identity matrix
                    n = sizes[lab]
                    eye = _const_like(g, np.eye(n, dtype=g._data.dtype))
                    operands.append(eye)
                    sl.append((lab, nxt_label))
                    target.append(nxt_label)
                    nxt_label += 1
                    continue
                seen.add(lab)
                target.append(lab)
                if lab not in have:
                    operands.append(_const_like(g, np.ones(sizes[lab], dtype=g._data.dtype)))
                    sl.append((lab,))
                    have.add(lab)
            gi = _einsum_sub(operands, sl, tuple(target))
            grads.append(gi)
        return tuple(grads)


@autocast_op("einsum")
def einsum(*args) -> Tensor:
    """Einstein summation: ``einsum("ij,jk->ik", a, b)``. Supports ``...`` (broadcast dims),
    implicit output (the labels seen once, sorted, after the ellipsis dims), size-1 broadcasting,
    a list of operands as the second argument, and the sublist form
    ``einsum(a, [0, 1], b, [1, 2], [0, 2])``."""
    if not args:
        raise TypeError("einsum(): must specify the equation string and at least one operand, or at "
                        "least one operand and its subscripts list")
    if isinstance(args[0], str):
        equation = args[0]
        operands = args[1:]
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = tuple(operands[0])
        for i, t in enumerate(operands):
            if not isinstance(t, Tensor):
                raise TypeError(f"einsum(): operand {i} must be a Tensor, not {type(t).__name__}")
        if not operands:
            raise RuntimeError("einsum(): must provide at least one operand")
        subs, out = _parse_einsum(equation, [t._data.shape for t in operands])
        return _einsum_sub(operands, subs, out)
    # sublist format
    items = list(args)
    operands, sublists = [], []
    while len(items) >= 2 and isinstance(items[0], Tensor):
        operands.append(items.pop(0))
        sublists.append(items.pop(0))
    out_list = items.pop(0) if items else None
    if items or not operands:
        raise TypeError("einsum(): expected operands and subscript lists alternating, then an optional "
                        "output subscript list")
    letters = []
    for s in sublists:
        letters.append("".join("..." if x is Ellipsis else _LETTERS[_sub_int(x)] for x in s))
    eq = ",".join(letters)
    if out_list is not None:
        eq += "->" + "".join("..." if x is Ellipsis else _LETTERS[_sub_int(x)] for x in out_list)
    return einsum(eq, *operands)


def _sub_int(x) -> int:
    x = int(x)
    if not 0 <= x < 52:
        raise ValueError(f"einsum(): subscript in subscript list is not within the valid range [0, 52), "
                         f"got {x}")
    return x


def tensordot(a: Tensor, b: Tensor, dims=2, out=None) -> Tensor:
    """Contracts dims of ``a`` with dims of ``b``: ``dims`` is an int (the last ``dims`` of ``a``
    with the first ``dims`` of ``b``) or a pair of lists of dims."""
    if out is not None:
        return _write_out(out, tensordot(a, b, dims))
    _check(a, "tensordot", "a")
    _check(b, "tensordot", "b")
    if a.dtype is not b.dtype:  # checked before autocast casts, as torch's Python-level check
        raise RuntimeError("both inputs should have same dtype")
    return _tensordot(a, b, dims)


@autocast_op("tensordot")
def _tensordot(a: Tensor, b: Tensor, dims) -> Tensor:
    na, nb = a._data.ndim, b._data.ndim
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (int, np.integer)):
        d = int(dims)
        if d < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={d}")
        if d > na or d > nb:
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={d}")
        da, db = list(range(na - d, na)), list(range(d))
    else:
        if len(dims) != 2:
            raise RuntimeError("tensordot expects dims to be an int or a pair of lists of dims")
        da, db = dims
        da = [da] if isinstance(da, (int, np.integer)) else list(da)
        db = [db] if isinstance(db, (int, np.integer)) else list(db)
        if len(da) != len(db):
            raise RuntimeError(f"both dimension lists should have same length, got {len(da)} and {len(db)}")
        da = [canon_dim(x, na, "tensordot") for x in da]
        db = [canon_dim(x, nb, "tensordot") for x in db]
    sa, sb = a._data.shape, b._data.shape
    for x, y in zip(da, db):
        if sa[x] != sb[y]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {sa[x]} in dim "
                               f"{x - na if x - na < 0 else x} and second has size {sb[y]} in dim {y}")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError("both inputs should have same dtype")
    subs_a = list(range(na))
    subs_b = list(range(na, na + nb))
    for x, y in zip(da, db):
        subs_b[y] = subs_a[x]
    out_subs = [s for i, s in enumerate(subs_a) if i not in da] + \
               [s for i, s in enumerate(subs_b) if i not in db]
    return _einsum_sub((a, b), (tuple(subs_a), tuple(subs_b)), tuple(out_subs), "tensordot")
