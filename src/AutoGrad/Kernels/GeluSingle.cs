using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
    private const float Erx = 8.45062911510467529297e-01f;
    private const float InverseSqrt2 = 0.70710678118654752440f;
    private const float InverseSqrt2Pi = 0.39894228040143267794f;

    /// <summary>|x|/√2 from which erfc is 0 in float32 (erfc(10.06) is below the smallest float).</summary>
    private const float TailEnd = 10.06f;

    private static readonly float[] s_pp = [1.28379167095512558561e-01f, -3.25042107247001499370e-01f, -2.84817495755985104766e-02f, -5.77027029648944159157e-03f, -2.37630166566501626084e-05f];
    private static readonly float[] s_qq = [1, 3.97917223959155352819e-01f, 6.50222499887672944485e-02f, 5.08130628187576562776e-03f, 1.32494738004321644526e-04f, -3.96022827877536812320e-06f];
    private static readonly float[] s_pa = [-2.36211856075265944077e-03f, 4.14856118683748331666e-01f, -3.72207876035701323847e-01f, 3.18346619901161753674e-01f, -1.10894694282396677476e-01f, 3.54783043256182359371e-02f, -2.16637559486879084300e-03f];
    private static readonly float[] s_qa = [1, 1.06420880400844228286e-01f, 5.40397917702171048937e-01f, 7.18286544141962662868e-02f, 1.26171219808761642112e-01f, 1.36370839120290507362e-02f, 1.19844998467991074170e-02f];
    private static readonly float[] s_ra = [-9.86494403484714822705e-03f, -6.93858572707181764372e-01f, -1.05586262253232909814e+01f, -6.23753324503260060396e+01f, -1.62396669462573470355e+02f, -1.84605092906711035994e+02f, -8.12874355063065934246e+01f, -9.81432934416914548592e+00f];
    private static readonly float[] s_sa = [1, 1.96512716674392571292e+01f, 1.37657754143519042600e+02f, 4.34565877475229228821e+02f, 6.45387271733267880336e+02f, 4.29008140027567833386e+02f, 1.08635005541779435134e+02f, 6.57024977031928170135e+00f, -6.04244152148580987438e-02f];
    private static readonly float[] s_rb = [-9.86494292470009928597e-03f, -7.99283237680523006574e-01f, -1.77579549177547519889e+01f, -1.60636384855821916062e+02f, -6.37566443368389627722e+02f, -1.02509513161107724954e+03f, -4.83519191608651397019e+02f, 0];
    private static readonly float[] s_sb = [1, 3.03380607434824582924e+01f, 3.25792512996573918826e+02f, 1.53672958608443695994e+03f, 3.19985821950859553908e+03f, 2.55305040643316442583e+03f, 4.74528541206955367215e+02f, -2.24409524465858183362e+01f, 0];

    /// <summary>Whether the vector path runs; without it the float64 path serves.</summary>
    public static bool IsSupported => Vector512.IsHardwareAccelerated;

    /// <summary>y = GELU(x) elementwise.</summary>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y) => Run(x, default, y, derivative: false);

    /// <summary>dx = g ⊙ GELU'(x) elementwise.</summary>
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> dx) => Run(x, g, dx, derivative: true);

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

        // φ(x) = e^(−x²/2)/√(2π), x² split as in Φ's tail so the large part of the exponent is exact.
        var v = Vector512.Abs(x);
        var high = (v.AsUInt32() & Vector512.Create(0xFFFF_F000u)).AsSingle();
        var half = Vector512.Create(-0.5f);
        var density = Vector512.Exp(half * high * high) * Vector512.Exp(half * (v - high) * (v + high)) * Vector512.Create(InverseSqrt2Pi);
        return g * Vector512.FusedMultiplyAdd(x, density, phi);
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
            var erfc = Vector512.Exp((half * -high * high) - Vector512.Create(0.5625f))
                * Vector512.Exp(ratio - (half * (v - high) * (v + high))) / a;
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
