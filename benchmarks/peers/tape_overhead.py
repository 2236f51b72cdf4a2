"""The tape-overhead workload of benchmarks/AutoGrad.Benchmarks/TapeOverheadBenchmarks.cs in PyTorch: 25 links of
multiply, add, relu, sigmoid on 4x4 float32 tensors plus a sum (101 ops), forward and backward, and forward alone
under no_grad. Prints one JSON object with nanoseconds per op (the median of repeated timings).

Run: /usr/bin/python3 benchmarks/peers/tape_overhead.py
"""
import json
import statistics
import time

import torch

LINKS = 25
OPS = 4 * LINKS + 1


def chain(x, w, b):
    h = x
    for _ in range(LINKS):
        h = torch.sigmoid(torch.relu(h * w + b))
    return h.sum()


def per_op(fn, repeats=2000, rounds=7):
    for _ in range(200):
        fn()
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeats):
            fn()
        timings.append((time.perf_counter() - start) / repeats / OPS * 1e9)
    return statistics.median(timings)


def main():
    torch.set_num_threads(1)
    torch.manual_seed(1)
    x = torch.randn(4, 4)
    w = torch.randn(4, 4, requires_grad=True)
    b = torch.randn(4, 4, requires_grad=True)

    def forward_backward():
        w.grad = None
        b.grad = None
        chain(x, w, b).backward()

    def forward_no_grad():
        with torch.no_grad():
            chain(x, w, b)

    print(json.dumps({"peer": f"pytorch {torch.__version__}", "forwardBackwardNsPerOp": per_op(forward_backward),
                      "forwardNoGradNsPerOp": per_op(forward_no_grad)}))


if __name__ == "__main__":
    main()
