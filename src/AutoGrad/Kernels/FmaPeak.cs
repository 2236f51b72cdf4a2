using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AutoGrad.Kernels;

/// <summary>
/// This machine's float32 FMA peak on one core, measured: twelve independent chains of vector fused multiply-adds
/// (enough to keep two FMA pipes of latency 4 busy), nothing loaded or stored in the loop. It is the yardstick that
/// GEMM and convolution figures are quoted against ("83% of the FMA peak measured in the same run"), since the
/// machines this library runs on differ and a clock speed on paper says little under a hypervisor.
/// </summary>
public static class FmaPeak
{
    /// <summary>Loop trips of one timed run: long enough (about 1.5 ms) that the call's own cost vanishes.</summary>
    public const int Iterations = 1_000_000;

    private const int Chains = 12;

    /// <summary>Floats per vector the chains use: Vector512 where the JIT accelerates it, else Vector256.</summary>
    public static int Lanes => Vector512.IsHardwareAccelerated ? Vector512<float>.Count : Vector256<float>.Count;

    /// <summary>Floating-point operations in <see cref="Run"/> of <paramref name="iterations"/> trips: 2 per lane per FMA.</summary>
    /// <param name="iterations">Loop trips.</param>
    /// <returns>The count.</returns>
    public static double Flops(int iterations) => 2.0 * Chains * Lanes * iterations;

    /// <summary>Runs the twelve chains for <paramref name="iterations"/> trips on the calling thread.</summary>
    /// <param name="iterations">Loop trips, at least 0.</param>
    /// <returns>A value computed from every chain, so the JIT keeps them.</returns>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static float Run(int iterations)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(iterations);
        return Vector512.IsHardwareAccelerated ? Chains512(iterations) : Chains256(iterations);
    }

    /// <summary>GFLOP/s of the fastest of <paramref name="rounds"/> timed runs, after one warm-up run, on the calling thread.</summary>
    /// <param name="rounds">Timed runs, at least 1.</param>
    /// <returns>The peak in GFLOP/s.</returns>
    public static double MeasureGflops(int rounds = 15)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        var sink = Run(Iterations);
        var best = double.MaxValue;
        for (var i = 0; i < rounds; i++)
        {
            var clock = Stopwatch.StartNew();
            sink += Run(Iterations);
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }

        GC.KeepAlive(sink);
        return Flops(Iterations) / best / 1e9;
    }

    private static float Chains512(int iterations)
    {
        Vector512<float> m = Vector512.Create(0.9999f), c = Vector512.Create(1e-4f), a0 = Vector512<float>.One;
        Vector512<float> a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (var i = 0; i < iterations; i++)
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

    private static float Chains256(int iterations)
    {
        Vector256<float> m = Vector256.Create(0.9999f), c = Vector256.Create(1e-4f), a0 = Vector256<float>.One;
        Vector256<float> a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (var i = 0; i < iterations; i++)
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
