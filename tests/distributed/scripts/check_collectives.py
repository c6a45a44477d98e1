"""Run under the launcher (``ferrum run -n N``): every collective, ReduceOp, dtype and shape of
test_collectives.py against values computed locally from what every rank holds. Each rank's data
is a function of (rank, case), so any rank can compute what every other rank contributed. Prints
``CHECKED <rank> <count>`` at the end; a wrong value raises, which aborts the job."""

from __future__ import annotations

import datetime
import sys

import numpy as np

import ferrum
import ferrum.distributed as dist

R = dist.ReduceOp
DTYPES = {"float32": ferrum.float32, "float64": ferrum.float64, "int64": ferrum.int64}
SHAPES = [(), (0,), (7,), (3, 5), (4, 3, 2)]
OPS = [R.SUM, R.PRODUCT, R.MIN, R.MAX, R.AVG, R.BAND, R.BOR, R.BXOR]


def data(rank: int, shape, dtype: str, key: int, op=None) -> np.ndarray:
    rng = np.random.default_rng([rank, key, len(shape)] + list(shape))
    if dtype == "int64":
        lo, hi = (-2, 3) if op in (R.PRODUCT,) else (-50, 51)
        return rng.integers(lo, hi, size=shape).astype(np.int64)
    lo, hi = (0.5, 1.5) if op in (R.PRODUCT,) else (-3.0, 3.0)
    return rng.uniform(lo, hi, size=shape).astype(dtype)


def reduce_np(arrs: list, op) -> np.ndarray:
    s = np.stack(arrs)
    if op == R.SUM:
        return s.sum(0, dtype=s.dtype)
    if op == R.PRODUCT:
        return s.prod(0, dtype=s.dtype)
    if op == R.MIN:
        return s.min(0)
    if op == R.MAX:
        return s.max(0)
    if op == R.AVG:
        t = s.sum(0, dtype=s.dtype)
        if s.dtype.kind == "i":
            q = np.abs(t) // len(arrs)
            return np.where(t < 0, -q, q)
        return t / len(arrs)
    fn = {R.BAND: np.bitwise_and, R.BOR: np.bitwise_or, R.BXOR: np.bitwise_xor}[op]
    return fn.reduce(s, axis=0)


def same(got: ferrum.Tensor, want: np.ndarray, what: str) -> None:
    g = got.numpy()
    assert g.shape == want.shape, f"{what}: shape {g.shape} != {want.shape}"
    if want.dtype.kind == "f":
        tol = 1e-5 if want.dtype == np.float32 else 1e-12
        np.testing.assert_allclose(g, want, rtol=tol, atol=tol, err_msg=what)
    else:
        np.testing.assert_array_equal(g, want, err_msg=what)


def tensor(a: np.ndarray, strided: bool) -> ferrum.Tensor:
    """``a`` as a tensor; with ``strided`` a non-contiguous view holding the same values."""
    if not strided or a.ndim < 2:
        return ferrum.tensor(a.copy())
    return ferrum.tensor(np.ascontiguousarray(np.swapaxes(a, 0, 1))).transpose(0, 1)


def main() -> None:
    dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=60))
    r, n = dist.get_rank(), dist.get_world_size()
    checks = 0
    key = 0
    for dtype in DTYPES:
        for shape in SHAPES:
            strided = len(shape) >= 2
            for op in OPS:
                if op in (R.BAND, R.BOR, R.BXOR) and dtype != "int64":
                    continue
                key += 1
                arrs = [data(q, shape, dtype, key, op) for q in range(n)]
                want = reduce_np(arrs, op)
                t = tensor(arrs[r], strided)
                v = t._version[0]
                async_op = key % 2 == 0
                w = dist.all_reduce(t, op=op, async_op=async_op)
                if async_op:
                    assert w.wait() is True and w.is_completed() and w.result()[0] is t
                assert t._version[0] == v + 1
                same(t, want, f"all_reduce {op.name} {dtype} {shape}")
                root = key % n
                t = tensor(arrs[r], strided)
                dist.reduce(t, dst=root, op=op)
                same(t, want if r == root else arrs[r], f"reduce {op.name} {dtype} {shape}")
                if shape and shape[0] % 1 == 0 and op in (R.SUM, R.MAX, R.AVG, R.BXOR):
                    chunks = [data(q, (n,) + shape, dtype, key + 1000, op) for q in range(n)]
                    out = ferrum.zeros(shape, dtype=DTYPES[dtype])
                    dist.reduce_scatter_tensor(out, ferrum.tensor(chunks[r]), op=op)
                    same(out, reduce_np([c[r] for c in chunks], op), f"reduce_scatter_tensor {op.name}")
                    out2 = ferrum.zeros(shape, dtype=DTYPES[dtype])
                    dist.reduce_scatter(out2, [ferrum.tensor(c) for c in chunks[r]], op=op)
                    same(out2, reduce_np([c[r] for c in chunks], op), f"reduce_scatter {op.name}")
                    checks += 2
                checks += 2
            # data movement, once per dtype and shape
            key += 1
            arrs = [data(q, shape, dtype, key) for q in range(n)]
            root = key % n
            t = tensor(arrs[r], strided)
            dist.broadcast(t, src=root)
            same(t, arrs[root], f"broadcast {dtype} {shape}")
            outs = [tensor(np.zeros(shape, dtype), strided) for _ in range(n)]
            dist.all_gather(outs, tensor(arrs[r], strided))
            for q in range(n):
                same(outs[q], arrs[q], f"all_gather {dtype} {shape}")
            big = ferrum.zeros((n,) + shape, dtype=DTYPES[dtype])
            dist.all_gather_into_tensor(big, tensor(arrs[r], strided))
            same(big, np.stack(arrs), f"all_gather_into_tensor {dtype} {shape}")
            glist = [ferrum.zeros(shape, dtype=DTYPES[dtype]) for _ in range(n)] if r == root else None
            dist.gather(tensor(arrs[r], strided), glist, dst=root)
            if r == root:
                for q in range(n):
                    same(glist[q], arrs[q], f"gather {dtype} {shape}")
            parts = [data(root, shape, dtype, key + 7 * q) for q in range(n)]
            s = ferrum.zeros(shape, dtype=DTYPES[dtype])
            dist.scatter(s, [ferrum.tensor(p) for p in parts] if r == root else None, src=root)
            same(s, parts[r], f"scatter {dtype} {shape}")
            checks += 5
        # all_to_all with uneven sizes: rank q sends (q + j) % 3 + 1 rows to rank j
        rows = lambda q, j: (q + j) % 3 + 1  # noqa: E731
        sends = {q: [data(q, (rows(q, j), 2), dtype, 5000 + j) for j in range(n)] for q in range(n)}
        outs = [ferrum.zeros((rows(j, r), 2), dtype=DTYPES[dtype]) for j in range(n)]
        dist.all_to_all(outs, [ferrum.tensor(a) for a in sends[r]])
        for j in range(n):
            same(outs[j], sends[j][r], f"all_to_all {dtype}")
        o = ferrum.zeros((sum(rows(j, r) for j in range(n)), 2), dtype=DTYPES[dtype])
        dist.all_to_all_single(o, ferrum.tensor(np.concatenate(sends[r])),
                               output_split_sizes=[rows(j, r) for j in range(n)],
                               input_split_sizes=[rows(r, j) for j in range(n)])
        same(o, np.concatenate([sends[j][r] for j in range(n)]), f"all_to_all_single {dtype}")
        checks += 2
    checks += other_checks(r, n)
    dist.destroy_process_group()
    print(f"CHECKED {r} {checks}", flush=True)


def other_checks(r: int, n: int) -> int:
    checks = 0
    # half precision, bool and complex reductions
    for name in ("float16", "bfloat16"):
        t = ferrum.full((5,), float(r + 1), dtype=getattr(ferrum, name))
        dist.all_reduce(t)
        assert t.float().tolist() == [n * (n + 1) / 2] * 5, name
    b = ferrum.tensor([r == 0, True, False])
    dist.all_reduce(b, op=R.MIN)
    assert b.tolist() == [n == 1, True, False]
    c = ferrum.tensor(np.array([1 + 1j * r], np.complex64))
    dist.all_reduce(c)
    assert abs(c.numpy()[0] - (n + 1j * n * (n - 1) / 2)) < 1e-5
    # point to point: a ring of isend/irecv, then batch_isend_irecv the other way, then send/recv
    nxt, prv = (r + 1) % n, (r - 1) % n
    buf = ferrum.zeros(4, dtype=ferrum.float64)
    works = [dist.isend(ferrum.full((4,), float(r), dtype=ferrum.float64), nxt), dist.irecv(buf, prv)]
    for w in works:
        w.wait()
    assert buf.tolist() == [float(prv)] * 4
    ops = [dist.P2POp(dist.isend, ferrum.full((2, 2), r, dtype=ferrum.int64), prv, tag=3),
           dist.P2POp(dist.irecv, got := ferrum.zeros(2, 2, dtype=ferrum.int64), nxt, tag=3)]
    for w in dist.batch_isend_irecv(ops):
        w.wait()
    assert got.tolist() == [[nxt, nxt], [nxt, nxt]]
    if r == 0:
        for _ in range(1, n):
            t = ferrum.zeros(3)
            src = dist.recv(t)
            assert t.tolist() == [float(src)] * 3
    else:
        dist.send(ferrum.full((3,), float(r)), dst=0)
    checks += 6
    # object collectives
    objs = [None] * n
    dist.all_gather_object(objs, {"rank": r, "sq": [r] * r})
    assert objs == [{"rank": q, "sq": [q] * q} for q in range(n)]
    lst = [r, "x"] if r == n - 1 else [None, None]
    dist.broadcast_object_list(lst, src=n - 1)
    assert lst == [n - 1, "x"]
    got = [None] * n if r == 0 else None
    dist.gather_object(("g", r), got, dst=0)
    assert r != 0 or got == [("g", q) for q in range(n)]
    out = [None]
    dist.scatter_object_list(out, [q * 10 for q in range(n)] if r == 1 % n else None, src=1 % n)
    assert out == [r * 10]
    checks += 4
    # a subgroup of the even ranks, with its own collectives, then the world again
    evens = list(range(0, n, 2))
    g = dist.new_group(evens)
    if r in evens:
        t = ferrum.full((3,), float(r))
        dist.all_reduce(t, group=g)
        assert t.tolist() == [float(sum(evens))] * 3 and dist.get_world_size(g) == len(evens)
        b = ferrum.zeros(2)
        dist.broadcast(b + evens[-1], src=evens[-1], group=g)
        assert dist.get_rank(g) == evens.index(r)
        dist.destroy_process_group(g)
    else:
        assert g is dist.GroupMember.NON_GROUP_MEMBER and dist.get_rank(g) == -1
    dist.barrier()
    dist.monitored_barrier(timeout=datetime.timedelta(seconds=30), wait_all_ranks=True)
    # several async collectives in flight at once, completed in any order
    ts = [ferrum.full((1000,), float(r + k)) for k in range(5)]
    works = [dist.all_reduce(t, async_op=True) for t in ts]
    for k in reversed(range(5)):
        works[k].wait()
        assert ts[k][0].item() == sum(q + k for q in range(n))
    checks += 3
    return checks


if __name__ == "__main__":
    main()
    sys.exit(0)
