using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AutoGrad.Kernels;

/// <summary>
/// This machine's FMA peak on one core, measured, in float32 and in float64: twelve independent chains of vector fused
/// multiply-adds (enough to keep two FMA pipes of latency 4 busy), nothing loaded or stored in the loop. It is the
/// yardstick that GEMM and convolution figures are quoted against ("83% of the FMA peak measured in the same run"),
/// since the machines this library runs on differ and a clock speed on paper says little under a hypervisor. A float64
/// vector holds half the lanes, so its peak is about half the float32 one; it is measured rather than assumed, as some
/// cores run double FMAs at a lower rate.
/// </summary>
public static class FmaPeak
{
    /// <summary>Loop trips of one timed run: long enough (about 1.5 ms) that the call's own cost vanishes.</summary>
    public const int Iterations = 1_000_000;

    private const int Chains = 12;

    /// <summary>Floats per vector the chains use: Vector512 where the JIT accelerates it, else Vector256.</summary>
    public static int Lanes => Vector512.IsHardwareAccelerated ? Vector512<float>.Count : Vector256<float>.Count;

    /// <summary>Doubles per vector the float64 chains use: half of <see cref="Lanes"/>.</summary>
    public static int DoubleLanes => Lanes / 2;

    /// <summary>Floating-point operations in <see cref="Run"/> of <paramref name="iterations"/> trips: 2 per lane per FMA.</summary>
    /// <param name="iterations">Loop trips.</param>
    /// <returns>The count.</returns>
    public static double Flops(int iterations) => 2.0 * Chains * Lanes * iterations;

    /// <summary>Floating-point operations in <see cref="RunDouble"/> of <paramref name="iterations"/> trips.</summary>
    /// <param name="iterations">Loop trips.</param>
    /// <returns>The count.</returns>
    public static double DoubleFlops(int iterations) => 2.0 * Chains * DoubleLanes * iterations;

    /// <summary>Runs the twelve float32 chains for <paramref name="iterations"/> trips on the calling thread.</summary>
    /// <param name="iterations">Loop trips, at least 0.</param>
    /// <returns>A value computed from every chain, so the JIT keeps them.</returns>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static float Run(int iterations)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(iterations);
        return Vector512.IsHardwareAccelerated ? Chains512(iterations, 0.9999f, 1e-4f) : Chains256(iterations, 0.9999f, 1e-4f);
    }

    /// <summary>Runs the twelve float64 chains for <paramref name="iterations"/> trips on the calling thread.</summary>
    /// <param name="iterations">Loop trips, at least 0.</param>
    /// <returns>A value computed from every chain, so the JIT keeps them.</returns>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static double RunDouble(int iterations)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(iterations);
        return Vector512.IsHardwareAccelerated ? Chains512(iterations, 0.9999, 1e-4) : Chains256(iterations, 0.9999, 1e-4);
    }

    /// <summary>float32 GFLOP/s of the fastest of <paramref name="rounds"/> timed runs, after one warm-up run, on the calling thread.</summary>
    /// <param name="rounds">Timed runs, at least 1.</param>
    /// <returns>The peak in GFLOP/s.</returns>
    public static double MeasureGflops(int rounds = 15)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        return Flops(Iterations) / Fastest(rounds, static () => Run(Iterations)) / 1e9;
    }

    /// <summary>float64 GFLOP/s of the fastest of <paramref name="rounds"/> timed runs, after one warm-up run, on the calling thread.</summary>
    /// <param name="rounds">Timed runs, at least 1.</param>
    /// <returns>The float64 peak in GFLOP/s.</returns>
    public static double MeasureDoubleGflops(int rounds = 15)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        return DoubleFlops(Iterations) / Fastest(rounds, static () => RunDouble(Iterations)) / 1e9;
    }

    /// <summary>Seconds of the fastest of <paramref name="rounds"/> timed calls of <paramref name="run"/>, after one untimed call.</summary>
    private static double Fastest(int rounds, Func<double> run)
    {
        var sink = run();
        var best = double.MaxValue;
        for (var i = 0; i < rounds; i++)
        {
            var clock = Stopwatch.StartNew();
            sink += run();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }

        GC.KeepAlive(sink);
        return best;
    }

    private static T Chains512<T>(int iterations, T multiplier, T addend)
        where T : unmanaged, INumber<T>
    {
        Vector512<T> m = Vector512.Create(multiplier), c = Vector512.Create(addend), a0 = Vector512<T>.One;
        Vector512<T> a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (var i = 0; i < iterations; i++)
        {
            a0 = GemmMicroKernel.Fma(a0, m, c);
            a1 = GemmMicroKernel.Fma(a1, m, c);
            a2 = GemmMicroKernel.Fma(a2, m, c);
            a3 = GemmMicroKernel.Fma(a3, m, c);
            a4 = GemmMicroKernel.Fma(a4, m, c);
            a5 = GemmMicroKernel.Fma(a5, m, c);
            a6 = GemmMicroKernel.Fma(a6, m, c);
            a7 = GemmMicroKernel.Fma(a7, m, c);
            a8 = GemmMicroKernel.Fma(a8, m, c);
            a9 = GemmMicroKernel.Fma(a9, m, c);
            a10 = GemmMicroKernel.Fma(a10, m, c);
            a11 = GemmMicroKernel.Fma(a11, m, c);
        }

        return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }

    private static T Chains256<T>(int iterations, T multiplier, T addend)
        where T : unmanaged, INumber<T>
    {
        Vector256<T> m = Vector256.Create(multiplier), c = Vector256.Create(addend), a0 = Vector256<T>.One;
        Vector256<T> a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (var i = 0; i < iterations; i++)
        {
            a0 = GemmMicroKernel.Fma(a0, m, c);
            a1 = GemmMicroKernel.Fma(a1, m, c);
            a2 = GemmMicroKernel.Fma(a2, m, c);
            a3 = GemmMicroKernel.Fma(a3, m, c);
            a4 = GemmMicroKernel.Fma(a4, m, c);
            a5 = GemmMicroKernel.Fma(a5, m, c);
            a6 = GemmMicroKernel.Fma(a6, m, c);
            a7 = GemmMicroKernel.Fma(a7, m, c);
            a8 = GemmMicroKernel.Fma(a8, m, c);
            a9 = GemmMicroKernel.Fma(a9, m, c);
            a10 = GemmMicroKernel.Fma(a10, m, c);
            a11 = GemmMicroKernel.Fma(a11, m, c);
        }

        return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }
}
