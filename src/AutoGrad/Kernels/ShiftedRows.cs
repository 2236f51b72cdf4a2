using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace AutoGrad.Kernels;

/// <summary>
/// The columns of a stride-1, undilated convolution without writing them out. im2col's row (c, i, j) is the padded
/// image's channel c read at offset (i, j) over OH × OW positions; with the image first copied once per kernel column
/// j into rows of width OW (channel c's plane shifted left by j, (OH + kh − 1) rows), that row is a contiguous run of
/// OH·OW elements of the copy, starting at row i. The copies hold C·kw·(OH + kh − 1)·OW elements instead of
/// im2col's C·kh·kw·OH·OW (SimpleConvNet's 5×5 layer: 3,360 instead of 14,400 per image), small enough to stay in L1
/// while dot products run along the rows.
/// </summary>
internal static class ShiftedRows
{
    /// <summary>Whether the geometry allows it: stride 1 and no dilation (any padding).</summary>
    public static bool Fits(in WindowGeometry g) => g.StrideH == 1 && g.StrideW == 1 && g.DilationH == 1 && g.DilationW == 1;

    /// <summary>The elements of one image's copies.</summary>
    public static int Length(int channels, in WindowGeometry g, int outputHeight, int outputWidth) =>
        channels * g.KernelW * (outputHeight + g.KernelH - 1) * outputWidth;

    /// <summary>
    /// offsets[(c·kh + i)·kw + j] = where im2col's row (c, i, j) starts in the copies, in im2col's row order, for
    /// <paramref name="channels"/> channels.
    /// </summary>
    public static void Offsets(int channels, in WindowGeometry g, int outputHeight, int outputWidth, Span<int> offsets)
    {
        var rows = outputHeight + g.KernelH - 1;
        if (offsets.Length < channels * g.KernelSize)
        {
            throw new ArgumentException($"ShiftedRows.Offsets: {offsets.Length} offsets for {channels * g.KernelSize} rows.", nameof(offsets));
        }

        for (var c = 0; c < channels; c++)
        {
            for (var i = 0; i < g.KernelH; i++)
            {
                for (var j = 0; j < g.KernelW; j++)
                {
                    offsets[(((c * g.KernelH) + i) * g.KernelW) + j] = ((((c * g.KernelW) + j) * rows) + i) * outputWidth;
                }
            }
        }
    }

    /// <summary>Writes the copies of one image (C, H, W): copy (c, j) row r is input row r − padH from column j − padW on, zeros outside the image.</summary>
    public static void Copy<T>(ReadOnlySpan<T> image, int channels, int height, int width, in WindowGeometry g, Span<T> copies)
        where T : struct
    {
        int outputHeight = g.OutputHeight(height), outputWidth = g.OutputWidth(width), rows = outputHeight + g.KernelH - 1;
        if (image.Length < channels * height * width || copies.Length < Length(channels, g, outputHeight, outputWidth))
        {
            throw new ArgumentException($"ShiftedRows.Copy: buffers too short for ({channels}, {height}, {width}).", nameof(copies));
        }

        if (g.PadH == 0 && g.PadW == 0 && outputWidth >= Vector128<T>.Count && Vector128.IsHardwareAccelerated)
        {
            // Without padding every row of every copy is a run of the image: one unchecked line copy each (the checked
            // slices and empty clears of the general loop cost more than the 24 elements of SimpleConvNet's rows).
            ref var from = ref MemoryMarshal.GetReference(image);
            ref var to = ref MemoryMarshal.GetReference(copies);
            for (var c = 0; c < channels; c++)
            {
                for (var j = 0; j < g.KernelW; j++)
                {
                    ref var copy = ref Unsafe.Add(ref to, ((c * g.KernelW) + j) * rows * outputWidth);
                    ref var column = ref Unsafe.Add(ref from, (c * height * width) + j);
                    for (var r = 0; r < rows; r++)
                    {
                        Lines.Copy(ref Unsafe.Add(ref column, r * width), ref Unsafe.Add(ref copy, r * outputWidth), outputWidth);
                    }
                }
            }

            return;
        }

        for (var c = 0; c < channels; c++)
        {
            var plane = image.Slice(c * height * width, height * width);
            for (var j = 0; j < g.KernelW; j++)
            {
                // Columns ow with 0 ≤ ow + j − padW < width come from the image; the rest is padding.
                int first = Math.Clamp(g.PadW - j, 0, outputWidth), last = Math.Clamp(width + g.PadW - j, first, outputWidth);
                var copy = copies.Slice(((c * g.KernelW) + j) * rows * outputWidth, rows * outputWidth);
                for (var r = 0; r < rows; r++)
                {
                    var target = copy.Slice(r * outputWidth, outputWidth);
                    var source = r - g.PadH;
                    if (source < 0 || source >= height || last == first)
                    {
                        target.Clear();
                        continue;
                    }

                    target[..first].Clear();
                    Lines.Copy(plane.Slice((source * width) + first + j - g.PadW, last - first), target[first..last]);
                    target[last..].Clear();
                }
            }
        }
    }
}
