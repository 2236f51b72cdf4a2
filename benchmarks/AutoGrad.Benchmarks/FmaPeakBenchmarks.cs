using AutoGrad.Kernels;

using BenchmarkDotNet.Attributes;

namespace AutoGrad.Benchmarks;

/// <summary>
/// The machine's FMA peak on one core (<see cref="FmaPeak"/>), the yardstick of issue 14's "70% of the FMA peak" and
/// issue 17's GEMM targets: GFLOP/s = <see cref="FlopsPerCall"/> / mean (ns) in float32, and
/// <see cref="Float64FlopsPerCall"/> / mean in float64.
/// </summary>
public class FmaPeakBenchmarks
{
    /// <summary>Floating-point operations in one call.</summary>
    public static double FlopsPerCall => FmaPeak.Flops(FmaPeak.Iterations);

    /// <summary>Twelve FMA chains; the result is returned so the JIT keeps them.</summary>
    [Benchmark]
    public float Peak() => FmaPeak.Run(FmaPeak.Iterations);

    /// <summary>Floating-point operations in one float64 call.</summary>
    public static double Float64FlopsPerCall => FmaPeak.DoubleFlops(FmaPeak.Iterations);

    /// <summary>The same twelve chains in float64 vectors, the yardstick of <see cref="GemmFloat64Benchmarks"/>.</summary>
    [Benchmark]
    public double PeakFloat64() => FmaPeak.RunDouble(FmaPeak.Iterations);
}
