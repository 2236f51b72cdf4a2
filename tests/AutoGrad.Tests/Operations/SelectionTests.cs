using static AutoGrad.Tests.TestData;

namespace AutoGrad.Tests.Operations;

/// <summary>What the Selection descriptors do not drive: Where's gradient routing at its edges, and masks in use.</summary>
public class SelectionTests
{
    [Fact]
    public void An_infinite_upstream_gradient_leaves_exactly_zero_on_the_branch_not_taken()
    {
        var condition = BoolTensor.FromArray([true, false, true]);
        var a = Tensor.FromArray([1.0, 0, 1]);
        var b = Tensor.FromArray([0.001, 0.002, 0.003]);
        using var tape = new Tape();
        tape.Watch(a);
        tape.Watch(b);

        // e^(1000·y) overflows where y = 1, so Where receives an infinite gradient at the positions it takes from a.
        var y = Ops.Where(condition, a, b);
        var grads = tape.Gradient(Ops.Sum(Ops.Exp(y * 1000)), a, b);

        Assert.Equal([double.PositiveInfinity, 0, double.PositiveInfinity], grads[0].ToDoubleArray());
        Assert.Equal([0, 1000 * Math.Exp(2), 0], grads[1].ToDoubleArray()); // selected, not multiplied: 0 · ∞ would be NaN
    }

    [Fact]
    public void A_condition_larger_than_both_branches_sums_their_gradients_over_its_rows()
    {
        // (2, 3) condition, (3,) a, scalar b: the output is (2, 3), and ∂a counts the rows where each column is true.
        var condition = BoolTensor.FromArray([true, false, true, true, true, false], 2, 3);
        var a = Normal(3, 3);
        var b = Tensor.Scalar(0.5, DType.Float64);
        using var tape = new Tape();
        tape.Watch(a);
        tape.Watch(b);
        var y = Ops.Where(condition, a, b);
        var grads = tape.Gradient(Ops.Sum(y), a, b);

        Assert.Equal(new[] { 2, 3 }, y.Shape.Dims.ToArray());
        Assert.Equal([2, 1, 1], grads[0].ToDoubleArray());
        Assert.Equal(2, grads[1].ToScalar());
    }

    [Fact]
    public void Comparisons_combine_into_a_mask_that_clips_like_clamp_without_its_gradient_at_the_bounds()
    {
        var x = Tensor.FromArray([-2.0, -0.5, 0.25, 0.75, 3]);
        var inside = (x > -1) & (x < 1);
        Assert.Equal([false, true, true, true, false], inside.ToArray());
        Assert.Equal(3, inside.CountTrue);
        Assert.Equal([true, false, false, false, true], (!inside).ToArray());

        using var tape = new Tape();
        tape.Watch(x);
        var y = Ops.Where(inside, x, Ops.Sign(x));
        Assert.Equal([-1, -0.5, 0.25, 0.75, 1], y.ToDoubleArray());
        Assert.Equal([0, 1, 1, 1, 0], tape.Gradient(Ops.Sum(y), x)[0].ToDoubleArray());
    }

    [Fact]
    public void ArgMax_over_classes_counts_correct_predictions_as_accuracy_does()
    {
        var logits = Tensor.FromArray([0.1f, 2, -1, 3, 0, 0, -1, -2, -0.5f], 3, 3);
        var predicted = Ops.ArgMax(logits, axis: 1);
        var labels = IntTensor.FromArray([1, 0, 0]);
        Assert.Equal([1, 0, 2], predicted.ToArray());
        Assert.Equal(2, Ops.Equal(predicted.ToTensor(), labels.ToTensor()).CountTrue);
    }
}
