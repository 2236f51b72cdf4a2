namespace AutoGrad.Tests.Autodiff;

public class GradientCheckerTests
{
    [Fact]
    public void Passes_a_correct_gradient_and_reports_small_errors()
    {
        var x = TestData.Normal(1, 3, 4);
        var result = GradientChecker.Check(v => Ops.Tanh(v[0]) * v[0], [x]);
        Assert.True(result.Passed, result.ToString());
        Assert.InRange(result.Inputs[0].MaxAbsoluteError, 0, 1e-8);
        Assert.Equal(x.Shape, result.Inputs[0].Shape);
    }

    [Fact]
    public void Fails_where_the_analytic_gradient_is_not_the_derivative()
    {
        // At a tie the max routes the whole gradient to the first position, while the central difference splits it.
        var x = Tensor.FromArray([1.0, 1.0, 0.0]);
        var result = GradientChecker.Check(v => Ops.Max(v[0]), [x]);
        Assert.False(result.Passed);
        Assert.InRange(result.Inputs[0].MaxAbsoluteError, 0.49, 0.51);
        Assert.Contains("FAIL", result.ToString());
    }

    [Fact]
    public void Checks_float32_inputs_in_float64()
    {
        var x = Tensor.FromArray([0.3f, -0.7f]);
        var result = GradientChecker.Check(v => Ops.Sum(Ops.Exp(v[0])), [x]);
        Assert.True(result.Passed, result.ToString());
        Assert.InRange(result.Inputs[0].MaxAbsoluteError, 0, 1e-8);
    }

    [Fact]
    public void Reports_a_meaningful_relative_error_when_both_gradients_are_tiny()
    {
        // f = 1 + 1e-17·Σx: the analytic gradient is 1e-17 per element, the central difference rounds 1 + 1e-17 to 1
        // and reads 0. Divided by |numeric| alone that was a relative error of 2e306 beside "pass"; both values are
        // below the absolute tolerance (1e-5), so the error is measured against it: 1e-17 / 1e-5 = 1e-12.
        var x = Tensor.FromArray([0.5, -2.0]);
        var result = GradientChecker.Check(v => (Ops.Sum(v[0]) * 1e-17) + 1, [x]);

        Assert.True(result.Passed, result.ToString());
        Assert.Equal(1e-17, result.Inputs[0].MaxAbsoluteError, 1e-30);
        Assert.Equal(1e-12, result.Inputs[0].MaxRelativeError, 1e-25);
    }

    [Fact]
    public void Relative_error_is_measured_against_the_larger_value()
    {
        Assert.Equal(0.5, GradientChecker.RelativeError(2, 1, 1e-5));
        Assert.Equal(0.5, GradientChecker.RelativeError(1, 2, 1e-5));
        Assert.Equal(0, GradientChecker.RelativeError(0, 0, 0));
        Assert.True(double.IsNaN(GradientChecker.RelativeError(double.NaN, 1, 1e-5)));
    }
}
