"""The PyTorch twins of AutoGrad's MultiLayerNet and SimpleConvNet, for the state-dict tests (Debian's PyTorch 1.13).

    /usr/bin/python3 pytorch_models.py make            writes the fixtures below from this folder
    /usr/bin/python3 pytorch_models.py run KIND WEIGHTS INPUTS
                                                       loads WEIGHTS (a safetensors file AutoGrad wrote) into the twin of
                                                       KIND (see TWINS) with load_state_dict(strict=True), and prints
                                                       its eval-mode outputs for INPUTS (an .npz with 'input') as JSON

Fixtures: pytorch-mlp.pt / .safetensors and pytorch-cnn.pt / .safetensors are state dicts of the twins after a few SGD
steps in PyTorch (torch.save, and safetensors written by the small writer below, since Debian has no safetensors
package); pytorch-outputs.npz holds each twin's input and eval-mode output. Twins: mlp, cnn, lstm, gru, rnn, transformer (a
TransformerEncoderLayer with norm_first=True for TransformerBlock).
"""
import json
import struct
import sys

import numpy as np
import torch
from torch import nn


class Mlp(nn.Module):
    """MultiLayerNet(6, [5, 4], 3, batchNorm: true): layers.0 … layers.6."""

    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 3))

    def forward(self, x):
        return self.layers(x)


class DigitsMlp(nn.Module):
    """What 'autograd train --hidden 16,12' trains on the digits: MultiLayerNet(64, [16, 12], 10), layers.0 … layers.4."""

    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 12), nn.ReLU(), nn.Linear(12, 10))

    def forward(self, x):
        return self.layers(x)


class Cnn(nn.Module):
    """SimpleConvNet(channels: 1, height: 11, width: 11, classes: 3, filters: 4, kernel: 3, hidden: 8)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3)
        self.affine1 = nn.Linear(4 * 4 * 4, 8)
        self.affine2 = nn.Linear(8, 3)

    def forward(self, x):
        x = torch.relu(nn.functional.max_pool2d(self.conv1(x.reshape(-1, 1, 11, 11)), 2))
        return self.affine2(torch.relu(self.affine1(x.flatten(1))))


class Recurrent(nn.Module):
    """Lstm(3, 6), Gru(3, 6) or Rnn(3, 6) over (N, T, 3): PyTorch's one-layer modules, their output sequence."""

    def __init__(self, kind):
        super().__init__()
        self.layer = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[kind](3, 6, batch_first=True)

    def forward(self, x):
        return self.layer(x)[0]

    def state_dict(self, *args, **kwargs):
        # AutoGrad's layer is the module itself: its names carry no "layer." prefix.
        return self.layer.state_dict(*args, **kwargs)

    def load_state_dict(self, state, strict=True):
        return self.layer.load_state_dict(state, strict)


def transformer():
    """TransformerBlock(8, 2, hidden: 12): pre-norm, exact GELU, no dropout."""
    return nn.TransformerEncoderLayer(8, 2, 12, dropout=0.0, activation="gelu", batch_first=True, norm_first=True)


# The twins the fixtures are made for (make), and the ones 'run' can load.
TWINS = {
    "mlp": (Mlp, (16, 6)),
    "cnn": (Cnn, (16, 1, 11, 11)),
    "lstm": (lambda: Recurrent("lstm"), (16, 5, 3)),
    "gru": (lambda: Recurrent("gru"), (16, 5, 3)),
    "rnn": (lambda: Recurrent("rnn"), (16, 5, 3)),
    "transformer": (transformer, (16, 4, 8)),
}
RUN_ONLY = {"digits-mlp": (DigitsMlp, (16, 64))}


def save_safetensors(state, path):
    """safetensors' layout: an 8-byte header length, a JSON header, then the tensors' bytes."""
    header, chunks, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, tensor in state.items():
        data = tensor.detach().contiguous().numpy().tobytes()
        dtype = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}[tensor.dtype]
        header[name] = {"dtype": dtype, "shape": list(tensor.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length])
    data = raw[8 + length:]
    state = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        dtype = {"F32": np.float32, "F64": np.float64}[entry["dtype"]]
        state[name] = torch.from_numpy(np.frombuffer(data[begin:end], dtype=dtype).reshape(entry["shape"]).copy())
    return state, header["__metadata__"]


def make():
    outputs = {}
    for seed, (kind, (twin, shape)) in enumerate(TWINS.items()):
        torch.manual_seed(seed)
        model = twin()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        for _ in range(5):
            x, t = torch.randn(*shape), torch.randint(0, 3, (shape[0],))
            optimizer.zero_grad()
            y = model(x)
            (nn.functional.cross_entropy(y, t) if y.dim() == 2 else ((y - 0.5) ** 2).mean()).backward()
            optimizer.step()
        model.eval()
        x = torch.randn(*shape)
        with torch.no_grad():
            outputs[f"{kind}_input"] = x.numpy()
            outputs[f"{kind}_output"] = model(x).numpy()
        torch.save(model.state_dict(), f"pytorch-{kind}.pt")
        save_safetensors(model.state_dict(), f"pytorch-{kind}.safetensors")
    np.savez("pytorch-outputs.npz", **outputs)


def run(kind, weights, inputs):
    state, metadata = load_safetensors(weights)
    assert metadata.get("format") == "pt", metadata
    # num_batches_tracked is an int64 buffer in PyTorch; AutoGrad writes it as float64, which copy_ converts exactly.
    model = {**TWINS, **RUN_ONLY}[kind][0]()
    model.load_state_dict(state, strict=True)
    model.eval()
    with torch.no_grad():
        output = model(torch.from_numpy(np.load(inputs)["input"]))
    print(json.dumps({"shape": list(output.shape), "values": output.flatten().tolist(),
                      "batches": [int(m.num_batches_tracked) for m in model.modules() if isinstance(m, nn.BatchNorm1d)]}))


if __name__ == "__main__":
    make() if sys.argv[1] == "make" else run(*sys.argv[2:5])
