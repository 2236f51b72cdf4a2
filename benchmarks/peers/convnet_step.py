"""The convolutional workloads of ConvNetBenchmarks.cs in PyTorch, float32, on a fixed batch of 100 images 1×28×28:
a SimpleConvNet and a DeepConvNet training step (zero_grad, forward, cross-entropy, backward, Adam), and
DeepConvNet's six convolutions alone (forward, and backward to the input and the filters). Prints one JSON object per
workload with the median milliseconds per run.

Run: /usr/bin/python3 benchmarks/peers/convnet_step.py [--threads N]
"""
import argparse
import json
import statistics
import time

import torch
from torch import nn

DEEP_LAYERS = [(1, 16, 1, 28), (16, 16, 1, 28), (16, 32, 1, 14), (32, 32, 2, 14), (32, 64, 1, 8), (64, 64, 1, 8)]


def simple_conv_net():
    return nn.Sequential(nn.Conv2d(1, 30, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(30 * 12 * 12, 100), nn.ReLU(), nn.Linear(100, 10))


def deep_conv_net():
    layers, channels = [], 1
    for i, (_, out, padding, _) in enumerate(DEEP_LAYERS):
        layers += [nn.Conv2d(channels, out, 3, padding=padding), nn.ReLU()]
        if i % 2 == 1:
            layers.append(nn.MaxPool2d(2))
        channels = out
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(64 * 4 * 4, 50), nn.ReLU(), nn.Dropout(0.5), nn.Linear(50, 10))


def median_ms(run, repeats):
    for _ in range(max(3, repeats // 5)):
        run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    x = torch.rand(100, 1, 28, 28)
    t = torch.randint(0, 10, (100,))
    for name, make in [("SimpleConvNet step", simple_conv_net), ("DeepConvNet step", deep_conv_net)]:
        model = make()
        optimizer = torch.optim.Adam(model.parameters(), lr=0.001)

        def step():
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), t).backward()
            optimizer.step()

        print(json.dumps({"workload": name, "threads": args.threads, "torch": torch.__version__, "ms": median_ms(step, 30)}))

    convolutions = [(nn.Conv2d(i, o, 3, padding=p), torch.rand(100, i, s, s, requires_grad=True)) for i, o, p, s in DEEP_LAYERS]

    def layers():
        for layer, inp in convolutions:
            layer(inp).mean().backward()

    flops = 3 * sum(2.0 * 100 * o * (s + 2 * p - 2) ** 2 * i * 9 for i, o, p, s in DEEP_LAYERS)
    ms = median_ms(layers, 20)
    print(json.dumps({"workload": "DeepConvNet convolutions", "threads": args.threads, "torch": torch.__version__, "ms": ms, "gflops": flops / ms / 1e6}))


if __name__ == "__main__":
    main()
