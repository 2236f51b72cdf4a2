using AutoGrad.Nn.Optimizers;

namespace AutoGrad.Tests.Autodiff;

/// <summary>
/// Issue 16's silent no-ops, each of which a new user met: a sweep that would give every gradient as zero, and an
/// optimizer step that would change nothing, now say why instead.
/// </summary>
public class SilentNoOpTests
{
    private static readonly Tensor X = Tensor.FromArray([1.0, 2.0, 3.0, 4.0]);
    private static readonly Tensor Y = Tensor.FromArray([3.0, 5.0, 7.0, 9.0]);

    [Fact]
    public void A_regression_that_forgot_RequiresGrad_is_told_so_at_its_first_backward_pass()
    {
        var w = Tensor.Zeros([1], DType.Float64);
        var b = Tensor.Zeros([1], DType.Float64);
        using var tape = new Tape();
        var loss = Ops.MeanSquaredError((X * w) + b, Y);
        var error = Assert.Throws<InvalidOperationException>(() => tape.Backward(loss));
        Assert.Contains("does not depend on any tensor this tape tracks", error.Message);
        Assert.Contains("RequiresGrad", error.Message);
        Assert.Throws<InvalidOperationException>(() => tape.Gradient(loss, w));
    }

    [Fact]
    public void A_loss_computed_before_its_tape_is_refused_by_that_tape()
    {
        var w = Tensor.Zeros([1], DType.Float64);
        var loss = Ops.MeanSquaredError(X * w, Y);
        using var tape = new Tape();
        w.RequiresGrad = true;
        var error = Assert.Throws<InvalidOperationException>(() => tape.Backward(loss));
        Assert.Contains("was not recorded on this tape", error.Message);
        Assert.Contains("(a float64 tensor of shape ())", error.Message);
    }

    [Fact]
    public void The_same_loss_recorded_on_the_tape_gives_the_true_gradient()
    {
        // The control for the two above: the book's loss ½Σ(x·w − y)² (one sample) has d/dw = −Σ x·y = −70 at w = 0.
        var w = Tensor.Zeros([1], DType.Float64);
        w.RequiresGrad = true;
        using var tape = new Tape();
        var loss = Ops.MeanSquaredError(X * w, Y);
        Assert.Equal(-70.0, tape.Gradient(loss, w)[0].ToScalar(), 12);
    }

    [Fact]
    public void An_optimizer_step_with_no_gradient_anywhere_is_refused()
    {
        var w = Tensor.Zeros([1], DType.Float64);
        w.RequiresGrad = true;
        var optimizer = new Sgd([w], 0.1);
        var error = Assert.Throws<InvalidOperationException>(optimizer.Step);
        Assert.Contains("none of the 1 parameters has a gradient", error.Message);
    }
}
