"""float32 GEMM throughput of NumPy with Debian's OpenBLAS at the shapes of GemmBenchmarks.cs.
Thread count comes from OPENBLAS_NUM_THREADS, which must be set before NumPy loads:

  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 benchmarks/peers/gemm.py
  OPENBLAS_NUM_THREADS=2 /usr/bin/python3 benchmarks/peers/gemm.py

Prints one JSON object per shape: the median GFLOP/s of repeated timings; then the float64 squares of `autograd bench`.
Debian's OpenBLAS 0.3.21 misdetects the CPUs of this project's machines: set OPENBLAS_CORETYPE to the kernel the CPU
should get (compare.py does, and says which).
"""
import json
import os
import statistics
import time

import numpy as np

SHAPES = [  # (m, k, n, transpose A, transpose B), as "m x k x n" of op(A)·op(B)
    (1024, 1024, 1024, False, False),
    (256, 256, 256, False, False),
    (100, 784, 50, False, False),
    (784, 100, 50, True, False),
    (100, 50, 784, False, True),
    (100, 784, 1000, False, False),
    (100, 1000, 1000, False, False),
    (100, 1000, 1000, False, True),
]


FLOAT64_SHAPES = [(1024, 1024, 1024, False, False), (256, 256, 256, False, False)]


def main():
    rng = np.random.default_rng(1)
    for m, k, n, ta, tb in SHAPES:
        measure(rng, m, k, n, ta, tb, np.float32)
    for m, k, n, ta, tb in FLOAT64_SHAPES:
        measure(rng, m, k, n, ta, tb, np.float64)


def measure(rng, m, k, n, ta, tb, dtype):
    """Times op(A)·op(B) of one shape and element type and prints its JSON line."""
    a = rng.standard_normal((k, m) if ta else (m, k), dtype=dtype)
    b = rng.standard_normal((n, k) if tb else (k, n), dtype=dtype)
    op_a = a.T if ta else a
    op_b = b.T if tb else b
    out = np.empty((m, n), dtype=dtype)
    flops = 2.0 * m * n * k
    repeats = max(3, int(2e9 / flops))
    for _ in range(3):
        np.matmul(op_a, op_b, out=out)
    timings = []
    for _ in range(7):
        start = time.perf_counter()
        for _ in range(repeats):
            np.matmul(op_a, op_b, out=out)
        timings.append((time.perf_counter() - start) / repeats)
    shape = f"{m}x{k}x{n}" + (" TN" if ta else " NT" if tb else "")
    print(json.dumps({"peer": f"numpy {np.__version__} openblas", "threads": int(os.environ.get("OPENBLAS_NUM_THREADS", "0")),
                      "shape": shape, "dtype": np.dtype(dtype).name, "gflops": flops / statistics.median(timings) / 1e9}))


if __name__ == "__main__":
    main()
