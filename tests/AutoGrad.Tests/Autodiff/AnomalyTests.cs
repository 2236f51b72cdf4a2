namespace AutoGrad.Tests.Autodiff;

public class AnomalyTests
{
    [Fact]
    public void A_nan_in_forward_names_the_op_and_its_node()
    {
        var x = Tensor.FromArray([1.0, -1.0]);
        using var tape = new Tape { DetectAnomalies = true };
        tape.Watch(x);
        var y = x * 2;
        var e = Assert.Throws<AnomalyException>(() => Ops.Log(y));
        Assert.Equal("Log", e.Op);
        Assert.Equal(2, e.Node); // the input, the multiply, then Log
        Assert.Contains("Log (node 2 of the tape) produced NaN", e.Message);
        Assert.Contains("(2,)", e.Message);
    }

    [Fact]
    public void An_infinity_that_only_backward_produces_names_the_op_whose_rule_made_it()
    {
        // √x at 0 is fine forward, but its gradient 1/(2√x) is infinite.
        var x = Tensor.FromArray([0.0, 4.0]);
        using var tape = new Tape { DetectAnomalies = true };
        tape.Watch(x);
        var loss = Ops.Sum(Ops.Sqrt(x));
        Assert.Equal(2.0, loss.ToScalar());
        var e = Assert.Throws<AnomalyException>(() => tape.Gradient(loss, x));
        Assert.Equal("Sqrt", e.Op);
        Assert.Equal(1, e.Node);
        Assert.Contains("+∞", e.Message);
    }

    [Fact]
    public void Anomaly_mode_is_off_by_default_and_values_pass_through()
    {
        var x = Tensor.FromArray([0.0, -1.0]);
        using var tape = new Tape();
        Assert.False(tape.DetectAnomalies);
        tape.Watch(x);
        var y = Ops.Log(x);
        Assert.True(double.IsNegativeInfinity(y[0]));
        Assert.True(double.IsNaN(y[1]));
    }

    [Fact]
    public void Finite_computations_pass_in_anomaly_mode()
    {
        var x = Tensor.FromArray([0.5, 2.0]);
        using var tape = new Tape { DetectAnomalies = true };
        tape.Watch(x);
        var g = tape.Gradient(Ops.Sum(Ops.Log(x) * Ops.Exp(x)), x)[0];
        Assert.Equal((Math.Exp(0.5) / 0.5) + (Math.Log(0.5) * Math.Exp(0.5)), g[0], 12);
    }
}
