using AutoGrad.Kernels;

namespace AutoGrad.Tests.Kernels;

public class ErrorFunctionTests
{
    [Fact]
    public void The_vector_form_agrees_with_the_scalar_one_on_every_interval_and_at_its_edges()
    {
        // A grid over [−7, 7] and the values either side of each interval's edge, in one span (vectors and a tail).
        var edges = new[] { 0.84375, 1.25, 1 / 0.35, 6.0 }
            .SelectMany(e => new[] { e, Math.BitDecrement(e), Math.BitIncrement(e), -e });
        double[] x = [.. Enumerable.Range(-7000, 14001).Select(i => i / 1000.0), .. edges, 1e-300, -1e-20, 27.0];
        var y = new double[x.Length];
        ErrorFunction.Erf(x, y);
        for (var i = 0; i < x.Length; i++)
        {
            var expected = ErrorFunction.Erf(x[i]);
            var ulp = Math.BitIncrement(Math.Abs(expected)) - Math.Abs(expected);
            Assert.True(Math.Abs(y[i] - expected) <= 2 * ulp, $"erf({x[i]:R}): vector {y[i]:R}, scalar {expected:R}");
            Assert.Equal(-expected, ErrorFunction.Erf(-x[i])); // odd
        }
    }

    [Fact]
    public void Infinities_and_NaN_come_through_in_vectors_too()
    {
        double[] x = [double.PositiveInfinity, double.NegativeInfinity, double.NaN, 0.0, -0.0, 1, 2, 3];
        var y = new double[x.Length];
        ErrorFunction.Erf(x, y);
        Assert.Equal(1.0, y[0]);
        Assert.Equal(-1.0, y[1]);
        Assert.True(double.IsNaN(y[2]));
        Assert.Equal(0.0, y[3]);
        Assert.Equal(0.8427007929497149, y[5], 15);
        Assert.Throws<ArgumentException>(() => ErrorFunction.Erf(x, new double[3]));
    }
}
