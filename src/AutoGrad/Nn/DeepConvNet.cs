using AutoGrad.Operations;
using AutoGrad.Tensors;

namespace AutoGrad.Nn;

/// <summary>
/// The book's DeepConvNet (chapter 8): six 3×3 convolutions with ReLU (16, 16, pool, 32, 32, pool, 64, 64, pool; padding
/// 1, and 2 on the fourth, as the book's), then Affine 50 → ReLU → Dropout 0.5 → Affine to the classes. He
/// initialization, as the book's. With <c>batchNorm</c>, a <see cref="BatchNorm2d"/> follows each convolution (whose
/// bias it makes redundant, so the convolutions then have none). Takes images, or flat rows it views as images. A ReLU
/// before a pooling runs after it, the same function bit for bit (max and ReLU commute) on a quarter of the elements.
/// </summary>
public sealed class DeepConvNet : Module
{
    private static readonly (int Filters, int Padding, bool PoolAfter)[] s_layers =
        [(16, 1, false), (16, 1, true), (32, 1, false), (32, 2, true), (64, 1, false), (64, 1, true)];

    private readonly List<(Conv2d Conv, BatchNorm2d? Norm, bool PoolAfter)> _blocks = [];

    /// <summary>Creates the net for images of <paramref name="channels"/> × <paramref name="height"/> × <paramref name="width"/>.</summary>
    /// <param name="channels">Input channels.</param>
    /// <param name="height">Image height (at least 8).</param>
    /// <param name="width">Image width (at least 8).</param>
    /// <param name="classes">Output classes.</param>
    /// <param name="batchNorm">Whether a batch normalization follows each convolution.</param>
    /// <param name="dropout">The dropout probability before the last layer (the book's 0.5).</param>
    /// <param name="seed">The seed: layer i uses seed + i, the dropout seed + 8; null draws one from the global generator (<see cref="Tensor.ManualSeed"/>).</param>
    /// <param name="dtype">The element type; <see cref="Tensor.DefaultDType"/> when null.</param>
    public DeepConvNet(int channels = 1, int height = 28, int width = 28, int classes = 10, bool batchNorm = false, double dropout = 0.5, int? seed = null, DType? dtype = null)
    {
        RequireSizes(nameof(DeepConvNet), channels, height, width, classes);
        if (height < 8 || width < 8)
        {
            throw new ArgumentOutOfRangeException(nameof(height), $"DeepConvNet: images of {height}×{width} are too small for three 2×2 poolings; it needs at least 8×8.");
        }

        Channels = channels;
        Height = height;
        Width = width;
        int c = channels, h = height, w = width;
        for (var i = 0; i < s_layers.Length; i++)
        {
            var (filters, padding, poolAfter) = s_layers[i];
            var conv = RegisterModule($"conv{i + 1}", new Conv2d(c, filters, 3, padding: padding, bias: !batchNorm, init: WeightInit.He, seed: seed + i, dtype: dtype));
            var norm = batchNorm ? RegisterModule($"norm{i + 1}", new BatchNorm2d(filters, dtype: dtype)) : null;
            _blocks.Add((conv, norm, poolAfter));
            (c, h, w) = (filters, h + (2 * padding) - 2, w + (2 * padding) - 2);
            if (poolAfter)
            {
                (h, w) = (h / 2, w / 2);
            }
        }

        Affine1 = RegisterModule("affine1", new Linear(c * h * w, 50, WeightInit.He, seed + 6, dtype));
        Dropout = RegisterModule("dropout", new Dropout(dropout, seed + 8));
        Affine2 = RegisterModule("affine2", new Linear(50, classes, WeightInit.He, seed + 7, dtype));
    }

    /// <summary>Input channels.</summary>
    public int Channels { get; }

    /// <summary>Image height.</summary>
    public int Height { get; }

    /// <summary>Image width.</summary>
    public int Width { get; }

    /// <summary>The hidden affine layer.</summary>
    public Linear Affine1 { get; }

    /// <summary>The dropout before the output layer.</summary>
    public Dropout Dropout { get; }

    /// <summary>The output layer.</summary>
    public Linear Affine2 { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        Tensor h;
        using (ResultRecycling.Begin())
        {
            // The intermediate results never leave this method, so a training step reuses last step's objects.
            h = input.Rank == 2 ? Ops.Reshape(input, input.Shape[0], Channels, Height, Width) : input;
            foreach (var (conv, norm, poolAfter) in _blocks)
            {
                h = conv.Forward(h);
                h = norm is null ? h : norm.Forward(h);

                // ReLU after the pooling rather than before: max and ReLU commute (both are monotone), so values and
                // gradients are the same bit for bit, and the ReLU then touches a quarter of the elements.
                h = Ops.Relu(poolAfter ? Ops.MaxPool2d(h, 2) : h);
            }

            // Affine reads (N, C, H, W) as N rows: no Flatten node to copy the gradient back into the pooled shape.
            h = Dropout.Forward(Ops.Relu(Affine1.Forward(h)));
        }

        return Affine2.Forward(h);
    }
}
