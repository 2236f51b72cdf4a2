using static AutoGrad.Tests.TestData;

namespace AutoGrad.Tests.Operations;

public class ReductionTests
{
    public static TheoryData<int[], int?, bool> Cases => new()
    {
        { [], null, false },
        { [5], null, false },
        { [5], 0, true },
        { [3, 4], 0, false },
        { [3, 4], 1, true },
        { [3, 4], null, true },
        { [2, 3, 4], 1, false },
        { [2, 3, 4], -1, true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Sum_mean_max_gradients_match(int[] shape, int? axis, bool keepDims)
    {
        AssertGradientsMatch(v => Ops.Sum(v[0], axis, keepDims), Normal(1, shape));
        AssertGradientsMatch(v => Ops.Mean(v[0], axis, keepDims), Normal(2, shape));
        AssertGradientsMatch(v => Ops.Max(v[0], axis, keepDims), Normal(3, shape)); // random: no ties
    }

    [Theory]
    [InlineData(null)] // every element of a (2, 3)
    [InlineData(1)] // the middle axis of a (2, 3, 2): slices with an inner stride
    public void Prod_differentiates_three_times_exactly_through_zeros(int? axis)
    {
        int[] shape = axis is null ? [2, 3] : [2, 3, 2];
        var x = Normal(31, shape);
        x.AsSpan<double>()[1] = 0;
        x.AsSpan<double>()[4] = 0; // with axis 1: one slice holds two zeros, another one
        var w1 = Normal(32, shape);
        var w2 = Normal(33, shape);

        using var tape = new Tape();
        tape.Watch(x);
        var d1 = tape.Gradient(Ops.Sum(Ops.Prod(x, axis)), [x], createGraph: true)[0];
        var d2 = tape.Gradient(Ops.Sum(d1 * w1), [x], createGraph: true)[0];
        var d3 = tape.Gradient(Ops.Sum(d2 * w2), [x])[0];

        // By brute force over each slice S: the k-th derivative of Π_S is the product over S without the chosen indices.
        var values = x.ToDoubleArray();
        double[] a = w1.ToDoubleArray(), b = w2.ToDoubleArray();
        double ProductWithout(int[] slice, params int[] left) => slice.Where(l => !left.Contains(l)).Aggregate(1.0, (p, l) => p * values[l]);
        var slices = axis is null
            ? [[0, 1, 2, 3, 4, 5]]
            : Enumerable.Range(0, 2).SelectMany(o => Enumerable.Range(0, 2).Select(i => new[] { (o * 6) + i, (o * 6) + 2 + i, (o * 6) + 4 + i })).ToArray();
        double[] e1 = new double[values.Length], e2 = new double[values.Length], e3 = new double[values.Length];
        foreach (var slice in slices)
        {
            foreach (var k in slice)
            {
                e1[k] = ProductWithout(slice, k);
                foreach (var i in slice.Where(i => i != k))
                {
                    e2[k] += a[i] * ProductWithout(slice, i, k);
                    foreach (var j in slice.Where(j => j != k && j != i))
                    {
                        e3[k] += a[i] * b[j] * ProductWithout(slice, i, j, k);
                    }
                }
            }
        }

        AssertClose(e1, d1.ToDoubleArray(), 1e-13, 1e-15);
        AssertClose(e2, d2.ToDoubleArray(), 1e-13, 1e-15);
        AssertClose(e3, d3.ToDoubleArray(), 1e-13, 1e-15);
    }

    [Fact]
    public void Prod_of_an_empty_axis_is_one_and_float32_multiplies_in_float64()
    {
        Assert.Equal([1.0, 1.0, 1.0], Ops.Prod(Tensor.Zeros([0, 3], DType.Float64), 0).ToDoubleArray());

        // 1e20 · 1e20 · 1e-30 overflows float32 halfway through; in float64 it is 1e10.
        var y = Ops.Prod(Tensor.FromArray([1e20f, 1e20f, 1e-30f]));
        Assert.Equal(1e10f, (float)y.ToScalar(), 1e3f);
    }

    [Fact]
    public void Shapes_and_values_follow_numpy()
    {
        var x = Tensor.FromArray([1.0, 5, 3, 4, 2, 6], 2, 3);
        var s0 = Ops.Sum(x, 0);
        Assert.Equal(Shape.Create([3]), s0.Shape);
        Assert.Equal([5.0, 7, 9], s0.ToDoubleArray());
        var m1 = Ops.Max(x, 1, keepDims: true);
        Assert.Equal(Shape.Create([2, 1]), m1.Shape);
        Assert.Equal([5.0, 6], m1.ToDoubleArray());
        Assert.Equal(Shape.Scalar, Ops.Mean(x).Shape);
        Assert.Equal(3.5, Ops.Mean(x).ToScalar());
        Assert.Equal(Shape.Create([1, 1]), Ops.Sum(x, keepDims: true).Shape);
    }

    [Fact]
    public void Max_routes_the_gradient_to_the_first_maximum()
    {
        var x = Tensor.FromArray([2.0, 7, 7, 1]);
        using var tape = new Tape();
        tape.Watch(x);
        var g = tape.Gradient(Ops.Max(x), x)[0];
        Assert.Equal([0.0, 1, 0, 0], g.ToDoubleArray());
    }

    [Fact]
    public void Reductions_over_an_empty_axis()
    {
        var empty = Tensor.Zeros([2, 0], DType.Float64);
        Assert.Equal([0.0, 0.0], Ops.Sum(empty, 1).ToDoubleArray());
        Assert.Contains("empty axis", Assert.Throws<ArgumentException>(() => Ops.Mean(empty, 1)).Message);
        Assert.Contains("Max", Assert.Throws<ArgumentException>(() => Ops.Max(empty, 1)).Message);
    }

    [Fact]
    public void Min_mirrors_max_with_ties_nan_and_keep_dims()
    {
        // Rows [3, 1, 1] and [NaN, 5, −2]: minima 1 (first of the tie, at column 1) and NaN (at column 0), as PyTorch.
        var x = Tensor.FromArray(new[,] { { 3.0, 1, 1 }, { double.NaN, 5, -2 } });
        using var tape = new Tape();
        tape.Watch(x);
        var y = Ops.Min(x, axis: 1, keepDims: true);
        var dx = tape.Gradient(y, [x], outputGradient: Tensor.FromArray(new[,] { { 10.0 }, { 20.0 } }))[0];

        Assert.Equal([2, 1], y.Shape.Dims.ToArray());
        Assert.Equal(1.0, y[0, 0]);
        Assert.True(double.IsNaN(y[1, 0]));
        Assert.Equal([0.0, 10, 0, 20, 0, 0], dx.ToDoubleArray());
        Assert.Equal(-2.0, Ops.Min(Tensor.FromArray([4.0, -2, 7])).ToScalar());
    }

    [Fact]
    public void LogSumExp_is_exact_for_huge_logits_and_handles_infinities_as_pytorch()
    {
        // Rows: [1000, 1000] → 1000 + ln 2; [−1000, 0] → ln(1 + e^−1000) = 0; [−∞, −∞] → −∞; [+∞, 1] → +∞.
        var x = Tensor.FromArray(new[,] { { 1000.0, 1000 }, { -1000, 0 }, { double.NegativeInfinity, double.NegativeInfinity }, { double.PositiveInfinity, 1 } });
        var rows = Ops.LogSumExp(x, axis: 1).ToDoubleArray();
        Assert.Equal([1000 + Math.Log(2), 0, double.NegativeInfinity, double.PositiveInfinity], rows);

        // Over the first axis of (2, 3), keeping it: log(e^a + e^b) per column; and in float32.
        var columns = Ops.LogSumExp(Tensor.FromArray(new[,] { { 0.0, 1, 2 }, { 3, 4, 5 } }), axis: 0, keepDims: true);
        Assert.Equal([1, 3], columns.Shape.Dims.ToArray());
        Assert.Equal([3 + Math.Log(1 + Math.Exp(-3)), 4 + Math.Log(1 + Math.Exp(-3)), 5 + Math.Log(1 + Math.Exp(-3))], columns.ToDoubleArray(), new ToleranceComparer(1e-15));
        Assert.Equal(1000 + (float)Math.Log(2), Ops.LogSumExp(Tensor.FromArray([1000f, 1000f])).ToFloatArray()[0]);
    }

    [Fact]
    public void Var_and_std_match_numpy_with_and_without_the_correction()
    {
        // numpy: var([1, 2, 3, 4], ddof=1) = 5/3, ddof=0 → 1.25, std(ddof=1) = √(5/3); columns of [[1, 2], [3, 5]]: [2, 4.5].
        var x = Tensor.FromArray([1.0, 2, 3, 4]);
        Assert.Equal(5.0 / 3, Ops.Var(x).ToScalar(), 1e-15);
        Assert.Equal(1.25, Ops.Var(x, unbiased: false).ToScalar(), 1e-15);
        Assert.Equal(Math.Sqrt(5.0 / 3), Ops.Std(x).ToScalar(), 1e-15);
        Assert.Equal([2.0, 4.5], Ops.Var(Tensor.FromArray(new[,] { { 1.0, 2 }, { 3, 5 } }), axis: 0).ToDoubleArray());
        Assert.True(double.IsNaN(Ops.Var(Tensor.FromArray([3.0])).ToScalar())); // one sample, n − 1 = 0: NaN, as PyTorch

        // A large offset costs no digits: the two passes in float64 see only the deviations.
        var shifted = Tensor.FromArray([1e9 + 1, 1e9 + 2, 1e9 + 3, 1e9 + 4]);
        Assert.Equal(5.0 / 3, Ops.Var(shifted).ToScalar(), 1e-6);
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance * Math.Max(1, Math.Abs(y));

        public int GetHashCode(double obj) => 0;
    }
}
