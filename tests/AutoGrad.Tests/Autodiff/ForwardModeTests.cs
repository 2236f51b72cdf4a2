using static AutoGrad.Tests.TestData;

namespace AutoGrad.Tests.Autodiff;

/// <summary>
/// Forward mode (<see cref="DualLevel"/>) for every op of the catalog: J·v against a central difference along v, the
/// dot-product test against reverse mode, and a fused op's tangent against its composition's; then nesting, mixing
/// with tapes, and refusals.
/// </summary>
public class ForwardModeTests
{
    /// <summary>Every gradient check of every op descriptor: a new op is covered here by its descriptor alone.</summary>
    public static TheoryData<string, int> Samples => Named(GradientSamples());

    /// <summary>Every composition of every fused op.</summary>
    public static TheoryData<string, int> Compositions => Named(CompositionSamples());

    /// <summary>The samples as theory rows: a readable name and the index the test looks the sample up by.</summary>
    private static TheoryData<string, int> Named(List<OpSample> samples)
    {
        var data = new TheoryData<string, int>();
        foreach (var (sample, index) in samples.Select((s, i) => (s, i)))
        {
            data.Add($"{sample.Op} {sample.Shapes}", index);
        }

        return data;
    }

    private static List<OpSample> GradientSamples() => [.. OpCatalog.All.SelectMany(row => row.Samples)];

    private static List<OpSample> CompositionSamples() => [.. OpCatalog.All.SelectMany(row => row.Compositions)];

    [Theory]
    [MemberData(nameof(Samples))]
    public void Every_op_gives_the_directional_derivative_and_passes_the_dot_product_test(string name, int index)
    {
        var sample = GradientSamples()[index];
        Assert.StartsWith(sample.Op, name, StringComparison.Ordinal);
        var result = ForwardChecker.Check(sample.Function, sample.Inputs());
        Assert.True(result.Passed, $"J·v vs central difference: max abs {result.MaxAbsoluteError:E3}, max rel {result.MaxRelativeError:E3}");
        Assert.True(result.DotProductPassed, $"⟨J·v, u⟩ = {result.ForwardDot:R} but ⟨v, Jᵀ·u⟩ = {result.ReverseDot:R}");
    }

    [Theory]
    [MemberData(nameof(Compositions))]
    public void Every_fused_op_carries_the_tangent_its_composition_carries(string name, int index)
    {
        var sample = CompositionSamples()[index];
        Assert.StartsWith(sample.Op, name, StringComparison.Ordinal);
        var inputs = sample.Inputs();
        var directions = inputs.Select((x, i) => Normal(300 + i, x.Shape.Dims.ToArray())).ToArray();
        var fused = ForwardChecker.Jvp(sample.Function, inputs, directions, out _);
        var composed = ForwardChecker.Jvp(sample.Composed!, inputs, directions, out _);
        AssertClose(composed, fused, 1e-12, 1e-14);
    }

    /// <summary>Every twice-differentiable sample: forward over reverse reaches the ops the backward rules are written with.</summary>
    public static TheoryData<string, int> TwiceDifferentiable => Named(TwiceDifferentiableSamples());

    private static List<OpSample> TwiceDifferentiableSamples() => [.. OpCatalog.All.Where(row => row.TwiceDifferentiable).SelectMany(row => row.Samples)];

    [Theory]
    [MemberData(nameof(TwiceDifferentiable))]
    public void Forward_over_reverse_gives_every_op_its_hessian_vector_product(string name, int index)
    {
        // f = ⟨u, op(x)⟩; the tangent of ∇f along v is H·v, against (∇f(x + εv) − ∇f(x − εv)) / 2ε. The gradient's
        // ops are the backward rules' (the adjoints: Col2Im, IndexAdd, Crop, …), so their forward rules are checked here.
        var sample = TwiceDifferentiableSamples()[index];
        Assert.StartsWith(sample.Op, name, StringComparison.Ordinal);
        var inputs = sample.Inputs();
        var directions = inputs.Select((x, i) => Normal(500 + i, x.Shape.Dims.ToArray())).ToArray();
        var u = Uniform(77, 0.5, 1.5, sample.Function(inputs).Shape.Dims.ToArray());

        double[][] Gradients(Tensor[] at, DualLevel? level)
        {
            using var tape = new Tape();
            var points = at.Select((x, i) => tape.Watch(level is null ? x : level.MakeDual(x, directions[i]))).ToArray();
            var gradients = tape.Gradient(sample.Function(points), points, u, createGraph: level is not null);
            return [.. gradients.Select((g, i) => level is null ? g.ToDoubleArray() : level.TangentOf(g)?.ToDoubleArray() ?? new double[at[i].Length])];
        }

        double[][] hv;
        using (var level = new DualLevel())
        {
            hv = Gradients(inputs, level);
        }

        const double step = 1e-5;
        var plus = Gradients([.. inputs.Select((x, i) => x + (directions[i] * step))], null);
        var minus = Gradients([.. inputs.Select((x, i) => x - (directions[i] * step))], null);
        for (var i = 0; i < inputs.Length; i++)
        {
            var numeric = plus[i].Zip(minus[i], (p, m) => (p - m) / (2 * step)).ToArray();
            AssertClose(numeric, hv[i], 1e-5, 1e-6);
        }
    }

    [Fact]
    public void Forward_over_forward_gives_the_second_derivative_of_tanh()
    {
        double[] points = [-1.5, -0.2, 0.4, 2.0];
        var ones = Tensor.Ones([4], DType.Float64);
        using var outer = new DualLevel();
        var x = outer.MakeDual(Tensor.FromArray(points), ones);
        Tensor first;
        using (var inner = new DualLevel())
        {
            var y = Ops.Tanh(inner.MakeDual(x, ones));
            first = inner.TangentOf(y)!;
        }

        var second = outer.TangentOf(first)!;
        for (var i = 0; i < points.Length; i++)
        {
            var t = Math.Tanh(points[i]);
            Assert.Equal(1 - (t * t), first[i], 14);
            Assert.Equal(-2 * t * (1 - (t * t)), second[i], 14);
        }
    }

    [Fact]
    public void Forward_over_forward_three_deep_gives_the_third_derivative_of_sin_times_x()
    {
        // f = x sin x: f' = sin x + x cos x, f'' = 2 cos x − x sin x, f''' = −3 sin x − x cos x.
        double[] points = [-2.0, 0.3, 1.1];
        var ones = Tensor.Ones([3], DType.Float64);
        using var l1 = new DualLevel();
        var x1 = l1.MakeDual(Tensor.FromArray(points), ones);
        using var l2 = new DualLevel();
        var x2 = l2.MakeDual(x1, ones);
        using var l3 = new DualLevel();
        var x3 = l3.MakeDual(x2, ones);
        var f = x3 * Ops.Sin(x3);
        var d1 = l3.TangentOf(f)!;
        var d2 = l2.TangentOf(d1)!;
        var d3 = l1.TangentOf(d2)!;
        for (var i = 0; i < points.Length; i++)
        {
            double p = points[i], s = Math.Sin(p), c = Math.Cos(p);
            Assert.Equal(s + (p * c), d1[i], 13);
            Assert.Equal((2 * c) - (p * s), d2[i], 13);
            Assert.Equal((-3 * s) - (p * c), d3[i], 13);
        }
    }

    [Fact]
    public void Reverse_over_forward_differentiates_a_tangent()
    {
        // d/dx of the tangent of sin(x²) along 1 = d/dx (2x cos x²) = 2 cos x² − 4x² sin x².
        double[] points = [0.3, -0.8, 1.2];
        var x = Tensor.FromArray(points);
        using var tape = new Tape();
        tape.Watch(x);
        Tensor tangent;
        using (var level = new DualLevel())
        {
            var y = Ops.Sin(Ops.Square(level.MakeDual(x, Tensor.Ones([3], DType.Float64))));
            tangent = level.TangentOf(y)!;
        }

        var g = tape.Gradient(tangent, [x], Tensor.Ones([3], DType.Float64))[0];
        for (var i = 0; i < points.Length; i++)
        {
            var p = points[i];
            Assert.Equal((2 * Math.Cos(p * p)) - (4 * p * p * Math.Sin(p * p)), g[i], 13);
        }
    }

    [Fact]
    public void Forward_over_reverse_gives_a_hessian_vector_product()
    {
        // f = Σ x² y, ∇ₓ f = 2xy, H·v along x = 2y ⊙ v.
        var x = Normal(1, 4);
        var y = Normal(2, 4);
        var v = Normal(3, 4);
        using var level = new DualLevel();
        var dual = level.MakeDual(x, v);
        using var tape = new Tape();
        tape.Watch(dual);
        var f = Ops.Sum(Ops.Square(dual) * y);
        var gradient = tape.Gradient(f, [dual], createGraph: true)[0];
        var hv = level.TangentOf(gradient)!.ToDoubleArray();
        var expected = (2 * y * v).ToDoubleArray();
        AssertClose(expected, hv, 1e-14, 1e-15);
    }

    [Theory]
    [InlineData("Gelu")]
    [InlineData("Sigmoid")]
    [InlineData("Relu")]
    [InlineData("Multiply")]
    [InlineData("Divide")]
    public void The_kernel_path_and_the_ops_path_give_the_same_tangent_in_both_types(string op)
    {
        // With nothing to differentiate the tangent, elementwise ops compute it with their backward kernel; under a tape
        // that tracks the input, with ops. Both agree, in float64 to rounding and in float32 to float32's precision.
        var w = Uniform(71, 0.5, 1.5, 3, 4);
        Func<Tensor, Tensor> f = op switch
        {
            "Gelu" => v => Ops.Gelu(v),
            "Sigmoid" => Ops.Sigmoid,
            "Relu" => Ops.Relu,
            "Multiply" => v => v * w.ToType(v.DType),
            _ => v => v / w.ToType(v.DType),
        };
        var x = Normal(70, 3, 4);
        var v = Normal(72, 3, 4);
        double[] Kernel(DType type)
        {
            using var level = new DualLevel();
            return level.TangentOf(f(level.MakeDual(x.ToType(type), v.ToType(type))))!.ToDoubleArray();
        }

        double[] WithOps(DType type)
        {
            using var tape = new Tape();
            var primal = tape.Watch(x.ToType(type));
            using var level = new DualLevel();
            return level.TangentOf(f(level.MakeDual(primal, v.ToType(type))))!.ToDoubleArray();
        }

        AssertClose(WithOps(DType.Float64), Kernel(DType.Float64), 1e-14, 1e-15);
        AssertClose(WithOps(DType.Float64), Kernel(DType.Float32), 1e-5, 1e-6);
        AssertClose(WithOps(DType.Float64), WithOps(DType.Float32), 1e-5, 1e-6);
    }

    [Fact]
    public void A_tensor_outside_the_level_has_no_tangent_and_costs_nothing()
    {
        using var level = new DualLevel();
        var x = level.MakeDual(Tensor.FromArray([1.0, 2.0]), Tensor.FromArray([1.0, 1.0]));
        var constant = Tensor.FromArray([3.0, 4.0]);
        Assert.Null(level.TangentOf(Ops.Exp(constant)));
        var mixed = x * constant;
        Assert.Equal([3.0, 4.0], level.TangentOf(mixed)!.ToDoubleArray());
        Assert.Null(level.TangentOf(x.Detach()));
    }

    [Fact]
    public void Make_dual_leaves_the_primal_alone_and_shares_its_memory()
    {
        var primal = Tensor.FromArray([1.0, 2.0]);
        using var level = new DualLevel();
        var dual = level.MakeDual(primal, Tensor.FromArray([5.0, 6.0]));
        Assert.Null(level.TangentOf(primal));
        Assert.Equal([1.0, 2.0], dual.ToDoubleArray());
        Assert.Equal([5.0, 6.0], level.TangentOf(dual)!.ToDoubleArray());
    }

    [Fact]
    public void Tangents_of_a_closed_level_are_gone_and_the_outer_level_is_current_again()
    {
        using var outer = new DualLevel();
        var inner = new DualLevel();
        Assert.Same(inner, DualLevel.Current);
        Assert.Equal(2, inner.Depth);
        var x = inner.MakeDual(Tensor.FromArray([1.0]), Tensor.FromArray([1.0]));
        inner.Dispose();
        Assert.Same(outer, DualLevel.Current);
        Assert.Throws<ObjectDisposedException>(() => inner.TangentOf(x));
        Assert.Null(outer.TangentOf(Ops.Exp(x)));
    }

    [Fact]
    public void Bad_input_is_refused_with_the_shapes()
    {
        using var level = new DualLevel();
        var e = Assert.Throws<ShapeMismatchException>(() => level.MakeDual(Tensor.Zeros([2, 3], DType.Float64), Tensor.Zeros([3, 2], DType.Float64)));
        Assert.Contains("MakeDual", e.Message);
        Assert.Contains("(2, 3)", e.Message);
        Assert.Contains("(3, 2)", e.Message);
        var types = Assert.Throws<ShapeMismatchException>(() => level.MakeDual(Tensor.Zeros([2]), Tensor.Zeros([2], DType.Float64)));
        Assert.Contains("float32", types.Message);
        Assert.Throws<ArgumentNullException>(() => level.MakeDual(null!, Tensor.Zeros([2])));
    }

    [Fact]
    public void A_dual_tensor_written_after_its_tangent_was_set_is_refused()
    {
        using var level = new DualLevel();
        var x = level.MakeDual(Tensor.FromArray([1.0, 2.0]), Tensor.FromArray([1.0, 1.0]));
        x.AsSpan<double>()[0] = 5;
        var e = Assert.Throws<InvalidOperationException>(() => Ops.Exp(x));
        Assert.Contains("written after its tangent", e.Message);
    }

    [Fact]
    public void A_custom_op_without_a_forward_rule_says_so_and_one_with_a_rule_is_used()
    {
        var x = Tensor.FromArray([0.5, -1.0]);
        using var level = new DualLevel();
        var dual = level.MakeDual(x, Tensor.FromArray([1.0, 2.0]));
        var e = Assert.Throws<NotSupportedException>(() => new SoftplusWithoutJvp().Apply(dual));
        Assert.Contains("Softplus", e.Message);
        Assert.Contains("Jvp", e.Message);

        var y = new SoftplusWithJvp().Apply(dual);
        var tangent = level.TangentOf(y)!;
        Assert.Equal(1 / (1 + Math.Exp(-0.5)), tangent[0], 14);
        Assert.Equal(2 / (1 + Math.Exp(1.0)), tangent[1], 14);

        // A constant input of the op has no tangent: the op computes its value and nothing else.
        Assert.Null(level.TangentOf(new SoftplusWithoutJvp().Apply(x)));
    }

    private class SoftplusWithoutJvp() : CustomOp("Softplus")
    {
        public override Tensor Forward(IReadOnlyList<Tensor> inputs) => Ops.Log(Ops.Exp(inputs[0]) + 1);

        public override IReadOnlyList<Tensor?> Backward(IReadOnlyList<Tensor> inputs, Tensor output, Tensor outputGradient) =>
            [outputGradient * Ops.Sigmoid(inputs[0])];
    }

    private sealed class SoftplusWithJvp : SoftplusWithoutJvp
    {
        public override Tensor Jvp(IReadOnlyList<Tensor> inputs, Tensor output, IReadOnlyList<Tensor?> tangents) =>
            tangents[0] is { } t ? t * Ops.Sigmoid(inputs[0]) : Tensor.ZerosLike(output);
    }
}
