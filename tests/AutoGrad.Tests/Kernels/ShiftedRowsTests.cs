using AutoGrad.Kernels;

namespace AutoGrad.Tests.Kernels;

public class ShiftedRowsTests
{
    [Theory]
    [InlineData(1, 28, 28, 5, 5, 0, 0)] // SimpleConvNet's layer
    [InlineData(2, 9, 12, 3, 5, 0, 0)] // no padding, two channels, a rectangular kernel: the unchecked line copies
    [InlineData(3, 9, 11, 3, 3, 1, 1)]
    [InlineData(2, 7, 6, 5, 3, 2, 1)] // a rectangular kernel with padding that differs between the axes
    [InlineData(2, 6, 5, 3, 3, 3, 4)] // padding wider than the kernel reaches: whole rows and columns of zeros
    [InlineData(1, 4, 4, 4, 4, 0, 0)] // the kernel as large as the image: one output position
    public void Every_row_read_at_its_offset_is_im2cols_row(int channels, int height, int width, int kernelH, int kernelW, int padH, int padW)
    {
        var g = new WindowGeometry(kernelH, kernelW, 1, 1, padH, padW, 1, 1);
        int outH = g.OutputHeight(height), outW = g.OutputWidth(width), positions = outH * outW;
        var random = new SeededRandom((channels * 100) + (kernelH * 10) + padW);
        var image = Enumerable.Range(0, channels * height * width).Select(_ => random.NextNormal()).ToArray();
        var columns = new double[channels * g.KernelSize * positions];
        Im2Col.Unfold<double>(image, channels, height, width, g, columns);

        // Copies over garbage: every element must be written, the padding included.
        var copies = Enumerable.Repeat(double.NaN, ShiftedRows.Length(channels, g, outH, outW)).ToArray();
        ShiftedRows.Copy<double>(image, channels, height, width, g, copies);
        var offsets = new int[channels * g.KernelSize];
        ShiftedRows.Offsets(channels, g, outH, outW, offsets);

        Assert.True(ShiftedRows.Fits(g));
        Assert.Equal(channels * kernelW * (outH + kernelH - 1) * outW, copies.Length);
        for (var row = 0; row < offsets.Length; row++)
        {
            Assert.Equal(columns.AsSpan(row * positions, positions).ToArray(), copies.AsSpan(offsets[row], positions).ToArray());
        }
    }

    [Fact]
    public void Strided_or_dilated_geometries_do_not_fit()
    {
        Assert.False(ShiftedRows.Fits(new WindowGeometry(3, 3, 2, 1, 0, 0, 1, 1)));
        Assert.False(ShiftedRows.Fits(new WindowGeometry(3, 3, 1, 1, 0, 0, 1, 2)));
    }

    [Fact]
    public void Buffers_too_short_are_refused()
    {
        var g = new WindowGeometry(3, 3, 1, 1, 0, 0, 1, 1);
        var ex = Assert.Throws<ArgumentException>(() => ShiftedRows.Copy<float>(new float[36], 1, 6, 6, g, new float[ShiftedRows.Length(1, g, 4, 4) - 1]));
        Assert.Contains("(1, 6, 6)", ex.Message);
        Assert.Throws<ArgumentException>(() => ShiftedRows.Offsets(2, g, 4, 4, new int[17]));
    }
}
