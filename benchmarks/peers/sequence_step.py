"""The sequence workloads of SequenceBenchmarks.cs in PyTorch, float32: an LSTM language-model training step (batch
32, 35 time steps, embedding 128, hidden 256, vocabulary 1,000; zero_grad, forward, cross-entropy, backward, Adam)
and a causal pre-norm transformer block's forward and backward (batch 16, 64 tokens, width 128, 4 heads, GELU
feed-forward of width 512; the gradient of the output's mean to the input and the block's weights). Prints one
JSON object per workload with the median milliseconds per run.

Run: /usr/bin/python3 benchmarks/peers/sequence_step.py [--threads N]
"""
import argparse
import json

import torch
from torch import nn

from convnet_step import median_ms  # the same warm-up and median as the convolutional workloads


class Block(nn.Module):
    """x + attention(norm(x)), then that + feed-forward(norm(that)): TransformerBlock's layout."""

    def __init__(self, width, heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(width)
        self.attention = nn.MultiheadAttention(width, heads, batch_first=True)
        self.norm2 = nn.LayerNorm(width)
        self.feed_forward = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

    def forward(self, x):
        steps = x.shape[1]
        mask = torch.triu(torch.ones(steps, steps, dtype=torch.bool), diagonal=1)
        normed = self.norm1(x)
        x = x + self.attention(normed, normed, normed, attn_mask=mask, need_weights=False)[0]
        return x + self.feed_forward(self.norm2(x))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)

    embedding, lstm, decoder = nn.Embedding(1000, 128), nn.LSTM(128, 256, batch_first=True), nn.Linear(256, 1000)
    optimizer = torch.optim.Adam([*embedding.parameters(), *lstm.parameters(), *decoder.parameters()], lr=0.001)
    ids = torch.randint(0, 1000, (32, 35))
    targets = torch.randint(0, 1000, (32 * 35,))

    def lstm_step():
        optimizer.zero_grad()
        hidden, _ = lstm(embedding(ids))
        nn.functional.cross_entropy(decoder(hidden.reshape(32 * 35, 256)), targets).backward()
        optimizer.step()

    block = Block(128, 4)
    tokens = torch.randn(16, 64, 128, requires_grad=True)

    def block_step():
        tokens.grad = None
        block.zero_grad()
        block(tokens).mean().backward()

    for name, run, repeats in [("LSTM step", lstm_step, 40), ("TransformerBlock forward + backward", block_step, 60)]:
        print(json.dumps({"workload": name, "threads": args.threads, "torch": torch.__version__, "ms": median_ms(run, repeats)}))


if __name__ == "__main__":
    main()
