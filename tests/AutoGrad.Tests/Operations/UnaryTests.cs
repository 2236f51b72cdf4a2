using static AutoGrad.Tests.TestData;

namespace AutoGrad.Tests.Operations;

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

    [Fact]
    public void Erf_matches_the_C_library_to_the_last_digit_or_two()
    {
        // Reference: CPython's math.erf (the C library's erf) at each point, printed with repr.
        (double X, double Erf)[] points =
        [
            (1e-10, 1.1283791670955126e-10), (0.1, 0.1124629160182849), (0.5, 0.5204998778130465), (1, 0.8427007929497149),
            (-1.5, -0.9661051464753108), (2, 0.9953222650189527), (2.9999, 0.9999778955735178), (3, 0.9999779095030014),
            (3.0001, 0.9999779234241298), (4, 0.9999999845827421), (5, 0.9999999999984626), (6, 1.0),
        ];
        var y = Ops.Erf(Tensor.FromArray(points.Select(p => p.X).ToArray())).ToDoubleArray();
        for (var i = 0; i < points.Length; i++)
        {
            var ulp = Math.BitIncrement(Math.Abs(points[i].Erf)) - Math.Abs(points[i].Erf);
            Assert.True(Math.Abs(y[i] - points[i].Erf) <= 4 * ulp, $"erf({points[i].X}) = {y[i]:R}, expected {points[i].Erf:R} (within 4 ulp)");
        }

        var special = Ops.Erf(Tensor.FromArray([0.0, double.PositiveInfinity, double.NegativeInfinity, double.NaN])).ToDoubleArray();
        Assert.Equal([0.0, 1.0, -1.0], special[..3]);
        Assert.True(double.IsNaN(special[3]));
        Assert.Equal(0.8427007f, Ops.Erf(Tensor.FromArray([1f])).ToFloatArray()[0], 1e-7f);
    }

    [Fact]
    public void Log1p_and_expm1_keep_every_digit_of_tiny_arguments()
    {
        // Reference: CPython's math.log1p and math.expm1. log(1 + 1e-10) computed directly keeps about 6 digits.
        (double X, double Log1p, double Expm1)[] points =
        [
            (1e-10, 9.999999999500001e-11, 1.00000000005e-10), (1e-5, 9.999950000333332e-06, 1.0000050000166668e-05),
            (-0.5, -0.6931471805599453, -0.3934693402873666), (3, 1.3862943611198906, 19.085536923187668),
            (-1e-12, -1.0000000000005e-12, -9.999999999995e-13),
        ];
        var x = Tensor.FromArray(points.Select(p => p.X).ToArray());
        var log1p = Ops.Log1p(x).ToDoubleArray();
        var expm1 = Ops.Expm1(x).ToDoubleArray();
        for (var i = 0; i < points.Length; i++)
        {
            Assert.Equal(points[i].Log1p, log1p[i], Math.Abs(points[i].Log1p) * 4e-16);
            Assert.Equal(points[i].Expm1, expm1[i], Math.Abs(points[i].Expm1) * 4e-16);
        }

        Assert.Equal([10686474581523.463, -0.9999999999999064], Ops.Expm1(Tensor.FromArray([30.0, -30])).ToDoubleArray());
        Assert.Equal([double.NegativeInfinity, double.PositiveInfinity], Ops.Log1p(Tensor.FromArray([-1.0, double.PositiveInfinity])).ToDoubleArray());
    }
}
