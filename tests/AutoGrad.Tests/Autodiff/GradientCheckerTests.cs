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
}
