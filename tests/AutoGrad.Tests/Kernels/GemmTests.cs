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

    [Theory]
    [InlineData(false, false, 100, 784, 50)]
    [InlineData(true, false, 784, 100, 50)]
    [InlineData(false, true, 100, 50, 784)]
    [InlineData(false, false, 130, 300, 700)]
    public void Results_are_bit_identical_for_any_thread_count(bool transposeA, bool transposeB, int m, int k, int n)
    {
        var random = new SeededRandom(9);
        var a = Enumerable.Range(0, m * k).Select(_ => (float)random.NextNormal()).ToArray();
        var b = Enumerable.Range(0, k * n).Select(_ => (float)random.NextNormal()).ToArray();
        var single = new float[m * n];
        var parallel = new float[m * n];
        var before = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = 1;
            Gemm.Multiply<float>(transposeA, transposeB, m, n, k, a, b, single, accumulate: false);
            Parallelism.MaxThreads = 2;
            Gemm.Multiply<float>(transposeA, transposeB, m, n, k, a, b, parallel, accumulate: false);
        }
        finally
        {
            Parallelism.MaxThreads = before;
        }

        Assert.Equal(single.Select(BitConverter.SingleToInt32Bits), parallel.Select(BitConverter.SingleToInt32Bits));

        // And the packed float32 kernel agrees with a float64 reference to float32 accuracy.
        var reference = new double[m * n];
        Gemm.Direct<double>(transposeA, transposeB, m, n, k, a.Select(v => (double)v).ToArray(), b.Select(v => (double)v).ToArray(), reference, accumulate: false);
        for (var i = 0; i < reference.Length; i += 37)
        {
            Assert.Equal(reference[i], single[i], Math.Max(1e-3, Math.Abs(reference[i]) * 1e-5));
        }
    }
}
