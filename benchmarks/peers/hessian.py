"""Issue 18's Hessian workload in PyTorch: the Hessian of the 784-50-10 net's loss (Linear, ReLU, Linear,
cross-entropy on a fixed float32 batch of 100) with respect to the second layer's weights (50 x 10, so 500 x 500),
with torch.autograd.functional.hessian as it comes (vectorize=False: one double-backward per row) and with
vectorize=True (batched rows through vmap). Prints one JSON object per variant: the median milliseconds.

Run: /usr/bin/python3 benchmarks/peers/hessian.py [--threads N]
"""
import argparse
import json
import statistics
import time

import torch
from torch.autograd.functional import hessian


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    x = torch.rand(100, 784)
    t = torch.randint(0, 10, (100,))
    w1 = torch.randn(784, 50) * 0.05
    b1 = torch.zeros(50)
    w2 = torch.randn(50, 10) * 0.2
    b2 = torch.zeros(10)

    def loss(w):
        return torch.nn.functional.cross_entropy(torch.relu(x @ w1 + b1) @ w + b2, t)

    for vectorize in (False, True):
        def run():
            h = hessian(loss, w2, vectorize=vectorize)
            assert h.shape == (50, 10, 50, 10)

        for _ in range(2):
            run()
        timings = []
        for _ in range(7):
            start = time.perf_counter()
            run()
            timings.append((time.perf_counter() - start) * 1e3)
        print(json.dumps({"peer": f"pytorch {torch.__version__}", "threads": args.threads,
                          "workload": f"hessian 784-50-10 W2 (500x500), vectorize={vectorize}",
                          "milliseconds": statistics.median(timings)}))


if __name__ == "__main__":
    main()
