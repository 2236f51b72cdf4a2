using static AutoGrad.Tests.TestData;

namespace AutoGrad.Tests.Operations;

/// <summary>Every fused op against its composition of primitives: same loss, same gradients.</summary>
public class FusedOpsTests
{
    private const double Float64Tolerance = 1e-12;
    private const double Float32Tolerance = 1e-5;

    public static TheoryData<DType, double> Settings => new()
    {
        { DType.Float64, 1.0 },
        { DType.Float64, 2.5 },
        { DType.Float32, 1.0 },
        { DType.Float32, -0.75 },
    };

    [Theory]
    [MemberData(nameof(Settings))]
    public void Affine_equals_matmul_plus_broadcast_add(DType dtype, double upstream)
    {
        Tensor[] inputs = [Normal(1, 4, 2, 3), Normal(2, 6, 5), Normal(3, 5)];
        AssertSameGradients(
            v => Ops.Affine(v[0], v[1], v[2]),
            v => Ops.MatMul(Ops.Reshape(v[0], 4, -1), v[1]) + v[2],
            Cast(inputs, dtype),
            upstream,
            dtype);
    }

    [Theory]
    [MemberData(nameof(Settings))]
    public void SoftmaxWithLoss_with_labels_equals_both_compositions(DType dtype, double upstream)
    {
        int[] labels = [2, 0, 4, 1];
        var t = OneHot(labels, 5, dtype);
        var x = Cast([Normal(4, 4, 5)], dtype);
        AssertSameGradients(v => Ops.SoftmaxWithLoss(v[0], labels), v => -Ops.Sum(t * Ops.LogSoftmax(v[0])) / 4, x, upstream, dtype);
        AssertSameGradients(v => Ops.SoftmaxWithLoss(v[0], labels), v => -Ops.Sum(t * Ops.Log(Ops.Softmax(v[0]))) / 4, x, upstream, dtype);
    }

    [Theory]
    [MemberData(nameof(Settings))]
    public void SoftmaxWithLoss_with_one_hot_targets_equals_both_compositions(DType dtype, double upstream)
    {
        var x = Cast([Normal(5, 3, 4)], dtype)[0];
        var t = OneHot([3, 3, 0], 4, dtype);
        AssertSameGradients(v => Ops.SoftmaxWithLoss(v[0], v[1]), v => -Ops.Sum(v[1] * Ops.LogSoftmax(v[0])) / 3, [x, t], upstream, dtype);
        AssertSameGradients(v => Ops.SoftmaxWithLoss(v[0], v[1]), v => -Ops.Sum(v[1] * Ops.Log(Ops.Softmax(v[0]))) / 3, [x, t], upstream, dtype);
    }

    [Theory]
    [MemberData(nameof(Settings))]
    public void SoftmaxWithLoss_with_soft_targets_equals_the_composition(DType dtype, double upstream)
    {
        var x = Cast([Normal(6, 3, 4)], dtype)[0];
        var t = Cast([Uniform(7, 0, 1, 3, 4)], dtype)[0]; // rows need not sum to 1
        AssertSameGradients(v => Ops.SoftmaxWithLoss(v[0], v[1]), v => -Ops.Sum(v[1] * Ops.LogSoftmax(v[0])) / 3, [x, t], upstream, dtype);
    }

    [Theory]
    [MemberData(nameof(Settings))]
    public void SigmoidWithLoss_equals_binary_cross_entropy_composition(DType dtype, double upstream)
    {
        var x = Cast([Normal(8, 4, 3)], dtype)[0];
        var t = Cast([Uniform(9, 0, 1, 4, 3)], dtype)[0];
        AssertSameGradients(
            v => Ops.SigmoidWithLoss(v[0], v[1]),
            v =>
            {
                var y = Ops.Sigmoid(v[0]);
                return -Ops.Sum((v[1] * Ops.Log(y)) + ((1 - v[1]) * Ops.Log(1 - y))) / 4;
            },
            [x, t],
            upstream,
            dtype);
    }

    [Theory]
    [MemberData(nameof(Settings))]
    public void MeanSquaredError_equals_half_sum_of_squares_over_n(DType dtype, double upstream)
    {
        var y = Cast([Normal(10, 4, 3)], dtype)[0];
        var t = Cast([Normal(11, 4, 3)], dtype)[0];
        AssertSameGradients(v => Ops.MeanSquaredError(v[0], v[1]), v => Ops.Sum(Ops.Pow(v[0] - v[1], 2)) * 0.5 / 4, [y, t], upstream, dtype);
    }

    [Fact]
    public void Fused_ops_pass_the_gradient_checker()
    {
        int[] labels = [1, 0, 2];
        AssertGradientsMatch(v => Ops.Affine(v[0], v[1], v[2]), Normal(1, 3, 2, 2), Normal(2, 4, 3), Normal(3, 3));
        AssertGradientsMatch(v => Ops.SoftmaxWithLoss(v[0], labels), Normal(4, 3, 3));
        AssertGradientsMatch(v => Ops.SoftmaxWithLoss(v[0], v[1]), Normal(5, 3, 3), Uniform(6, 0, 1, 3, 3));
        AssertGradientsMatch(v => Ops.SigmoidWithLoss(v[0], v[1]), Normal(7, 5), Uniform(8, 0, 1, 5));
        AssertGradientsMatch(v => Ops.MeanSquaredError(v[0], v[1]), Normal(9, 3, 2), Normal(10, 3, 2));
        AssertGradientsMatch(v => Ops.CrossEntropyError(v[0], labels), Uniform(11, 0.1, 1, 3, 3));
        AssertGradientsMatch(v => Ops.CrossEntropyError(v[0], v[1]), Uniform(12, 0.1, 1, 3, 3), Uniform(13, 0, 1, 3, 3));
    }

    [Fact]
    public void SoftmaxWithLoss_backward_is_y_minus_t_over_n()
    {
        var x = Normal(14, 2, 3);
        int[] labels = [1, 2];
        using var tape = new Tape();
        tape.Watch(x);
        var g = tape.Gradient(Ops.SoftmaxWithLoss(x, labels), x)[0].ToDoubleArray();
        var y = Ops.Softmax(x).ToDoubleArray();
        double[] expected = [y[0] / 2, (y[1] - 1) / 2, y[2] / 2, y[3] / 2, y[4] / 2, (y[5] - 1) / 2];
        AssertClose(expected, g, 1e-15);
    }

    [Fact]
    public void Fused_losses_are_exact_for_extreme_logits()
    {
        var x = Tensor.FromArray([1000.0, -1000.0, 0.0, 1000.0, 1000.0, -1000.0], 2, 3);
        var loss = Ops.SoftmaxWithLoss(x, new[] { 0, 2 }).ToScalar();
        Assert.Equal((0 + 2000 + Math.Log(2)) / 2, loss, 10);
        var s = Ops.SigmoidWithLoss(Tensor.FromArray([1000.0, -1000.0]), Tensor.FromArray([0.0, 0.0])).ToScalar();
        Assert.Equal(500.0, s, 10);
    }

    private static void AssertSameGradients(Func<Tensor[], Tensor> fused, Func<Tensor[], Tensor> composed, Tensor[] inputs, double upstream, DType dtype)
    {
        var (fusedValue, fusedGradients) = Evaluate(fused, inputs, upstream);
        var (composedValue, composedGradients) = Evaluate(composed, inputs, upstream);
        var tolerance = dtype == DType.Float64 ? Float64Tolerance : Float32Tolerance;
        AssertClose(composedValue, fusedValue, tolerance, tolerance * 1e-3);
        for (var i = 0; i < inputs.Length; i++)
        {
            AssertClose(composedGradients[i], fusedGradients[i], tolerance, tolerance * 1e-3);
        }
    }

    private static (double[] Value, double[][] Gradients) Evaluate(Func<Tensor[], Tensor> function, Tensor[] inputs, double upstream)
    {
        using var tape = new Tape();
        foreach (var x in inputs)
        {
            tape.Watch(x);
        }

        var y = function(inputs);
        var seed = Tensor.Full(upstream, y.Shape.Dims, y.DType);
        var gradients = tape.Gradient(y, inputs, seed);
        return (y.ToDoubleArray(), gradients.Select(g => g.ToDoubleArray()).ToArray());
    }

    private static Tensor[] Cast(Tensor[] inputs, DType dtype) => inputs.Select(x => x.ToType(dtype)).ToArray();

    private static Tensor OneHot(int[] labels, int classes, DType dtype)
    {
        var t = Tensor.Zeros([labels.Length, classes], DType.Float64);
        for (var i = 0; i < labels.Length; i++)
        {
            t.AsSpan<double>()[(i * classes) + labels[i]] = 1;
        }

        return t.ToType(dtype);
    }
}
