"""The book's Fashion-MNIST set-up in PyTorch: 784-50-10, weights N(0, 0.01^2), ReLU, softmax cross-entropy,
SGD lr 0.1, batch 100, 10,000 iterations, float32, on the IDX files of Debian's dataset-fashion-mnist.
Prints one JSON object: the training loop's wall time (no evaluation) and the final test accuracy.

Run with Debian's interpreter and packages: /usr/bin/python3 benchmarks/peers/fashion_mnist_train.py [--threads N]
"""
import argparse
import gzip
import json
import time

import numpy as np
import torch

FOLDER = "/usr/share/datasets/fashion-mnist"


def read_idx(name):
    with gzip.open(f"{FOLDER}/{name}.gz", "rb") as f:
        data = f.read()
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--iterations", type=int, default=10000)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(42)
    rng = np.random.default_rng(42)

    x_train = torch.from_numpy(read_idx("train-images-idx3-ubyte").reshape(-1, 784).astype(np.float32) / 255)
    t_train = torch.from_numpy(read_idx("train-labels-idx1-ubyte").astype(np.int64))
    x_test = torch.from_numpy(read_idx("t10k-images-idx3-ubyte").reshape(-1, 784).astype(np.float32) / 255)
    t_test = torch.from_numpy(read_idx("t10k-labels-idx1-ubyte").astype(np.int64))

    w1 = (0.01 * torch.randn(784, 50)).requires_grad_()
    b1 = torch.zeros(50, requires_grad=True)
    w2 = (0.01 * torch.randn(50, 10)).requires_grad_()
    b2 = torch.zeros(10, requires_grad=True)
    params = [w1, b1, w2, b2]
    optimizer = torch.optim.SGD(params, lr=0.1)

    start = time.perf_counter()
    for _ in range(args.iterations):
        batch = torch.from_numpy(rng.choice(60000, 100))
        scores = torch.relu(x_train[batch] @ w1 + b1) @ w2 + b2
        loss = torch.nn.functional.cross_entropy(scores, t_train[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    seconds = time.perf_counter() - start

    with torch.no_grad():
        accuracy = ((torch.relu(x_test @ w1 + b1) @ w2 + b2).argmax(1) == t_test).float().mean().item()
    print(json.dumps({"peer": f"pytorch {torch.__version__}", "threads": args.threads, "seconds": seconds,
                      "microsecondsPerStep": seconds / args.iterations * 1e6, "testAccuracy": accuracy}))


if __name__ == "__main__":
    main()
