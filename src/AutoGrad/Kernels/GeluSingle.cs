using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AutoGrad.Kernels;

/// <summary>
/// The exact GELU in float32, sixteen lanes at a time: x·Φ(x) with Φ(x) = ½(1 + erf(x/√2)), and its derivative
/// Φ(x) + x·φ(x). Φ comes from the same approximations as <see cref="ErrorFunction"/> (fdlibm's, whose erff uses these
/// polynomials with the coefficients rounded to float), with one difference that float32 needs: for negative x, Φ is
/// ½·erfc(|x|/√2) computed directly, where ½(1 − erf) would cancel (GELU(−4) would keep 3 digits of 7). A
/// TransformerBlock's GELU in float64 lanes was 27% of its step.
/// </summary>
internal static class GeluSingle
{
    private const float Erx = (float)ErrorFunction.Erx;
    private const float InverseSqrt2 = 0.70710678118654752440f;
    private const float InverseSqrt2Pi = 0.39894228040143267794f;
    private const float Log2E = 1.44269504088896340736f;

    /// <summary>ln 2 in two parts: the first with 9 significant bits (355/512), so n·Ln2High is exact for |n| &lt; 2^15.</summary>
    private const float Ln2High = 0.693359375f;
    private const float Ln2Low = -2.12194440e-4f;

    /// <summary>|x|/√2 from which erfc is 0 in float32 (erfc(10.06) is below the smallest float).</summary>
    private const float TailEnd = 10.06f;

    // ErrorFunction's coefficients rounded to float, as fdlibm's erff has them.
    private static readonly float[] s_pp = Single(ErrorFunction.Pp), s_qq = Single(ErrorFunction.Qq);
    private static readonly float[] s_pa = Single(ErrorFunction.Pa), s_qa = Single(ErrorFunction.Qa);
    private static readonly float[] s_ra = Single(ErrorFunction.Ra), s_sa = Single(ErrorFunction.Sa);
    private static readonly float[] s_rb = Single(ErrorFunction.Rb), s_sb = Single(ErrorFunction.Sb);

    /// <summary>Whether the vector path runs; without it the float64 path serves.</summary>
    public static bool IsSupported => Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

    /// <summary>y = GELU(x) elementwise.</summary>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y) => Run(x, default, y, derivative: false);

    /// <summary>dx = g ⊙ GELU'(x) elementwise.</summary>
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> dx) => Run(x, g, dx, derivative: true);

    /// <summary>y = GELU(x) and Φ(x) elementwise, Φ kept for <see cref="BackwardFromPhi"/>.</summary>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, Span<float> phi)
    {
        if (y.Length < x.Length || phi.Length < x.Length)
        {
            throw new ArgumentException($"GeluSingle: the operands' lengths ({x.Length}, {y.Length}, {phi.Length}) do not match.", nameof(y));
        }

        var lanes = Vector512<float>.Count;
        ref var xs = ref MemoryMarshal.GetReference(x);
        ref var ys = ref MemoryMarshal.GetReference(y);
        ref var ps = ref MemoryMarshal.GetReference(phi);
        var i = 0;
        for (; i + lanes <= x.Length; i += lanes)
        {
            var v = Vector512.LoadUnsafe(ref xs, (nuint)i);
            var p = Phi(v);
            Store(p, ref ps, i);
            Store(v * p, ref ys, i);
        }

        for (; i < x.Length; i++)
        {
            var p = Phi(Vector512.Create(x[i]));
            phi[i] = p[0];
            y[i] = x[i] * p[0];
        }
    }

    /// <summary>
    /// dx = g ⊙ (Φ(x) + x·φ(x)) with Φ(x) as <see cref="Forward(ReadOnlySpan{float}, Span{float}, Span{float})"/> kept it:
    /// the same arithmetic as <see cref="Backward"/>, bit for bit, without computing Φ again (the erf's rational
    /// approximations were two thirds of the backward pass).
    /// </summary>
    public static void BackwardFromPhi(ReadOnlySpan<float> x, ReadOnlySpan<float> phi, ReadOnlySpan<float> g, Span<float> dx)
    {
        if (phi.Length < x.Length || g.Length < x.Length || dx.Length < x.Length)
        {
            throw new ArgumentException($"GeluSingle: the operands' lengths ({x.Length}, {phi.Length}, {g.Length}, {dx.Length}) do not match.", nameof(dx));
        }

        var lanes = Vector512<float>.Count;
        ref var xs = ref MemoryMarshal.GetReference(x);
        ref var ps = ref MemoryMarshal.GetReference(phi);
        ref var gs = ref MemoryMarshal.GetReference(g);
        ref var ds = ref MemoryMarshal.GetReference(dx);
        var i = 0;
        for (; i + lanes <= x.Length; i += lanes)
        {
            var v = Vector512.LoadUnsafe(ref xs, (nuint)i);
            Store(Vector512.LoadUnsafe(ref gs, (nuint)i) * Vector512.FusedMultiplyAdd(v, Density(v), Vector512.LoadUnsafe(ref ps, (nuint)i)), ref ds, i);
        }

        for (; i < x.Length; i++)
        {
            var v = Vector512.Create(x[i]);
            dx[i] = g[i] * Vector512.FusedMultiplyAdd(v, Density(v), Vector512.Create(phi[i]))[0];
        }
    }

    private static void Run(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> y, bool derivative)
    {
        if (y.Length < x.Length || (derivative && g.Length < x.Length))
        {
            throw new ArgumentException($"GeluSingle: the operands' lengths ({x.Length}, {g.Length}, {y.Length}) do not match.", nameof(y));
        }

        var lanes = Vector512<float>.Count;
        ref var xs = ref MemoryMarshal.GetReference(x);
        ref var gs = ref MemoryMarshal.GetReference(g);
        ref var ys = ref MemoryMarshal.GetReference(y);
        var i = 0;
        for (; i + lanes <= x.Length; i += lanes)
        {
            Store(Value(Vector512.LoadUnsafe(ref xs, (nuint)i), derivative ? Vector512.LoadUnsafe(ref gs, (nuint)i) : default, derivative), ref ys, i);
        }

        if (i < x.Length)
        {
            // The last few through one vector padded with zeros.
            Span<float> tail = stackalloc float[lanes], upstream = stackalloc float[lanes];
            x[i..].CopyTo(tail);
            if (derivative)
            {
                g[i..].CopyTo(upstream);
            }

            Value(Vector512.Create<float>(tail), Vector512.Create<float>(upstream), derivative).CopyTo(tail);
            tail[..(x.Length - i)].CopyTo(y[i..]);
        }
    }

    private static Vector512<float> Value(Vector512<float> x, Vector512<float> g, bool derivative)
    {
        var phi = Phi(x);
        if (!derivative)
        {
            return x * phi;
        }

        return g * Vector512.FusedMultiplyAdd(x, Density(x), phi);
    }

    /// <summary>φ(x) = e^(−x²/2)/√(2π), x² split as in Φ's tail so the large part of the exponent is exact.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Density(Vector512<float> x)
    {
        var v = Vector512.Abs(x);
        var high = (v.AsUInt32() & Vector512.Create(0xFFFF_F000u)).AsSingle();
        var half = Vector512.Create(-0.5f);
        return ExpSum(half * high * high, half * (v - high) * (v + high)) * Vector512.Create(InverseSqrt2Pi);
    }

    /// <summary>
    /// e^(exact + rest) per lane, for an <paramref name="exact"/> part that holds the large, exactly known share of
    /// the exponent (−x²/2 with x cut to 12 bits) and a <paramref name="rest"/> known less exactly. n, the nearest
    /// multiple of ln 2 to the sum, is taken out of the exact part, in two pieces (Cody and Waite: n·ln2High is exact),
    /// before the rest is added, so the sum is never rounded as a whole; e^r (|r| ≤ 0.35 and a rounding) comes from
    /// its Taylor series to r⁷ (truncation under 0.2 ulp), and 2^n is applied by vscalefps, which also rounds
    /// subnormal results once. It replaced two calls of <see cref="Vector512.Exp(Vector512{float})"/> per vector: in a
    /// TransformerBlock's step (perf, one thread) the derivative's pass fell from 10.3% of the samples (5.8% in those
    /// calls) to 1.5%, and the worst error in the left tail from 37 to 4 half-ulps (see the tests).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> ExpSum(Vector512<float> exact, Vector512<float> rest)
    {
        var n = Vector512.Round((exact + rest) * Vector512.Create(Log2E));
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2High), exact);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Low), r) + rest;
        var p = Vector512.Create(1 / 5040f);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1 / 720f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1 / 120f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1 / 24f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1 / 6f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(0.5f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        return Avx512F.Scale(p, n);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector512<float> value, ref float destination, int at) => value.StoreUnsafe(ref destination, (nuint)at);

    /// <summary>Φ(x) per lane: ½(1 ± erf) below |x|/√2 = 1.25, erfc's tail formula from there, by the sign of x.</summary>
    private static Vector512<float> Phi(Vector512<float> x)
    {
        var u = x * Vector512.Create(InverseSqrt2);
        var a = Vector512.Abs(u);
        var one = Vector512<float>.One;
        var half = Vector512.Create(0.5f);
        var negative = Vector512.LessThan(u, Vector512<float>.Zero);

        // The tail: erfc(a) = e^(−a² − 0.5625 + R/S)/a with a² = x²/2 taken from x itself, split so the large part
        // is exact: a = x/√2 rounded to float would put 2a² ulps of error into e^(−a²) (100 ulps at x = −10).
        var result = Vector512.ConditionalSelect(negative, Vector512<float>.Zero, one);
        if (!Vector512.LessThanAll(a, Vector512.Create(1.25f)))
        {
            var s = one / (a * a);
            var below = Vector512.LessThan(a, Vector512.Create(1 / 0.35f));
            var ratio = Horner(s_ra, s_rb, below, s) / Horner(s_sa, s_sb, below, s);
            var v = Vector512.Abs(x);
            var high = (v.AsUInt32() & Vector512.Create(0xFFFF_F000u)).AsSingle();
            var erfc = ExpSum(half * -high * high, ratio - Vector512.Create(0.5625f) - (half * (v - high) * (v + high))) / a;
            erfc = Vector512.ConditionalSelect(Vector512.LessThan(a, Vector512.Create(TailEnd)), erfc, Vector512<float>.Zero);
            result = Vector512.ConditionalSelect(negative, half * erfc, one - (half * erfc));
        }

        var nearOne = Vector512.LessThan(a, Vector512.Create(1.25f));
        if (nearOne != Vector512<float>.Zero)
        {
            // erf for positive x (1 + erf does not cancel); erfc for negative x in fdlibm's erfcf forms, which keep
            // its digits: 0.5 − ((a − 0.5) + a·P/Q) below 0.84375 and (1 − erx) − P/Q up to 1.25, both exact where
            // 1 − erf would lose up to 11 ulps.
            var s1 = a - one;
            var z = a * a;
            var small = Vector512.LessThan(a, Vector512.Create(0.84375f));
            var nearZero = a * (Horner(s_pp, z) / Horner(s_qq, z));
            var nearOneRatio = Horner(s_pa, s1) / Horner(s_qa, s1);
            var erf = Vector512.ConditionalSelect(small, a + nearZero, Vector512.Create(Erx) + nearOneRatio);
            var erfc = Vector512.ConditionalSelect(small, half - ((a - half) + nearZero), Vector512.Create(1 - Erx) - nearOneRatio);
            result = Vector512.ConditionalSelect(nearOne, Vector512.ConditionalSelect(negative, half * erfc, half * (one + erf)), result);
        }

        // NaN through.
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), result, x);
    }

    private static float[] Single(double[] coefficients) => [.. coefficients.Select(c => (float)c)];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Horner(float[] c, Vector512<float> s)
    {
        var sum = Vector512.Create(c[^1]);
        for (var k = c.Length - 2; k >= 0; k--)
        {
            sum = Vector512.FusedMultiplyAdd(s, sum, Vector512.Create(c[k]));
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Horner(float[] whenTrue, float[] whenFalse, Vector512<float> pick, Vector512<float> s)
    {
        var sum = Vector512.ConditionalSelect(pick, Vector512.Create(whenTrue[^1]), Vector512.Create(whenFalse[^1]));
        for (var k = whenTrue.Length - 2; k >= 0; k--)
        {
            sum = Vector512.FusedMultiplyAdd(s, sum, Vector512.ConditionalSelect(pick, Vector512.Create(whenTrue[k]), Vector512.Create(whenFalse[k])));
        }

        return sum;
    }
}
