"""Issue 17's side-by-side table in one run: AutoGrad's figures beside every peer this machine has, each with the ratio.

Runs, one after another on the same machine:
  - `autograd bench --json`: the FMA peak, GEMMs on 1 and all cores (float32 and float64), the tape, three training
    steps on 1 and all cores;
  - NumPy with Debian's OpenBLAS 0.3.21 (gemm.py) on 1 and all cores, with OPENBLAS_CORETYPE set to the kernel this CPU
    should get (Debian's build misdetects these CPUs and would run its AVX2 kernels): SkylakeX wherever the CPU has
    AVX-512 (Intel or AMD; this OpenBLAS has no Zen 4/5 or Sapphire Rapids kernel of its own), else Zen on AMD and
    Haswell on Intel; OpenBLAS's own report of the core it loaded is printed;
  - TorchSharp 0.107 (LibTorch 2.10, MKL), when benchmarks/peers/TorchSharpPeer is built: torch.mm and the book's loop;
  - PyTorch 1.13 from Debian (whose matrix products are that OpenBLAS's, so it gets the same OPENBLAS_CORETYPE): the
    tape, the training steps on 1 and all cores, the book's loop;
  - the book's Fashion-MNIST loop (784-50-10, 10,000 steps) in `autograd train`, on one thread.

Run from the repository root after `dotnet build -c Release` (about three minutes):
  /usr/bin/python3 benchmarks/peers/compare.py [--openblas-core NAME] [--skip-book]
"""
import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CLI = os.path.join(ROOT, "src", "AutoGrad.Cli", "bin", "Release", "net10.0", "autograd")
TORCHSHARP = os.path.join(HERE, "TorchSharpPeer", "bin", "Release", "net10.0", "TorchSharpPeer.dll")
BOOK = ["train", "--dataset", "fashion-mnist", "--hidden", "50", "--optimizer", "sgd", "--lr", "0.1", "--batch", "100",
        "--iterations", "10000", "--init", "0.01", "--json", "--threads", "1"]


def cpu():
    """The CPU's model name, vendor and whether it has AVX-512, from /proc/cpuinfo."""
    info = open("/proc/cpuinfo", encoding="utf-8").read()
    field = lambda name: re.search(rf"^{name}\s*:\s*(.*)$", info, re.M).group(1).strip()
    return field("model name"), field("vendor_id"), "avx512f" in field("flags").split()


def openblas_core(vendor, avx512):
    """The OpenBLAS 0.3.21 kernel for this CPU: its AVX-512 one wherever the CPU has AVX-512."""
    if avx512:
        return "SkylakeX"
    return "Zen" if vendor == "AuthenticAMD" else "Haswell"


def json_lines(command, env=None):
    result = subprocess.run(command, check=True, capture_output=True, text=True, env={**os.environ, **(env or {})})
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")], result.stderr


def autograd(*args):
    command = [CLI, *args] if os.path.exists(CLI) else ["dotnet", "run", "--project", os.path.join(ROOT, "src", "AutoGrad.Cli"), "-c", "Release", "--", *args]
    return json_lines(command)[0][-1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--openblas-core", help="OPENBLAS_CORETYPE to use instead of the one chosen from /proc/cpuinfo")
    parser.add_argument("--skip-book", action="store_true", help="leave out the three Fashion-MNIST loops (about 20 s)")
    args = parser.parse_args()
    model, vendor, avx512 = cpu()
    cores = os.cpu_count()
    threads = sorted({1, cores})
    core = args.openblas_core or openblas_core(vendor, avx512)

    print(f"running autograd bench on {model} ({cores} cores) ...", file=sys.stderr)
    ours = autograd("bench", "--json")

    print(f"running NumPy/OpenBLAS with OPENBLAS_CORETYPE={core} ...", file=sys.stderr)
    blas, loaded = {}, "?"
    for t in threads:
        rows, err = json_lines([sys.executable, os.path.join(HERE, "gemm.py")],
                               {"OPENBLAS_NUM_THREADS": str(t), "OPENBLAS_CORETYPE": core, "OPENBLAS_VERBOSE": "2"})
        loaded = re.search(r"Core: (\S+)", err).group(1) if "Core:" in err else loaded
        for row in rows:
            blas[(row["dtype"], row["shape"], str(t))] = row["gflops"]

    torchsharp = {}
    if os.path.exists(TORCHSHARP):
        print("running TorchSharp ...", file=sys.stderr)
        for t in threads:
            for row in json_lines(["dotnet", TORCHSHARP, str(t), "gemm", "quick"])[0]:
                kind, shape = row["workload"].split(" ", 1)
                shape = shape.replace(" NN", "")
                if "³" in shape:
                    n = shape.rstrip("³")
                    shape = f"{n}x{n}x{n}"
                torchsharp[(kind, shape, str(t))] = row["gflops"]
    else:
        print(f"TorchSharp peer not built ({TORCHSHARP}); build it with `dotnet build -c Release` in its folder", file=sys.stderr)

    print("running PyTorch 1.13 ...", file=sys.stderr)
    blas_kernel = {"OPENBLAS_CORETYPE": core}
    tape = json_lines([sys.executable, os.path.join(HERE, "tape_overhead.py")], blas_kernel)[0][0]
    steps = {}
    for t in threads:
        for row in json_lines([sys.executable, os.path.join(HERE, "training_step.py"), "--threads", str(t)], blas_kernel)[0]:
            steps[(row["model"], str(t))] = row["microsecondsPerStep"]

    rows = []
    for kind, key, peak_key in (("sgemm", "gemmGflops", "fmaPeakGflops"), ("dgemm", "gemmFloat64Gflops", "fmaPeakFloat64Gflops")):
        dtype = "float32" if kind == "sgemm" else "float64"
        for shape, by_threads in ours[key].items():
            for t, gflops in by_threads.items():
                name = f"{kind} {shape}, {t} thread{'s' if t != '1' else ''}, GFLOP/s"
                value = f"{gflops:.1f} ({100 * gflops / (int(t) * ours[peak_key]):.0f}%)"
                if (dtype, shape, t) in blas:
                    rows.append((name, value, f"OpenBLAS {blas[(dtype, shape, t)]:.1f}", gflops / blas[(dtype, shape, t)]))
                if (kind, shape, t) in torchsharp:
                    rows.append((name, value, f"TorchSharp {torchsharp[(kind, shape, t)]:.1f}", gflops / torchsharp[(kind, shape, t)]))
    rows.append(("tape, forward + backward per tiny op, ns", f"{ours['tapeNsPerOp']:.1f}",
                 f"PyTorch {tape['forwardBackwardNsPerOp']:.0f}", tape["forwardBackwardNsPerOp"] / ours["tapeNsPerOp"]))
    for name, by_threads in ours["stepMicroseconds"].items():
        for t, micros in by_threads.items():
            peer = steps.get((name, t))
            if peer:
                rows.append((f"training step {name}, {t} thread{'s' if t != '1' else ''}, µs", f"{micros:.1f}", f"PyTorch {peer:.1f}", peer / micros))

    if not args.skip_book:
        print("running the book's Fashion-MNIST loop (AutoGrad, TorchSharp, PyTorch) ...", file=sys.stderr)
        seconds = autograd(*BOOK)["seconds"]
        book = "Fashion-MNIST book loop, 10,000 steps, 1 thread, s"
        if os.path.exists(TORCHSHARP):
            peer = json_lines(["dotnet", TORCHSHARP, "1", "book"])[0][0]["seconds"]
            rows.append((book, f"{seconds:.2f}", f"TorchSharp {peer:.2f}", peer / seconds))
        peer = json_lines([sys.executable, os.path.join(HERE, "fashion_mnist_train.py"), "--threads", "1"], blas_kernel)[0][0]["seconds"]
        rows.append((book, f"{seconds:.2f}", f"PyTorch {peer:.2f}", peer / seconds))

    print(f"CPU: {model}, {cores} cores, {'512' if avx512 else '256'}-bit vectors; FMA peak {ours['fmaPeakGflops']:.1f} GFLOP/s a core "
          f"(float64 {ours['fmaPeakFloat64Gflops']:.1f}); OpenBLAS 0.3.21 core {loaded} (OPENBLAS_CORETYPE={core})")
    width = max(len(r[0]) for r in rows)
    print(f"{'measure'.ljust(width)}  {'AutoGrad':>13}  {'peer':>18}  {'AutoGrad faster by':>18}")
    for name, value, peer, ratio in rows:
        print(f"{name.ljust(width)}  {value:>13}  {peer:>18}  {ratio:>17.2f}x")


if __name__ == "__main__":
    main()
