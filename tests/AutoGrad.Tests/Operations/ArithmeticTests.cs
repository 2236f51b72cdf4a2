using static AutoGrad.Tests.TestData;

namespace AutoGrad.Tests.Operations;

public class ArithmeticTests
{
    public static TheoryData<int[], int[]> BroadcastPairs => new()
    {
        { [3, 4], [3, 4] },
        { [3, 1], [1, 4] },
        { [], [2, 3] },
        { [2, 3], [] },
        { [1, 10], [10] },
        { [2, 3, 4], [3, 1] },
        { [4], [2, 3, 4] },
        { [], [] },
    };

    [Theory]
    [MemberData(nameof(BroadcastPairs))]
    public void Add_gradients_match_finite_differences(int[] a, int[] b) =>
        AssertGradientsMatch(v => Ops.Add(v[0], v[1]), Normal(1, a), Normal(2, b));

    [Theory]
    [MemberData(nameof(BroadcastPairs))]
    public void Subtract_gradients_match_finite_differences(int[] a, int[] b) =>
        AssertGradientsMatch(v => v[0] - v[1], Normal(1, a), Normal(2, b));

    [Theory]
    [MemberData(nameof(BroadcastPairs))]
    public void Multiply_gradients_match_finite_differences(int[] a, int[] b) =>
        AssertGradientsMatch(v => v[0] * v[1], Normal(1, a), Normal(2, b));

    [Theory]
    [MemberData(nameof(BroadcastPairs))]
    public void Divide_gradients_match_finite_differences(int[] a, int[] b) =>
        AssertGradientsMatch(v => v[0] / v[1], Normal(1, a), Uniform(2, 0.5, 2, b));

    [Fact]
    public void Broadcast_gradient_sums_back_to_the_input_shape_DeZero_case()
    {
        // DeZero: x0 (1, 10) + x1 (10,) gives y (1, 10) and a gradient of shape (10,) for x1.
        var x0 = Normal(1, 1, 10);
        var x1 = Normal(2, 10);
        using var tape = new Tape();
        tape.Watch(x0);
        tape.Watch(x1);
        var y = x0 + x1;
        Assert.Equal(Shape.Create([1, 10]), y.Shape);
        var g = tape.Gradient(y, [x0, x1], Tensor.Ones([1, 10], DType.Float64));
        Assert.Equal(Shape.Create([10]), g[1].Shape);
        Assert.All(g[1].ToDoubleArray(), v => Assert.Equal(1.0, v));
    }

    [Fact]
    public void Broadcast_forward_values_match_by_hand()
    {
        var col = Tensor.FromArray([1.0, 2.0, 3.0], 3, 1);
        var row = Tensor.FromArray([10.0, 20.0], 1, 2);
        Assert.Equal([11.0, 21, 12, 22, 13, 23], (col + row).ToDoubleArray());
        Assert.Equal([10.0, 20, 20, 40, 30, 60], (col * row).ToDoubleArray());
    }

    [Theory]
    [InlineData(DType.Float32, false)]
    [InlineData(DType.Float64, false)]
    [InlineData(DType.Float32, true)]
    [InlineData(DType.Float64, true)]
    public void An_input_used_by_many_ops_collects_every_gradient_by_hand(DType dtype, bool intoGrad)
    {
        // w is the first input of two products, both inputs of w·w, the second of a difference and the first of
        // another, and last the second input of v·w, after v was looked up (the tape's two-leaf cache swaps them);
        // v is subtracted, then multiplied. Each use after the first adds into w's gradient in place (product, sum
        // and difference rules alike). d/dw = x1 + x2 + 2w − 1 + 1 + v = [18, 22, 26]; d/dv = −1 + w = [0, 1, 2].
        // Small integers, exact in both types. intoGrad: Backward into a zeroed Grad, whose memory the first use
        // overwrites.
        var w = Tensor.FromArray([1.0, 2, 3], 3).ToType(dtype);
        var v = Tensor.FromArray([5.0, 5, 5], 3).ToType(dtype);
        var x1 = Tensor.FromArray([4.0, 5, 6], 3).ToType(dtype);
        var x2 = Tensor.FromArray([7.0, 8, 9], 3).ToType(dtype);
        var x3 = Tensor.FromArray([1.0, 1, 1], 3).ToType(dtype);
        w.RequiresGrad = true;
        v.RequiresGrad = true;
        using var tape = new Tape();
        var y = Ops.Sum((w * x1) + (w * x2) + (x3 - w) + (w - x1) + (w * w) + (x3 - v) + (v * w));
        if (intoGrad)
        {
            w.Grad = Tensor.Full(99.0, [3], dtype);
            v.Grad = Tensor.Full(99.0, [3], dtype);
            w.ZeroGrad();
            v.ZeroGrad();
            tape.Backward(y);
            Assert.Equal([18.0, 22, 26], w.Grad!.ToDoubleArray());
            Assert.Equal([0.0, 1, 2], v.Grad!.ToDoubleArray());
            return;
        }

        var g = tape.Gradient(y, [w, v]);
        Assert.Equal([18.0, 22, 26], g[0].ToDoubleArray());
        Assert.Equal([0.0, 1, 2], g[1].ToDoubleArray());
    }

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void A_broadcast_bias_used_by_many_sums_collects_every_gradient_by_hand(DType dtype)
    {
        // b (3) is broadcast over the rows of three 2×3 inputs, as a recurrence's bias is over its steps: subtracted
        // first, then added twice, each result weighted by its own M. The sweep meets the sums first (the first
        // writes b's slot, the second adds its column sums in place) and the difference last (its negated sums
        // added from scratch). d/db = colsum(M1) + colsum(M2) − colsum(M3) = [5, 7, 9] + [3, 3, 3] − [1, 1, 1].
        Tensor Matrix(params double[] values) => Tensor.FromArray(values, 2, 3).ToType(dtype);
        var b = Tensor.FromArray([0.5, -1, 2], 3).ToType(dtype);
        b.RequiresGrad = true;
        var (x1, x2, x3) = (Matrix(1, 2, 3, 4, 5, 6), Matrix(0, 1, 0, 1, 0, 1), Matrix(2, 2, 2, 3, 3, 3));
        var (m1, m2, m3) = (Matrix(1, 2, 3, 4, 5, 6), Matrix(1, 1, 1, 2, 2, 2), Matrix(1, 0, 1, 0, 1, 0));
        using var tape = new Tape();
        var y = Ops.Sum(((x3 - b) * m3) + ((x1 + b) * m1) + ((x2 + b) * m2));
        Assert.Equal([7.0, 9, 11], tape.Gradient(y, [b])[0].ToDoubleArray());
    }

    [Fact]
    public void A_row_against_every_row_matches_by_hand_on_either_side()
    {
        // The row-by-row path of broadcasting (a bias over a batch): the row second and first, where the order matters.
        var m = Tensor.FromArray([1.0, 2, 3, 4, 5, 6], 2, 3);
        var r = Tensor.FromArray([10.0, 20, 30], 3);
        Assert.Equal([-9.0, -18, -27, -6, -15, -24], (m - r).ToDoubleArray());
        Assert.Equal([9.0, 18, 27, 6, 15, 24], (r - m).ToDoubleArray());
        Assert.Equal([10.0, 10, 10, 2.5, 4, 5], (r / m).ToDoubleArray());
        var weights = Tensor.FromArray([1.0, 2, 3, 4, 5, 6], 2, 3);
        r.RequiresGrad = true;
        using var tape = new Tape();
        var y = Ops.Sum((r - m) * weights);
        Assert.Equal([5.0, 7, 9], tape.Gradient(y, [r])[0].ToDoubleArray()); // the column sums of the weights
    }

    [Fact]
    public void Scalar_forms_have_the_right_values_and_gradients()
    {
        var x = Tensor.FromArray([1.0, 2.0, 4.0]);
        Assert.Equal([3.0, 4, 6], (x + 2).ToDoubleArray());
        Assert.Equal([3.0, 4, 6], (2 + x).ToDoubleArray());
        Assert.Equal([-1.0, 0, 2], (x - 2).ToDoubleArray());
        Assert.Equal([1.0, 0, -2], (2 - x).ToDoubleArray());
        Assert.Equal([3.0, 6, 12], (x * 3).ToDoubleArray());
        Assert.Equal([3.0, 6, 12], (3 * x).ToDoubleArray());
        Assert.Equal([0.25, 0.5, 1], (x / 4).ToDoubleArray());
        Assert.Equal([4.0, 2, 1], (4 / x).ToDoubleArray());
        Assert.Equal([-1.0, -2, -4], (-x).ToDoubleArray());
        Assert.Equal(1.0 / 3.0, (Tensor.Scalar(1, DType.Float64) / 3).ToScalar()); // divides, not multiplies by 1/3

        var p = Uniform(3, 0.5, 2, 2, 3);
        AssertGradientsMatch(v => v[0] + 2, p);
        AssertGradientsMatch(v => 2 - v[0], p);
        AssertGradientsMatch(v => v[0] * -3, p);
        AssertGradientsMatch(v => v[0] / 4, p);
        AssertGradientsMatch(v => 3 / v[0], p);
        AssertGradientsMatch(v => -v[0], p);
    }

    [Fact]
    public void Float32_arithmetic_stays_float32()
    {
        var a = Tensor.FromArray([1f, 2f]);
        var b = Tensor.FromArray([0.5f]);
        var y = (a * b) + 1;
        Assert.Equal(DType.Float32, y.DType);
        Assert.Equal([1.5f, 2f], y.ToFloatArray());
    }

    [Fact]
    public void Maximum_and_minimum_broadcast_propagate_nan_and_split_ties()
    {
        // a = [[1, 5], [3, 3]] against b = [2, 3] (broadcast over rows): maximum [[2, 5], [3, 3]], minimum [[1, 3], [2, 3]].
        // With g = 1 the winner of each pair gets 1 and, at the one tie (row 1, column 1), each side gets ½. ∂a of the
        // maximum = [[0, 1], [1, ½]]; ∂b sums b's share over the rows: [1 + 0, 0 + ½]. The minimum mirrors it.
        var a = Tensor.FromArray(new[,] { { 1.0, 5 }, { 3, 3 } });
        var b = Tensor.FromArray([2.0, 3]);
        using var tape = new Tape();
        tape.Watch(a);
        tape.Watch(b);
        var max = Ops.Maximum(a, b);
        var min = Ops.Minimum(a, b);
        var maxGrads = tape.Gradient(Ops.Sum(max), [a, b], retainGraph: true);
        var minGrads = tape.Gradient(Ops.Sum(min), [a, b]);

        Assert.Equal([2.0, 5, 3, 3], max.ToDoubleArray());
        Assert.Equal([1.0, 3, 2, 3], min.ToDoubleArray());
        Assert.Equal([0.0, 1, 1, 0.5], maxGrads[0].ToDoubleArray());
        Assert.Equal([1.0, 0.5], maxGrads[1].ToDoubleArray());
        Assert.Equal([1.0, 0, 0, 0.5], minGrads[0].ToDoubleArray());
        Assert.Equal([1.0, 1.5], minGrads[1].ToDoubleArray());
        Assert.True(double.IsNaN(Ops.Maximum(Tensor.FromArray([double.NaN]), Tensor.FromArray([1.0])).ToScalar()));
    }
}
