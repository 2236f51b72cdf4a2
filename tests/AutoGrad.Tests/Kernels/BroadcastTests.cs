using AutoGrad.Kernels;

namespace AutoGrad.Tests.Kernels;

public class BroadcastTests
{
    [Theory]
    [InlineData(new[] { 3, 1 }, new[] { 1, 4 }, new[] { 3, 4 })]
    [InlineData(new[] { 1, 10 }, new[] { 10 }, new[] { 1, 10 })]
    [InlineData(new[] { 2, 1, 3 }, new[] { 4, 1 }, new[] { 2, 4, 3 })]
    [InlineData(new int[0], new[] { 2, 2 }, new[] { 2, 2 })]
    public void Result_shape_follows_numpy(int[] a, int[] b, int[] expected) =>
        Assert.Equal(expected, Broadcast.ResultDims(a, b));

    [Fact]
    public void Incompatible_shapes_have_no_result() => Assert.Null(Broadcast.ResultDims([3, 2], [3]));

    [Fact]
    public void Binary_matches_an_index_by_index_reference()
    {
        int[] aDims = [2, 1, 3], bDims = [4, 1];
        var outDims = Broadcast.ResultDims(aDims, bDims)!;
        var a = Enumerable.Range(0, 6).Select(i => (double)i).ToArray();
        var b = Enumerable.Range(0, 4).Select(i => 10.0 * i).ToArray();
        var d = new double[24];
        Broadcast.Binary<double, BinaryKernels.Subtract<double>>(a, aDims, b, bDims, d, outDims);
        for (var i = 0; i < 2; i++)
        {
            for (var j = 0; j < 4; j++)
            {
                for (var k = 0; k < 3; k++)
                {
                    Assert.Equal(a[(i * 3) + k] - b[j], d[(((i * 4) + j) * 3) + k]);
                }
            }
        }
    }

    [Fact]
    public void SumTo_is_the_adjoint_of_Expand()
    {
        // <Expand(x), y> = <x, SumTo(y)> for every x, y: the defining property of the backward of broadcasting.
        int[] small = [3, 1, 2], big = [4, 3, 5, 2];
        var random = new SeededRandom(1);
        var x = Enumerable.Range(0, 6).Select(_ => random.NextNormal()).ToArray();
        var y = Enumerable.Range(0, 120).Select(_ => random.NextNormal()).ToArray();
        var expanded = new double[120];
        var summed = new double[6];
        Broadcast.Expand<double>(x, small, expanded, big);
        Broadcast.SumTo<double>(y, big, summed, small);
        var left = expanded.Zip(y, (p, q) => p * q).Sum();
        var right = x.Zip(summed, (p, q) => p * q).Sum();
        Assert.Equal(left, right, 12);
    }
}
