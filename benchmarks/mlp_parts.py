"""The pieces of the MLP training step (../shared/bench's ``mlp``), variants timed side by side.

    PYTHONPATH=src python benchmarks/mlp_parts.py                       # every experiment, 2 threads
    PYTHONPATH=src python benchmarks/mlp_parts.py -e sgd,phases -t 1    # some, on one BLAS thread

Each experiment is a dict of variants (name -> callable doing one unit of work); the variants are
timed in interleaved rounds in one process (each round: one untimed call, then ``--n`` timed
calls), and the report gives, per variant, the median over rounds of the per-round median and
of the per-round minimum (in us). The minimum is the number to read on a busy machine: it is
the run that was not preempted. The comments in the source that justify a choice quote these.

Experiments:
  sgd     the SGD(momentum=0.9) update of the MLP's six parameters: NumPy ufuncs (the old kernel)
          against BLAS axpy/scal (``optim.sgd._sgd_blas``)
  bias    the hidden layers' forward: GEMM then ``+= bias`` against a GEMM accumulating into the bias
  bias_add  the bias add alone (128x512 column-major): NumPy broadcast against BLAS ger
  gemm    the MLP's GEMMs, ferrum's layouts against torch's
  attach  the node recording of ops/linear.py: inlined against attach()
  phases  one whole training step, ferrum against torch: zero_grad, forward, loss, backward, step
  insitu  (only when named) the phases timed inside the training loop, ferrum against torch
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np


def _timed(fn, n: int) -> list[float]:
    out = []
    pc = time.perf_counter
    for _ in range(n):
        t0 = pc()
        fn()
        out.append(pc() - t0)
    return out


def run(variants: dict, rounds: int, n: int) -> dict:
    res = {k: ([], []) for k in variants}
    for fn in variants.values():
        fn()
    for r in range(rounds):
        items = list(variants.items())
        for name, fn in (items if r % 2 == 0 else items[::-1]):
            fn()
            ts = _timed(fn, n)
            res[name][0].append(statistics.median(ts))
            res[name][1].append(min(ts))
    return {k: (statistics.median(med) * 1e6, statistics.median(mn) * 1e6) for k, (med, mn) in res.items()}


def report(title: str, res: dict) -> None:
    base = next(iter(res.values()))
    print(f"## {title}")
    for k, (med, mn) in res.items():
        print(f"  {k:34s} median {med:9.1f} us   min {mn:9.1f} us   ratio(min) {mn / base[1]:5.2f}")
    sys.stdout.flush()


def _mlp_params():
    rng = np.random.default_rng(0)
    shapes = [(512, 784), (512,), (256, 512), (256,), (10, 256), (10,)]
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


def exp_sgd():
    from ferrum.optim import sgd
    from ferrum.optim.optimizer import _Scratch
    P = _mlp_params()
    G = [p * 0.01 for p in P]
    B = [p * 0.1 for p in P]
    scratch = _Scratch()

    def kernel(k):
        def f():
            for a, g, b in zip(P, G, B):
                k(a, g, b, scratch(a, 0), scratch(a, 1), 0.01, 0, 0.9, 0, False, False, False)
        return f

    return {"ufunc kernel (before)": kernel(sgd._sgd_kernel), "blas axpy/scal": kernel(sgd._sgd_blas)}


def _sgemm():
    """NumPy's OpenBLAS cblas_sgemm through ctypes (for the beta=1 variant), or None."""
    import ctypes

    from ferrum.ops import _blas
    if not _blas.available:
        return None
    lib = ctypes.CDLL(_blas._path)
    f = lib.scipy_cblas_sgemm64_
    i, n, p, r = ctypes.c_int, ctypes.c_int64, ctypes.c_void_p, ctypes.c_float
    f.argtypes = (i, i, i, n, n, n, r, p, n, p, n, r, p, n)
    f.restype = None
    return f


def _sger():
    """``ger(a, x, y)``: ``a += outer(x, y)`` for a C-ordered float32 ``a``, NumPy's OpenBLAS
    cblas_sger through ctypes, or None."""
    import ctypes

    from ferrum.ops import _blas
    if not _blas.available:
        return None
    lib = ctypes.CDLL(_blas._path)
    f = lib.scipy_cblas_sger64_
    i, n, p, r = ctypes.c_int, ctypes.c_int64, ctypes.c_void_p, ctypes.c_float
    f.argtypes = (i, n, n, r, p, n, p, n, p, n)
    f.restype = None

    def ger(a, x, y):
        f(101, a.shape[0], a.shape[1], 1.0, x.ctypes.data, 1, y.ctypes.data, 1, a.ctypes.data, a.shape[1])
    return ger


def exp_bias():
    """Each hidden layer's forward: GEMM (column-major result) then ``+= bias``, against the bias
    broadcast into the output first and the GEMM accumulated onto it (sgemm with beta=1)."""
    rng = np.random.default_rng(0)
    sgemm = _sgemm()
    sger = _sger()
    out = {}
    for fan_in, fan_out in ((784, 512), (512, 256)):
        W = rng.standard_normal((fan_out, fan_in)).astype(np.float32)
        x = rng.standard_normal((128, fan_in)).astype(np.float32)
        if fan_in != 784:
            x = np.asfortranarray(x)  # a hidden input is column-major
        b = rng.standard_normal(fan_out).astype(np.float32)

        def plain(W=W, x=x, b=b):
            r = (W @ x.T).T
            r += b
            return r

        def beta1(W=W, x=x, b=b, fan_in=fan_in, fan_out=fan_out):
            rt = np.empty((fan_out, 128), np.float32)
            rt[...] = b[:, None]
            # row-major C (fan_out x 128) = W (fan_out x fan_in) @ x^T, + C
            if x.flags.c_contiguous:
                sgemm(101, 111, 112, fan_out, 128, fan_in, 1.0, W.ctypes.data, fan_in, x.ctypes.data,
                      fan_in, 1.0, rt.ctypes.data, 128)
            else:
                sgemm(101, 111, 111, fan_out, 128, fan_in, 1.0, W.ctypes.data, fan_in, x.ctypes.data,
                      128, 1.0, rt.ctypes.data, 128)
            return rt.T

        def ger(W=W, x=x, b=b, ones=np.ones(128, np.float32)):
            rt = W @ x.T
            sger(rt, b, ones)
            return rt.T

        out[f"{fan_in}x{fan_out}: gemm, then += bias"] = plain
        if sger is not None:
            np.testing.assert_array_equal(plain(), ger())
            out[f"{fan_in}x{fan_out}: gemm, then ger(bias, 1)"] = ger
        if sgemm is not None:
            np.testing.assert_allclose(plain(), beta1(), rtol=1e-4, atol=1e-4)
            out[f"{fan_in}x{fan_out}: bias, then sgemm beta=1"] = beta1
    return out


def exp_bias_add():
    """The bias add alone on a column-major 128x512 float32 hidden output: NumPy's broadcast add
    against BLAS ger with a ones vector."""
    rng = np.random.default_rng(0)
    rt = rng.standard_normal((512, 128)).astype(np.float32)
    b = rng.standard_normal(512).astype(np.float32)
    ones = np.ones(128, np.float32)
    sger = _sger()
    out = {"numpy r += b": lambda: np.add(rt.T, b, out=rt.T)}
    if sger is not None:
        out["ger(b, ones)"] = lambda: sger(rt, b, ones)
    return out


def exp_gemm():
    """The MLP's GEMMs in the layouts ferrum uses (hidden activations column-major, marked F)
    against torch's: the part of the step no Python-side change reaches."""
    import torch
    torch.set_num_threads(_THREADS)
    rng = np.random.default_rng(0)
    out = {}
    for fan_in, fan_out, x_f in ((784, 512, False), (512, 256, True), (256, 10, True)):
        W = rng.standard_normal((fan_out, fan_in)).astype(np.float32)
        x = rng.standard_normal((128, fan_in)).astype(np.float32)
        g = np.asfortranarray(rng.standard_normal((128, fan_out)).astype(np.float32))
        if x_f:
            x = np.asfortranarray(x)
        tw, tx, tg = (torch.from_numpy(np.ascontiguousarray(a)) for a in (W, x, g))
        last = fan_out == 10
        tag = f"{fan_in}x{fan_out}"
        out[f"{tag} fwd ferrum"] = (lambda W=W, x=x: x @ W.T) if last else (lambda W=W, x=x: (W @ x.T).T)
        out[f"{tag} fwd torch"] = lambda tw=tw, tx=tx: tx @ tw.t()
        if fan_in != 784:
            out[f"{tag} dx ferrum"] = lambda W=W, g=g: (W.T @ g.T).T
            out[f"{tag} dx torch"] = lambda tw=tw, tg=tg: tg @ tw
        out[f"{tag} dW ferrum"] = lambda x=x, g=g: g.T @ x
        out[f"{tag} dW torch"] = lambda tx=tx, tg=tg: tg.t() @ tx
    return out


def exp_attach():
    """A 16x16 linear with grad: the inlined node recording of ops/linear.py against attach()."""
    import ferrum
    from ferrum import _state
    from ferrum.autograd.function import attach
    from ferrum.ops._layout import is_colmajor_2d
    from ferrum.ops.linear import AddmmBackward0, _linear
    rng = np.random.default_rng(0)
    x = ferrum.from_numpy(rng.standard_normal((16, 16)).astype(np.float32)).requires_grad_()
    lin = ferrum.nn.Linear(16, 16)
    w, b = lin.weight, lin.bias

    def with_attach():
        xd, wd = x._data, w._data
        r = xd @ wd.T
        r += b._data
        out = ferrum._tensor._wrap(r)
        if _state.grad_enabled and (x.requires_grad or w.requires_grad or b.requires_grad):
            attach(out, AddmmBackward0, (x, w, b), x=x, w=w, vx=x._version[0], vw=w._version[0],
                   has_b=True, x_colmajor=is_colmajor_2d(xd))
        return out

    return {"inlined (ops.linear._linear)": lambda: _linear(x, w, b, False), "attach()": with_attach}


def insitu(threads: int, rounds: int = 8, n: int = 60) -> None:
    """Each phase of the training step timed inside the training loop (caches as they are in real
    training: the optimizer meets gradients just written by the backward GEMMs): torch, ferrum, and
    ferrum with its BLAS level-1 path switched off (``ops/_blas.available = False``: SGD's ufunc
    kernel), in interleaved blocks; medians over rounds of the per-block medians."""
    sys.path.insert(0, os.environ.get("FERRUM_BENCH_DIR", "/work/shared/bench"))
    import workloads as W

    import ferrum
    import torch
    from ferrum.ops import _blas
    blas_on = _blas.available
    contenders = {}
    for name, fw in (("torch", torch), ("ferrum", ferrum), ("ferrum, ufunc SGD", ferrum)):
        fw.set_num_threads(threads)
        W._seed(fw)
        model = W._mlp_model(fw)
        opt = fw.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        contenders[name] = (model, opt, fw.randn(128, 784), fw.randint(0, 10, (128,)),
                            fw.nn.functional, blas_on and name == "ferrum")

    def block(st, n):
        model, opt, x, y, F, blas = st
        _blas.available = blas
        pc = time.perf_counter
        out = []
        for _ in range(n):
            t0 = pc()
            opt.zero_grad()
            o = model(x)
            t1 = pc()
            loss = F.cross_entropy(o, y)
            loss.backward()
            t2 = pc()
            opt.step()
            t3 = pc()
            loss.item()
            out.append((t1 - t0, t2 - t1, t3 - t2, t3 - t0))
        _blas.available = blas_on
        return out

    names = list(contenders)
    res = {k: [] for k in names}
    for k in names:
        block(contenders[k], 30)
    for r in range(rounds):
        for k in (names if r % 2 == 0 else names[::-1]):
            time.sleep(0.05)
            res[k].append([statistics.median(c) * 1e6 for c in zip(*block(contenders[k], n))])
    print("## insitu (us; zero_grad+forward, loss+backward, step, whole step)")
    for k in names:
        cols = [statistics.median(c) for c in zip(*res[k])]
        spread = max(r[3] for r in res[k]) / min(r[3] for r in res[k])
        print(f"  {k:18s} forward {cols[0]:7.1f}  loss+backward {cols[1]:7.1f}  step {cols[2]:7.1f}  "
              f"total {cols[3]:7.1f}  spread {spread:.2f}")


def check_bits() -> None:
    """Whether BLAS axpy/scal give torch's bits for SGD's operations (``add_(x, alpha=c)``,
    ``mul_(c)``) and whether the NumPy ufunc versions do."""
    import torch

    from ferrum.ops import _blas
    rng = np.random.default_rng(1)
    for dt in (np.float32, np.float64):
        same_blas = same_ufunc = total = 0
        for n in (1, 7, 31, 33, 1000, 10001, 65537, 401408, 401411):
            for lr in (0.01, 0.1, 1e-3, 0.9):
                a = rng.standard_normal(n).astype(dt)
                b = rng.standard_normal(n).astype(dt)
                ta = torch.from_numpy(a.copy())
                ta.add_(torch.from_numpy(b), alpha=-lr)
                x = a.copy()
                _blas.axpy(-lr, b, x)
                y = a - b * dt(lr)
                same_blas += np.array_equal(x, ta.numpy())
                same_ufunc += np.array_equal(y, ta.numpy())
                s = b.copy()
                _blas.scal(lr, s)
                same_blas += np.array_equal(s, torch.from_numpy(b.copy()).mul_(lr).numpy())
                same_ufunc += np.array_equal(b * dt(lr), torch.from_numpy(b.copy()).mul_(lr).numpy())
                total += 2
        print(f"# {np.dtype(dt).name}: torch's bits from BLAS in {same_blas}/{total} cases, "
              f"from ufuncs in {same_ufunc}/{total}")
    # whole optimizer: 20 SGD steps on fixed gradients, every flag combination of the parity tests
    import ferrum
    configs = [dict(lr=0.1), dict(lr=0.1, momentum=0.9), dict(lr=0.1, momentum=0.9, nesterov=True),
               dict(lr=0.1, momentum=0.9, dampening=0.3), dict(lr=0.01, momentum=0.5, weight_decay=0.1),
               dict(lr=0.01, momentum=0.5, nesterov=True, weight_decay=0.05, maximize=True),
               dict(lr=0.01, weight_decay=0.1, maximize=True)]
    shapes = [(33, 7), (5,), (401,)]

    def run20(fw, kw, dt):
        r = np.random.default_rng(3)
        ps = [fw.from_numpy(r.standard_normal(s).astype(dt)).requires_grad_() for s in shapes]
        opt = fw.optim.SGD(ps, **kw)
        for _ in range(20):
            for p, s in zip(ps, shapes):
                p.grad = fw.from_numpy(r.standard_normal(s).astype(dt))
            opt.step()
        return [p.detach().numpy().copy() for p in ps]

    on = _blas.available
    for label, flag in (("BLAS", on), ("ufunc", False)):
        _blas.available = flag
        for dt in (np.float32, np.float64):
            same = sum(all(np.array_equal(a, b) for a, b in zip(run20(ferrum, kw, dt), run20(torch, kw, dt)))
                       for kw in configs)
            print(f"# SGD, 20 steps, {label} kernel, {np.dtype(dt).name}: torch's bits in {same}/"
                  f"{len(configs)} configurations")
    _blas.available = on


def exp_phases():
    sys.path.insert(0, os.environ.get("FERRUM_BENCH_DIR", "/work/shared/bench"))
    import workloads as W

    import ferrum
    out = {}
    fws = [ferrum]
    try:
        import torch
        fws.insert(0, torch)
    except ImportError:
        pass
    for fw in fws:
        fw.set_num_threads(_THREADS)
        W._seed(fw)
        model = W._mlp_model(fw)
        opt = fw.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        x = fw.randn(128, 784)
        y = fw.randint(0, 10, (128,))
        F = fw.nn.functional
        st = {}

        def fwd(model=model, x=x, st=st):
            st["out"] = model(x)

        def loss(F=F, y=y, st=st, model=model, x=x):
            st["loss"] = F.cross_entropy(model(x), y)

        def bwd(F=F, y=y, model=model, x=x, opt=opt):
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()

        def step(opt=opt):
            opt.step()

        def whole(opt=opt, F=F, model=model, x=x, y=y):
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()

        def infer(fw=fw, model=model, x=x):
            with fw.no_grad():
                model(x)

        name = fw.__name__
        bwd()
        out.update({f"{name} forward": fwd, f"{name} forward+loss": loss,
                    f"{name} zero+fwd+loss+backward": bwd, f"{name} optimizer step": step,
                    f"{name} whole step": whole, f"{name} forward under no_grad": infer})
    return out


EXPERIMENTS = {"sgd": exp_sgd, "bias": exp_bias, "bias_add": exp_bias_add, "attach": exp_attach,
               "gemm": exp_gemm, "phases": exp_phases}
_THREADS = 2


def main(argv=None) -> None:
    global _THREADS
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-e", "--experiments", default=",".join(EXPERIMENTS))
    ap.add_argument("-t", "--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--bits", action="store_true", help="also compare SGD's BLAS/ufunc bits with torch")
    args = ap.parse_args(argv)
    _THREADS = args.threads
    import ferrum
    ferrum.set_num_threads(args.threads)
    print(f"# ferrum {ferrum.__file__}, {args.threads} BLAS thread(s), load {os.getloadavg()[0]:.2f}")
    if args.bits:
        check_bits()
    for name in args.experiments.split(","):
        if name == "insitu":
            insitu(args.threads)
            continue
        report(name, run(EXPERIMENTS[name](), args.rounds, args.n))
    print(f"# load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
