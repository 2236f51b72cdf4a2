"""One training step on a fixed batch of 100 in PyTorch (zero_grad, forward, cross-entropy, backward, step), float32,
for the models of TrainingStepBenchmarks.cs. Prints one JSON object per model: the median microseconds per step.

Run: /usr/bin/python3 benchmarks/peers/training_step.py [--threads N]
"""
import argparse
import json
import statistics
import time

import torch

MODELS = [("784-50-10 SGD", [784, 50, 10], "sgd"), ("784-100-10 SGD", [784, 100, 10], "sgd"),
          ("784-1000-1000-10 Adam", [784, 1000, 1000, 10], "adam")]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    for name, sizes, kind in MODELS:
        layers = []
        for i in range(len(sizes) - 1):
            layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
            if i < len(sizes) - 2:
                layers.append(torch.nn.ReLU())
        model = torch.nn.Sequential(*layers)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1) if kind == "sgd" else torch.optim.Adam(model.parameters(), lr=0.001)
        x = torch.rand(100, sizes[0])
        t = torch.randint(0, sizes[-1], (100,))

        def step():
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), t).backward()
            optimizer.step()

        repeats = 50 if kind == "adam" else 1000
        for _ in range(repeats // 5):
            step()
        timings = []
        for _ in range(7):
            start = time.perf_counter()
            for _ in range(repeats):
                step()
            timings.append((time.perf_counter() - start) / repeats * 1e6)
        print(json.dumps({"peer": f"pytorch {torch.__version__}", "threads": args.threads, "model": name,
                          "microsecondsPerStep": statistics.median(timings)}))


if __name__ == "__main__":
    main()
