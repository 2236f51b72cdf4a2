using AutoGrad.Kernels;

namespace AutoGrad.Tests.Kernels;

public class ShiftedConvolutionTests
{
    [Theory]
    [InlineData(1, 28, 28, 30, 5, 0, true)] // SimpleConvNet's layer: 5 tiles of 6 filters, 576 = 18 × 32 positions
    [InlineData(3, 9, 11, 7, 3, 1, true)] // 7 filters (a tile of one), 99 positions (a tail of 3)
    [InlineData(2, 8, 5, 13, 3, 2, false)] // no bias; 10 × 7 = 70 positions, a tail past one vector
    [InlineData(1, 4, 4, 1, 4, 0, true)] // one filter, one position
    public void Each_output_is_the_bias_plus_the_windows_sum(int channels, int height, int width, int filters, int kernel, int padding, bool withBias)
    {
        if (!ShiftedConvolution.IsSupported)
        {
            return; // the kernel needs Vector512; convolutions keep to im2col and the GEMM without it
        }

        var g = new WindowGeometry(kernel, kernel, 1, 1, padding, padding, 1, 1);
        int outH = g.OutputHeight(height), outW = g.OutputWidth(width), positions = outH * outW, depth = channels * g.KernelSize;
        var random = new SeededRandom((channels * 100) + (filters * 10) + kernel);
        var image = Enumerable.Range(0, channels * height * width).Select(_ => random.NextNormal()).ToArray();
        var weights = Enumerable.Range(0, filters * depth).Select(_ => random.NextNormal()).ToArray();
        var bias = withBias ? Enumerable.Range(0, filters).Select(_ => random.NextNormal()).ToArray() : [];
        var copies = new double[ShiftedRows.Length(channels, g, outH, outW) + ShiftedConvolution.Slack<double>()];
        var offsets = new int[depth];
        ShiftedRows.Copy<double>(image, channels, height, width, g, copies);
        ShiftedRows.Offsets(channels, g, outH, outW, offsets);
        var y = Enumerable.Repeat(double.NaN, (filters * positions) + 1).ToArray();

        ShiftedConvolution.Run<double>(filters, depth, positions, weights, copies, offsets, bias, y.AsSpan(0, filters * positions));

        for (var f = 0; f < filters; f++)
        {
            for (var i = 0; i < outH; i++)
            {
                for (var j = 0; j < outW; j++)
                {
                    var expected = withBias ? bias[f] : 0.0;
                    for (var c = 0; c < channels; c++)
                    {
                        for (var u = 0; u < kernel; u++)
                        {
                            for (var v = 0; v < kernel; v++)
                            {
                                int row = i + u - padding, column = j + v - padding;
                                if (row >= 0 && row < height && column >= 0 && column < width)
                                {
                                    expected += weights[(f * depth) + (((c * kernel) + u) * kernel) + v] * image[(((c * height) + row) * width) + column];
                                }
                            }
                        }
                    }

                    Assert.Equal(expected, y[(f * positions) + (i * outW) + j], 1e-12);
                }
            }
        }

        Assert.True(double.IsNaN(y[^1]), "nothing is written past the filters' outputs");
    }

    [Fact]
    public void Rows_past_the_copies_and_short_outputs_are_refused()
    {
        var weights = new float[2 * 4];
        var copies = new float[8 + ShiftedConvolution.Slack<float>() + 3]; // rows may start at 0 … 3
        var ex = Assert.Throws<ArgumentException>(() => ShiftedConvolution.Run<float>(2, 4, 8, weights, copies, [0, 1, 2, 9], default, new float[16]));
        Assert.Contains("row 3 at 9", ex.Message);
        Assert.Throws<ArgumentException>(() => ShiftedConvolution.Run<float>(2, 4, 8, weights, copies, [0, 1, 2, 3], default, new float[15]));
    }
}
