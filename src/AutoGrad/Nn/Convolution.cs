using AutoGrad.Operations;
using AutoGrad.Tensors;

namespace AutoGrad.Nn;

/// <summary>A 2-D convolution layer over (N, C, H, W) images: <see cref="Ops.Conv2d"/> with its filters and bias.</summary>
public sealed class Conv2d : Module
{
    /// <summary>Creates the layer with He-initialized filters (the ReLU networks' default) and zero bias.</summary>
    /// <param name="inChannels">Input channels C.</param>
    /// <param name="outChannels">Filters F.</param>
    /// <param name="kernel">The kernel's (height, width), or one number for both.</param>
    /// <param name="stride">The step between windows (1 when null).</param>
    /// <param name="padding">Zeros added on each side (0 when null).</param>
    /// <param name="dilation">The spacing of the kernel's taps (1 when null).</param>
    /// <param name="groups">Channel groups (C and F must divide by it; C for depthwise).</param>
    /// <param name="bias">Whether the layer adds a bias (leave it out before a batch normalization).</param>
    /// <param name="init">The initialization; He (σ = √(2 / fan-in), fan-in = C / groups · kh · kw) when null.</param>
    /// <param name="seed">The seed for the filters; null draws one from the global generator (<see cref="Tensor.ManualSeed"/>).</param>
    /// <param name="dtype">The element type of the parameters; <see cref="Tensor.DefaultDType"/> when null.</param>
    public Conv2d(int inChannels, int outChannels, Size2d kernel, Size2d? stride = null, Size2d? padding = null, Size2d? dilation = null, int groups = 1, bool bias = true, WeightInit? init = null, int? seed = null, DType? dtype = null)
    {
        RequireSizes(nameof(Conv2d), inChannels, outChannels, kernel.Height, kernel.Width, groups);
        if (inChannels % groups != 0 || outChannels % groups != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(groups), groups, $"Conv2d: groups {groups} must divide both {inChannels} input channels and {outChannels} filters.");
        }

        var fanIn = inChannels / groups * kernel.Height * kernel.Width;
        var std = (init ?? WeightInit.He).StdFor(fanIn);
        Weight = RegisterParameter("weight", Tensor.RandomNormal([outChannels, inChannels / groups, kernel.Height, kernel.Width], seed, std: std, dtype: dtype));
        Bias = bias ? RegisterParameter("bias", Tensor.Zeros([outChannels], dtype)) : null;
        Stride = stride ?? 1;
        Padding = padding ?? 0;
        Dilation = dilation ?? 1;
        Groups = groups;
    }

    /// <summary>The filters, (F, C / groups, kh, kw), PyTorch's layout.</summary>
    public Tensor Weight { get; }

    /// <summary>The bias, (F,), or null.</summary>
    public Tensor? Bias { get; }

    /// <summary>The step between windows.</summary>
    public Size2d Stride { get; }

    /// <summary>The zeros added on each side.</summary>
    public Size2d Padding { get; }

    /// <summary>The spacing of the kernel's taps.</summary>
    public Size2d Dilation { get; }

    /// <summary>The channel groups.</summary>
    public int Groups { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Ops.Conv2d(input, Weight, Bias, Stride, Padding, Dilation, Groups);
}

/// <summary>A transposed convolution layer (upsampling by its stride); see <see cref="Ops.ConvTranspose2d"/>.</summary>
public sealed class ConvTranspose2d : Module
{
    /// <summary>Creates the layer with He-initialized filters and zero bias.</summary>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="kernel">The kernel's (height, width).</param>
    /// <param name="stride">The upsampling step (1 when null).</param>
    /// <param name="padding">Trimmed from each side of the output (0 when null).</param>
    /// <param name="outputPadding">Added at the bottom and right, below the stride (0 when null).</param>
    /// <param name="dilation">The spacing of the kernel's taps (1 when null).</param>
    /// <param name="groups">Channel groups.</param>
    /// <param name="bias">Whether the layer adds a bias.</param>
    /// <param name="init">The initialization; He over the fan-in (out / groups) · kh · kw when null.</param>
    /// <param name="seed">The seed for the filters; null draws one from the global generator (<see cref="Tensor.ManualSeed"/>).</param>
    /// <param name="dtype">The element type of the parameters; <see cref="Tensor.DefaultDType"/> when null.</param>
    public ConvTranspose2d(int inChannels, int outChannels, Size2d kernel, Size2d? stride = null, Size2d? padding = null, Size2d? outputPadding = null, Size2d? dilation = null, int groups = 1, bool bias = true, WeightInit? init = null, int? seed = null, DType? dtype = null)
    {
        RequireSizes(nameof(ConvTranspose2d), inChannels, outChannels, kernel.Height, kernel.Width, groups);
        if (inChannels % groups != 0 || outChannels % groups != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(groups), groups, $"ConvTranspose2d: groups {groups} must divide both {inChannels} input and {outChannels} output channels.");
        }

        var std = (init ?? WeightInit.He).StdFor(outChannels / groups * kernel.Height * kernel.Width);
        Weight = RegisterParameter("weight", Tensor.RandomNormal([inChannels, outChannels / groups, kernel.Height, kernel.Width], seed, std: std, dtype: dtype));
        Bias = bias ? RegisterParameter("bias", Tensor.Zeros([outChannels], dtype)) : null;
        Stride = stride ?? 1;
        Padding = padding ?? 0;
        OutputPadding = outputPadding ?? 0;
        Dilation = dilation ?? 1;
        Groups = groups;
    }

    /// <summary>The filters, (in, out / groups, kh, kw), PyTorch's layout for this layer.</summary>
    public Tensor Weight { get; }

    /// <summary>The bias, (out,), or null.</summary>
    public Tensor? Bias { get; }

    /// <summary>The upsampling step.</summary>
    public Size2d Stride { get; }

    /// <summary>Trimmed from each side of the output.</summary>
    public Size2d Padding { get; }

    /// <summary>Added at the bottom and right.</summary>
    public Size2d OutputPadding { get; }

    /// <summary>The spacing of the kernel's taps.</summary>
    public Size2d Dilation { get; }

    /// <summary>The channel groups.</summary>
    public int Groups { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Ops.ConvTranspose2d(input, Weight, Bias, Stride, Padding, OutputPadding, Dilation, Groups);
}

/// <summary>Max pooling as a layer; see <see cref="Ops.MaxPool2d"/>.</summary>
/// <param name="kernel">The window.</param>
/// <param name="stride">The step (the window's size when null).</param>
/// <param name="padding">Padding on each side, at most half the window.</param>
public sealed class MaxPool2d(Size2d kernel, Size2d? stride = null, Size2d? padding = null) : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Ops.MaxPool2d(input, kernel, stride, padding);
}

/// <summary>Average pooling as a layer; see <see cref="Ops.AvgPool2d"/>.</summary>
/// <param name="kernel">The window.</param>
/// <param name="stride">The step (the window's size when null).</param>
/// <param name="padding">Padding on each side, at most half the window.</param>
/// <param name="countIncludePad">Whether padded positions count in the divisor.</param>
public sealed class AvgPool2d(Size2d kernel, Size2d? stride = null, Size2d? padding = null, bool countIncludePad = true) : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Ops.AvgPool2d(input, kernel, stride, padding, countIncludePad);
}

/// <summary>Adaptive average pooling as a layer; an output of 1 is global average pooling. See <see cref="Ops.AdaptiveAvgPool2d"/>.</summary>
/// <param name="outputSize">The output's (height, width).</param>
public sealed class AdaptiveAvgPool2d(Size2d outputSize) : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Ops.AdaptiveAvgPool2d(input, outputSize);
}

/// <summary>Merges axes <paramref name="startAxis"/> … <paramref name="endAxis"/> (a view), by default (N, C, H, W) to (N, C·H·W).</summary>
/// <param name="startAxis">The first axis to merge.</param>
/// <param name="endAxis">The last axis to merge.</param>
public sealed class Flatten(int startAxis = 1, int endAxis = -1) : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Ops.Flatten(input, startAxis, endAxis);
}
