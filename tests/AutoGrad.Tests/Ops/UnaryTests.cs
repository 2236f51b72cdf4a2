using static AutoGrad.Tests.TestData;

namespace AutoGrad.Tests.OpFamilies;

public class UnaryTests
{
    public static TheoryData<int[]> Shapes => new() { { [] }, { [5] }, { [2, 3, 4] } };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Exp_log_sqrt_pow_gradients_match(int[] shape)
    {
        var positive = Uniform(1, 0.5, 3, shape);
        AssertGradientsMatch(v => Ops.Exp(v[0]), Normal(2, shape));
        AssertGradientsMatch(v => Ops.Log(v[0]), positive);
        AssertGradientsMatch(v => Ops.Sqrt(v[0]), positive);
        AssertGradientsMatch(v => Ops.Pow(v[0], 3), Normal(3, shape));
        AssertGradientsMatch(v => Ops.Pow(v[0], -1.5), positive);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Activation_gradients_match(int[] shape)
    {
        AssertGradientsMatch(v => Ops.Relu(v[0]), AwayFromZero(4, shape));
        AssertGradientsMatch(v => Ops.Abs(v[0]), AwayFromZero(5, shape));
        AssertGradientsMatch(v => Ops.Sigmoid(v[0]), Normal(6, shape));
        AssertGradientsMatch(v => Ops.Tanh(v[0]), Normal(7, shape));
        AssertGradientsMatch(v => Ops.Sin(v[0]), Normal(12, shape));
        AssertGradientsMatch(v => Ops.Cos(v[0]), Normal(13, shape));
    }

    [Fact]
    public void Forward_values_match_the_math_library()
    {
        double[] values = [-2.5, -0.3, 0.7, 3.1];
        var x = Tensor.FromArray(values);
        AssertClose(values.Select(Math.Exp).ToArray(), Ops.Exp(x).ToDoubleArray(), 1e-15);
        AssertClose(values.Select(Math.Tanh).ToArray(), Ops.Tanh(x).ToDoubleArray(), 1e-15);
        AssertClose(values.Select(Math.Sin).ToArray(), Ops.Sin(x).ToDoubleArray(), 1e-15);
        AssertClose(values.Select(Math.Cos).ToArray(), Ops.Cos(x).ToDoubleArray(), 1e-15);
        AssertClose(values.Select(v => 1 / (1 + Math.Exp(-v))).ToArray(), Ops.Sigmoid(x).ToDoubleArray(), 1e-15);
        AssertClose(values.Select(v => Math.Max(v, 0)).ToArray(), Ops.Relu(x).ToDoubleArray(), 0);
        AssertClose(values.Select(Math.Abs).ToArray(), Ops.Abs(x).ToDoubleArray(), 0);
        AssertClose(values.Select(v => Math.Pow(v, 2)).ToArray(), Ops.Pow(x, 2).ToDoubleArray(), 1e-15);
    }

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Sigmoid_does_not_overflow_at_1000(DType dtype)
    {
        var x = Tensor.FromArray([-1000.0, 1000.0]).ToType(dtype);
        using var tape = new Tape();
        tape.Watch(x);
        var y = Ops.Sigmoid(x);
        Assert.Equal([0.0, 1.0], y.ToDoubleArray());
        var g = tape.Gradient(Ops.Sum(y), x)[0].ToDoubleArray();
        Assert.Equal([0.0, 0.0], g);
    }

    [Fact]
    public void Sign_gives_signs_and_no_gradient()
    {
        var x = Tensor.FromArray([-2.5, 0.0, 3.0, double.NaN]);
        var s = Ops.Sign(x).ToDoubleArray();
        Assert.Equal([-1.0, 0.0, 1.0], s[..3]);
        Assert.True(double.IsNaN(s[3]));
        AssertGradientsMatch(v => Ops.Sign(v[0]) * v[0], AwayFromZero(3, 2, 2)); // |x| through sign(x)·x: ∂ = sign(x)
    }

    [Fact]
    public void Relu_gradient_at_exactly_zero_is_zero()
    {
        var x = Tensor.FromArray([-1.0, 0.0, 1.0]);
        using var tape = new Tape();
        tape.Watch(x);
        var g = tape.Gradient(Ops.Sum(Ops.Relu(x)), x)[0];
        Assert.Equal([0.0, 0.0, 1.0], g.ToDoubleArray());
    }
}
