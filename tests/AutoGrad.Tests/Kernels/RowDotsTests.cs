using AutoGrad.Kernels;

namespace AutoGrad.Tests.Kernels;

public class RowDotsTests
{
    public static TheoryData<int, int, int, bool> Shapes()
    {
        // SimpleConvNet's filter gradient (25 kernel positions and the bias row × 30 filters, 576 positions); rows
        // on both sides of the 4 × 6 tile; depths of exactly one vector, with a tail of one lane, and a ragged one.
        var data = new TheoryData<int, int, int, bool>();
        foreach (var (m, n, k) in new[] { (25, 30, 576), (1, 1, 16), (3, 5, 17), (4, 6, 31), (9, 13, 100), (7, 2, 47) })
        {
            data.Add(m, n, k, false);
            data.Add(m, n, k, true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Sums_over_calls_match_the_triple_loop_in_every_element(int m, int n, int k, bool withOnesRow)
    {
        if (!RowDots.IsSupported)
        {
            return; // the kernel needs Vector512; convolutions keep to the GEMM without it
        }

        const int calls = 3;
        var random = new SeededRandom((m * 31) + (n * 7) + k);
        var a = Enumerable.Range(0, calls * m * k).Select(_ => random.NextNormal()).ToArray();
        var b = Enumerable.Range(0, calls * n * k).Select(_ => random.NextNormal()).ToArray();
        var ones = withOnesRow ? Enumerable.Repeat(1.0, k).ToArray() : [];
        var rows = m + (withOnesRow ? 1 : 0);
        var partial = new double[RowDots.PartialLength<double>(rows, n)];
        for (var call = 0; call < calls; call++)
        {
            RowDots.Accumulate<double>(m, n, k, a.AsSpan(call * m * k, m * k), ones, b.AsSpan(call * n * k, n * k), partial);
        }

        // Written transposed (column-major), over a C of 1s that it adds to.
        var c = Enumerable.Repeat(1.0, rows * n).ToArray();
        RowDots.Reduce<double>(0, rows, n, partial, c, rowStride: 1, columnStride: rows, add: true);
        for (var i = 0; i < rows; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var expected = 1.0;
                for (var call = 0; call < calls; call++)
                {
                    for (var p = 0; p < k; p++)
                    {
                        var av = i < m ? a[(call * m * k) + (i * k) + p] : 1.0;
                        expected += av * b[(call * n * k) + (j * k) + p];
                    }
                }

                Assert.Equal(expected, c[i + (j * rows)], 1e-10);
            }
        }
    }

    [Fact]
    public void Reduce_from_a_first_row_writes_only_the_rows_from_there()
    {
        if (!RowDots.IsSupported)
        {
            return; // the kernel needs Vector512; convolutions keep to the GEMM without it
        }

        const int m = 5, n = 3, k = 20;
        var a = Enumerable.Range(0, m * k).Select(i => (float)(i % 7)).ToArray();
        var b = Enumerable.Range(0, n * k).Select(i => (float)(i % 5)).ToArray();
        var partial = new float[RowDots.PartialLength<float>(m, n)];
        RowDots.Accumulate<float>(m, n, k, a, default, b, partial);
        var c = new float[2 * n];
        RowDots.Reduce<float>(3, m, n, partial, c, rowStride: n, columnStride: 1, add: false);
        for (var i = 3; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var expected = 0f;
                for (var p = 0; p < k; p++)
                {
                    expected += a[(i * k) + p] * b[(j * k) + p];
                }

                Assert.Equal(expected, c[((i - 3) * n) + j]);
            }
        }
    }

    [Fact]
    public void Operands_too_short_for_the_shape_are_refused()
    {
        var partial = new float[RowDots.PartialLength<float>(2, 2)];
        var ex = Assert.Throws<ArgumentException>(() => RowDots.Accumulate<float>(2, 2, 16, new float[31], default, new float[32], partial));
        Assert.Contains("m = 2, n = 2, k = 16", ex.Message);
        Assert.Throws<ArgumentException>(() => RowDots.Accumulate<float>(2, 2, 8, new float[16], default, new float[16], partial));
    }

    [Fact]
    public void Rows_read_at_offsets_may_overlap_and_give_the_sums_of_the_rows_they_name()
    {
        if (!RowDots.IsSupported)
        {
            return; // the kernel needs Vector512; convolutions keep to the GEMM without it
        }

        // Seven rows of 40 out of one buffer of 100, overlapping and out of order, with a tail of 8 lanes.
        const int m = 7, n = 5, k = 40;
        int[] offsets = [0, 60, 3, 17, 59, 1, 33];
        var random = new SeededRandom(7);
        var a = Enumerable.Range(0, 100).Select(_ => random.NextNormal()).ToArray();
        var b = Enumerable.Range(0, n * k).Select(_ => random.NextNormal()).ToArray();
        var partial = new double[RowDots.PartialLength<double>(m, n)];
        RowDots.Accumulate<double>(m, n, k, a, offsets, default, b, partial, default);
        var c = new double[m * n];
        RowDots.Reduce<double>(0, m, n, partial, c, rowStride: n, columnStride: 1, add: false);
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var expected = 0.0;
                for (var p = 0; p < k; p++)
                {
                    expected += a[offsets[i] + p] * b[(j * k) + p];
                }

                Assert.Equal(expected, c[(i * n) + j], 1e-12);
            }
        }

        // A row that would run past A's end is refused, naming it.
        int[] past = [0, 61];
        var ex = Assert.Throws<ArgumentException>(() => RowDots.Accumulate<double>(2, n, k, a, past, default, b, partial, default));
        Assert.Contains("row 1 at 61", ex.Message);
    }
}
