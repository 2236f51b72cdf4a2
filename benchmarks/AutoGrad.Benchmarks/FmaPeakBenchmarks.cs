using System.Runtime.Intrinsics;

using BenchmarkDotNet.Attributes;

namespace AutoGrad.Benchmarks;

/// <summary>
/// The machine's float32 FMA peak on one core, the yardstick of issue 14's "70% of the FMA peak": twelve independent
/// chains of vector fused multiply-adds, enough to keep two FMA pipes of latency 4 busy, with nothing loaded or stored
/// in the loop. One call is <see cref="Iterations"/> × 12 FMAs of <see cref="Lanes"/> floats, 2 FLOP each, so
/// GFLOP/s = <see cref="FlopsPerCall"/> / mean (ns). Vector512 where the JIT accelerates it, else Vector256.
/// </summary>
public class FmaPeakBenchmarks
{
    /// <summary>Loop trips per call: long enough (about 1.5 ms) that the call's own cost vanishes.</summary>
    public const int Iterations = 1_000_000;

    /// <summary>Floats per vector on this machine.</summary>
    public static int Lanes => Vector512.IsHardwareAccelerated ? Vector512<float>.Count : Vector256<float>.Count;

    /// <summary>Floating-point operations in one call.</summary>
    public static double FlopsPerCall => 2.0 * 12 * Lanes * Iterations;

    /// <summary>Twelve FMA chains; the result is returned so the JIT keeps them.</summary>
    [Benchmark]
    public float Peak() => Vector512.IsHardwareAccelerated ? Chains512() : Chains256();

    private static float Chains512()
    {
        Vector512<float> m = Vector512.Create(0.9999f), c = Vector512.Create(1e-4f), a0 = Vector512<float>.One;
        Vector512<float> a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (var i = 0; i < Iterations; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, m, c);
            a1 = Vector512.FusedMultiplyAdd(a1, m, c);
            a2 = Vector512.FusedMultiplyAdd(a2, m, c);
            a3 = Vector512.FusedMultiplyAdd(a3, m, c);
            a4 = Vector512.FusedMultiplyAdd(a4, m, c);
            a5 = Vector512.FusedMultiplyAdd(a5, m, c);
            a6 = Vector512.FusedMultiplyAdd(a6, m, c);
            a7 = Vector512.FusedMultiplyAdd(a7, m, c);
            a8 = Vector512.FusedMultiplyAdd(a8, m, c);
            a9 = Vector512.FusedMultiplyAdd(a9, m, c);
            a10 = Vector512.FusedMultiplyAdd(a10, m, c);
            a11 = Vector512.FusedMultiplyAdd(a11, m, c);
        }

        return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }

    private static float Chains256()
    {
        Vector256<float> m = Vector256.Create(0.9999f), c = Vector256.Create(1e-4f), a0 = Vector256<float>.One;
        Vector256<float> a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (var i = 0; i < Iterations; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, m, c);
            a1 = Vector256.FusedMultiplyAdd(a1, m, c);
            a2 = Vector256.FusedMultiplyAdd(a2, m, c);
            a3 = Vector256.FusedMultiplyAdd(a3, m, c);
            a4 = Vector256.FusedMultiplyAdd(a4, m, c);
            a5 = Vector256.FusedMultiplyAdd(a5, m, c);
            a6 = Vector256.FusedMultiplyAdd(a6, m, c);
            a7 = Vector256.FusedMultiplyAdd(a7, m, c);
            a8 = Vector256.FusedMultiplyAdd(a8, m, c);
            a9 = Vector256.FusedMultiplyAdd(a9, m, c);
            a10 = Vector256.FusedMultiplyAdd(a10, m, c);
            a11 = Vector256.FusedMultiplyAdd(a11, m, c);
        }

        return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }
}
