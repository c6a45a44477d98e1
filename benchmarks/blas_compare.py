"""Per-core GEMM speed of NumPy's OpenBLAS against Intel MKL (the BLAS inside PyTorch's CPU wheel) on
the shapes ferrum's MLP and convolution steps run, single-threaded, timed in CPU time of the calling
thread (``time.thread_time``), so that the comparison holds on a machine busy with other work.

Why it is here: issue 9 (mlp <= 0.90x torch) and issue 10 (resnet <= 1.3x torch) are bound by GEMM
time, and the question was whether linking MKL (the PyPI wheel ``mkl``, 229 MB, 1.1 GB installed with
intel-openmp/tbb/umf) instead of NumPy's OpenBLAS would close the gap. It would not on its own:

    2026-12-07, 2-core Intel Xeon (AVX-512), OpenBLAS 0.3.30 of NumPy 2.4.6, mkl 2026.2.1 sequential
    shape MxNxK (transposes)   OpenBLAS µs  MKL µs   MKL/OpenBLAS
    128x512x784 (N,T)  mlp fwd      878        686       0.78
    128x784x512 (N,N)  mlp dX       756        599       0.79
    512x784x128 (T,N)  mlp dW       678        590       0.87
    128x256x512 (N,T)              281        214       0.76
    32x32768x288       conv fwd    6748       6142       0.91
    64x8192x576        conv fwd    5154       6184       1.20
    288x32768x32 (T,N) conv dX     7136       4611       0.65
    32x288x32768 (N,T) conv dW    10377       6392       0.62

With MKL's GEMMs the mlp step would go from about 1.08x to about 0.99x torch's (its GEMMs are 1290 of
ferrum's ~3000 µs per step; torch's non-GEMM part is already no faster than ferrum's), short of
0.90x; resnet from about 1.75x to about 1.55x. Not worth a 1.1 GB dependency and a second OpenMP
runtime spinning next to OpenBLAS's threads: ferrum keeps NumPy's OpenBLAS.

    python -m venv /tmp/mklenv && /tmp/mklenv/bin/pip install mkl      # once, outside the project
    PYTHONPATH=src .venv/bin/python benchmarks/blas_compare.py --mkl /tmp/mklenv/lib/libmkl_rt.so.3
"""

from __future__ import annotations

import argparse
import ctypes
import time

import numpy as np

from ferrum.ops import _blas

# (M, N, K, transpose A, transpose B, label): the GEMMs of the bench mlp step and of resnet's convs
SHAPES = [
    (128, 512, 784, 0, 1, "mlp fwd"), (128, 784, 512, 0, 0, "mlp dX"), (512, 784, 128, 1, 0, "mlp dW"),
    (128, 256, 512, 0, 1, "mlp fwd 2"), (32, 32768, 288, 0, 0, "conv fwd"), (64, 8192, 576, 0, 0, "conv fwd"),
    (288, 32768, 32, 1, 0, "conv dX"), (32, 288, 32768, 0, 1, "conv dW"),
]


def _sgemm(fn, int_t):
    fn.argtypes = (int_t,) * 6 + (ctypes.c_float, ctypes.c_void_p, int_t, ctypes.c_void_p, int_t,
                                  ctypes.c_float, ctypes.c_void_p, int_t)
    fn.restype = None
    return fn


def _time(fn, M, N, K, ta, tb, reps):
    a = np.random.rand(K, M) if ta else np.random.rand(M, K)
    b = np.random.rand(N, K) if tb else np.random.rand(K, N)
    a, b = a.astype(np.float32), b.astype(np.float32)
    c = np.empty((M, N), np.float32)
    args = (101, 112 if ta else 111, 112 if tb else 111, M, N, K, 1.0, a.ctypes.data, a.shape[1],
            b.ctypes.data, b.shape[1], 0.0, c.ctypes.data, N)
    fn(*args)
    np.testing.assert_allclose(c, (a.T if ta else a) @ (b.T if tb else b), rtol=1e-3)
    times = []
    for _ in range(7):
        t0 = time.thread_time()
        for _ in range(reps):
            fn(*args)
        times.append((time.thread_time() - t0) / reps * 1e6)
    return sorted(times)[3]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mkl", required=True, help="path of libmkl_rt.so from the PyPI wheel 'mkl'")
    args = ap.parse_args()
    mkl = ctypes.CDLL(args.mkl)
    mkl.MKL_Set_Threading_Layer(1)                     # sequential: one core against one core
    openblas = ctypes.CDLL(_blas._path)
    openblas.scipy_openblas_set_num_threads64_(1)
    ob = _sgemm(openblas.scipy_cblas_sgemm64_, ctypes.c_int64)
    mk = _sgemm(mkl.cblas_sgemm, ctypes.c_int)
    print(f"{'shape':28} {'OpenBLAS µs':>12} {'MKL µs':>8} {'MKL/OpenBLAS':>13}")
    for M, N, K, ta, tb, label in SHAPES:
        reps = max(3, int(3e8 / (M * N * K)))
        t_ob, t_mk = _time(ob, M, N, K, ta, tb, reps), _time(mk, M, N, K, ta, tb, reps)
        shape = f"{M}x{N}x{K} ({'NT'[ta]},{'NT'[tb]}) {label}"
        print(f"{shape:28} {t_ob:12.0f} {t_mk:8.0f} {t_mk / t_ob:13.2f}")


if __name__ == "__main__":
    main()
