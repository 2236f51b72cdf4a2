
using static AutoGrad.Tests.TestData;

namespace AutoGrad.Tests.Autodiff;

public class HigherOrderTests
{
    /// <summary>
    /// Every gradient check and composition of every op descriptor that declares itself twice differentiable (see
    /// <see cref="OpCatalog"/>): a new op is covered here by its descriptor alone.
    /// </summary>
    public static TheoryData<string, int> Samples
    {
        get
        {
            var data = new TheoryData<string, int>();
            foreach (var (sample, index) in All().Select((s, i) => (s, i)))
            {
                data.Add($"{sample.Op} {sample.Shapes}", index);
            }

            return data;
        }
    }

    private static List<OpSample> All() =>
        [.. OpCatalog.All.Where(row => row.TwiceDifferentiable).SelectMany(row => row.Samples.Concat(row.Compositions))];

    [Theory]
    [MemberData(nameof(Samples))]
    public void The_recorded_backward_rule_of_every_op_gives_the_same_gradients_as_the_fast_one(string name, int index)
    {
        var sample = All()[index];
        Assert.StartsWith(sample.Op, name, StringComparison.Ordinal);
        var inputs = sample.Inputs();
        using var tape = new Tape();
        foreach (var x in inputs)
        {
            tape.Watch(x);
        }

        var y = sample.Function(inputs);
        var upstream = Uniform(99, 0.5, 1.5, y.Shape.Dims.ToArray());
        var fast = tape.Gradient(y, inputs, upstream, retainGraph: true);
        var recorded = tape.Gradient(y, inputs, upstream, createGraph: true);
        for (var i = 0; i < inputs.Length; i++)
        {
            Assert.Equal(inputs[i].Shape, recorded[i].Shape);
            AssertClose(fast[i].ToDoubleArray(), recorded[i].ToDoubleArray(), 1e-12, 1e-14);
        }
    }

    [Fact]
    public void Derivatives_of_tanh_up_to_the_third_match_the_formulas()
    {
        double[] points = [-1.5, -0.2, 0.4, 2.0];
        var x = Tensor.FromArray(points);
        using var tape = new Tape();
        tape.Watch(x);
        var y = Ops.Tanh(x);
        var ones = Tensor.Ones([4], DType.Float64);
        var d1 = tape.Gradient(y, [x], ones, createGraph: true)[0];
        var d2 = tape.Gradient(d1, [x], ones, createGraph: true)[0];
        var d3 = tape.Gradient(d2, [x], ones, createGraph: true)[0];
        for (var i = 0; i < points.Length; i++)
        {
            var t = Math.Tanh(points[i]);
            Assert.Equal(1 - (t * t), d1[i], 12);
            Assert.Equal(-2 * t * (1 - (t * t)), d2[i], 12);
            Assert.Equal(-2 * (1 - (t * t)) * (1 - (3 * t * t)), d3[i], 12);
        }
    }

    [Fact]
    public void Derivatives_of_sin_cycle_through_cos_minus_sin_minus_cos_and_sin()
    {
        // DeZero's step 34: sin, cos, −sin, −cos, sin, … each from differentiating the last on the tape.
        double[] points = [-2.0, 0.3, 1.0, 2.5];
        var x = Tensor.FromArray(points);
        using var tape = new Tape();
        tape.Watch(x);
        var ones = Tensor.Ones([4], DType.Float64);
        var y = Ops.Sin(x);
        Func<double, double>[] expected = [Math.Cos, v => -Math.Sin(v), v => -Math.Cos(v), Math.Sin];
        foreach (var derivative in expected)
        {
            y = tape.Gradient(y, [x], ones, createGraph: true)[0];
            for (var i = 0; i < points.Length; i++)
            {
                Assert.Equal(derivative(points[i]), y[i], 12);
            }
        }
    }

    [Fact]
    public void Second_derivative_of_a_composition_matches_the_formula()
    {
        // f(x) = exp(−x)·tanh(x): f'' = e^(−x)·(t − 2(1 − t²) − 2t(1 − t²)), t = tanh x.
        var x = Tensor.FromArray([0.7]);
        using var tape = new Tape();
        tape.Watch(x);
        var f = Ops.Sum(Ops.Exp(-x) * Ops.Tanh(x));
        var d1 = tape.Gradient(f, [x], createGraph: true)[0];
        var d2 = tape.Gradient(Ops.Sum(d1), x)[0][0];
        var t = Math.Tanh(0.7);
        Assert.Equal(Math.Exp(-0.7) * (t - (2 * (1 - (t * t))) - (2 * t * (1 - (t * t)))), d2, 12);
    }

    [Fact]
    public void Newtons_method_on_x4_minus_2x2_reaches_1_from_2_in_under_10_steps()
    {
        // DeZero step 33: x ← x − f'(x)/f''(x) for f(x) = x⁴ − 2x².
        var x = 2.0;
        var steps = 0;
        while (Math.Abs(x - 1) > 1e-12 && steps < 10)
        {
            var t = Tensor.FromArray([x]);
            using var tape = new Tape();
            tape.Watch(t);
            var y = Ops.Sum(Ops.Pow(t, 4) - (2 * Ops.Pow(t, 2)));
            var gx = tape.Gradient(y, [t], createGraph: true)[0];
            var gx2 = tape.Gradient(Ops.Sum(gx), t)[0];
            Assert.Equal((4 * x * x * x) - (4 * x), gx[0], 10);
            Assert.Equal((12 * x * x) - 4, gx2[0], 10);
            x -= gx[0] / gx2[0];
            steps++;
        }

        Assert.Equal(1.0, x, 12);
        Assert.InRange(steps, 1, 9);
    }

    [Fact]
    public void Double_backprop_of_DeZero_step_36_gives_100()
    {
        // y = x², z = (dy/dx)³ + y, so dz/dx = 3(2x)²·2 + 2x = 100 at x = 2.
        var x = Tensor.FromArray([2.0]);
        using var tape = new Tape();
        tape.Watch(x);
        var y = Ops.Sum(Ops.Pow(x, 2));
        var gx = tape.Gradient(y, [x], createGraph: true)[0];
        var z = Ops.Sum(Ops.Pow(gx, 3)) + y;
        Assert.Equal(100.0, tape.Gradient(z, x)[0][0], 12);
    }

    [Fact]
    public void Hessian_vector_products_of_an_mlp_match_finite_differences_of_gradients()
    {
        var model = new MultiLayerNet(4, [5], 3, activation: "tanh", seed: 3, dtype: DType.Float64);
        var x = Normal(40, 6, 4);
        int[] labels = [0, 2, 1, 1, 0, 2];
        var parameters = model.Parameters().ToArray();
        var v = parameters.Select((p, i) => Normal(50 + i, p.Shape.Dims.ToArray())).ToArray();

        // Hv = ∂(∇f · v)/∂θ, by recording the first backward pass and differentiating through it.
        Tensor[] hv;
        using (var tape = new Tape())
        {
            var loss = Ops.SoftmaxWithLoss(model.Forward(x), labels);
            var g = tape.Gradient(loss, parameters, createGraph: true);
            var dot = g.Select((gi, i) => Ops.Sum(gi * v[i])).Aggregate((a, b) => a + b);
            hv = tape.Gradient(dot, parameters);
        }

        const double step = 1e-5;
        var plus = GradientsAt(model, parameters, v, step, x, labels);
        var minus = GradientsAt(model, parameters, v, -step, x, labels);
        for (var i = 0; i < parameters.Length; i++)
        {
            var numeric = plus[i].Zip(minus[i], (p, m) => (p - m) / (2 * step)).ToArray();
            AssertClose(numeric, hv[i].ToDoubleArray(), 1e-5, 1e-7);
        }
    }

    [Fact]
    public void Gradients_of_slices_and_gathers_differentiate_again()
    {
        // ∂/∂x Σ x[1..3] ⊙ w pads w into rows 1–2; differentiating Σ (that ⊙ u) by w gives back u's rows 1–2.
        var x = Normal(60, 4, 3);
        var w = Normal(61, 2, 3);
        var u = Normal(62, 4, 3);
        using (var tape = new Tape())
        {
            tape.Watch(x);
            tape.Watch(w);
            var gx = tape.Gradient(Ops.Sum(x[1..3] * w), [x], createGraph: true)[0];
            Assert.Equal(0.0, gx[0, 1]);
            Assert.Equal(w[1, 2], gx[2, 2]);
            var gw = tape.Gradient(Ops.Sum(gx * u), w)[0];
            Assert.Equal(u.ToDoubleArray()[3..9], gw.ToDoubleArray());
        }

        // ∂/∂x Σ gather(x, t) ⊙ w scatters w to (i, tᵢ); differentiating Σ (that ⊙ u) by w gathers u at (i, tᵢ).
        var scores = Normal(63, 3, 4);
        var weights = Normal(64, 3);
        var v = Normal(65, 3, 4);
        using (var tape = new Tape())
        {
            tape.Watch(scores);
            tape.Watch(weights);
            var gs = tape.Gradient(Ops.Sum(Ops.Gather(scores, new[] { 1, 0, 2 }) * weights), [scores], createGraph: true)[0];
            var gw = tape.Gradient(Ops.Sum(gs * v), weights)[0];
            Assert.Equal([v[0, 1], v[1, 0], v[2, 2]], gw.ToDoubleArray());
        }
    }

    private static double[][] GradientsAt(Module model, Tensor[] parameters, Tensor[] v, double step, Tensor x, int[] labels)
    {
        var originals = parameters.Select(p => p.ToDoubleArray()).ToArray();
        for (var i = 0; i < parameters.Length; i++)
        {
            var values = parameters[i].AsSpan<double>();
            var direction = v[i].AsReadOnlySpan<double>();
            for (var k = 0; k < values.Length; k++)
            {
                values[k] += step * direction[k];
            }
        }

        double[][] result;
        using (var tape = new Tape())
        {
            result = [.. tape.Gradient(Ops.SoftmaxWithLoss(model.Forward(x), labels), parameters).Select(g => g.ToDoubleArray())];
        }

        for (var i = 0; i < parameters.Length; i++)
        {
            originals[i].CopyTo(parameters[i].AsSpan<double>());
        }

        return result;
    }
}
