using AutoGrad.Kernels;

using BenchmarkDotNet.Attributes;

namespace AutoGrad.Benchmarks;

/// <summary>
/// The machine's float32 FMA peak on one core (<see cref="FmaPeak"/>), the yardstick of issue 14's "70% of the FMA
/// peak" and issue 17's GEMM targets: GFLOP/s = <see cref="FlopsPerCall"/> / mean (ns).
/// </summary>
public class FmaPeakBenchmarks
{
    /// <summary>Floating-point operations in one call.</summary>
    public static double FlopsPerCall => FmaPeak.Flops(FmaPeak.Iterations);

    /// <summary>Twelve FMA chains; the result is returned so the JIT keeps them.</summary>
    [Benchmark]
    public float Peak() => FmaPeak.Run(FmaPeak.Iterations);
}
