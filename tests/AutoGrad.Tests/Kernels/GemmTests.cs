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

    public static TheoryData<bool, bool, int, int, int> RaggedShapes()
    {
        // Column counts on both sides of the 32- and 16-wide panels (50 and 10 are the MLP's), rows below and above a
        // vector (16) and the 6-row tile, depths with and without a vector tail. 50 and 84 (float) and 26 (double)
        // end in the three-vector tile, 84 after a whole panel. 25×30×576 is the filter gradient of SimpleConvNet
        // (a ragged transposed B panel). Fewer columns than a vector, alone (10, 7, 3) or past whole panels (42 = 32 +
        // 10 float, 17 = 16 + 1), run in the masked one-vector tile, the 3 because its depth is too shallow for the dot
        // products. 100 = 96 + 4 is the 784-100-10 net's: four dot-product columns after three panels.
        var data = new TheoryData<bool, bool, int, int, int>();
        foreach (var (m, n, k) in new[] { (100, 50, 784), (784, 50, 100), (100, 10, 50), (17, 33, 19), (16, 1, 5), (6, 31, 64), (5, 47, 300), (131, 18, 17), (40, 95, 3), (20, 26, 40), (19, 84, 70), (25, 30, 576), (23, 42, 100), (9, 7, 70), (29, 3, 20), (100, 100, 120) })
        {
            foreach (var (ta, tb) in new[] { (false, false), (true, false), (false, true), (true, true) })
            {
                data.Add(ta, tb, m, n, k);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RaggedShapes))]
    public void Ragged_shapes_match_the_triple_loop_in_every_element(bool transposeA, bool transposeB, int m, int n, int k)
    {
        var random = new SeededRandom((m * 31) + n + k);
        var a = Enumerable.Range(0, m * k).Select(_ => random.NextNormal()).ToArray();
        var b = Enumerable.Range(0, k * n).Select(_ => random.NextNormal()).ToArray();
        var initial = Enumerable.Range(0, m * n).Select(_ => random.NextNormal()).ToArray();
        foreach (var accumulate in new[] { false, true })
        {
            var c = (double[])initial.Clone();
            var c32 = initial.Select(v => (float)v).ToArray();
            Gemm.Multiply<double>(transposeA, transposeB, m, n, k, a, b, c, accumulate);
            Gemm.Multiply<float>(transposeA, transposeB, m, n, k, a.Select(v => (float)v).ToArray(), b.Select(v => (float)v).ToArray(), c32, accumulate);
            for (var i = 0; i < m; i++)
            {
                for (var j = 0; j < n; j++)
                {
                    var expected = accumulate ? initial[(i * n) + j] : 0;
                    for (var p = 0; p < k; p++)
                    {
                        expected += (transposeA ? a[(p * m) + i] : a[(i * k) + p]) * (transposeB ? b[(j * k) + p] : b[(p * n) + j]);
                    }

                    Assert.True(Math.Abs(expected - c[(i * n) + j]) <= 1e-10 * (1 + Math.Abs(expected)), $"float64 C[{i}, {j}] = {c[(i * n) + j]}, expected {expected} (accumulate {accumulate})");
                    Assert.True(Math.Abs(expected - c32[(i * n) + j]) <= 1e-4 * (Math.Sqrt(k) + Math.Abs(expected)), $"float32 C[{i}, {j}] = {c32[(i * n) + j]}, expected {expected} (accumulate {accumulate})");
                }
            }
        }
    }

    [Theory]
    [InlineData(true, false, 1024, 300, 256)] // a transposed A 4 KB a row: packed 16 panels at a time, a ragged last panel of 4
    [InlineData(true, true, 1024, 270, 260)]
    [InlineData(true, false, 700, 1600, 256)] // rows 2,800 bytes apart but 4.5 MB in all: packed for its size
    [InlineData(false, false, 50, 2100, 256)] // a row-major A 8 KB a row: packed by row copies, 2 rows in its last panel
    [InlineData(false, true, 50, 2100, 300)]
    public void Packed_A_matches_a_float64_reference_and_any_thread_count(bool transposeA, bool transposeB, int m, int k, int n)
    {
        var random = new SeededRandom(m + k + n);
        AssertFloat32OnOneAndTwoThreadsMatchesFloat64(transposeA, transposeB, m, n, k, random);

        // And float64, whose transposed A packs at 512 rows (4 KB) and row-major A from 1,024 columns (8 KB).
        var (m64, k64) = transposeA ? (512, k) : (m, 1100);
        var n64 = 520;
        var a64 = Enumerable.Range(0, m64 * k64).Select(_ => random.NextNormal()).ToArray();
        var b64 = Enumerable.Range(0, k64 * n64).Select(_ => random.NextNormal()).ToArray();
        var c64 = new double[m64 * n64];
        var expected64 = new double[m64 * n64];
        Gemm.Multiply<double>(transposeA, transposeB, m64, n64, k64, a64, b64, c64, accumulate: false);
        Gemm.Direct<double>(transposeA, transposeB, m64, n64, k64, a64, b64, expected64, accumulate: false);
        for (var i = 0; i < c64.Length; i++)
        {
            Assert.True(Math.Abs(expected64[i] - c64[i]) <= 1e-12 * (Math.Sqrt(k64) + Math.Abs(expected64[i])), $"float64 C[{i / n64}, {i % n64}] = {c64[i]}, expected {expected64[i]}");
        }
    }

    [Theory]
    [InlineData(false, false, 100, 600, 1081)] // 17 row panels, the last one overlapping the one above
    [InlineData(true, false, 100, 600, 1081)]
    [InlineData(false, true, 100, 600, 1081)]
    [InlineData(true, true, 100, 600, 1081)]
    [InlineData(false, false, 4, 600, 1081)] // fewer rows than one tile
    [InlineData(true, true, 4, 600, 1081)]
    [InlineData(false, false, 13, 6000, 120)] // too few panels to share: two threads split the rows, one of them 1 row
    public void Few_rows_pack_each_B_panel_inside_its_item_for_any_thread_count(bool transposeA, bool transposeB, int m, int k, int n)
    {
        // Several depth blocks (600 = 256 + 256 + 88) and 1,081 columns: 33 whole panels and a ragged one of 25, too
        // deep for whole-depth panels, so each B panel is packed by the item that uses it (a row-major one by the
        // first tile that reads it in place).
        var random = new SeededRandom(m + 17);
        var (a, b, initial, reference) = AssertFloat32OnOneAndTwoThreadsMatchesFloat64(transposeA, transposeB, m, n, k, random);

        // float64, whose panels are 16 wide (1,081 columns: 67 whole ones and a ragged one of 9).
        var c64 = initial.Select(v => (double)v).ToArray();
        Gemm.Multiply<double>(transposeA, transposeB, m, n, k, a.Select(v => (double)v).ToArray(), b.Select(v => (double)v).ToArray(), c64, accumulate: true);
        for (var i = 0; i < reference.Length; i++)
        {
            Assert.True(Math.Abs(reference[i] - c64[i]) <= 1e-12 * (Math.Sqrt(k) + Math.Abs(reference[i])), $"float64 C[{i / n}, {i % n}] = {c64[i]}, expected {reference[i]}");
        }
    }

    [Theory]
    [InlineData(false, false, 100, 784, 50)]
    [InlineData(true, false, 784, 100, 50)]
    [InlineData(false, true, 100, 50, 784)]
    [InlineData(false, false, 130, 300, 700)]
    [InlineData(false, false, 2000, 500, 10)] // the masked one-vector tile alone, its rows shared by the threads
    [InlineData(true, false, 1000, 300, 42)] // a whole panel, then the masked tile over the last 10 columns
    [InlineData(false, true, 2000, 100, 50)] // the three-vector tile and two dot-product columns
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

    [Theory]
    [InlineData(false, false, 96, 10, 50)] // 16 whole tiles: the last row of C is stored straight from the tile
    [InlineData(true, false, 50, 10, 100)] // the last tile overlaps the one above and goes through scratch
    [InlineData(false, true, 29, 42, 30)]
    [InlineData(true, true, 30, 3, 20)]
    public void The_masked_tile_writes_no_element_past_C(bool transposeA, bool transposeB, int m, int n, int k)
    {
        // C is the front of a longer buffer whose rest holds NaN: a lane stored past the last column of the last row
        // would land there (for float64 too: 10 and 3 columns are under its 8-double vector, 42 = 32 + 8 + 2).
        var random = new SeededRandom(m + n + k);
        var a = Enumerable.Range(0, m * k).Select(_ => random.NextNormal()).ToArray();
        var b = Enumerable.Range(0, k * n).Select(_ => random.NextNormal()).ToArray();
        foreach (var accumulate in new[] { false, true })
        {
            var c64 = Enumerable.Repeat(1.0, m * n).Concat(Enumerable.Repeat(double.NaN, 32)).ToArray();
            var c32 = Enumerable.Repeat(1f, m * n).Concat(Enumerable.Repeat(float.NaN, 32)).ToArray();
            Gemm.Multiply<double>(transposeA, transposeB, m, n, k, a, b, c64, accumulate);
            Gemm.Multiply<float>(transposeA, transposeB, m, n, k, a.Select(v => (float)v).ToArray(), b.Select(v => (float)v).ToArray(), c32, accumulate);
            Assert.All(c64[(m * n)..], v => Assert.True(double.IsNaN(v)));
            Assert.All(c32[(m * n)..], v => Assert.True(float.IsNaN(v)));
            var expected = new double[m * n];
            Gemm.Direct<double>(transposeA, transposeB, m, n, k, a, b, expected, accumulate: false);
            for (var i = 0; i < expected.Length; i++)
            {
                var want = expected[i] + (accumulate ? 1 : 0);
                Assert.True(Math.Abs(want - c64[i]) <= 1e-10 * (1 + Math.Abs(want)), $"float64 C[{i / n}, {i % n}] = {c64[i]}, expected {want}");
                Assert.True(Math.Abs(want - c32[i]) <= 1e-4 * (Math.Sqrt(k) + Math.Abs(want)), $"float32 C[{i / n}, {i % n}] = {c32[i]}, expected {want}");
            }
        }
    }

    /// <summary>
    /// C += op(A)·op(B) in float32 from seeded normal operands, on one thread and on two: the same bits both ways, and
    /// within float32 accuracy of the float64 reference it returns with the operands and C's starting values.
    /// </summary>
    private static (float[] A, float[] B, float[] Initial, double[] Reference) AssertFloat32OnOneAndTwoThreadsMatchesFloat64(bool transposeA, bool transposeB, int m, int n, int k, SeededRandom random)
    {
        var a = Enumerable.Range(0, m * k).Select(_ => (float)random.NextNormal()).ToArray();
        var b = Enumerable.Range(0, k * n).Select(_ => (float)random.NextNormal()).ToArray();
        var initial = Enumerable.Range(0, m * n).Select(_ => (float)random.NextNormal()).ToArray();
        var reference = initial.Select(v => (double)v).ToArray();
        Gemm.Direct<double>(transposeA, transposeB, m, n, k, a.Select(v => (double)v).ToArray(), b.Select(v => (double)v).ToArray(), reference, accumulate: true);
        var results = new[] { 1, 2 }.Select(threads => TestData.WithThreads(threads, () =>
        {
            var c = (float[])initial.Clone();
            Gemm.Multiply<float>(transposeA, transposeB, m, n, k, a, b, c, accumulate: true);
            return c;
        })).ToArray();

        TestData.AssertSameBits([results[0]], [results[1]]);
        for (var i = 0; i < reference.Length; i++)
        {
            Assert.True(Math.Abs(reference[i] - results[0][i]) <= 1e-5 * (Math.Sqrt(k) + Math.Abs(reference[i])), $"C[{i / n}, {i % n}] = {results[0][i]}, expected {reference[i]}");
        }

        return (a, b, initial, reference);
    }
}
