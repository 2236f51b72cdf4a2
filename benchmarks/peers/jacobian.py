"""Issue 18's Jacobian workload in PyTorch (benchmarks/AutoGrad.Benchmarks/JacobianBenchmarks.cs): float64, one
256 -> 256 affine layer, then tanh, sigmoid, sine and products, so a 256 x 256 Jacobian, with
torch.autograd.functional.jacobian in reverse mode as it comes (vectorize=False: one backward per row) and with
vectorize=True (batched rows through vmap, PyTorch's is_grads_batched). Prints one JSON object per variant: the
median milliseconds.

Run: /usr/bin/python3 benchmarks/peers/jacobian.py [--threads N]
"""
import argparse
import json
import statistics
import time

import torch
from torch.autograd.functional import jacobian


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    x = torch.randn(1, 256, dtype=torch.float64)
    w = torch.randn(256, 256, dtype=torch.float64) / 16
    b = torch.randn(256, dtype=torch.float64) * 0.1

    def f(v):
        h = torch.tanh(v @ w + b)
        return torch.sigmoid(h) * h + torch.sin(h * 2)

    for vectorize in (False, True):
        def run():
            j = jacobian(f, x, vectorize=vectorize)
            assert j.shape == (1, 256, 1, 256)

        for _ in range(3):
            run()
        timings = []
        for _ in range(9):
            start = time.perf_counter()
            run()
            timings.append((time.perf_counter() - start) * 1e3)
        print(json.dumps({"peer": f"pytorch {torch.__version__}", "threads": args.threads,
                          "workload": f"jacobian 256->256 float64 reverse, vectorize={vectorize}",
                          "milliseconds": statistics.median(timings)}))


if __name__ == "__main__":
    main()
