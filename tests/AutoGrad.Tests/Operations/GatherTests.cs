using static AutoGrad.Tests.TestData;

namespace AutoGrad.Tests.Operations;

public class GatherTests
{
    [Fact]
    public void Picks_one_element_per_row_and_scatters_the_gradient_back()
    {
        var x = Tensor.FromArray([1.0, 2, 3, 4, 5, 6], 2, 3);
        int[] labels = [2, 0];
        Assert.Equal([3.0, 4.0], Ops.Gather(x, labels).ToDoubleArray());
        using var tape = new Tape();
        tape.Watch(x);
        var g = tape.Gradient(Ops.Sum(Ops.Gather(x, labels) * Tensor.FromArray([10.0, 20.0])), x)[0];
        Assert.Equal([0.0, 0, 10, 20, 0, 0], g.ToDoubleArray());
    }

    [Fact]
    public void Gradient_matches_finite_differences() =>
        AssertGradientsMatch(v => Ops.Gather(v[0], new[] { 1, 3, 0, 3 }), Normal(1, 4, 5));

    [Fact]
    public void IndexSelect_picks_slices_in_the_indices_order_and_sums_a_repeated_ones_gradient()
    {
        var x = Tensor.FromArray([1.0, 2, 3, 4, 5, 6], 2, 3);
        var columns = Ops.IndexSelect(x, 1, IntTensor.FromArray([2, 0, 2]));
        Assert.Equal(new[] { 2, 3 }, columns.Shape.Dims.ToArray());
        Assert.Equal([3.0, 1, 3, 6, 4, 6], columns.ToDoubleArray());
        Assert.Equal([4.0, 5, 6, 4, 5, 6], Ops.IndexSelect(x, 0, IntTensor.FromArray([1, 1])).ToDoubleArray());

        // Column 2 is picked twice: its gradient is the sum of both picks' upstream values.
        using var tape = new Tape();
        tape.Watch(x);
        var y = Ops.IndexSelect(x, -1, IntTensor.FromArray([2, 0, 2]));
        var upstream = Tensor.FromArray([10.0, 20, 30, 40, 50, 60], 2, 3);
        var fast = tape.Gradient(y, [x], upstream, retainGraph: true)[0].ToDoubleArray();
        Assert.Equal([20.0, 0, 40, 50, 0, 100], fast);
        Assert.Equal(fast, tape.Gradient(y, [x], upstream, createGraph: true)[0].ToDoubleArray());
    }

    [Fact]
    public void MaskedFill_and_the_causal_mask_hide_later_positions_from_a_softmax()
    {
        var scores = Tensor.FromArray([1.0, 2, 3, 4, 5, 6, 7, 8, 9], 3, 3);
        var masked = Ops.MaskedFill(scores, Ops.CausalMask(3), double.NegativeInfinity);
        var p = Ops.Softmax(masked).ToDoubleArray();
        Assert.Equal([1.0, 0, 0], p[..3]);
        AssertClose([Math.Exp(4) / (Math.Exp(4) + Math.Exp(5)), Math.Exp(5) / (Math.Exp(4) + Math.Exp(5)), 0], p[3..6], 1e-15, 1e-15);
        Assert.Equal([2.5, 2.5, 3, 2.5, 2.5, 6], Ops.MaskedFill(Tensor.FromArray([1.0, 2, 3, 4, 5, 6], 2, 3), BoolTensor.FromArray([true, true, false], 3), 2.5).ToDoubleArray());
    }
}
