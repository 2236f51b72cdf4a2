namespace AutoGrad.Tests.Operations;

/// <summary>The worked examples of "Deep Learning from Scratch", chapter 4, reproduced exactly in float64.</summary>
public class BookExamplesTests
{
    private static readonly Tensor s_target = Tensor.FromArray([0.0, 0, 1, 0, 0]);
    private static readonly Tensor s_confident = Tensor.FromArray([0.01, 0.02, 0.9, 0.05, 0.02]);
    private static readonly Tensor s_unsure = Tensor.FromArray([0.5, 0.1, 0.2, 0.2, 0.1]);

    [Fact]
    public void Cross_entropy_error_matches_the_book()
    {
        Assert.Equal(0.1053604045467214, Ops.CrossEntropyError(s_confident, s_target).ToScalar(), 1e-12);
        Assert.Equal(1.6094374124342252, Ops.CrossEntropyError(s_unsure, s_target).ToScalar(), 1e-12);
        Assert.Equal(0.1053604045467214, Ops.CrossEntropyError(s_confident, new[] { 2 }).ToScalar(), 1e-12);
        Assert.Equal(1.6094374124342252, Ops.CrossEntropyError(s_unsure, new[] { 2 }).ToScalar(), 1e-12);
    }

    [Fact]
    public void Mean_squared_error_matches_the_book()
    {
        Assert.Equal(0.0067, Ops.MeanSquaredError(s_confident, s_target).ToScalar(), 1e-12);
        Assert.Equal(0.475, Ops.MeanSquaredError(s_unsure, s_target).ToScalar(), 1e-12);
    }

    [Fact]
    public void Batches_average_over_rows()
    {
        var y = Ops.Reshape(Tensor.FromArray([0.01, 0.02, 0.9, 0.05, 0.02, 0.5, 0.1, 0.2, 0.2, 0.1]), 2, 5);
        var expected = (0.1053604045467214 + 1.6094374124342252) / 2;
        Assert.Equal(expected, Ops.CrossEntropyError(y, new[] { 2, 2 }).ToScalar(), 1e-12);
        Assert.Equal((0.0067 + 0.475) / 2, Ops.MeanSquaredError(y, Ops.Reshape(Tensor.FromArray([0.0, 0, 1, 0, 0, 0, 0, 1, 0, 0]), 2, 5)).ToScalar(), 1e-12);
    }

    [Fact]
    public void Cross_entropy_of_an_exact_zero_probability_stays_finite()
    {
        var loss = Ops.CrossEntropyError(Tensor.FromArray([0.0, 1.0]), new[] { 0 }).ToScalar();
        Assert.Equal(-Math.Log(1e-7), loss, 1e-9);
    }
}
