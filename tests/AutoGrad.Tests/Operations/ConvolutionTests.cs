using static AutoGrad.Tests.TestData;

namespace AutoGrad.Tests.Operations;

/// <summary>What the Convolution descriptors do not state: values against a direct loop, and the adjoint identity.</summary>
public class ConvolutionTests
{
    [Theory]
    [InlineData(1, 0, 1, 1)]
    [InlineData(2, 1, 1, 1)]
    [InlineData(1, 2, 2, 1)]
    [InlineData(2, 1, 1, 2)]
    [InlineData(1, 1, 1, 4)] // depthwise: groups = channels
    public void Conv2d_equals_the_direct_sum_over_the_window(int stride, int padding, int dilation, int groups)
    {
        var x = Normal(1, 2, 4, 7, 6);
        var w = Normal(2, 4, 4 / groups, 3, 2);
        var b = Normal(3, 4);
        var y = Ops.Conv2d(x, w, b, stride, padding, dilation, groups);

        var expected = DirectConv(x, w, b, stride, padding, dilation, groups, out var outH, out var outW);
        Assert.Equal(new[] { 2, 4, outH, outW }, y.Shape.Dims.ToArray());
        AssertClose(expected, y.ToDoubleArray(), 1e-12, 1e-13);
    }

    [Fact]
    public void Im2Col_and_Col2Im_are_each_others_adjoint()
    {
        // ⟨Im2Col(x), c⟩ = ⟨x, Col2Im(c)⟩ for any x and c: the identity that makes each the other's gradient.
        var x = Normal(4, 2, 3, 7, 8);
        var columns = Ops.Im2Col(x, (3, 2), stride: (2, 3), padding: (1, 2), dilation: (2, 1));
        var c = Normal(5, columns.Shape.Dims.ToArray());
        var back = Ops.Col2Im(c, (7, 8), (3, 2), stride: (2, 3), padding: (1, 2), dilation: (2, 1));

        var left = Ops.Sum(columns * c).ToScalar();
        var right = Ops.Sum(x * back).ToScalar();
        Assert.Equal(left, right, 1e-11);
    }

    [Theory]
    [InlineData(1, 0, 0, 1, 1)]
    [InlineData(2, 1, 1, 1, 1)]
    [InlineData(3, 2, 2, 2, 2)]
    public void ConvTranspose2d_is_the_adjoint_of_Conv2d_in_its_input(int stride, int padding, int outputPadding, int dilation, int groups)
    {
        // ⟨Conv2d(y, W), x⟩ = ⟨y, ConvTranspose2d(x, W)⟩, with y of the size the transposed convolution produces.
        var x = Normal(8, 2, 4, 3, 4);
        var w = Normal(9, 4, 6 / groups, 3, 2);
        var up = Ops.ConvTranspose2d(x, w, stride: stride, padding: padding, outputPadding: outputPadding, dilation: dilation, groups: groups);
        int expectedH = ((3 - 1) * stride) - (2 * padding) + (dilation * 2) + outputPadding + 1;
        int expectedW = ((4 - 1) * stride) - (2 * padding) + dilation + outputPadding + 1;
        Assert.Equal(new[] { 2, 6, expectedH, expectedW }, up.Shape.Dims.ToArray());

        var y = Normal(10, up.Shape.Dims.ToArray());
        var down = Ops.Conv2d(y, w, stride: stride, padding: padding, dilation: dilation, groups: groups);
        Assert.Equal(x.Shape, down.Shape);
        Assert.Equal(Ops.Sum(down * x).ToScalar(), Ops.Sum(y * up).ToScalar(), 1e-10);
    }

    [Fact]
    public void Gradients_are_bit_identical_for_any_thread_count()
    {
        // The images are split across threads, and the filter gradient is summed over fixed blocks of images in
        // block order, so the thread count changes no bit.
        static float[][] Gradients()
        {
            var x = Tensor.RandomNormal([13, 3, 9, 9], 1);
            var w = Tensor.RandomNormal([8, 3, 3, 3], 2);
            var b = Tensor.RandomNormal([8], 3);
            using var tape = new Tape();
            tape.Watch(x);
            tape.Watch(w);
            tape.Watch(b);
            var y = Ops.Conv2d(x, w, b, padding: 1);
            return [y.ToFloatArray(), .. tape.Gradient(Ops.Sum(y * y), x, w, b).Select(g => g.ToFloatArray())];
        }

        AssertSameBits(WithThreads(1, Gradients), WithThreads(2, Gradients));
    }

    [Fact]
    public void One_filter_over_a_last_group_narrower_than_the_wide_tile_agrees_with_float64()
    {
        // Seventeen 8×8 images in float32: sixteen side by side, then one alone, whose 80 computed positions are fewer
        // than the one-row tile's 128, so that group runs a vector at a time. Values and gradients agree with float64's
        // (whose wider tile is 64 positions, so it takes the one-row tile there).
        var x = Normal(31, 17, 3, 8, 8);
        var w = Normal(32, 1, 3, 3, 3);
        var b = Normal(33, 1);
        var upstream = Normal(34, 17, 1, 8, 8);
        var (y64, grads64) = ForwardAndGradients(x, w, b);
        var (y32, grads32) = ForwardAndGradients(x.ToType(DType.Float32), w.ToType(DType.Float32), b.ToType(DType.Float32));
        AssertClose(DirectConv(x, w, b, (1, 1), 1, out _, out _), y64, 1e-12, 1e-13);
        AssertClose(y64, y32, 1e-5, 1e-5);
        for (var i = 0; i < grads64.Length; i++)
        {
            AssertClose(grads64[i], grads32[i], 1e-5, 1e-4);
        }

        (double[] Output, double[][] Gradients) ForwardAndGradients(Tensor x, Tensor w, Tensor b)
        {
            using var tape = new Tape();
            tape.Watch(x);
            tape.Watch(w);
            var y = Ops.Conv2d(x, w, b, padding: 1);
            return (y.ToDoubleArray(), [.. tape.Gradient(y, [x, w], upstream.ToType(x.DType)).Select(t => t.ToDoubleArray())]);
        }
    }

    [Theory]
    [InlineData(16, 16, 28, 28, 1, 19)] // DeepConvNet's second layer; the filter gradient's last block, one image, is too narrow and keeps the direct sums
    [InlineData(32, 32, 14, 14, 2, 10)] // its fourth: wider than "same"; the filter gradient by Winograd (32 channels and filters)
    [InlineData(9, 13, 12, 18, 0, 9)] // no padding (the input gradient's is 2); a last block of five filters
    [InlineData(8, 8, 8, 8, 1, 33)] // sixteen images a row, and one more
    [InlineData(64, 64, 8, 8, 1, 33)] // DeepConvNet's last layer: the filter gradient by Winograd too
    public void Float32_3x3_convolutions_by_Winograd_agree_with_float64_in_every_pass(int channels, int filters, int height, int width, int padding, int images)
    {
        // Float32 3×3 convolutions of eight channels and filters or more run by Winograd's F(2×2, 3×3), forward and in
        // the input gradient, and with 32 or more, in the filter gradient too; float64 keeps the direct sums. The two
        // agree to float32's precision.
        var g = new AutoGrad.Kernels.WindowGeometry(3, 3, 1, 1, padding, padding, 1, 1);
        var perRow = AutoGrad.Kernels.DirectConvolution.ImagesPerRow(g, height, width, images);
        Assert.Equal(AutoGrad.Kernels.GatheredMicroKernel.IsSupported<float>(), new AutoGrad.Kernels.DirectPlan<float>(channels, height, width, g, filters, perRow).Winograd);

        var x = Normal(21, images, channels, height, width);
        var w = Normal(22, filters, channels, 3, 3);
        var b = Normal(23, filters);
        var (y64, grads64) = ForwardAndGradients(x, w, b);
        var (y32, grads32) = ForwardAndGradients(x.ToType(DType.Float32), w.ToType(DType.Float32), b.ToType(DType.Float32));
        AssertCloseScaled(y64, y32);
        for (var i = 0; i < grads64.Length; i++)
        {
            AssertCloseScaled(grads64[i], grads32[i]);
        }

        (double[] Output, double[][] Gradients) ForwardAndGradients(Tensor x, Tensor w, Tensor b)
        {
            using var tape = new Tape();
            tape.Watch(x);
            tape.Watch(w);
            tape.Watch(b);
            var y = Ops.Conv2d(x, w, b, padding: padding);
            var upstream = Normal(24, y.Shape.Dims.ToArray()).ToType(x.DType);
            return (y.ToDoubleArray(), [.. tape.Gradient(y, [x, w, b], upstream).Select(t => t.ToDoubleArray())]);
        }

        // Float32 rounding relative to the largest value: a sum of hundreds of products is only that exact.
        static void AssertCloseScaled(double[] expected, double[] actual) => AssertClose(expected, actual, 1e-5, 2e-6 * expected.Max(Math.Abs));
    }

    [Fact]
    public void Float32_convolution_agrees_with_float64()
    {
        var x = Normal(6, 3, 2, 9, 9);
        var w = Normal(7, 5, 2, 3, 3);
        var wide = Ops.Conv2d(x, w, padding: 1).ToDoubleArray();
        var narrow = Ops.Conv2d(x.ToType(DType.Float32), w.ToType(DType.Float32), padding: 1).ToDoubleArray();
        AssertClose(wide, narrow, 1e-5, 1e-5);
    }

    [Theory]
    [InlineData(22, 21, 3, 3, 1, 1, 1)]
    [InlineData(16, 30, 3, 3, 2, 2, 2)] // dilated
    [InlineData(20, 26, 3, 3, 2, 2, 1)] // DeepConvNet's fourth layer: wider than "same"; the input gradient's padding is 0
    [InlineData(12, 40, 3, 5, 1, 2, 1)] // a kernel wider than high
    [InlineData(8, 8, 3, 3, 1, 1, 1)] // small planes: all ten images side by side
    [InlineData(28, 28, 3, 3, 1, 1, 1, 1, 16)] // DeepConvNet's first layer: the input gradient has one channel (the one-row tile)
    [InlineData(22, 21, 3, 3, 1, 1, 1, 4, 1)] // one filter: the forward pass takes the one-row tile
    public void The_direct_path_agrees_with_the_sum_and_its_gradients_with_the_composition(int height, int width, int kh, int kw, int padH, int padW, int dilation, int channels = 3, int filters = 7)
    {
        // Planes the direct convolution (no im2col) takes, several images side by side, in the forward pass, the input
        // gradient and the filter gradient.
        if (AutoGrad.Kernels.GatheredMicroKernel.IsSupported<double>())
        {
            var g = new AutoGrad.Kernels.WindowGeometry(kh, kw, 1, 1, padH, padW, dilation, dilation);
            var adjoint = g with { PadH = (dilation * (kh - 1)) - padH, PadW = (dilation * (kw - 1)) - padW };
            int gradientH = g.OutputHeight(height), gradientW = g.OutputWidth(width);
            var images = AutoGrad.Kernels.DirectConvolution.ImagesPerRow(g, height, width, 10);
            var adjointImages = AutoGrad.Kernels.DirectConvolution.ImagesPerRow(adjoint, gradientH, gradientW, 10);
            Assert.True(AutoGrad.Kernels.DirectConvolution.Worthwhile<double>(g, height, width, images));
            Assert.True(AutoGrad.Kernels.DirectConvolution.Worthwhile<double>(adjoint, gradientH, gradientW, adjointImages));
            Assert.True(images > 1 && adjointImages > 1);
        }

        // Ten images: more than the filter gradient's eight blocks, so a block sums two of them.
        var x = Normal(11, 10, channels, height, width);
        var w = Normal(12, filters, channels, kh, kw);
        var b = Normal(13, filters);
        using var tape = new Tape();
        tape.Watch(x);
        tape.Watch(w);
        tape.Watch(b);
        var y = Ops.Conv2d(x, w, b, padding: (padH, padW), dilation: dilation);
        var expected = DirectConv(x, w, b, (padH, padW), dilation, out var outH, out var outW);
        Assert.Equal(new[] { 10, filters, outH, outW }, y.Shape.Dims.ToArray());
        AssertClose(expected, y.ToDoubleArray(), 1e-12, 1e-13);

        var upstream = Normal(14, y.Shape.Dims.ToArray());
        var fast = tape.Gradient(y, [x, w, b], upstream, retainGraph: true);
        var composed = tape.Gradient(y, [x, w, b], upstream, createGraph: true);
        for (var i = 0; i < fast.Length; i++)
        {
            AssertClose(composed[i].ToDoubleArray(), fast[i].ToDoubleArray(), 1e-12, 1e-12);
        }

        var narrow = Ops.Conv2d(x.ToType(DType.Float32), w.ToType(DType.Float32), b.ToType(DType.Float32), padding: (padH, padW), dilation: dilation);
        AssertClose(expected, narrow.ToDoubleArray(), 1e-5, 1e-5);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_direct_filter_gradient_sums_several_groups_of_a_block_as_the_composition_does(bool withInputAndBias)
    {
        // 72 images in eight blocks of 9: a group of eight 8×8 images side by side, then one alone, in each block. With
        // the input and the bias watched, the same pass computes their gradients from the padded upstream gradient.
        var x = Normal(15, 72, 2, 8, 8);
        var w = Normal(16, 5, 2, 3, 3);
        var b = Normal(18, 5);
        using var tape = new Tape();
        tape.Watch(w);
        Tensor[] sources = withInputAndBias ? [w, x, b] : [w];
        if (withInputAndBias)
        {
            tape.Watch(x);
            tape.Watch(b);
        }

        var y = Ops.Conv2d(x, w, withInputAndBias ? b : null, padding: 1);
        var upstream = Normal(17, y.Shape.Dims.ToArray());
        var fast = tape.Gradient(y, sources, upstream, retainGraph: true);
        var composed = tape.Gradient(y, sources, upstream, createGraph: true);
        for (var i = 0; i < sources.Length; i++)
        {
            AssertClose(composed[i].ToDoubleArray(), fast[i].ToDoubleArray(), 1e-12, 1e-12);
        }
    }

    [Theory]
    [InlineData(1, 2, true)] // two groups: no direct path
    [InlineData(2, 1, true)] // stride 2: no direct path; 17×17 = 289 positions
    [InlineData(1, 2, false)]
    [InlineData(1, 1, false)] // SimpleConvNet's shape of layer: 5×5, no padding, 31×31 → 27×27 (729 positions, a tail of 9 lanes)
    [InlineData(1, 1, true, 2, 1)] // padding (2, 1) around a 5×3 kernel: the shifted copies' rows and columns of zeros
    [InlineData(1, 2, true, 3, 4)] // padding wider than the kernel's reach on one side: whole columns of zeros
    public void The_row_dot_filter_gradient_sums_the_images_of_a_block_as_the_composition_does(int stride, int groups, bool withBias, int padH = 0, int padW = 0)
    {
        // Output planes of at least 256 positions off the direct path: the filter gradient (and the bias gradient, a
        // row of ones among the columns) are sums of dot products over the positions (Kernels.RowDots), ten images in
        // eight blocks, so some blocks sum two. At stride 1 the column rows are windows of the image's shifted copies
        // (Kernels.ShiftedRows), whose padding the padded rows exercise.
        var kernel = groups == 1 && stride == 1 ? 5 : 3;
        var kernelW = padH + padW > 0 ? 3 : kernel;
        var side = stride == 2 ? 35 : 31;
        var x = Normal(21, 10, 4, side, side);
        var w = Normal(22, 6, 4 / groups, kernel, kernelW);
        var b = Normal(23, 6);
        using var tape = new Tape();
        tape.Watch(w);
        tape.Watch(b);
        var y = Ops.Conv2d(x, w, withBias ? b : null, stride: stride, padding: (padH, padW), groups: groups);
        Assert.True(y.Shape[2] * y.Shape[3] >= AutoGrad.Kernels.RowDots.WorthwhileDepth<double>());
        Tensor[] sources = withBias ? [w, b] : [w];
        var upstream = Normal(24, y.Shape.Dims.ToArray());
        var fast = tape.Gradient(y, sources, upstream, retainGraph: true);
        var composed = tape.Gradient(y, sources, upstream, createGraph: true);
        for (var i = 0; i < sources.Length; i++)
        {
            AssertClose(composed[i].ToDoubleArray(), fast[i].ToDoubleArray(), 1e-12, 1e-12);
        }
    }

    /// <summary>The direct sum for a stride-1 convolution with padding that may differ between height and width.</summary>
    private static double[] DirectConv(Tensor x, Tensor w, Tensor b, (int H, int W) padding, int dilation, out int outH, out int outW)
    {
        if (padding.H == padding.W)
        {
            return DirectConv(x, w, b, 1, padding.H, dilation, 1, out outH, out outW);
        }

        // Pad the width by the difference first, then both sides alike.
        var extra = padding.W - padding.H;
        var wider = Ops.Pad(x, [extra, extra]);
        return DirectConv(wider, w, b, 1, padding.H, dilation, 1, out outH, out outW);
    }

    /// <summary>y[n, f, i, j] = b[f] + Σ over f's group's channels and the kernel of W·x, written as loops.</summary>
    private static double[] DirectConv(Tensor x, Tensor w, Tensor b, int stride, int padding, int dilation, int groups, out int outH, out int outW)
    {
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], wd = x.Shape[3], f = w.Shape[0], kh = w.Shape[2], kw = w.Shape[3];
        outH = ((h + (2 * padding) - (dilation * (kh - 1)) - 1) / stride) + 1;
        outW = ((wd + (2 * padding) - (dilation * (kw - 1)) - 1) / stride) + 1;
        int cg = c / groups, fg = f / groups;
        var result = new double[n * f * outH * outW];
        for (var s = 0; s < n; s++)
        {
            for (var o = 0; o < f; o++)
            {
                for (var i = 0; i < outH; i++)
                {
                    for (var j = 0; j < outW; j++)
                    {
                        var sum = b[o];
                        for (var ch = 0; ch < cg; ch++)
                        {
                            for (var ki = 0; ki < kh; ki++)
                            {
                                for (var kj = 0; kj < kw; kj++)
                                {
                                    int row = (i * stride) - padding + (ki * dilation), col = (j * stride) - padding + (kj * dilation);
                                    if (row >= 0 && row < h && col >= 0 && col < wd)
                                    {
                                        sum += w[o, ch, ki, kj] * x[s, ((o / fg) * cg) + ch, row, col];
                                    }
                                }
                            }
                        }

                        result[(((((s * f) + o) * outH) + i) * outW) + j] = sum;
                    }
                }
            }
        }

        return result;
    }
}
