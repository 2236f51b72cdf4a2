using AutoGrad.Kernels;

namespace AutoGrad.Tests.Kernels;

/// <summary>
/// im2col and col2im against their definition, element by element, at geometries that take each path: the shifted
/// plane ("same" padding at stride 1, with dilation and non-square kernels), and the line-by-line one (stride 2, no
/// padding, padding wider than "same").
/// </summary>
public class Im2ColTests
{
    public static TheoryData<int, int, int, int, int, int, int, int> Geometries => new()
    {
        // height, width, kernel h, kernel w, stride, pad h, pad w, dilation
        { 7, 9, 3, 3, 1, 1, 1, 1 },
        { 6, 5, 5, 5, 1, 2, 2, 1 },
        { 9, 8, 3, 3, 1, 2, 2, 2 },
        { 5, 7, 3, 1, 1, 1, 0, 1 },
        { 4, 4, 1, 1, 1, 0, 0, 1 },
        { 17, 19, 3, 3, 1, 1, 1, 1 },
        { 7, 9, 3, 3, 2, 1, 1, 1 },
        { 7, 9, 3, 3, 1, 0, 0, 1 },
        { 6, 6, 3, 3, 1, 2, 2, 1 },
        { 2, 3, 3, 3, 1, 1, 1, 1 },
        { 28, 28, 3, 3, 1, 1, 1, 1 },
        { 3, 5, 3, 3, 1, 1, 1, 1 },
        { 5, 3, 3, 3, 1, 1, 1, 1 },
        { 8, 8, 3, 3, 1, 1, 1, 1 },
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Unfold_writes_each_input_element_under_its_kernel_position_and_zeros_in_the_padding(int height, int width, int kh, int kw, int stride, int padH, int padW, int dilation)
    {
        const int channels = 3;
        var g = new WindowGeometry(kh, kw, stride, stride, padH, padW, dilation, dilation);
        var image = Enumerable.Range(1, channels * height * width).Select(i => (double)i).ToArray();
        int outH = g.OutputHeight(height), outW = g.OutputWidth(width);
        var columns = Enumerable.Repeat(double.NaN, channels * kh * kw * outH * outW).ToArray();

        Im2Col.Unfold<double>(image, channels, height, width, g, columns);

        Assert.Equal(Naive(image, channels, height, width, g), columns);
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Fold_and_its_consuming_form_add_each_column_entry_onto_its_input_element_bit_for_bit_alike(int height, int width, int kh, int kw, int stride, int padH, int padW, int dilation)
    {
        const int channels = 2;
        var g = new WindowGeometry(kh, kw, stride, stride, padH, padW, dilation, dilation);
        int outH = g.OutputHeight(height), outW = g.OutputWidth(width);
        var random = new Random(7);
        var columns = Enumerable.Range(0, channels * kh * kw * outH * outW).Select(_ => random.NextDouble() - 0.5).ToArray();
        // The definition: the adjoint of Unfold, Σ over every column entry that reads element e.
        var expected = new double[channels * height * width];
        var sources = Naive(Enumerable.Range(1, expected.Length).Select(i => (double)i).ToArray(), channels, height, width, g);
        for (var q = 0; q < columns.Length; q++)
        {
            if (sources[q] != 0)
            {
                expected[(int)sources[q] - 1] += columns[q];
            }
        }

        var folded = new double[expected.Length];
        var consumed = new double[expected.Length];
        Im2Col.Fold<double>(columns, channels, height, width, g, folded);
        Im2Col.FoldConsuming<double>(columns.ToArray(), channels, height, width, g, consumed);

        Assert.Equal(expected.Length, folded.Length);
        for (var e = 0; e < expected.Length; e++)
        {
            Assert.Equal(expected[e], folded[e], 1e-12);
            Assert.Equal(BitConverter.DoubleToInt64Bits(folded[e]), BitConverter.DoubleToInt64Bits(consumed[e]));
        }
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Float32_unfolds_and_folds_as_float64_does(int height, int width, int kh, int kw, int stride, int padH, int padW, int dilation)
    {
        // float32 vectors hold twice as many lanes, so the vector line moves meet lines and tails of other lengths.
        const int channels = 2;
        var g = new WindowGeometry(kh, kw, stride, stride, padH, padW, dilation, dilation);
        var image = Enumerable.Range(1, channels * height * width).Select(i => (float)i).ToArray();
        int outH = g.OutputHeight(height), outW = g.OutputWidth(width);
        var columns = Enumerable.Repeat(float.NaN, channels * kh * kw * outH * outW).ToArray();

        Im2Col.Unfold<float>(image, channels, height, width, g, columns);

        Assert.Equal(Naive([.. image.Select(v => (double)v)], channels, height, width, g), columns.Select(v => (double)v));
        var random = new Random(8);
        var upstream = columns.Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var folded = new float[image.Length];
        var consumed = new float[image.Length];
        Im2Col.Fold<float>(upstream, channels, height, width, g, folded);
        Im2Col.FoldConsuming<float>(upstream.ToArray(), channels, height, width, g, consumed);
        Assert.Equal(folded.Select(BitConverter.SingleToInt32Bits), consumed.Select(BitConverter.SingleToInt32Bits));
    }

    /// <summary>The columns by their definition, one element at a time.</summary>
    private static double[] Naive(double[] image, int channels, int height, int width, WindowGeometry g)
    {
        int outH = g.OutputHeight(height), outW = g.OutputWidth(width);
        var columns = new double[channels * g.KernelSize * outH * outW];
        var q = 0;
        for (var c = 0; c < channels; c++)
        {
            for (var ki = 0; ki < g.KernelH; ki++)
            {
                for (var kj = 0; kj < g.KernelW; kj++)
                {
                    for (var oh = 0; oh < outH; oh++)
                    {
                        for (var ow = 0; ow < outW; ow++, q++)
                        {
                            int ih = (oh * g.StrideH) - g.PadH + (ki * g.DilationH), iw = (ow * g.StrideW) - g.PadW + (kj * g.DilationW);
                            var inside = ih >= 0 && ih < height && iw >= 0 && iw < width;
                            columns[q] = inside ? image[(c * height * width) + (ih * width) + iw] : 0;
                        }
                    }
                }
            }
        }

        return columns;
    }
}
