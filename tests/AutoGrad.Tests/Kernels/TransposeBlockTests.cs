using AutoGrad.Kernels;

namespace AutoGrad.Tests.Kernels;

public class TransposeBlockTests
{
    [Fact]
    public unsafe void A_block_lands_transposed_between_strided_rows_and_nothing_else_is_written()
    {
        if (!TransposeBlock.IsSupported)
        {
            return; // Without AVX-512 the GEMM packs element by element; GemmTests cover that path.
        }

        // A 16×16 block inside a 20-wide source, into a 40-wide destination prefilled with a marker.
        const int srcStride = 20, dstStride = 40;
        var source = Enumerable.Range(0, 16 * srcStride).Select(i => (float)i).ToArray();
        var target = Enumerable.Repeat(-1f, 16 * dstStride).ToArray();
        fixed (float* src = source, dst = target)
        {
            TransposeBlock.Float16(src + 3, srcStride, dst + 5, dstStride);
        }

        for (var q = 0; q < 16; q++)
        {
            for (var col = 0; col < dstStride; col++)
            {
                var expected = col is >= 5 and < 21 ? source[((col - 5) * srcStride) + 3 + q] : -1f;
                Assert.Equal(expected, target[(q * dstStride) + col]);
            }
        }
    }

    [Fact]
    public unsafe void A_double_block_lands_transposed_between_strided_rows_and_nothing_else_is_written()
    {
        if (!TransposeBlock.IsSupported)
        {
            return; // As above.
        }

        // An 8×8 block inside an 11-wide source, into a 21-wide destination prefilled with a marker, through the
        // generic entry the GEMM's packing calls.
        const int srcStride = 11, dstStride = 21;
        var source = Enumerable.Range(0, 8 * srcStride).Select(i => (double)i).ToArray();
        var target = Enumerable.Repeat(-1.0, 8 * dstStride).ToArray();
        fixed (double* src = source, dst = target)
        {
            TransposeBlock.Square(src + 2, srcStride, dst + 7, dstStride);
        }

        Assert.Equal(8, TransposeBlock.Side<double>());
        for (var q = 0; q < 8; q++)
        {
            for (var col = 0; col < dstStride; col++)
            {
                var expected = col is >= 7 and < 15 ? source[((col - 7) * srcStride) + 2 + q] : -1.0;
                Assert.Equal(expected, target[(q * dstStride) + col]);
            }
        }
    }
}
