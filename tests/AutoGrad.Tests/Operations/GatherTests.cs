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
}
