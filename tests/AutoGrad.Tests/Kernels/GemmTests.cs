using AutoGrad.Kernels;

namespace AutoGrad.Tests.Kernels;

public class GemmTests
{
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Every_transpose_combination_matches_the_triple_loop(bool transposeA, bool transposeB)
    {
        const int m = 37, n = 1100, k = 300; // n and k cross the blocking edges
        var random = new SeededRandom(5);
        var a = Enumerable.Range(0, m * k).Select(_ => random.NextNormal()).ToArray();
        var b = Enumerable.Range(0, k * n).Select(_ => random.NextNormal()).ToArray();
        var c = Enumerable.Range(0, m * n).Select(_ => 1.0).ToArray();
        Gemm.Multiply<double>(transposeA, transposeB, m, n, k, a, b, c, accumulate: true);
        for (var i = 0; i < m; i += 7)
        {
            for (var j = 0; j < n; j += 13)
            {
                var expected = 1.0;
                for (var p = 0; p < k; p++)
                {
                    var av = transposeA ? a[(p * m) + i] : a[(i * k) + p];
                    var bv = transposeB ? b[(j * k) + p] : b[(p * n) + j];
                    expected += av * bv;
                }

                Assert.Equal(expected, c[(i * n) + j], 10);
            }
        }
    }
}
