"""Writes the torch.save fixtures of TorchFileTests with Debian's PyTorch 1.13 (python3-torch), from this folder:

    /usr/bin/python3 make_torch_fixtures.py

torch-state-dict.pt   nn.Sequential(Linear(3, 4), BatchNorm1d(4), ReLU(), Linear(4, 2)) after one training-mode
                      forward pass (so running statistics and num_batches_tracked are not their defaults)
torch-containers.pt   float16, bfloat16, float64, int32, bool; a transposed (non-contiguous) view and a row of a
                      matrix saved beside it (one storage, an offset); a nested dict, a list, a number and a string
torch-expected.npz    every tensor of both files as float64, under the names AutoGrad gives them
torch-malicious.pt    a torch.save-shaped archive whose pickle would call os.system in Python's pickle.load
"""
import io
import os
import pickle
import zipfile

import numpy as np
import torch


def main():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    model.train()
    model(torch.randn(5, 3))
    state = model.state_dict()
    torch.save(state, "torch-state-dict.pt")

    matrix = torch.arange(12, dtype=torch.float32).reshape(3, 4) / 8
    containers = {
        "half": torch.tensor([1.5, -2.25, 65504.0], dtype=torch.float16),
        "bf16": torch.tensor([[3.0, -0.5], [1e30, 7.0]], dtype=torch.bfloat16),
        "double": torch.tensor([0.1, 1e-300], dtype=torch.float64),
        "int": torch.tensor([-7, 2**31 - 1], dtype=torch.int32),
        "mask": torch.tensor([True, False, True]),
        "nested": {"transposed": matrix.t(), "row": matrix[1], "scalar": torch.tensor(2.5)},
        "list": [torch.ones(2), torch.zeros(0, 3)],
        "epoch": 3,
        "note": "not a tensor",
    }
    torch.save(containers, "torch-containers.pt")

    expected = {name: value.detach().double().numpy() for name, value in state.items()}
    expected.update({
        "half": containers["half"].double().numpy(),
        "bf16": containers["bf16"].double().numpy(),
        "double": containers["double"].numpy(),
        "int": containers["int"].double().numpy(),
        "mask": containers["mask"].double().numpy(),
        "nested.transposed": matrix.t().double().numpy(),
        "nested.row": matrix[1].double().numpy(),
        "nested.scalar": np.array(2.5),
        "list.0": np.ones(2),
        "list.1": np.zeros((0, 3)),
    })
    np.savez("torch-expected.npz", **expected)

    class Exploit:
        def __reduce__(self):
            return (os.system, ("echo AutoGrad ran a pickle > autograd-pwned.txt",))

    payload = pickle.dumps({"weight": Exploit()}, protocol=2)
    with zipfile.ZipFile("torch-malicious.pt", "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("archive/data.pkl", payload)
        archive.writestr("archive/version", "3\n")


if __name__ == "__main__":
    main()
