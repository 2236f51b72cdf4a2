using AutoGrad.Kernels;

namespace AutoGrad.Tests.Kernels;

public class ReduceTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(1000)]
    public void FirstNonFinite_finds_a_nan_or_infinity_anywhere_and_nothing_in_finite_data(int length)
    {
        // Lengths cover the scalar tail alone, whole 4-vector blocks, and blocks plus a tail, in both types.
        var floats = Enumerable.Range(0, length).Select(i => (float)Math.Sin(i) * 1e30f).ToArray();
        var doubles = Enumerable.Range(0, length).Select(i => Math.Sin(i) * 1e300).ToArray();
        Assert.Null(Reduce.FirstNonFinite<float>(floats));
        Assert.Null(Reduce.FirstNonFinite<double>(doubles));

        for (var at = 0; at < length; at += Math.Max(1, length / 9))
        {
            foreach (var bad in new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity })
            {
                var f = (float[])floats.Clone();
                var d = (double[])doubles.Clone();
                f[at] = (float)bad;
                d[at] = bad;
                Assert.Equal(bad, Reduce.FirstNonFinite<float>(f));
                Assert.Equal(bad, Reduce.FirstNonFinite<double>(d));
            }
        }
    }
}
