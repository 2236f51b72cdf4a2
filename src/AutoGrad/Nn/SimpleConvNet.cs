using AutoGrad.Operations;
using AutoGrad.Tensors;

namespace AutoGrad.Nn;

/// <summary>
/// The book's SimpleConvNet (chapter 7): convolution (30 filters 5×5, stride 1, no padding) → ReLU → 2×2 max pooling
/// → Affine 100 → ReLU → Affine to the classes; train it with <see cref="Ops.SoftmaxWithLoss(Tensor, ReadOnlyMemory{int})"/>.
/// It takes images (N, C, H, W), or flat rows (N, C·H·W), which it views as images without copying. The ReLU before
/// the pooling runs after it, the same function bit for bit (max and ReLU commute) on a quarter of the elements, and
/// the convolution and the pooling run as one op (<see cref="Ops.Conv2dMaxPool2d"/>), which never stores the
/// convolution's output.
/// </summary>
public sealed class SimpleConvNet : Module
{
    /// <summary>Creates the net for images of <paramref name="channels"/> × <paramref name="height"/> × <paramref name="width"/>.</summary>
    /// <param name="channels">Input channels (1 for the book's MNIST).</param>
    /// <param name="height">Image height (28 for MNIST).</param>
    /// <param name="width">Image width.</param>
    /// <param name="classes">Output classes.</param>
    /// <param name="filters">Convolution filters (the book's 30).</param>
    /// <param name="kernel">The filters' size (the book's 5).</param>
    /// <param name="hidden">Units of the hidden affine layer (the book's 100).</param>
    /// <param name="init">The weight initialization; He when null (the book uses σ = 0.01).</param>
    /// <param name="seed">The seed; the three layers use seed, seed + 1 and seed + 2; null draws one from the global generator (<see cref="Tensor.ManualSeed"/>).</param>
    /// <param name="dtype">The element type; <see cref="Tensor.DefaultDType"/> when null.</param>
    public SimpleConvNet(int channels = 1, int height = 28, int width = 28, int classes = 10, int filters = 30, int kernel = 5, int hidden = 100, WeightInit? init = null, int? seed = null, DType? dtype = null)
    {
        RequireSizes(nameof(SimpleConvNet), channels, height, width, classes, filters, kernel, hidden);
        if (kernel > height || kernel > width || (height - kernel + 1) / 2 < 1 || (width - kernel + 1) / 2 < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(kernel), kernel, $"SimpleConvNet: a {kernel}×{kernel} convolution and 2×2 pooling leave nothing of {height}×{width} images.");
        }

        Channels = channels;
        Height = height;
        Width = width;
        var he = init ?? WeightInit.He;
        Conv = RegisterModule("conv1", new Conv2d(channels, filters, kernel, init: he, seed: seed, dtype: dtype));
        var pooled = filters * ((height - kernel + 1) / 2) * ((width - kernel + 1) / 2);
        Affine1 = RegisterModule("affine1", new Linear(pooled, hidden, he, seed + 1, dtype));
        Affine2 = RegisterModule("affine2", new Linear(hidden, classes, he, seed + 2, dtype));
    }

    /// <summary>Input channels.</summary>
    public int Channels { get; }

    /// <summary>Image height.</summary>
    public int Height { get; }

    /// <summary>Image width.</summary>
    public int Width { get; }

    /// <summary>The convolution layer.</summary>
    public Conv2d Conv { get; }

    /// <summary>The hidden affine layer.</summary>
    public Linear Affine1 { get; }

    /// <summary>The output layer.</summary>
    public Linear Affine2 { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        Tensor hidden;
        using (ResultRecycling.Begin())
        {
            // The intermediate results never leave this method, so a training step reuses last step's objects.
            var images = input.Rank == 2 ? Ops.Reshape(input, input.Shape[0], Channels, Height, Width) : input;
            // ReLU after the pooling rather than before, as DeepConvNet does: the same values and gradients bit for
            // bit (max and ReLU commute), with a quarter of the ReLU's work (SimpleConvNet's step: see benchmarks.md).
            // The convolution and its pooling as one op: each image's 24×24 maps are pooled while in cache, never stored.
            var pooled = Ops.Relu(Ops.Conv2dMaxPool2d(images, Conv.Weight, Conv.Bias, 2, Conv.Stride, Conv.Padding, Conv.Dilation, Conv.Groups));
            // Affine reads (N, C, H, W) as N rows, as the book's Affine does: no Flatten node, whose backward pass would
            // copy the 1.7 MB gradient from one shape to the other.
            hidden = Ops.Relu(Affine1.Forward(pooled));
        }

        return Affine2.Forward(hidden);
    }
}
