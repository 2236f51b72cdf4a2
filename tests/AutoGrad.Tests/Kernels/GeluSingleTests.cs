using AutoGrad.Kernels;

namespace AutoGrad.Tests.Kernels;

public class GeluSingleTests
{
    /// <summary>
    /// Φ in float64 as a reference: ½(1 + erf) where that does not cancel, else ½·erfc(|x|/√2) by its continued
    /// fraction (Lentz's method), an independent way to the far left tail, where 1 + erf(x/√2) has no digits left.
    /// </summary>
    private static double Phi(double x)
    {
        if (x > -3)
        {
            return 0.5 * (1 + ErrorFunction.Erf(x / Math.Sqrt(2)));
        }

        // erfc(u) = e^(−u²)/√π · 1/(u + (1/2)/(u + 1/(u + (3/2)/(u + …)))).
        var u = -x / Math.Sqrt(2);
        double f = u, c = u, d = 0;
        for (var k = 1; k < 500; k++)
        {
            var an = k / 2.0;
            d = 1 / (u + (an * d));
            c = u + (an / c);
            var delta = c * d;
            f *= delta;
            if (Math.Abs(delta - 1) < 1e-16)
            {
                break;
            }
        }

        return 0.5 * Math.Exp(-u * u) / Math.Sqrt(Math.PI) / f;
    }

    /// <summary>
    /// The half-ulps (6e-8 relative) allowed: 8 on both sides. On a grid of 280,001 points over [−14, 14] the worst
    /// cases are 6.2 (GELU, x ≥ −3) and 4.0 (its left tail), 2.4 and 3.4 for the derivative; the left tail allowed 48
    /// while its e^(−x²/2) came from two float64-lane exponentials (37 at worst there). A float erf by Abramowitz and
    /// Stegun's 7.1.26, PyTorch's for float32, is off by 1.5e-7 absolutely in that tail: a relative error of 10⁷.
    /// </summary>
    private const double HalfUlps = 8;

    /// <summary>A grid over [−14, 14], each interval's edges (in |x|/√2) from both sides, and a length with a tail.</summary>
    private static float[] Points()
    {
        var edges = new[] { 0.84375, 1.25, 1 / 0.35, 10.06 }.Select(e => (float)(e * Math.Sqrt(2)))
            .SelectMany(e => new[] { e, MathF.BitDecrement(e), MathF.BitIncrement(e), -e, -MathF.BitDecrement(e) });
        return [.. Enumerable.Range(-1400, 2801).Select(i => i / 100f), .. edges, 1e-30f, -1e-30f, 0f];
    }

    [Fact]
    public void Float32_GELU_keeps_its_relative_precision_on_both_sides_of_zero()
    {
        if (!GeluSingle.IsSupported)
        {
            return; // float32 GELU goes through the float64 lanes without Vector512
        }

        // Against float64 at the float32 input, relatively (HalfUlps), also for negative x, where ½(1 − erf) would have
        // cancelled; results under 1e-35 (x below −12.7, where float nears its smallest normal) within 1e-35.
        var x = Points();
        var y = new float[x.Length];
        GeluSingle.Forward(x, y);
        for (var i = 0; i < x.Length; i++)
        {
            var expected = x[i] * Phi(x[i]);
            Assert.True(Math.Abs(y[i] - expected) <= (HalfUlps * 6e-8 * Math.Abs(expected)) + 1e-35, $"GELU({x[i]:R}) = {y[i]:R}, float64 {expected:R}");
        }
    }

    [Fact]
    public void Float32_GELU_derivative_times_the_upstream_gradient_agrees_with_float64()
    {
        if (!GeluSingle.IsSupported)
        {
            return;
        }

        var x = Points();
        var g = x.Select((_, i) => 0.5f + (i % 7)).ToArray();
        var dx = new float[x.Length];
        GeluSingle.Backward(x, g, dx);
        for (var i = 0; i < x.Length; i++)
        {
            var v = (double)x[i];
            var expected = g[i] * (Phi(v) + (v * Math.Exp(-0.5 * v * v) / Math.Sqrt(2 * Math.PI)));

            // Φ + xφ cancels for negative x (at x = −4 to 2e-4 of its parts), so the tolerance is on the parts' size.
            var scale = g[i] * (Phi(v) + Math.Abs(v * Math.Exp(-0.5 * v * v) / Math.Sqrt(2 * Math.PI)));
            Assert.True(Math.Abs(dx[i] - expected) <= (HalfUlps * 6e-8 * scale) + 1e-35, $"GELU'({x[i]:R})·{g[i]} = {dx[i]:R}, float64 {expected:R}");
        }

        Assert.Throws<ArgumentException>(() => GeluSingle.Backward(x, g, new float[3]));
    }

    [Fact]
    public void Infinities_and_NaN()
    {
        if (!GeluSingle.IsSupported)
        {
            return;
        }

        float[] x = [float.PositiveInfinity, float.NaN, 20f, -20f];
        var y = new float[x.Length];
        GeluSingle.Forward(x, y);
        Assert.Equal(float.PositiveInfinity, y[0]);
        Assert.True(float.IsNaN(y[1]));
        Assert.Equal(20f, y[2]);
        Assert.Equal(0f, Math.Abs(y[3]));
    }

    [Fact]
    public void The_backward_pass_from_a_kept_phi_is_the_full_backward_pass_bit_for_bit()
    {
        if (!GeluSingle.IsSupported)
        {
            return;
        }

        // Every region of Φ: the tails, the erf and erfc forms near 0 and 1.25·√2, NaN and infinities, and a length
        // with a scalar tail (37 = 2 vectors + 5).
        float[] x = [.. Enumerable.Range(0, 37).Select(i => (i - 18) * 0.83f), float.NaN, float.PositiveInfinity, float.NegativeInfinity, -12.5f, 9.25f];
        var g = x.Select((_, i) => 0.5f + (0.03f * i)).ToArray();
        float[] y = new float[x.Length], phi = new float[x.Length], viaPhi = new float[x.Length], full = new float[x.Length], alone = new float[x.Length];
        GeluSingle.Forward(x, y, phi);
        GeluSingle.Forward(x, alone);
        GeluSingle.BackwardFromPhi(x, phi, g, viaPhi);
        GeluSingle.Backward(x, g, full);
        Assert.Equal(alone, y);
        Assert.Equal(full, viaPhi);
    }

    [Fact]
    public void A_recorded_float32_GELU_gives_the_same_gradient_with_Phi_kept()
    {
        if (!GeluSingle.IsSupported)
        {
            return;
        }

        var x = Tensor.RandomNormal([5, 37], seed: 3, std: 2);
        var g = Tensor.RandomNormal([5, 37], seed: 4);
        using var tape = new Tape();
        tape.Watch(x);
        var gradient = tape.Gradient(Ops.Gelu(x), [x], outputGradient: g)[0].ToFloatArray();
        var expected = new float[x.Length];
        GeluSingle.Backward(x.ToFloatArray(), g.ToFloatArray(), expected);
        Assert.Equal(expected, gradient);
    }
}
