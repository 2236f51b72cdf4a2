"""One command for the side-by-side table: runs `autograd bench --json` and the PyTorch and NumPy/OpenBLAS peers on
this machine, then prints each figure, the peer's, and the ratio.

Run from the repository root: /usr/bin/python3 benchmarks/peers/compare.py
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def run_json_lines(command, env=None):
    output = subprocess.run(command, check=True, capture_output=True, text=True, env={**os.environ, **(env or {})}).stdout
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def main():
    print("running autograd bench ...", file=sys.stderr)
    ours = run_json_lines(["dotnet", "run", "--project", os.path.join(ROOT, "src", "AutoGrad.Cli"), "-c", "Release", "--", "bench", "--json"])[0]
    print("running NumPy/OpenBLAS and PyTorch ...", file=sys.stderr)
    blas = {}
    for threads in ("1", "2"):
        for row in run_json_lines([sys.executable, os.path.join(HERE, "gemm.py")], {"OPENBLAS_NUM_THREADS": threads}):
            blas[(row["shape"], threads)] = row["gflops"]
    tape = run_json_lines([sys.executable, os.path.join(HERE, "tape_overhead.py")])[0]
    steps = {row["model"]: row["microsecondsPerStep"] for row in run_json_lines([sys.executable, os.path.join(HERE, "training_step.py")])}

    rows = []
    for shape, by_threads in ours["gemmGflops"].items():
        for threads, gflops in by_threads.items():
            peer = blas.get((shape, threads))
            if peer:
                rows.append((f"sgemm {shape}, {threads} thread(s), GFLOP/s", gflops, f"OpenBLAS {peer:.1f}", gflops / peer))
    rows.append(("tape, forward + backward per tiny op, ns", ours["tapeNsPerOp"], f"PyTorch {tape['forwardBackwardNsPerOp']:.0f}",
                 tape["forwardBackwardNsPerOp"] / ours["tapeNsPerOp"]))
    for model, micros in ours["stepMicroseconds"].items():
        if model in steps:
            rows.append((f"training step {model}, µs", micros, f"PyTorch {steps[model]:.1f}", steps[model] / micros))

    width = max(len(r[0]) for r in rows)
    print(f"{'measure'.ljust(width)}  {'AutoGrad':>10}  {'peer':>18}  {'AutoGrad better by':>18}")
    for name, value, peer, ratio in rows:
        print(f"{name.ljust(width)}  {value:>10.1f}  {peer:>18}  {ratio:>17.2f}x")


if __name__ == "__main__":
    main()
