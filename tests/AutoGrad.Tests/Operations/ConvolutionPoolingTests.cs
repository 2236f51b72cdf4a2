using static AutoGrad.Tests.TestData;

namespace AutoGrad.Tests.Operations;

/// <summary>
/// What the ConvolutionPooling descriptor's float64 samples do not reach: float32 at the sizes where the fused op's
/// own paths run (the pooled gradient scattered image by image into the row dot products, the 2×2 vector pooling,
/// the direct forward pass), each against the composition MaxPool2d(Conv2d(…)) it replaces.
/// </summary>
public class ConvolutionPoolingTests
{
    [Theory]
    [InlineData(1, 28, 28, 30, 5, 0, 2, false)] // SimpleConvNet: 24×24 maps, row dot products, the 2×2 vector pooling
    [InlineData(1, 29, 27, 6, 5, 0, 2, false)] // 25×23 maps: a last row and column that no window covers
    [InlineData(2, 26, 26, 7, 3, 0, 3, false)] // 3×3 windows: the scalar choices in float32
    [InlineData(3, 12, 12, 8, 3, 1, 2, true)] // the input gradient too: the pooled gradient scattered whole first
    [InlineData(16, 14, 14, 16, 3, 1, 2, false)] // DeepConvNet's shape of layer, where the direct paths may pay
    public void Float32_values_and_gradients_are_the_compositions(int channels, int height, int width, int filters, int kernel, int padding, int pool, bool inputGradient)
    {
        var x = Tensor.RandomNormal([5, channels, height, width], 31);
        var w = Tensor.RandomNormal([filters, channels, kernel, kernel], 32, std: 0.2);
        var b = Tensor.RandomNormal([filters], 33);
        var (fused, fusedGradients) = Run(x, w, b, inputGradient, (x, w, b) => Ops.Conv2dMaxPool2d(x, w, b, pool, padding: padding));
        var (composed, composedGradients) = Run(x, w, b, inputGradient, (x, w, b) => Ops.MaxPool2d(Ops.Conv2d(x, w, b, padding: padding), pool));

        // The same kernels compute the same maps and pick the same maxima, so the values agree to the bit.
        Assert.Equal(Bits(composed), Bits(fused));
        for (var i = 0; i < composedGradients.Length; i++)
        {
            // The bias gradient may be summed over the pooled gradient rather than the scattered one: the same terms
            // without the zeros, in another order.
            AssertClose(composedGradients[i].ToDoubleArray(), fusedGradients[i].ToDoubleArray(), 1e-5, 1e-5);
        }

        // The filter gradient (and the input gradient) sum the same products in the same order.
        Assert.Equal(Bits(composedGradients[1]), Bits(fusedGradients[1]));
        if (inputGradient)
        {
            Assert.Equal(Bits(composedGradients[0]), Bits(fusedGradients[0]));
        }
    }

    [Theory]
    [InlineData(1, 28, 28, 2, true)]
    [InlineData(2, 27, 25, 3, false)]
    public void Float64_gradients_at_the_row_dot_sizes_are_the_compositions(int channels, int height, int width, int pool, bool withBias)
    {
        // 24×24 and 23×21 maps: enough positions for the row dot products, so each image's pooled gradient is
        // scattered into the workspace in float64 too (the descriptor's small samples take the per-image products).
        var x = Normal(34, 3, channels, height, width);
        var w = Normal(35, 4, channels, 5, 5);
        var b = Normal(36, 4);
        Assert.True((height - 4) * (width - 4) >= AutoGrad.Kernels.RowDots.WorthwhileDepth<double>());
        var fused = Ops.Conv2dMaxPool2d(x, w, withBias ? b : null, pool);
        var composed = Ops.MaxPool2d(Ops.Conv2d(x, w, withBias ? b : null), pool);
        Assert.Equal(composed.ToDoubleArray(), fused.ToDoubleArray());

        var upstream = Normal(37, fused.Shape.Dims.ToArray());
        Tensor[] sources = withBias ? [w, b] : [w];
        double[][] Gradients(Func<Tensor, Tensor, Tensor?, Tensor> f)
        {
            using var tape = new Tape();
            foreach (var source in sources)
            {
                tape.Watch(source);
            }

            var y = f(x, w, withBias ? b : null);
            return [.. tape.Gradient(y, sources, upstream).Select(g => g.ToDoubleArray())];
        }

        var fast = Gradients((x, w, b) => Ops.Conv2dMaxPool2d(x, w, b, pool));
        var reference = Gradients((x, w, b) => Ops.MaxPool2d(Ops.Conv2d(x, w, b), pool));
        for (var i = 0; i < sources.Length; i++)
        {
            AssertClose(reference[i], fast[i], 1e-12, 1e-12);
        }
    }

    [Fact]
    public void Gradients_are_bit_identical_for_any_thread_count()
    {
        static float[][] Gradients()
        {
            var x = Tensor.RandomNormal([13, 1, 28, 28], 38);
            var w = Tensor.RandomNormal([30, 1, 5, 5], 39);
            var b = Tensor.RandomNormal([30], 40);
            using var tape = new Tape();
            tape.Watch(w);
            tape.Watch(b);
            var y = Ops.Conv2dMaxPool2d(x, w, b, 2);
            return [y.ToFloatArray(), .. tape.Gradient(Ops.Sum(y * y), w, b).Select(g => g.ToFloatArray())];
        }

        AssertSameBits(WithThreads(1, Gradients), WithThreads(2, Gradients));
    }

    [Fact]
    public void Ties_and_NaN_pick_what_MaxPool2d_picks()
    {
        // A 1×1 filter of weight 1 makes the maps the image: windows of equal values give g to their first element,
        // and a window holding NaN pools to NaN with g at its first NaN.
        float[] image =
        [
            1, 1, 2, 5,
            1, 1, 5, 2,
            float.NaN, 3, 7, 7,
            3, float.NaN, 7, 7,
        ];
        var x = Tensor.FromArray(image, 1, 1, 4, 4);
        var w = Tensor.Full(1, [1, 1, 1, 1]);
        using var tape = new Tape();
        tape.Watch(x);
        var y = Ops.Conv2dMaxPool2d(x, w, null, 2);
        Assert.Equal([1f, 5f, float.NaN, 7f], y.ToFloatArray());
        float[] pooledGradient = [10, 20, 30, 40];
        var dx = tape.Gradient(y, [x], Tensor.FromArray(pooledGradient, 1, 1, 2, 2))[0].ToFloatArray();
        Assert.Equal(
            [
                10f, 0, 0, 20,
                0, 0, 0, 0,
                30, 0, 40, 0,
                0, 0, 0, 0,
            ],
            dx);
    }

    private static (Tensor Output, Tensor[] Gradients) Run(Tensor x, Tensor w, Tensor b, bool inputGradient, Func<Tensor, Tensor, Tensor, Tensor> f)
    {
        using var tape = new Tape();
        if (inputGradient)
        {
            tape.Watch(x);
        }

        tape.Watch(w);
        tape.Watch(b);
        var y = f(x, w, b);
        var upstream = Tensor.RandomNormal(y.Shape.Dims, 41);
        Tensor[] sources = inputGradient ? [x, w, b] : [w, b];
        var gradients = tape.Gradient(y, sources, upstream).Select(g => g.Clone()).ToArray();
        return (y.Clone(), inputGradient ? gradients : [Tensor.Zeros([1]), .. gradients]);
    }

    private static int[] Bits(Tensor t) => [.. t.ToFloatArray().Select(BitConverter.SingleToInt32Bits)];
}
