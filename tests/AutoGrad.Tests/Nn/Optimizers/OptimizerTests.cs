using AutoGrad.Kernels;
using AutoGrad.Nn.Optimizers;

namespace AutoGrad.Tests.Nn.Optimizers;

/// <summary>One update of each optimizer from p = [1, −2], g = [0.5, 0.25], against numbers worked out by hand.</summary>
public class OptimizerTests
{
    [Fact]
    public void Sgd() => AssertStep(p => new Sgd(p, 0.1), [0.95, -2.025]);

    [Fact]
    public void Sgd_with_weight_decay_adds_lambda_p_to_the_gradient() =>
        AssertStep(p => new Sgd(p, 0.1, weightDecay: 0.1), [1 - (0.1 * 0.6), -2 - (0.1 * 0.05)]);

    [Fact]
    public void Momentum_over_two_steps()
    {
        // v₁ = −0.1g = [−0.05, −0.025]; v₂ = 0.9v₁ − 0.1g = [−0.095, −0.0475]; p = p₀ + v₁ + v₂.
        AssertStep(p => new Momentum(p, 0.1, 0.9), [1 - 0.05 - 0.095, -2 - 0.025 - 0.0475], steps: 2);
    }

    [Fact]
    public void Nesterov() =>
        AssertStep(p => new Nesterov(p, 0.1, 0.9), [1 + (0.81 * -0.05) - (1.9 * 0.1 * 0.5), -2 + (0.81 * -0.025) - (1.9 * 0.1 * 0.25)]);

    [Fact]
    public void AdaGrad() =>
        AssertStep(p => new AdaGrad(p, 0.1), [1 - (0.1 * 0.5 / (0.5 + 1e-7)), -2 - (0.1 * 0.25 / (0.25 + 1e-7))]);

    [Fact]
    public void RmsProp() =>
        AssertStep(p => new RmsProp(p, 0.01, 0.99), [1 - (0.01 * 0.5 / (0.05 + 1e-7)), -2 - (0.01 * 0.25 / (0.025 + 1e-7))]);

    [Fact]
    public void Adam_first_step_moves_each_weight_by_the_learning_rate() =>
        AssertStep(p => new Adam(p, 0.001), [1 - (0.001 * 0.5 / (0.5 + 1e-8)), -2 - (0.001 * 0.25 / (0.25 + 1e-8))]);

    [Fact]
    public void Adam_second_step_uses_bias_corrected_moments()
    {
        // Same gradient twice: m₂ = 0.19g, v₂ = 0.001999g², m̂ = g, v̂ = g², so each step is η·g/(|g| + ε) again.
        AssertStep(p => new Adam(p, 0.001), [1 - (2 * 0.001 * 0.5 / (0.5 + 1e-8)), -2 - (2 * 0.001 * 0.25 / (0.25 + 1e-8))], steps: 2, tolerance: 1e-12);
    }

    [Fact]
    public void AdamW_decays_the_weights_before_the_step()
    {
        double[] decayed = [1 * (1 - 1e-5), -2 * (1 - 1e-5)];
        AssertStep(p => new AdamW(p, 0.001, 0.01), [decayed[0] - (0.001 * 0.5 / (0.5 + 1e-8)), decayed[1] - (0.001 * 0.25 / (0.25 + 1e-8))]);
    }

    [Fact]
    public void Clipping_by_global_norm_scales_all_gradients_together()
    {
        var a = Tensor.Zeros([1], DType.Float64);
        var b = Tensor.Zeros([1], DType.Float64);
        a.Grad = Tensor.FromArray([3.0]);
        b.Grad = Tensor.FromArray([4.0]);
        var norm = GradientClipping.ClipByGlobalNorm([a, b], 1.0);
        Assert.Equal(5.0, norm, 12);
        Assert.Equal(0.6, a.Grad[0], 6);
        Assert.Equal(0.8, b.Grad[0], 6);
        Assert.Equal(1.0, GradientClipping.ClipByGlobalNorm([a, b], 10.0), 5); // under the limit: unchanged
        Assert.Equal(0.6, a.Grad[0], 6);
    }

    [Fact]
    public void Float32_parameters_are_updated_too()
    {
        var p = Tensor.FromArray([1f, -2f]);
        p.Grad = Tensor.FromArray([0.5f, 0.25f]);
        new Sgd([p], 0.1).Step();
        Assert.Equal([0.95f, -2.025f], p.ToFloatArray());
    }

    [Fact]
    public void Bad_settings_are_rejected_with_the_optimizer_named()
    {
        var p = Tensor.Zeros([1]);
        Assert.Contains("Sgd", Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd([p], -1)).Message);
        Assert.Contains("no parameters", Assert.Throws<ArgumentException>(() => new Adam([])).Message);
        p.Grad = Tensor.Zeros([2]);
        Assert.Contains("(2,)", Assert.Throws<InvalidOperationException>(() => new Sgd([p], 0.1).Step()).Message);
    }

    [Fact]
    public void Adaptive_updates_match_the_formulas_on_long_parameters()
    {
        // 1,003 elements: the vector lanes and the scalar tail must both follow the formulas above.
        const int n = 1003;
        double[] p0 = [.. Enumerable.Range(0, n).Select(i => Math.Sin(i))];
        double[] g = [.. Enumerable.Range(0, n).Select(i => Math.Cos(i * 0.7) + 0.1)];
        double Adam(int i) => p0[i] - (0.001 * g[i] / (Math.Sqrt(g[i] * g[i]) + 1e-8));
        double Rms(int i) => p0[i] - (0.01 * g[i] / (Math.Sqrt(0.01 * g[i] * g[i]) + 1e-7));
        double Ada(int i) => p0[i] - (0.1 * g[i] / (Math.Sqrt(g[i] * g[i]) + 1e-7));
        foreach (var (create, formula) in new (Func<Tensor[], Optimizer>, Func<int, double>)[]
        {
            (p => new Adam(p, 0.001), Adam),
            (p => new RmsProp(p, 0.01), Rms),
            (p => new AdaGrad(p, 0.1), Ada),
        })
        {
            var p = Tensor.FromArray(p0);
            p.Grad = Tensor.FromArray(g);
            create([p]).Step();
            TestData.AssertClose(Enumerable.Range(0, n).Select(formula).ToArray(), p.ToDoubleArray(), 1e-13, 1e-15);
        }
    }

    [Fact]
    public void Large_parameters_are_updated_in_chunks_with_the_same_bits_on_any_thread_count()
    {
        // 300,007 elements: large enough to be split among threads, and not a whole number of chunks.
        const int n = 300_007;
        float[] p0 = [.. Enumerable.Range(0, n).Select(i => (float)Math.Sin(i))];
        float[] g = [.. Enumerable.Range(0, n).Select(i => (float)(Math.Cos(i * 0.7) + 0.1))];
        foreach (var create in new Func<Tensor[], Optimizer>[]
        {
            p => new Sgd(p, 0.1, weightDecay: 0.01),
            p => new Momentum(p, 0.1),
            p => new Nesterov(p, 0.1),
            p => new AdaGrad(p, 0.1),
            p => new RmsProp(p, 0.01),
            p => new Adam(p, 0.001),
            p => new AdamW(p, 0.001),
        })
        {
            var runs = new[] { 1, 2 }.Select(threads => StepTwice(create, p0, g, threads)).ToArray();
            Assert.Equal(runs[0].Select(BitConverter.SingleToInt32Bits), runs[1].Select(BitConverter.SingleToInt32Bits));
        }

        // And every element, across chunk boundaries, follows Adam's first step: p − η·g/(|g| + ε).
        var p = Tensor.FromArray(p0);
        p.Grad = Tensor.FromArray(g);
        new Adam([p], 0.001).Step();
        var updated = p.ToFloatArray();
        for (var i = 0; i < n; i++)
        {
            var expected = p0[i] - (0.001 * g[i] / (Math.Abs(g[i]) + 1e-8));
            Assert.True(Math.Abs(updated[i] - expected) <= 1e-7, $"element {i}: {updated[i]}, expected {expected}");
        }
    }

    private static float[] StepTwice(Func<Tensor[], Optimizer> create, float[] p0, float[] g, int threads)
    {
        var before = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = threads;
            var p = Tensor.FromArray(p0);
            var optimizer = create([p]);
            for (var step = 0; step < 2; step++)
            {
                p.Grad = Tensor.FromArray(g);
                optimizer.Step();
            }

            return p.ToFloatArray();
        }
        finally
        {
            Parallelism.MaxThreads = before;
        }
    }

    private static void AssertStep(Func<Tensor[], Optimizer> create, double[] expected, int steps = 1, double tolerance = 1e-15)
    {
        var p = Tensor.FromArray([1.0, -2.0]);
        var optimizer = create([p]);
        for (var i = 0; i < steps; i++)
        {
            p.Grad = Tensor.FromArray([0.5, 0.25]);
            optimizer.Step();
        }

        TestData.AssertClose(expected, p.ToDoubleArray(), tolerance, tolerance);
    }
}
