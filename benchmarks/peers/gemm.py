"""float32 GEMM throughput of NumPy with Debian's OpenBLAS at the shapes of GemmBenchmarks.cs.
Thread count comes from OPENBLAS_NUM_THREADS, which must be set before NumPy loads:

  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 benchmarks/peers/gemm.py
  OPENBLAS_NUM_THREADS=2 /usr/bin/python3 benchmarks/peers/gemm.py

Prints one JSON object per shape: the median GFLOP/s of repeated timings.
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


def main():
    rng = np.random.default_rng(1)
    for m, k, n, ta, tb in SHAPES:
        a = rng.standard_normal((k, m) if ta else (m, k), dtype=np.float32)
        b = rng.standard_normal((n, k) if tb else (k, n), dtype=np.float32)
        op_a = a.T if ta else a
        op_b = b.T if tb else b
        out = np.empty((m, n), dtype=np.float32)
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
                          "shape": shape, "gflops": flops / statistics.median(timings) / 1e9}))


if __name__ == "__main__":
    main()
