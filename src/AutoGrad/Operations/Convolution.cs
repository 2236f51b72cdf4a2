using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

using AutoGrad.Autodiff;
using AutoGrad.Kernels;
using AutoGrad.Tensors;

using static AutoGrad.Operations.OpSamples;

namespace AutoGrad.Operations;

/// <summary>
/// Convolutions in NCHW layout, and the im2col/col2im pair they are built on (chapter 7 of "Deep Learning from
/// Scratch"; DeZero's conv2d and im2col). The convolution is one matrix product per image and group on the columns.
/// </summary>
public static partial class Ops
{
    private static readonly Op s_im2Col = new Op<Im2ColRule>("Im2Col", readsInputs: false);
    private static readonly Op s_col2Im = new Op<Col2ImRule>("Col2Im", readsInputs: false);
    private static readonly Op s_conv2d = new Op<Conv2dRule>("Conv2d");
    private static readonly Op s_convTranspose2d = new Op<ConvTranspose2dRule>("ConvTranspose2d");

    /// <summary>
    /// The sliding windows of a batch of images as columns (PyTorch's <c>unfold</c>): (N, C, H, W) becomes
    /// (N, C·kh·kw, OH·OW), row (c, i, j) holding the pixel under kernel position (i, j) of channel c at every output
    /// position, 0 in the padding. ∂/∂x = <see cref="Col2Im"/>(g): the two are each other's adjoint.
    /// </summary>
    /// <param name="x">Images, (N, C, H, W).</param>
    /// <param name="kernel">The window's size.</param>
    /// <param name="stride">The step between windows (1 when null).</param>
    /// <param name="padding">Zeros added on each side (0 when null).</param>
    /// <param name="dilation">The spacing of the window's taps (1 when null).</param>
    /// <returns>The columns, (N, C·kh·kw, OH·OW).</returns>
    public static Tensor Im2Col(Tensor x, Size2d kernel, Size2d? stride = null, Size2d? padding = null, Size2d? dilation = null)
    {
        Check.NotNull(x, "Im2Col", nameof(x));
        return Unfold(x, Window("Im2Col", kernel, stride, padding, dilation));
    }

    /// <summary>
    /// The columns of <see cref="Im2Col"/> summed back onto images of <paramref name="outputSize"/> (PyTorch's
    /// <c>fold</c>): where windows overlap, their values add. ∂/∂columns = <see cref="Im2Col"/>(g).
    /// </summary>
    /// <param name="columns">Columns, (N, C·kh·kw, OH·OW).</param>
    /// <param name="outputSize">The images' (H, W).</param>
    /// <param name="kernel">The window's size.</param>
    /// <param name="stride">The step between windows (1 when null).</param>
    /// <param name="padding">The padding the columns were taken with (0 when null).</param>
    /// <param name="dilation">The spacing of the window's taps (1 when null).</param>
    /// <returns>The images, (N, C, H, W).</returns>
    public static Tensor Col2Im(Tensor columns, Size2d outputSize, Size2d kernel, Size2d? stride = null, Size2d? padding = null, Size2d? dilation = null)
    {
        Check.NotNull(columns, "Col2Im", nameof(columns));
        if (outputSize.Height <= 0 || outputSize.Width <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(outputSize), outputSize, $"Col2Im: the output size {outputSize} must be positive.");
        }

        return Fold(columns, outputSize.Height, outputSize.Width, Window("Col2Im", kernel, stride, padding, dilation));
    }

    /// <summary>
    /// The 2-D convolution (cross-correlation, as in every framework) of images with filters:
    /// y[n, f] = b[f] + Σ_c W[f, c] ⋆ x[n, c], over the channels of f's group. With <paramref name="groups"/> = C and
    /// F = k·C it is depthwise. A fused op: the forward and the hand-written backward are one matrix product per image
    /// and group on the columns (dx = col2im(Wᵀ·g), dW = Σ g·colsᵀ, db = Σ g), proven equal to the same computation
    /// from <see cref="Im2Col"/>, <see cref="MatMul"/> and <see cref="Reshape"/>.
    /// </summary>
    /// <param name="x">Images, (N, C, H, W).</param>
    /// <param name="weight">Filters, (F, C / groups, kh, kw).</param>
    /// <param name="bias">One value per filter, (F,), or null.</param>
    /// <param name="stride">The step between windows (1 when null).</param>
    /// <param name="padding">Zeros added on each side (0 when null).</param>
    /// <param name="dilation">The spacing of the kernel's taps (1 when null).</param>
    /// <param name="groups">Channel groups: C and F must both divide by it.</param>
    /// <returns>(N, F, OH, OW) with OH = ⌊(H + 2p − d(kh − 1) − 1) / s⌋ + 1, and OW alike.</returns>
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias = null, Size2d? stride = null, Size2d? padding = null, Size2d? dilation = null, int groups = 1)
    {
        var g = ConvolutionWindow("Conv2d", x, weight, bias, stride, padding, dilation, groups);
        var (outH, outW) = WindowOutput("Conv2d", x.Shape, g);
        var y = Tensor.Uninitialized(x.DType, Shape.FromDims([x.Shape[0], weight.Shape[0], outH, outW], "Conv2d", x.Shape, weight.Shape));
        ElementType.Dispatch(x.DType, new ConvForward(x, weight, bias, y, g, groups));
        Tape.Record(s_conv2d, y, x, weight, bias, NodeArgs.Of(WindowState.Of(g, x.Shape[2], x.Shape[3], groups)));
        return y;
    }

    /// <summary>
    /// The 1-D convolution of sequences (N, C, L) with filters (F, C / groups, k): <see cref="Conv2d"/> on a height of
    /// one, recorded as that (two reshapes around it).
    /// </summary>
    /// <param name="x">Sequences, (N, C, L).</param>
    /// <param name="weight">Filters, (F, C / groups, k).</param>
    /// <param name="bias">One value per filter, (F,), or null.</param>
    /// <param name="stride">The step between windows.</param>
    /// <param name="padding">Zeros added at each end.</param>
    /// <param name="dilation">The spacing of the kernel's taps.</param>
    /// <param name="groups">Channel groups.</param>
    /// <returns>(N, F, OL).</returns>
    public static Tensor Conv1d(Tensor x, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, int dilation = 1, int groups = 1)
    {
        Check.NotNull(x, "Conv1d", nameof(x));
        Check.NotNull(weight, "Conv1d", nameof(weight));
        RequireRank(x, 3, "Conv1d", "x", "(N, C, L)");
        RequireRank(weight, 3, "Conv1d", "weight", "(F, C / groups, k)");
        var y = Conv2d(
            Reshape(x, x.Shape[0], x.Shape[1], 1, x.Shape[2]),
            Reshape(weight, weight.Shape[0], weight.Shape[1], 1, weight.Shape[2]),
            bias,
            (1, stride),
            (0, padding),
            (1, dilation),
            groups);
        return Reshape(y, y.Shape[0], y.Shape[1], y.Shape[3]);
    }

    /// <summary>
    /// The transposed convolution (DeZero's deconv2d, PyTorch's <c>conv_transpose2d</c>): the adjoint of
    /// <see cref="Conv2d"/> with respect to its input, so it maps a (N, C_in, H, W) map up to
    /// (N, C_out, (H − 1)·s − 2p + d(kh − 1) + outputPadding + 1, …). Each input pixel scatters W[c_in, :] times its value
    /// onto the output: columns Wᵀ·x folded with col2im. ∂/∂x = Conv2d(g, W), ∂/∂W = Σ x·im2col(g)ᵀ, ∂/∂b = Σ g.
    /// </summary>
    /// <param name="x">Feature maps, (N, C_in, H, W).</param>
    /// <param name="weight">Filters, (C_in, C_out / groups, kh, kw), PyTorch's layout for this op.</param>
    /// <param name="bias">One value per output channel, (C_out,), or null.</param>
    /// <param name="stride">The stride of the convolution this inverts (1 when null).</param>
    /// <param name="padding">The padding of that convolution, trimmed from the output (0 when null).</param>
    /// <param name="outputPadding">Rows and columns added at the bottom and right, to reach the size a strided convolution
    /// rounded down from; each must be below the stride (0 when null).</param>
    /// <param name="dilation">The spacing of the kernel's taps (1 when null).</param>
    /// <param name="groups">Channel groups.</param>
    /// <returns>(N, C_out, OH, OW).</returns>
    public static Tensor ConvTranspose2d(Tensor x, Tensor weight, Tensor? bias = null, Size2d? stride = null, Size2d? padding = null, Size2d? outputPadding = null, Size2d? dilation = null, int groups = 1)
    {
        Check.NotNull(x, "ConvTranspose2d", nameof(x));
        Check.NotNull(weight, "ConvTranspose2d", nameof(weight));
        Check.SameType(x, weight, "ConvTranspose2d");
        RequireRank(x, 4, "ConvTranspose2d", "x", "(N, C_in, H, W)");
        RequireRank(weight, 4, "ConvTranspose2d", "weight", "(C_in, C_out / groups, kh, kw)");
        var channels = x.Shape[1];
        if (groups < 1 || channels % groups != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(groups), groups, $"ConvTranspose2d: groups {groups} must be positive and divide the {channels} channels of x {x.Shape}.");
        }

        if (weight.Shape[0] != channels)
        {
            throw new ShapeMismatchException($"ConvTranspose2d: weight {weight.Shape} expects {weight.Shape[0]} input channels, but x {x.Shape} has {channels}.");
        }

        var outChannels = weight.Shape[1] * groups;
        if (bias is not null)
        {
            Check.SameType(x, bias, "ConvTranspose2d");
            if (bias.Rank != 1 || bias.Length != outChannels)
            {
                throw new ShapeMismatchException($"ConvTranspose2d: bias {bias.Shape} must hold one value per output channel, ({outChannels},), for weight {weight.Shape}.");
            }
        }

        var g = Window("ConvTranspose2d", (weight.Shape[2], weight.Shape[3]), stride, padding, dilation);
        Size2d extra = outputPadding ?? 0;
        if (extra.Height < 0 || extra.Width < 0 || extra.Height >= g.StrideH || extra.Width >= g.StrideW)
        {
            // PyTorch also allows up to the dilation; below the stride, the output is exactly what a convolution with
            // this geometry maps back onto the input, which the fold relies on.
            throw new ArgumentOutOfRangeException(nameof(outputPadding), extra, $"ConvTranspose2d: the output padding {extra} must be non-negative and below the stride ({g.StrideH}, {g.StrideW}).");
        }

        long outH = ((long)(x.Shape[2] - 1) * g.StrideH) - (2L * g.PadH) + ((long)g.DilationH * (g.KernelH - 1)) + extra.Height + 1;
        long outW = ((long)(x.Shape[3] - 1) * g.StrideW) - (2L * g.PadW) + ((long)g.DilationW * (g.KernelW - 1)) + extra.Width + 1;
        if (outH < 1 || outW < 1 || outH > int.MaxValue || outW > int.MaxValue)
        {
            throw new ShapeMismatchException($"ConvTranspose2d: input {x.Shape} with weight {weight.Shape}, stride ({g.StrideH}, {g.StrideW}) and padding ({g.PadH}, {g.PadW}) gives an output of {outH}×{outW}.");
        }

        var y = Tensor.Uninitialized(x.DType, Shape.FromDims([x.Shape[0], outChannels, (int)outH, (int)outW], "ConvTranspose2d", x.Shape, weight.Shape));
        ElementType.Dispatch(x.DType, new ConvTransposeForward(x, weight, bias, y, g, groups));
        Tape.Record(s_convTranspose2d, y, x, weight, bias, NodeArgs.Of(WindowState.Of(g, (int)outH, (int)outW, groups)));
        return y;
    }

    /// <summary>
    /// Checks a convolution's arguments (x (N, C, H, W), weight (F, C / groups, kh, kw), bias (F,) or null, the
    /// groups) and returns its window; <paramref name="op"/> names the op in the exceptions.
    /// </summary>
    private static WindowGeometry ConvolutionWindow(string op, Tensor x, Tensor weight, Tensor? bias, Size2d? stride, Size2d? padding, Size2d? dilation, int groups)
    {
        Check.NotNull(x, op, nameof(x));
        Check.NotNull(weight, op, nameof(weight));
        Check.SameType(x, weight, op);
        RequireRank(x, 4, op, "x", "(N, C, H, W)");
        RequireRank(weight, 4, op, "weight", "(F, C / groups, kh, kw)");
        int channels = x.Shape[1], filters = weight.Shape[0];
        if (groups < 1 || channels % groups != 0 || filters % groups != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(groups), groups, $"{op}: groups {groups} must be positive and divide both the {channels} channels of x {x.Shape} and the {filters} filters of weight {weight.Shape}.");
        }

        if (weight.Shape[1] * groups != channels)
        {
            throw new ShapeMismatchException($"{op}: weight {weight.Shape} expects {weight.Shape[1] * groups} input channels ({weight.Shape[1]} per group × {groups} groups), but x {x.Shape} has {channels}.");
        }

        if (bias is not null)
        {
            Check.NotNull(bias, op, nameof(bias));
            Check.SameType(x, bias, op);
            if (bias.Rank != 1 || bias.Length != filters)
            {
                throw new ShapeMismatchException($"{op}: bias {bias.Shape} must hold one value per filter, ({filters},), for weight {weight.Shape}.");
            }
        }

        return Window(op, (weight.Shape[2], weight.Shape[3]), stride, padding, dilation);
    }

    /// <summary>A window's geometry from the public arguments, refusing sizes no framework accepts.</summary>
    private static WindowGeometry Window(string op, Size2d kernel, Size2d? stride, Size2d? padding, Size2d? dilation)
    {
        Size2d s = stride ?? 1, p = padding ?? 0, d = dilation ?? 1;
        if (kernel.Height < 1 || kernel.Width < 1 || (long)kernel.Height * kernel.Width > 1 << 24)
        {
            throw new ArgumentOutOfRangeException(nameof(kernel), kernel, $"{op}: the kernel {kernel} must be at least 1 × 1 and at most 2^24 taps.");
        }

        if (s.Height < 1 || s.Width < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(stride), s, $"{op}: the stride {s} must be at least 1.");
        }

        if (p.Height < 0 || p.Width < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(padding), p, $"{op}: the padding {p} must not be negative.");
        }

        if (d.Height < 1 || d.Width < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(dilation), d, $"{op}: the dilation {d} must be at least 1.");
        }

        return new WindowGeometry(kernel.Height, kernel.Width, s.Height, s.Width, p.Height, p.Width, d.Height, d.Width);
    }

    /// <summary>The output's (OH, OW) for a (N, C, H, W) input, or the shape exception when the window does not fit.</summary>
    private static (int Height, int Width) WindowOutput(string op, Shape input, in WindowGeometry g) => WindowOutput(op, input, input[2], input[3], g);

    private static (int Height, int Width) WindowOutput(string op, Shape input, int height, int width, in WindowGeometry g)
    {
        long spanH = ((long)g.DilationH * (g.KernelH - 1)) + 1, spanW = ((long)g.DilationW * (g.KernelW - 1)) + 1;
        if (height + (2L * g.PadH) < spanH || width + (2L * g.PadW) < spanW)
        {
            throw new ShapeMismatchException(
                $"{op}: a {g.KernelH}×{g.KernelW} window (dilation ({g.DilationH}, {g.DilationW}), spanning {spanH}×{spanW}) does not fit the input {input} padded by ({g.PadH}, {g.PadW}).");
        }

        return (g.OutputHeight(height), g.OutputWidth(width));
    }

    private static void RequireRank(Tensor x, int rank, string op, string name, string layout)
    {
        if (x.Rank != rank)
        {
            throw new ShapeMismatchException($"{op}: {name} must be {layout}, got shape {x.Shape}.");
        }
    }

    /// <summary>Im2Col with the geometry worked out.</summary>
    private static Tensor Unfold(Tensor x, in WindowGeometry g)
    {
        RequireRank(x, 4, "Im2Col", "x", "(N, C, H, W)");
        var (outH, outW) = WindowOutput("Im2Col", x.Shape, g);
        var y = Tensor.Uninitialized(x.DType, Shape.FromDims([x.Shape[0], x.Shape[1] * g.KernelSize, outH * outW], "Im2Col", x.Shape));
        ElementType.Dispatch(x.DType, new UnfoldAll(x, y, g));
        Tape.Record(s_im2Col, y, x, null, null, NodeArgs.Of(WindowState.Of(g, x.Shape[2], x.Shape[3], 1)));
        return y;
    }

    /// <summary>Col2Im with the geometry worked out.</summary>
    private static Tensor Fold(Tensor columns, int height, int width, in WindowGeometry g)
    {
        RequireRank(columns, 3, "Col2Im", "columns", "(N, C·kh·kw, OH·OW)");
        var (outH, outW) = WindowOutput("Col2Im", columns.Shape, height, width, g);
        if (columns.Shape[1] % g.KernelSize != 0 || columns.Shape[2] != outH * outW)
        {
            throw new ShapeMismatchException(
                $"Col2Im: columns {columns.Shape} do not match a {g.KernelH}×{g.KernelW} window over {height}×{width} images: expected (N, C·{g.KernelSize}, {outH * outW}).");
        }

        var channels = columns.Shape[1] / g.KernelSize;
        var y = Tensor.Uninitialized(columns.DType, Shape.FromDims([columns.Shape[0], channels, height, width], "Col2Im", columns.Shape));
        ElementType.Dispatch(columns.DType, new FoldAll(columns, y, g));
        Tape.Record(s_col2Im, y, columns, null, null, NodeArgs.Of(WindowState.Of(g, height, width, 1)));
        return y;
    }

    /// <summary>Conv2d from primitives (its composition check, and its rule in ops): im2col, one batched matrix product, the bias.</summary>
    private static Tensor ComposedConv2d(Tensor x, Tensor weight, Tensor? bias, in WindowGeometry g, int groups)
    {
        int n = x.Shape[0], channels = x.Shape[1], filters = weight.Shape[0];
        var (outH, outW) = WindowOutput("Conv2d", x.Shape, g);
        var columns = Reshape(Unfold(x, g), n, groups, channels / groups * g.KernelSize, outH * outW);
        var filterRows = Reshape(weight, groups, filters / groups, channels / groups * g.KernelSize);
        var y = Reshape(MatMul(filterRows, columns), n, filters, outH, outW);
        return bias is null ? y : y + Reshape(bias, 1, filters, 1, 1);
    }

    /// <summary>What a windowed op's rules need: the geometry, the input's height and width, and the groups.</summary>
    private sealed record WindowState(WindowGeometry Geometry, int Height, int Width, int Groups)
    {
        /// <summary>The last states this thread recorded: a net's layers repeat theirs every step.</summary>
        [ThreadStatic]
        private static WindowState?[]? s_recent;

        [ThreadStatic]
        private static int s_next;

        /// <summary>
        /// An equal state recorded before on this thread, or a new one: immutable, so nodes can share it, and a training
        /// step then allocates none (a net has fewer windowed layers than the 16 remembered).
        /// </summary>
        public static WindowState Of(in WindowGeometry geometry, int height, int width, int groups)
        {
            var recent = s_recent ??= new WindowState?[16];
            foreach (var state in recent)
            {
                if (state is not null && state.Geometry == geometry && state.Height == height && state.Width == width && state.Groups == groups)
                {
                    return state;
                }
            }

            var created = new WindowState(geometry, height, width, groups);
            recent[s_next] = created;
            s_next = (s_next + 1) % recent.Length;
            return created;
        }
    }

    private readonly struct UnfoldAll(Tensor x, Tensor columns, WindowGeometry g) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T> => UnfoldInto<T>(x.Raw<T>(), x.Shape, g, columns.Raw<T>());
    }

    private readonly struct FoldAll(Tensor columns, Tensor images, WindowGeometry g) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T> => FoldInto<T>(columns.Raw<T>(), images.Shape, g, images.Raw<T>());
    }

    /// <summary>images = col2im(columns), for a whole batch (the images are overwritten).</summary>
    private static void FoldInto<T>(ReadOnlySpan<T> columns, Shape images, in WindowGeometry g, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int count = images[0], channels = images[1], height = images[2], width = images[3];
        int imageSize = channels * height * width, columnSize = count == 0 ? 0 : columns.Length / count;
        destination.Clear();
        for (var i = 0; i < count; i++)
        {
            Kernels.Im2Col.Fold(columns.Slice(i * columnSize, columnSize), channels, height, width, g, destination.Slice(i * imageSize, imageSize));
        }
    }

    /// <summary>columns = im2col(images), for a whole batch.</summary>
    private static void UnfoldInto<T>(ReadOnlySpan<T> images, Shape shape, in WindowGeometry g, Span<T> columns)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int count = shape[0], channels = shape[1], height = shape[2], width = shape[3];
        int imageSize = channels * height * width, columnSize = count == 0 ? 0 : columns.Length / count;
        for (var i = 0; i < count; i++)
        {
            Kernels.Im2Col.Unfold(images.Slice(i * imageSize, imageSize), channels, height, width, g, columns.Slice(i * columnSize, columnSize));
        }
    }

    /// <summary>The forward convolution: per image (images split across the worker threads), the columns, one product per group, the bias.</summary>
    private readonly struct ConvForward(Tensor x, Tensor weight, Tensor? bias, Tensor y, WindowGeometry g, int groups) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var work = ConvImages<T>.ForThisThread();
            work.Set(ConvImages<T>.Phase.Forward, x, weight, y, new ConvShape(x.Shape, weight.Shape, y.Shape, g, groups), g, groups);
            work.Bias = bias;
            work.Run(work.Shape.Images);
        }
    }

    /// <summary>
    /// A convolution's per-image work, shared with the worker threads (<see cref="WorkerPool"/>): the forward pass,
    /// the input gradient (an image each) and the filter gradient (a fixed block of images each, summed in block
    /// order afterwards, so the result does not depend on the thread count). One instance per calling thread, reused,
    /// so a training step allocates nothing for it; each item rents its own columns.
    /// </summary>
    private sealed class ConvImages<T> : IParallelWork
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>The filter gradient is split into at most this many blocks of images, whatever the thread count.</summary>
        public const int MaxBlocks = 8;

        /// <summary>
        /// The fewest vectors of positions per dot product for the direct filter gradient: below, its 24 horizontal sums
        /// per tile cost more than the columns save (eight 8×8 images, 37 vectors: 1.63 ms against 1.27 by im2col).
        /// </summary>
        private const int MinDotColumns = 64;

        [ThreadStatic]
        private static ConvImages<T>? s_instance;

        public enum Phase
        {
            Forward,
            InputGradient,
            FilterGradient,
        }

        public Phase Step { get; private set; }

        public ConvShape Shape { get; private set; }

        public Tensor? Bias { get; set; }

        /// <summary>The upstream gradient, for the backward phases.</summary>
        public ArraySegment<T> Upstream { get; set; }

        /// <summary>
        /// Where the input gradient goes, for <see cref="Phase.InputGradient"/>; offered to
        /// <see cref="Phase.FilterGradient"/> too, which computes it in the same pass where it can
        /// (<see cref="InputGradientDone"/>).
        /// </summary>
        public ArraySegment<T> InputGradient { get; set; }

        /// <summary>
        /// One bias gradient per block (F each), offered to <see cref="Phase.FilterGradient"/>, which sums the upstream
        /// gradient there on its direct path (<see cref="BiasGradientDone"/>); empty when not wanted.
        /// </summary>
        public T[] BlockBiasGradients { get; set; } = [];

        /// <summary>Whether the last <see cref="Phase.FilterGradient"/> run also wrote <see cref="InputGradient"/>.</summary>
        public bool InputGradientDone { get; private set; }

        /// <summary>Whether the last <see cref="Phase.FilterGradient"/> run also filled <see cref="BlockBiasGradients"/>.</summary>
        public bool BiasGradientDone { get; private set; }

        /// <summary>
        /// One filter gradient per block, for <see cref="Phase.FilterGradient"/>, each group's block transposed
        /// (kernel positions × filters; <see cref="TransposeGroups{T}"/> turns the sum back).
        /// </summary>
        public T[] BlockGradients { get; set; } = [];

        public int BlockSize { get; set; }

        /// <summary>
        /// The window of a max pooling fused after the convolution (<see cref="Conv2dMaxPool2d"/>; (0, 0) when none):
        /// the forward pass then pools each image's output, which stays in the workspace, into <see cref="Pooled"/> and
        /// <see cref="Choices"/>, and the filter gradient scatters each image's upstream gradient from the pooled one
        /// (<see cref="Pooled"/> again) and the choices into the workspace right before it is read.
        /// </summary>
        public (int Height, int Width) Pool { get; set; }

        /// <summary>The pooled output (forward) or its gradient (filter gradient), when <see cref="Pool"/> is set.</summary>
        public ArraySegment<T> Pooled { get; set; }

        /// <summary>The pooling's choices (<see cref="PoolChoices"/>; bytes in a float32 tensor), when <see cref="Pool"/> is set.</summary>
        public Tensor? Choices { get; set; }

        private bool Pooling => Pool.Height > 0;

        /// <summary>The pooled elements of one image.</summary>
        private int PooledImageSize => Shape.Filters * (Shape.OutputHeight / Pool.Height) * (Shape.OutputWidth / Pool.Width);

        /// <summary>The workspace for one image's output planes when pooling, whole cache lines so that what follows starts on one.</summary>
        private int PlanesLength => Pooling ? (Shape.OutputSize + LineElements - 1) / LineElements * LineElements : 0;

        private static int LineElements => 64 / Unsafe.SizeOf<T>();

        private Tensor _x = null!;
        private Tensor _weight = null!;
        // The output, for the forward pass (null for the backward phases, and when a fused pooling takes the output).
        private Tensor? _y;
        private WindowGeometry _g;
        private int _groups;

        // The direct path (Kernels.DirectConvolution) of this call, when it takes one: its plan for a group of images
        // side by side, the filters packed once for every image, and the offsets of the plan's depth steps. The arrays
        // are kept and regrown across calls.
        private bool _direct;
        private DirectPlan<T> _plan;
        private T[] _packed = [];
        private DirectTables<T> _tables;

        // Whether the filter gradient (not on the direct path) sums dot products of the upstream gradient's rows and the
        // columns' (Kernels.RowDots) rather than multiplying per image.
        private bool _dots;

        // The input gradient's plan, flipped filters and tables when the filter gradient's pass computes it too
        // (Kernels.DirectFilterGradient.Backward).
        private bool _fusedInput;
        private DirectPlan<T> _adjoint;
        private T[] _flipped = [];
        private DirectTables<T> _adjointTables;

        public static ConvImages<T> ForThisThread() => s_instance ??= new ConvImages<T>();

        public void Set(Phase step, Tensor x, Tensor weight, Tensor? y, ConvShape shape, in WindowGeometry g, int groups)
        {
            Step = step;
            _x = x;
            _weight = weight;
            _y = y;
            Shape = shape;
            _g = g;
            _groups = groups;
            Bias = null;
            Pool = default;
            Pooled = default;
            Choices = null;
        }

        public void Run(int items)
        {
            InputGradientDone = BiasGradientDone = false;
            try
            {
                _direct = Step switch
                {
                    Phase.Forward => PrepareForward(),
                    Phase.InputGradient => PrepareInputGradient(),
                    _ => PrepareFilterGradient(),
                };
                if (_direct && Step != Phase.FilterGradient)
                {
                    items = (Shape.Images + _plan.Images - 1) / _plan.Images;
                }

                _dots = Step == Phase.FilterGradient && !_direct && RowDots.IsSupported && Shape.Positions >= RowDots.WorthwhileDepth<T>();
                BiasGradientDone |= _dots && BlockBiasGradients.Length > 0;

                WorkerPool.Run(this, items, Parallelism.MaxThreads);
            }
            finally
            {
                if (_direct)
                {
                    _tables.Return();
                    _direct = false;
                }

                _dots = false;

                if (_fusedInput)
                {
                    _adjointTables.Return();
                    _fusedInput = false;
                }

                BlockBiasGradients = [];

                // Let go of the tensors, so the reused instance keeps no step's memory alive.
                _x = _weight = null!;
                _y = null;
                Bias = null;
                Upstream = InputGradient = Pooled = default;
                Pool = default;
                Choices = null;
            }
        }

        public void Execute(int item)
        {
            var shape = Shape;
            var size = _dots ? DotsWorkspaceLength()
                : !_direct && Step == Phase.Forward ? ForwardWorkspaceLength
                : !_direct ? shape.ColumnSize
                : _fusedInput ? DirectFilterGradient.BackwardWorkspaceLength(_plan, _adjoint)
                : Step == Phase.FilterGradient ? _plan.FilterWorkspaceLength : _plan.WorkspaceLength;
            var planesLength = PlanesLength;
            var columns = ArrayPool<T>.Shared.Rent(CacheLines.RentLength<T>(planesLength + size));
            try
            {
                var workspace = CacheLines.Aligned(columns, planesLength + size);
                var planes = workspace[..planesLength];
                var cols = workspace[planesLength..];
                switch (Step)
                {
                    case Phase.Forward when _direct:
                        {
                            int first = item * _plan.Images, count = Math.Min(_plan.Images, shape.Images - first);
                            var (plan, tables) = PlanFor(count);
                            try
                            {
                                ReadOnlySpan<T> x = _x.Raw<T>();
                                DirectConvolution.Run(
                                    plan, x.Slice(first * shape.ImageSize, count * shape.ImageSize), _packed, tables,
                                    Bias is null ? default : Bias.Raw<T>(), _y!.Raw<T>().Slice(first * shape.OutputSize, count * shape.OutputSize), cols,
                                    NextGroup(x, first + count, shape.ImageSize), NextGroup(_y!.Raw<T>(), first + count, shape.OutputSize));
                            }
                            finally
                            {
                                Release(tables);
                            }

                            break;
                        }

                    case Phase.Forward:
                        Forward(item, cols, planes);
                        break;
                    case Phase.InputGradient when _direct:
                        {
                            int first = item * _plan.Images, count = Math.Min(_plan.Images, shape.Images - first);
                            var (plan, tables) = PlanFor(count);
                            try
                            {
                                DirectConvolution.Run(
                                    plan, Upstream.AsSpan(first * shape.OutputSize, count * shape.OutputSize), _packed, tables,
                                    default, InputGradient.AsSpan(first * shape.ImageSize, count * shape.ImageSize), cols,
                                    NextGroup(Upstream, first + count, shape.OutputSize), NextGroup(InputGradient, first + count, shape.ImageSize));
                            }
                            finally
                            {
                                Release(tables);
                            }

                            break;
                        }

                    case Phase.InputGradient:
                        Backward(item, cols);
                        break;
                    default:
                        Filters(item, cols, planes);
                        break;
                }
            }
            finally
            {
                ArrayPool<T>.Shared.Return(columns);
            }
        }

        /// <summary>Plans the forward pass's direct path where it is worthwhile (one group; see <see cref="DirectConvolution"/>).</summary>
        private bool PrepareForward()
        {
            var shape = Shape;
            var images = DirectConvolution.ImagesPerRow(_g, shape.Height, shape.Width, shape.Images);
            if (Pooling || !DirectForwardPays)
            {
                return false;
            }

            Prepare(new DirectPlan<T>(shape.Channels, shape.Height, shape.Width, _g, shape.Filters, images));
            DirectConvolution.PackFilters<T>(_weight.Raw<T>(), shape.Filters, shape.Depth, _plan.PanelRows, _packed);
            DirectConvolution.PrepareWinograd<T>(_plan, _packed);
            return true;
        }

        /// <summary>
        /// Whether the forward pass would take the direct path (which works on several images side by side, so a
        /// pooling cannot follow it image by image), for the shapes of the last <see cref="Set"/>.
        /// </summary>
        public bool DirectForwardPays =>
            _groups == 1 && DirectConvolution.Worthwhile<T>(_g, Shape.Height, Shape.Width, DirectConvolution.ImagesPerRow(_g, Shape.Height, Shape.Width, Shape.Images));

        /// <summary>
        /// Plans the input gradient's direct path: at stride 1, dx is the convolution of the upstream gradient by the
        /// flipped filters with padding d(k − 1) − p, which must not be negative.
        /// </summary>
        private bool PrepareInputGradient()
        {
            var shape = Shape;
            var g = _g;
            if (_groups != 1 || g.StrideH != 1 || g.StrideW != 1 || AdjointGeometry() is not { } adjoint)
            {
                return false;
            }

            int outH = shape.OutputHeight, outW = shape.OutputWidth;
            var images = DirectConvolution.ImagesPerRow(adjoint, outH, outW, shape.Images);
            if (!DirectConvolution.Worthwhile<T>(adjoint, outH, outW, images))
            {
                return false;
            }

            Prepare(new DirectPlan<T>(shape.Filters, outH, outW, adjoint, shape.Channels, images));
            DirectConvolution.PackFlippedFilters<T>(_weight.Raw<T>(), shape.Filters, shape.Channels, g.KernelH, g.KernelW, _plan.PanelRows, _packed);
            DirectConvolution.PrepareWinograd<T>(_plan, _packed);
            return true;
        }

        /// <summary>
        /// Plans the filter gradient's direct path (<see cref="DirectFilterGradient.Run{T}"/>): dot products
        /// along the positions of a group of images side by side, whose sums cost little only where each covers many of
        /// them (DeepConvNet's second layer: 2.5 → 1.8 ms per batch; three channels: 3× faster than the product on
        /// columns), or, where <see cref="WinogradFilterGradient.Pays{T}"/>, Winograd's transform, which short rows do
        /// not hurt (DeepConvNet's 64-channel 8×8 layer).
        /// </summary>
        private bool PrepareFilterGradient()
        {
            if (Pooling || FilterGradientPlan() is not { } plan)
            {
                return false;
            }

            Prepare(plan);
            BiasGradientDone = BlockBiasGradients.Length > 0;
            InputGradientDone = _fusedInput = InputGradient.Count > 0 && PrepareFusedInputGradient();
            return true;
        }

        /// <summary>
        /// The direct filter gradient's plan for the shapes and <see cref="BlockSize"/> of the last <see cref="Set"/>,
        /// or null where it does not pay.
        /// </summary>
        public DirectPlan<T>? FilterGradientPlan()
        {
            var shape = Shape;
            // A group never spans two blocks: a block's images are split into equal groups (13 images of 14×14, eleven
            // a row: 7 and 6 rather than 11 and 2), and a block smaller than a row makes the dot products shorter.
            var perRow = DirectConvolution.ImagesPerRow(_g, shape.Height, shape.Width, shape.Images);
            var groups = (BlockSize + perRow - 1) / perRow;
            var images = (BlockSize + groups - 1) / groups;
            if (_groups != 1 || !DirectConvolution.Worthwhile<T>(_g, shape.Height, shape.Width, images))
            {
                return null;
            }

            var plan = new DirectPlan<T>(shape.Channels, shape.Height, shape.Width, _g, shape.Filters, images);
            return !WinogradFilterGradient.Pays(plan) && plan.Columns < MinDotColumns * System.Runtime.Intrinsics.Vector512<T>.Count ? null : plan;
        }

        /// <summary>
        /// The input gradient's window at stride 1: the flipped kernel with padding d(k − 1) − p, or null where that is
        /// negative (padding wider than the kernel's span).
        /// </summary>
        private WindowGeometry? AdjointGeometry()
        {
            var g = _g;
            int padH = (g.DilationH * (g.KernelH - 1)) - g.PadH, padW = (g.DilationW * (g.KernelW - 1)) - g.PadW;
            return padH < 0 || padW < 0 ? null : g with { PadH = padH, PadW = padW };
        }

        /// <summary>
        /// Plans the input gradient inside the filter gradient's pass where the padded upstream gradient can serve
        /// both (<see cref="DirectFilterGradient.CanShare{T}"/>: "same" padding), with the same images side by side.
        /// </summary>
        private bool PrepareFusedInputGradient()
        {
            var shape = Shape;
            var g = _g;
            if (AdjointGeometry() is not { } adjointGeometry)
            {
                return false;
            }

            int outH = shape.OutputHeight, outW = shape.OutputWidth;
            if (!DirectConvolution.Worthwhile<T>(adjointGeometry, outH, outW, _plan.Images))
            {
                return false;
            }

            var adjoint = new DirectPlan<T>(shape.Filters, outH, outW, adjointGeometry, shape.Channels, _plan.Images);
            if (!DirectFilterGradient.CanShare(_plan, adjoint))
            {
                return false;
            }

            _adjoint = adjoint;
            if (_flipped.Length < adjoint.PackedFiltersLength)
            {
                _flipped = new T[adjoint.PackedFiltersLength];
            }

            DirectConvolution.PackFlippedFilters<T>(_weight.Raw<T>(), shape.Filters, shape.Channels, g.KernelH, g.KernelW, adjoint.PanelRows, _flipped);
            DirectConvolution.PrepareWinograd<T>(adjoint, _flipped);
            _adjointTables = DirectTables<T>.Rent(adjoint, withSegments: true);
            return true;
        }

        /// <summary>
        /// Takes <paramref name="plan"/> for this call, sizes the packed filters and rents the plan's tables (with
        /// segments for the passes that write an output), which <see cref="Run"/> returns.
        /// </summary>
        private void Prepare(in DirectPlan<T> plan)
        {
            _plan = plan;
            if (_packed.Length < plan.PackedFiltersLength)
            {
                _packed = new T[plan.PackedFiltersLength];
            }

            _tables = DirectTables<T>.Rent(plan, withSegments: Step != Phase.FilterGradient);
        }

        /// <summary>
        /// The plan for <paramref name="count"/> images side by side and its tables: this call's for a whole group,
        /// else (the batch's or a block's last few images) a plan of its own with tables rented for it, which
        /// <see cref="Release"/> returns.
        /// </summary>
        private (DirectPlan<T> Plan, DirectTables<T> Tables) PlanFor(int count)
        {
            if (count == _plan.Images)
            {
                return (_plan, _tables);
            }

            var plan = _plan.WithImages(count);
            return (plan, DirectTables<T>.Rent(plan, withSegments: Step != Phase.FilterGradient));
        }

        /// <summary>
        /// The images of the group after this one, from image <paramref name="next"/> on (<paramref name="size"/>
        /// elements each), for the direct path to prefetch; empty after the last group.
        /// </summary>
        private ReadOnlySpan<T> NextGroup(ReadOnlySpan<T> all, int next, int size)
        {
            var count = Math.Min(_plan.Images, Shape.Images - next);
            return count > 0 ? all.Slice(next * size, count * size) : default;
        }

        /// <summary>Returns tables that <see cref="PlanFor"/> rented.</summary>
        private void Release(in DirectTables<T> tables)
        {
            if (tables.Offsets != _tables.Offsets)
            {
                tables.Return();
            }
        }

        /// <summary>
        /// Whether the forward pass reads the columns from the image's shifted copies (<see cref="ShiftedConvolution"/>):
        /// for shallow sums, where im2col and the GEMM's packing cost most next to the products (SimpleConvNet's 25-deep
        /// layer, few-channel first layers); deep ones keep the GEMM, whose blocking and narrow tails serve them better.
        /// </summary>
        private bool ShiftedForward => ShiftedConvolution.IsSupported && ShiftedRows.Fits(_g) && Shape.Depth <= ShiftedConvolution.WorthwhileDepth;

        /// <summary>The forward pass's workspace off the direct path: the columns, or the shifted copies with their slack.</summary>
        private int ForwardWorkspaceLength => ShiftedForward ? ShiftedCopiesLength + ShiftedConvolution.Slack<T>() : Shape.ColumnSize;

        /// <summary>The elements of one image's shifted copies (<see cref="ShiftedRows"/>).</summary>
        private int ShiftedCopiesLength => ShiftedRows.Length(Shape.Channels, _g, _g.OutputHeight(Shape.Height), _g.OutputWidth(Shape.Width));

        /// <summary>Where each of im2col's rows starts in the shifted copies, in im2col's row order.</summary>
        private void ShiftedOffsets(Span<int> offsets) => ShiftedRows.Offsets(Shape.Channels, _g, _g.OutputHeight(Shape.Height), _g.OutputWidth(Shape.Width), offsets);

        /// <summary>
        /// One image's output, into the output tensor, or, when pooling, into <paramref name="planes"/> (in cache) and
        /// from there pooled into the pooled tensor and the choices.
        /// </summary>
        private void Forward(int image, Span<T> cols, Span<T> planes)
        {
            var shape = Shape;
            var output = Pooling ? planes : _y!.Raw<T>().Slice(image * shape.OutputSize, shape.OutputSize);
            Convolve(image, cols, output);
            if (Pooling)
            {
                var size = PooledImageSize;
                PoolChoices.Forward<T>(
                    output, shape.Filters, shape.OutputHeight, shape.OutputWidth, Pool.Height, Pool.Width, Pooled.AsSpan(image * size, size),
                    MemoryMarshal.AsBytes(Choices!.Raw<float>()).Slice(image * size, size));
            }
        }

        private void Convolve(int image, Span<T> cols, Span<T> output)
        {
            var shape = Shape;
            ReadOnlySpan<T> filters = _weight.Raw<T>();
            if (ShiftedForward)
            {
                Span<int> offsets = stackalloc int[shape.Channels * _g.KernelSize];
                ShiftedOffsets(offsets);
                ShiftedRows.Copy<T>(_x.Raw<T>().Slice(image * shape.ImageSize, shape.ImageSize), shape.Channels, shape.Height, shape.Width, _g, cols);
                for (var group = 0; group < _groups; group++)
                {
                    ShiftedConvolution.Run<T>(
                        shape.FiltersPerGroup, shape.Depth, shape.Positions, filters.Slice(group * shape.FiltersPerGroup * shape.Depth, shape.FiltersPerGroup * shape.Depth),
                        cols, offsets.Slice(group * shape.Depth, shape.Depth), Bias is null ? default : Bias.Raw<T>().Slice(group * shape.FiltersPerGroup, shape.FiltersPerGroup),
                        output.Slice(group * shape.FiltersPerGroup * shape.Positions, shape.FiltersPerGroup * shape.Positions));
                }

                return;
            }

            Kernels.Im2Col.Unfold<T>(_x.Raw<T>().Slice(image * shape.ImageSize, shape.ImageSize), shape.Channels, shape.Height, shape.Width, _g, cols);
            for (var group = 0; group < _groups; group++)
            {
                Gemm.Multiply<T>(
                    false, false, shape.FiltersPerGroup, shape.Positions, shape.Depth,
                    filters.Slice(group * shape.FiltersPerGroup * shape.Depth, shape.FiltersPerGroup * shape.Depth),
                    cols.Slice(group * shape.Depth * shape.Positions, shape.Depth * shape.Positions),
                    output.Slice(group * shape.FiltersPerGroup * shape.Positions, shape.FiltersPerGroup * shape.Positions),
                    accumulate: false);
            }

            if (Bias is not null)
            {
                AddPerChannel<T>(output, Bias.Raw<T>(), shape.Positions);
            }
        }

        private void Backward(int image, Span<T> cols)
        {
            var shape = Shape;
            ReadOnlySpan<T> filters = _weight.Raw<T>();
            ReadOnlySpan<T> upstream = Upstream.AsSpan(image * shape.OutputSize, shape.OutputSize);
            for (var group = 0; group < _groups; group++)
            {
                Gemm.Multiply<T>(
                    true, false, shape.Depth, shape.Positions, shape.FiltersPerGroup,
                    filters.Slice(group * shape.FiltersPerGroup * shape.Depth, shape.FiltersPerGroup * shape.Depth),
                    upstream.Slice(group * shape.FiltersPerGroup * shape.Positions, shape.FiltersPerGroup * shape.Positions),
                    cols.Slice(group * shape.Depth * shape.Positions, shape.Depth * shape.Positions),
                    accumulate: false);
            }

            var dx = InputGradient.AsSpan(image * shape.ImageSize, shape.ImageSize);
            dx.Clear();
            Kernels.Im2Col.FoldConsuming<T>(cols, shape.Channels, shape.Height, shape.Width, _g, dx);
        }

        /// <summary>
        /// Image <paramref name="image"/>'s upstream gradient: its slice of <see cref="Upstream"/>, or, when pooling,
        /// scattered from the pooled gradient and the choices into <paramref name="planes"/>.
        /// </summary>
        private ReadOnlySpan<T> ImageUpstream(int image, Span<T> planes)
        {
            var shape = Shape;
            if (!Pooling)
            {
                return Upstream.AsSpan(image * shape.OutputSize, shape.OutputSize);
            }

            var size = PooledImageSize;
            PoolChoices.Scatter<T>(
                MemoryMarshal.AsBytes(Choices!.Raw<float>()).Slice(image * size, size), Pooled.AsSpan(image * size, size), shape.Filters, shape.OutputHeight, shape.OutputWidth,
                Pool.Height, Pool.Width, planes);
            return planes;
        }

        private void Filters(int block, Span<T> cols, Span<T> planes)
        {
            var shape = Shape;
            var filterSize = shape.Filters * shape.Depth;
            var gradient = BlockGradients.AsSpan(block * filterSize, filterSize);
            ReadOnlySpan<T> images = _x.Raw<T>(), upstream = Upstream;
            var last = Math.Min(shape.Images, (block + 1) * BlockSize);
            if (_direct)
            {
                // Groups of images side by side within the block; the block's last few images, when it is not a whole
                // number of groups, get a plan of their own (blocks stay as many as without the direct path, so the
                // threads get equal shares: eight-image groups in blocks of 16 made 7 blocks, 4 against 3).
                var bias = BlockBiasGradients.Length > 0 ? BlockBiasGradients.AsSpan(block * shape.Filters, shape.Filters) : default;
                bias.Clear();
                for (var i = block * BlockSize; i < last; i += _plan.Images)
                {
                    var count = Math.Min(_plan.Images, last - i);
                    var (plan, tables) = PlanFor(count);
                    var adjoint = _adjoint;
                    var adjointTables = _adjointTables;
                    if (_fusedInput && count != _adjoint.Images)
                    {
                        adjoint = _adjoint.WithImages(count);
                        adjointTables = DirectTables<T>.Rent(adjoint, withSegments: true);
                    }

                    try
                    {
                        ReadOnlySpan<T> group = images.Slice(i * shape.ImageSize, count * shape.ImageSize), groupUpstream = upstream.Slice(i * shape.OutputSize, count * shape.OutputSize);
                        var accumulate = i > block * BlockSize;
                        if (_fusedInput)
                        {
                            DirectFilterGradient.Backward(
                                plan, adjoint, group, groupUpstream, tables.Offsets, _flipped, adjointTables,
                                InputGradient.AsSpan(i * shape.ImageSize, count * shape.ImageSize), gradient, accumulate, bias, cols,
                                NextGroup(upstream, i + count, shape.OutputSize), NextGroup(images, i + count, shape.ImageSize), NextGroup(InputGradient, i + count, shape.ImageSize));
                        }
                        else
                        {
                            DirectFilterGradient.Run(plan, group, groupUpstream, tables.Offsets, gradient, accumulate, bias, cols, NextGroup(images, i + count, shape.ImageSize));
                        }
                    }
                    finally
                    {
                        Release(tables);
                        if (adjointTables.Offsets != _adjointTables.Offsets)
                        {
                            adjointTables.Return();
                        }
                    }
                }

                return;
            }

            if (_dots)
            {
                FiltersByDots(block, last, cols, planes);
                return;
            }

            for (var i = block * BlockSize; i < last; i++)
            {
                Kernels.Im2Col.Unfold(images.Slice(i * shape.ImageSize, shape.ImageSize), shape.Channels, shape.Height, shape.Width, _g, cols);
                var imageUpstream = ImageUpstream(i, planes);
                for (var group = 0; group < _groups; group++)
                {
                    // dWᵀ = columns · gᵀ rather than dW = g · columnsᵀ: the product then packs the small g instead
                    // of transposing the columns, and its rows are the many kernel positions rather than the few
                    // filters (DeepConvNet's six filter gradients: 14.8 → 9.0 ms per batch of 100).
                    Gemm.Multiply<T>(
                        false, true, shape.Depth, shape.FiltersPerGroup, shape.Positions,
                        cols.Slice(group * shape.Depth * shape.Positions, shape.Depth * shape.Positions),
                        imageUpstream.Slice(group * shape.FiltersPerGroup * shape.Positions, shape.FiltersPerGroup * shape.Positions),
                        gradient.Slice(group * shape.FiltersPerGroup * shape.Depth, shape.FiltersPerGroup * shape.Depth),
                        accumulate: i > block * BlockSize);
                }
            }
        }

        /// <summary>Rows of the dot products' A per group: the kernel positions, and a row of ones when the bias gradient is wanted.</summary>
        private int DotRows => Shape.Depth + (BlockBiasGradients.Length > 0 ? 1 : 0);

        /// <summary>
        /// The dot products' workspace: the columns (or, at stride 1 without dilation, the image's shifted copies that
        /// stand for them), every group's partial sums and a row of ones.
        /// </summary>
        private int DotsWorkspaceLength() => ColumnsForDots + (_groups * RowDots.PartialLength<T>(DotRows, Shape.FiltersPerGroup)) + Shape.Positions;

        /// <summary>The elements of the dots' columns: one image's shifted copies where they fit, else its im2col columns.</summary>
        private int ColumnsForDots => ShiftedRows.Fits(_g) ? ShiftedCopiesLength : Shape.ColumnSize;

        /// <summary>
        /// The filter gradient of images block·BlockSize … last − 1 as sums of dot products along the output positions
        /// (<see cref="RowDots"/>): per image and group, each column row against each upstream gradient row, summed in
        /// vectors over the block's images and reduced once (SimpleConvNet's 5×5 layer: 30×25 sums of 576-position
        /// rows, which the GEMM padded to 6×32 tiles after transposing the upstream gradient at every image). A row of
        /// ones among the columns' makes the bias gradient the same pass's by-product. At stride 1 without dilation the
        /// column rows are windows of <see cref="ShiftedRows"/>' copies, a quarter of im2col's writes for a 5×5 kernel,
        /// which stay in L1 while the upstream gradient streams past them.
        /// </summary>
        private void FiltersByDots(int block, int last, Span<T> workspace, Span<T> planes)
        {
            var shape = Shape;
            int depth = shape.Depth, filters = shape.FiltersPerGroup, positions = shape.Positions, rows = DotRows;
            var partialLength = RowDots.PartialLength<T>(rows, filters);
            var columnsLength = ColumnsForDots;
            var cols = workspace[..columnsLength];
            var partials = workspace.Slice(columnsLength, _groups * partialLength);
            var ones = workspace.Slice(columnsLength + partials.Length, positions);
            partials.Clear();
            ones.Fill(T.One);
            var wantBias = BlockBiasGradients.Length > 0;
            var shifted = ShiftedRows.Fits(_g);
            var offsets = shifted ? ArrayPool<int>.Shared.Rent(shape.Channels * _g.KernelSize) : null;
            try
            {
                if (offsets is not null)
                {
                    ShiftedOffsets(offsets);
                }

                ReadOnlySpan<T> images = _x.Raw<T>(), upstream = Upstream;
                for (var i = block * BlockSize; i < last; i++)
                {
                    var image = images.Slice(i * shape.ImageSize, shape.ImageSize);
                    if (shifted)
                    {
                        ShiftedRows.Copy(image, shape.Channels, shape.Height, shape.Width, _g, cols);
                    }
                    else
                    {
                        Kernels.Im2Col.Unfold(image, shape.Channels, shape.Height, shape.Width, _g, cols);
                    }

                    // The next image's upstream gradient comes from memory meanwhile (its columns are unfolded from a small
                    // image); a pooled one is scattered into the workspace, which is in cache already.
                    var ahead = i + 1 < last && !Pooling ? upstream.Slice((i + 1) * shape.OutputSize, shape.OutputSize) : default;
                    var imageUpstream = ImageUpstream(i, planes);
                    for (var group = 0; group < _groups; group++)
                    {
                        var groupUpstream = imageUpstream.Slice(group * filters * positions, filters * positions);
                        var partial = partials.Slice(group * partialLength, partialLength);
                        if (offsets is not null)
                        {
                            RowDots.Accumulate<T>(depth, filters, positions, cols, offsets.AsSpan(group * depth, depth), wantBias ? ones : default, groupUpstream, partial, group == 0 ? ahead : default);
                        }
                        else
                        {
                            RowDots.Accumulate<T>(
                                depth, filters, positions, cols.Slice(group * depth * positions, depth * positions), wantBias ? ones : default, groupUpstream, partial,
                                group == 0 ? ahead : default);
                        }
                    }
                }
            }
            finally
            {
                if (offsets is not null)
                {
                    ArrayPool<int>.Shared.Return(offsets);
                }
            }

            // Each group's block of the gradient is transposed (kernel positions × filters), as on the GEMM path.
            var filterSize = shape.Filters * depth;
            var gradient = BlockGradients.AsSpan(block * filterSize, filterSize);
            for (var group = 0; group < _groups; group++)
            {
                ReadOnlySpan<T> partial = partials.Slice(group * partialLength, partialLength);
                RowDots.Reduce(0, depth, filters, partial, gradient.Slice(group * filters * depth, filters * depth), filters, 1, add: false);
                if (wantBias)
                {
                    RowDots.Reduce(depth, rows, filters, partial, BlockBiasGradients.AsSpan((block * shape.Filters) + (group * filters), filters), 0, 1, add: false);
                }
            }
        }
    }

    /// <summary>
    /// The transposed convolution's forward pass, which is the convolution's input gradient: per image and group,
    /// columns = Wᵀ·x, folded onto the output; then the bias.
    /// </summary>
    private readonly struct ConvTransposeForward(Tensor x, Tensor weight, Tensor? bias, Tensor y, WindowGeometry g, int groups) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            // Seen from the output, this is a convolution of y (N, C_out, OH, OW) to x by the same weight read as
            // (F = C_in, C_out / groups, kh, kw): the shapes of its backward pass.
            var shape = new ConvShape(y.Shape, weight.Shape, x.Shape, g, groups);
            ReadOnlySpan<T> maps = x.Raw<T>(), filters = weight.Raw<T>();
            var output = y.Raw<T>();
            output.Clear();
            var columns = ArrayPool<T>.Shared.Rent(shape.ColumnSize);
            try
            {
                var cols = columns.AsSpan(0, shape.ColumnSize);
                for (var i = 0; i < shape.Images; i++)
                {
                    for (var group = 0; group < groups; group++)
                    {
                        Gemm.Multiply<T>(
                            true, false, shape.Depth, shape.Positions, shape.FiltersPerGroup,
                            filters.Slice(group * shape.FiltersPerGroup * shape.Depth, shape.FiltersPerGroup * shape.Depth),
                            maps.Slice((i * shape.OutputSize) + (group * shape.FiltersPerGroup * shape.Positions), shape.FiltersPerGroup * shape.Positions),
                            cols.Slice(group * shape.Depth * shape.Positions, shape.Depth * shape.Positions),
                            accumulate: false);
                    }

                    var image = output.Slice(i * shape.ImageSize, shape.ImageSize);
                    Kernels.Im2Col.FoldConsuming<T>(cols, shape.Channels, shape.Height, shape.Width, g, image);
                    if (bias is not null)
                    {
                        AddPerChannel<T>(image, bias.Raw<T>(), shape.Height * shape.Width);
                    }
                }
            }
            finally
            {
                ArrayPool<T>.Shared.Return(columns);
            }
        }
    }

    /// <summary>
    /// The filter gradient from its transposed form: each group's (depth, filters per group) block, as the products
    /// leave it, becomes the (filters per group, depth) block of the weight's layout.
    /// </summary>
    private static void TransposeGroups<T>(ReadOnlySpan<T> transposed, in ConvShape shape, Span<T> gradient)
    {
        var block = shape.FiltersPerGroup * shape.Depth;
        for (var group = 0; group < shape.Groups; group++)
        {
            var from = transposed.Slice(group * block, block);
            var to = gradient.Slice(group * block, block);
            for (var d = 0; d < shape.Depth; d++)
            {
                for (var f = 0; f < shape.FiltersPerGroup; f++)
                {
                    to[(f * shape.Depth) + d] = from[(d * shape.FiltersPerGroup) + f];
                }
            }
        }
    }

    /// <summary>Adds b[c] to every value of channel c of one (C, positions) image: a convolution's bias.</summary>
    private static void AddPerChannel<T>(Span<T> image, ReadOnlySpan<T> bias, int positions)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (var c = 0; c < bias.Length; c++)
        {
            var channel = image.Slice(c * positions, positions);
            System.Numerics.Tensors.TensorPrimitives.Add(channel, bias[c], channel);
        }
    }

    /// <summary>sums[c] = Σ over images and positions of g[n, c, …]: a convolution's bias gradient.</summary>
    private static void SumPerChannel<T>(ReadOnlySpan<T> g, int images, int channels, int positions, Span<T> sums)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        sums.Clear();
        for (var i = 0; i < images; i++)
        {
            for (var c = 0; c < channels; c++)
            {
                sums[c] += System.Numerics.Tensors.TensorPrimitives.Sum(g.Slice(((i * channels) + c) * positions, positions));
            }
        }
    }

    /// <summary>The sizes a convolution's loops use, worked out once.</summary>
    private readonly struct ConvShape
    {
        public ConvShape(Shape x, Shape weight, Shape y, in WindowGeometry g, int groups)
            : this(x, weight, y[2], y[3], g, groups)
        {
        }

        public ConvShape(Shape x, Shape weight, int outputHeight, int outputWidth, in WindowGeometry g, int groups)
        {
            Images = x[0];
            Channels = x[1];
            Height = x[2];
            Width = x[3];
            Filters = weight[0];
            Groups = groups;
            FiltersPerGroup = Filters / groups;
            Depth = Channels / groups * g.KernelSize;
            OutputHeight = outputHeight;
            OutputWidth = outputWidth;
            Positions = outputHeight * outputWidth;
            ImageSize = Channels * Height * Width;
            OutputSize = Filters * Positions;
            ColumnSize = Channels * g.KernelSize * Positions;
        }

        public int Images { get; }

        public int Channels { get; }

        public int Height { get; }

        public int Width { get; }

        public int Filters { get; }

        public int Groups { get; }

        public int FiltersPerGroup { get; }

        /// <summary>The rows of one group's columns: (C / groups)·kh·kw.</summary>
        public int Depth { get; }

        public int OutputHeight { get; }

        public int OutputWidth { get; }

        /// <summary>The output positions of one image, OH·OW.</summary>
        public int Positions { get; }

        public int ImageSize { get; }

        public int OutputSize { get; }

        public int ColumnSize { get; }
    }

    /// <summary>Im2Col's rule: the gradient folded back (col2im); in ops, <see cref="Col2Im"/> of the upstream.</summary>
    private readonly struct Im2ColRule : IBackwardRule
    {
        // Linear: the tangent unfolded.
        public static Tensor Jvp(in Node node, InputTangents tangents) =>
            tangents.A is { } ta ? Unfold(ta, node.Args.State<WindowState>().Geometry) : Tensor.ZerosLike(node.Output);

        public static InputGradients Differentiate(in Node node, Tensor upstream)
        {
            var state = node.Args.State<WindowState>();
            return new(Fold(upstream, state.Height, state.Width, state.Geometry));
        }

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var state = node.Args.State<WindowState>();
            var target = tape.BeginGradient<T>(node.InA);
            FoldInto<T>(tape.Upstream<T>(index), node.A!.Shape, state.Geometry, target.Span);
            tape.Commit(target);
        }
    }

    /// <summary>Col2Im's rule: the gradient unfolded again (im2col); in ops, <see cref="Im2Col"/> of the upstream.</summary>
    private readonly struct Col2ImRule : IBackwardRule
    {
        // Linear: the tangent folded.
        public static Tensor Jvp(in Node node, InputTangents tangents)
        {
            var state = node.Args.State<WindowState>();
            return tangents.A is { } ta ? Fold(ta, state.Height, state.Width, state.Geometry) : Tensor.ZerosLike(node.Output);
        }

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(Unfold(upstream, node.Args.State<WindowState>().Geometry));

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var state = node.Args.State<WindowState>();
            var target = tape.BeginGradient<T>(node.InA);
            UnfoldInto<T>(tape.Upstream<T>(index), node.Output.Shape, state.Geometry, target.Span);
            tape.Commit(target);
        }
    }

    /// <summary>
    /// Conv2d's rule. Per image and group: dW += g·colsᵀ and dcols = Wᵀ·g folded into dx, with the columns formed
    /// again rather than kept from the forward pass (they are kh·kw times the input), the images split across the
    /// worker threads; db sums g over images and positions.
    /// </summary>
    private readonly struct Conv2dRule : IBackwardRule
    {
        public static string? Onnx(in Node node, IOnnxGraph graph)
        {
            var state = node.Args.State<WindowState>();
            string[] inputs = node.C is { } bias ? [graph.Value(node.A!), graph.Value(node.B!), graph.Value(bias)] : [graph.Value(node.A!), graph.Value(node.B!)];
            return graph.Node("Conv", inputs, [.. OnnxWindow(state.Geometry), ("group", (long)state.Groups)]);
        }

        // Bilinear in (x, W) plus b: ẏ = conv(ẋ, W) + conv(x, Ẇ) + ḃ per channel.
        public static Tensor Jvp(in Node node, InputTangents tangents)
        {
            var state = node.Args.State<WindowState>();
            var g = state.Geometry;
            Tensor Convolve(Tensor x, Tensor w) => Conv2d(x, w, null, (g.StrideH, g.StrideW), (g.PadH, g.PadW), (g.DilationH, g.DilationW), state.Groups);
            return TangentSum(
                node,
                tangents.A is { } tx ? Convolve(tx, node.B!) : null,
                tangents.B is { } tw ? Convolve(node.A!, tw) : null,
                tangents.C is { } tb ? Reshape(tb, 1, -1, 1, 1) : null);
        }

        public static InputGradients Differentiate(in Node node, Tensor upstream) => ConvolutionGradientsInOps(node, upstream, node.Args.State<WindowState>());

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var state = node.Args.State<WindowState>();
            var shape = new ConvShape(node.A!.Shape, node.B!.Shape, node.Output.Shape, state.Geometry, state.Groups);
            ConvolutionGradients<T>(tape, node, shape, state, tape.UpstreamSegment<T>(index), default);
        }
    }

    /// <summary>
    /// A convolution's gradients in ops (so they differentiate again), for node <paramref name="node"/> (x, W and b as
    /// its inputs) and the upstream gradient of its (N, F, OH, OW) output: dx = col2im(Wᵀ·g), dW = Σ g·colsᵀ, db = Σ g.
    /// </summary>
    private static InputGradients ConvolutionGradientsInOps(in Node node, Tensor upstream, WindowState state)
    {
        var g = state.Geometry;
        Tensor x = node.A!, weight = node.B!;
        int n = x.Shape[0], channels = x.Shape[1], filters = weight.Shape[0], groups = state.Groups;
        int depth = channels / groups * g.KernelSize, positions = upstream.Shape[2] * upstream.Shape[3];
        var grouped = Reshape(upstream, n, groups, filters / groups, positions);
        var filterRows = Reshape(weight, groups, filters / groups, depth);
        Tensor? dx = null, dw = null, db = null;
        if (node.InA >= 0)
        {
            var columns = Reshape(MatMul(Permute(filterRows, 0, 2, 1), grouped), n, channels * g.KernelSize, positions);
            dx = Fold(columns, state.Height, state.Width, g);
        }

        if (node.InB >= 0)
        {
            var columns = Reshape(Unfold(x, g), n, groups, depth, positions);
            dw = Reshape(Sum(MatMul(grouped, Permute(columns, 0, 1, 3, 2)), 0), weight.Shape.Dims);
        }

        if (node.InC >= 0)
        {
            db = Sum(Sum(Reshape(upstream, n, filters, positions), 2), 0);
        }

        return new(dx, dw, db);
    }

    /// <summary>
    /// A max pooling's gradient for the filter gradient to scatter image by image (<see cref="Conv2dMaxPool2d"/>):
    /// the pooling's window, the gradient of its output and its choices; none when the choices are null.
    /// </summary>
    private readonly record struct PooledGradient<T>((int Height, int Width) Pool, ArraySegment<T> Gradient, Tensor? Choices);

    /// <summary>
    /// A convolution's gradients for node <paramref name="node"/> (x, W and b as its inputs), from the upstream
    /// gradient of its (N, F, OH, OW) output, or, without the input gradient, from a max pooling's gradient scattered
    /// image by image (<paramref name="pooled"/>; <paramref name="upstream"/> is then empty). Per image and group:
    /// dW += g·colsᵀ and dcols = Wᵀ·g folded into dx, with the columns formed again rather than kept from the forward
    /// pass (they are kh·kw times the input), the images split across the worker threads; db sums g over images and positions.
    /// </summary>
    private static void ConvolutionGradients<T>(Tape tape, in Node node, in ConvShape shape, WindowState state, ArraySegment<T> upstream, PooledGradient<T> pooled)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var g = state.Geometry;
        Tensor x = node.A!, weight = node.B!;
        var work = ConvImages<T>.ForThisThread();
        if (pooled.Choices is not null && !ScattersPerImage(work, node, shape, state))
        {
            // The input gradient and the direct filter gradient read the whole upstream gradient: scatter it first.
            var length = shape.Images * shape.OutputSize;
            var whole = ArrayPool<T>.Shared.Rent(length);
            try
            {
                PoolChoices.Scatter<T>(
                    MemoryMarshal.AsBytes(pooled.Choices.Raw<float>()), pooled.Gradient, shape.Images * shape.Filters, shape.OutputHeight, shape.OutputWidth,
                    pooled.Pool.Height, pooled.Pool.Width, whole.AsSpan(0, length));
                ConvolutionGradients<T>(tape, node, shape, state, new ArraySegment<T>(whole, 0, length), default);
            }
            finally
            {
                ArrayPool<T>.Shared.Return(whole);
            }

            return;
        }

        bool inputDone = false, biasDone = false;
        if (node.InB >= 0)
        {
            var dw = tape.BeginGradient<T>(node.InB);
            var filterSize = shape.Filters * shape.Depth;
            if (shape.Images == 0)
            {
                dw.Span.Clear();
            }
            else
            {
                // Fixed blocks of images (their number depends on the batch only), summed in block order. The pass
                // may also compute the input and bias gradients, reading the upstream gradient once for all three.
                var blocks = Math.Min(shape.Images, ConvImages<T>.MaxBlocks);
                var partials = ArrayPool<T>.Shared.Rent(blocks * filterSize);
                var biasPartials = node.InC >= 0 ? ArrayPool<T>.Shared.Rent(blocks * shape.Filters) : null;
                var dx = node.InA >= 0 ? tape.BeginGradient<T>(node.InA) : default;
                try
                {
                    work.Set(ConvImages<T>.Phase.FilterGradient, x, weight, null, shape, g, state.Groups);
                    work.Upstream = upstream;
                    if (pooled.Choices is not null)
                    {
                        (work.Pool, work.Pooled, work.Choices) = (pooled.Pool, pooled.Gradient, pooled.Choices);
                    }

                    work.InputGradient = node.InA >= 0 ? dx.Segment : default;
                    work.BlockBiasGradients = biasPartials ?? [];
                    work.BlockGradients = partials;
                    work.BlockSize = (shape.Images + blocks - 1) / blocks;
                    work.Run((shape.Images + work.BlockSize - 1) / work.BlockSize);
                    (inputDone, biasDone) = (work.InputGradientDone, work.BiasGradientDone);
                    var used = (shape.Images + work.BlockSize - 1) / work.BlockSize;
                    var sum = partials.AsSpan(0, filterSize);
                    for (var b = 1; b < used; b++)
                    {
                        System.Numerics.Tensors.TensorPrimitives.Add(sum, partials.AsSpan(b * filterSize, filterSize), sum);
                    }

                    TransposeGroups<T>(sum, shape, dw.Span);
                    if (biasDone)
                    {
                        var db = tape.BeginGradient<T>(node.InC);
                        biasPartials.AsSpan(0, shape.Filters).CopyTo(db.Span);
                        for (var b = 1; b < used; b++)
                        {
                            System.Numerics.Tensors.TensorPrimitives.Add(db.Span, biasPartials.AsSpan(b * shape.Filters, shape.Filters), db.Span);
                        }

                        tape.Commit(db);
                    }

                    if (inputDone)
                    {
                        tape.Commit(dx);
                    }
                }
                finally
                {
                    work.BlockGradients = [];
                    ArrayPool<T>.Shared.Return(partials);
                    if (biasPartials is not null)
                    {
                        ArrayPool<T>.Shared.Return(biasPartials);
                    }
                }

                if (node.InA >= 0 && !inputDone)
                {
                    InputGradient(tape, node, work, shape, g, state.Groups, upstream, dx);
                    inputDone = true;
                }
            }

            tape.Commit(dw);
        }

        if (node.InC >= 0 && !biasDone)
        {
            // A max pooling's scatter moves each g without changing it, so the pooled gradient sums to the same.
            var db = tape.BeginGradient<T>(node.InC);
            if (pooled.Choices is not null)
            {
                SumPerChannel<T>(pooled.Gradient, shape.Images, shape.Filters, pooled.Gradient.Count / Math.Max(1, shape.Images * shape.Filters), db.Span);
            }
            else
            {
                SumPerChannel<T>(upstream, shape.Images, shape.Filters, shape.Positions, db.Span);
            }

            tape.Commit(db);
        }

        if (node.InA >= 0 && !inputDone)
        {
            InputGradient(tape, node, work, shape, g, state.Groups, upstream, tape.BeginGradient<T>(node.InA));
        }
    }

    /// <summary>
    /// Whether a pooled gradient can be scattered image by image inside the filter gradient's pass: not when the input
    /// gradient is wanted too, nor where the filter gradient takes the direct path, which reads several images at once.
    /// </summary>
    private static bool ScattersPerImage<T>(ConvImages<T> work, in Node node, in ConvShape shape, WindowState state)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (node.InA >= 0 || node.InB < 0 || shape.Images == 0)
        {
            return node.InA < 0;
        }

        work.Set(ConvImages<T>.Phase.FilterGradient, node.A!, node.B!, null, shape, state.Geometry, state.Groups);
        var blocks = Math.Min(shape.Images, ConvImages<T>.MaxBlocks);
        work.BlockSize = (shape.Images + blocks - 1) / blocks;
        return work.FilterGradientPlan() is null;
    }

    /// <summary>The input gradient in a pass of its own, into <paramref name="dx"/>, which it commits.</summary>
    private static void InputGradient<T>(Tape tape, in Node node, ConvImages<T> work, in ConvShape shape, in WindowGeometry g, int groups, ArraySegment<T> upstream, GradientTarget<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        work.Set(ConvImages<T>.Phase.InputGradient, node.A!, node.B!, null, shape, g, groups);
        work.Upstream = upstream;
        work.InputGradient = dx.Segment;
        work.Run(shape.Images);
        tape.Commit(dx);
    }

    /// <summary>
    /// ConvTranspose2d's rule. Seen from the output y, the op is the input gradient of a convolution of y by W, so its
    /// own gradients are that convolution's forward (dx = Conv2d(g, W)) and its weight gradient (dW = Σ x·im2col(g)ᵀ).
    /// </summary>
    private readonly struct ConvTranspose2dRule : IBackwardRule
    {
        public static string? Onnx(in Node node, IOnnxGraph graph)
        {
            var state = node.Args.State<WindowState>();
            var g = state.Geometry;
            var x = node.A!;
            long extraH = state.Height - ((((long)x.Shape[2] - 1) * g.StrideH) - (2L * g.PadH) + ((long)g.DilationH * (g.KernelH - 1)) + 1);
            long extraW = state.Width - ((((long)x.Shape[3] - 1) * g.StrideW) - (2L * g.PadW) + ((long)g.DilationW * (g.KernelW - 1)) + 1);
            string[] inputs = node.C is { } bias ? [graph.Value(x), graph.Value(node.B!), graph.Value(bias)] : [graph.Value(x), graph.Value(node.B!)];
            return graph.Node("ConvTranspose", inputs, [.. OnnxWindow(g), ("group", (long)state.Groups), ("output_padding", new[] { extraH, extraW })]);
        }

        // Bilinear in (x, W) plus b, like Conv2d's, with the output padding that gives the recorded output size.
        public static Tensor Jvp(in Node node, InputTangents tangents)
        {
            var state = node.Args.State<WindowState>();
            var g = state.Geometry;
            var x = node.A!;
            Size2d extra = (
                state.Height - (((x.Shape[2] - 1) * g.StrideH) - (2 * g.PadH) + (g.DilationH * (g.KernelH - 1)) + 1),
                state.Width - (((x.Shape[3] - 1) * g.StrideW) - (2 * g.PadW) + (g.DilationW * (g.KernelW - 1)) + 1));
            Tensor Convolve(Tensor maps, Tensor w) =>
                ConvTranspose2d(maps, w, null, (g.StrideH, g.StrideW), (g.PadH, g.PadW), extra, (g.DilationH, g.DilationW), state.Groups);
            return TangentSum(
                node,
                tangents.A is { } tx ? Convolve(tx, node.B!) : null,
                tangents.B is { } tw ? Convolve(x, tw) : null,
                tangents.C is { } tb ? Reshape(tb, 1, -1, 1, 1) : null);
        }

        public static InputGradients Differentiate(in Node node, Tensor upstream)
        {
            var state = node.Args.State<WindowState>();
            var g = state.Geometry;
            Tensor x = node.A!, weight = node.B!;
            int n = x.Shape[0], channels = x.Shape[1], groups = state.Groups, outChannels = upstream.Shape[1];
            int depth = outChannels / groups * g.KernelSize, positions = x.Shape[2] * x.Shape[3];
            Tensor? dx = null, dw = null, db = null;
            if (node.InA >= 0)
            {
                dx = Conv2d(upstream, weight, null, (g.StrideH, g.StrideW), (g.PadH, g.PadW), (g.DilationH, g.DilationW), groups);
            }

            if (node.InB >= 0)
            {
                var columns = Reshape(Unfold(upstream, g), n, groups, depth, positions);
                var maps = Reshape(x, n, groups, channels / groups, positions);
                dw = Reshape(Sum(MatMul(maps, Permute(columns, 0, 1, 3, 2)), 0), weight.Shape.Dims);
            }

            if (node.InC >= 0)
            {
                db = Sum(Sum(Reshape(upstream, n, outChannels, -1), 2), 0);
            }

            return new(dx, dw, db);
        }

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var state = node.Args.State<WindowState>();
            var g = state.Geometry;
            Tensor x = node.A!, weight = node.B!;
            var shape = new ConvShape(node.Output.Shape, weight.Shape, x.Shape, g, state.Groups);
            ReadOnlySpan<T> upstream = tape.Upstream<T>(index), maps = x.Raw<T>(), filters = weight.Raw<T>();
            var columns = tape.Scratch<T>(shape.ColumnSize);
            var plane = shape.Height * shape.Width;

            if (node.InC >= 0)
            {
                var db = tape.BeginGradient<T>(node.InC);
                SumPerChannel(upstream, shape.Images, shape.Channels, plane, db.Span);

                tape.Commit(db);
            }

            var dx = node.InA >= 0 ? tape.BeginGradient<T>(node.InA) : default;
            var dw = node.InB >= 0 ? tape.BeginGradient<T>(node.InB) : default;
            // The filter gradient is summed transposed, as the convolution's is (see ConvImages.Filters).
            var dwTransposed = node.InB >= 0 ? tape.Scratch<T>(shape.Filters * shape.Depth) : default;
            for (var i = 0; i < shape.Images; i++)
            {
                Kernels.Im2Col.Unfold(upstream.Slice(i * shape.ImageSize, shape.ImageSize), shape.Channels, shape.Height, shape.Width, g, columns);
                for (var group = 0; group < state.Groups; group++)
                {
                    var cols = columns.Slice(group * shape.Depth * shape.Positions, shape.Depth * shape.Positions);
                    var filterBlock = filters.Slice(group * shape.FiltersPerGroup * shape.Depth, shape.FiltersPerGroup * shape.Depth);
                    var at = (i * shape.OutputSize) + (group * shape.FiltersPerGroup * shape.Positions);
                    if (node.InA >= 0)
                    {
                        Gemm.Multiply<T>(false, false, shape.FiltersPerGroup, shape.Positions, shape.Depth, filterBlock, cols, dx.Span.Slice(at, shape.FiltersPerGroup * shape.Positions), accumulate: false);
                    }

                    if (node.InB >= 0)
                    {
                        Gemm.Multiply<T>(
                            false, true, shape.Depth, shape.FiltersPerGroup, shape.Positions,
                            cols,
                            maps.Slice(at, shape.FiltersPerGroup * shape.Positions),
                            dwTransposed.Slice(group * shape.FiltersPerGroup * shape.Depth, shape.FiltersPerGroup * shape.Depth),
                            accumulate: i > 0);
                    }
                }
            }

            if (node.InA >= 0)
            {
                tape.Commit(dx);
            }

            if (node.InB >= 0)
            {
                if (shape.Images == 0)
                {
                    dw.Span.Clear();
                }
                else
                {
                    TransposeGroups<T>(dwTransposed, shape, dw.Span);
                }

                tape.Commit(dw);
            }
        }
    }

    /// <summary>The op table's rows for this file's ops, with their gradient checks (see <see cref="OpCatalog"/>).</summary>
    [OpFamily(85)]
    private static IEnumerable<OpInfo> ConvolutionRows()
    {
        // (input, kernel, stride, padding, dilation, groups): odd sizes, stride > 1, padding, dilation, groups, batch 1.
        (int[] X, int[] W, Size2d Stride, Size2d Padding, Size2d Dilation, int Groups)[] cases =
        [
            ([2, 3, 5, 6], [4, 3, 3, 3], 1, 0, 1, 1),
            ([1, 2, 7, 5], [3, 2, 3, 2], (2, 1), (1, 2), 1, 1),
            ([2, 4, 6, 6], [4, 2, 3, 3], 1, 1, 2, 2),
            ([1, 3, 5, 5], [6, 1, 3, 3], 2, 1, 1, 3),
        ];
        yield return new OpInfo
        {
            Family = "Convolution",
            Call = "`Im2Col(x, kernel, stride, padding, dilation)`, `Col2Im(columns, outputSize, kernel, stride, padding, dilation)`",
            Forward = "(N, C, H, W) ↔ (N, C·kh·kw, OH·OW): the windows as columns, and the columns summed back",
            Gradient = "each other: ∂Im2Col = Col2Im(g), ∂Col2Im = Im2Col(g)",
            BadInputs = [
                Bad<ShapeMismatchException>("im2col rank", () => Im2Col(M23, 2), "Im2Col", "(N, C, H, W)", "(2, 3)"),
                Bad<ShapeMismatchException>("im2col too small", () => Im2Col(Tensor.Zeros([1, 1, 2, 2]), 3), "Im2Col", "3×3", "(1, 1, 2, 2)"),
                Bad<ArgumentOutOfRangeException>("im2col stride 0", () => Im2Col(Tensor.Zeros([1, 1, 4, 4]), 2, stride: 0), "Im2Col", "stride (0, 0)"),
                Bad<ShapeMismatchException>("col2im columns", () => Col2Im(Tensor.Zeros([1, 5, 9]), (4, 4), 2), "Col2Im", "(1, 5, 9)"),
            ],
            Overflows = [Overflow("columns", () => Im2Col(Tensor.Zeros([1, 1, 256, 256]), 128, padding: 127), "(1, 1, 256, 256)")],
            Samples =
            [
                Gradient("Im2Col", v => Im2Col(v[0], 3), N(201, 2, 2, 5, 4)),
                Gradient("Im2Col", v => Im2Col(v[0], (2, 3), stride: (2, 1), padding: 1, dilation: (1, 2)), N(202, 1, 3, 6, 7)),
                Gradient("Col2Im", v => Col2Im(v[0], (5, 4), 3), N(203, 2, 18, 6)),
                Gradient("Col2Im", v => Col2Im(v[0], (6, 7), (2, 3), stride: (2, 1), padding: 1, dilation: (1, 2)), N(204, 1, 18, 20)),
            ],
        };
        yield return new OpInfo
        {
            Family = "Convolution",
            Call = "`ConvTranspose2d(x, W, b, stride, padding, outputPadding, dilation, groups)`",
            Forward = "Conv2d's adjoint in x: each pixel scatters W[c_in] onto the output (col2im(Wᵀ·x)), plus b",
            Gradient = "dx = Conv2d(g, W), dW = Σ_n x·im2col(g)ᵀ, db = Σ g",
            BadInputs = [
                Bad<ShapeMismatchException>("deconv channels", () => ConvTranspose2d(Tensor.Zeros([1, 3, 4, 4]), Tensor.Zeros([2, 2, 3, 3])), "ConvTranspose2d", "(2, 2, 3, 3)", "(1, 3, 4, 4)"),
                Bad<ArgumentOutOfRangeException>("deconv output padding", () => ConvTranspose2d(Tensor.Zeros([1, 1, 4, 4]), Tensor.Zeros([1, 1, 3, 3]), stride: 2, outputPadding: 2), "ConvTranspose2d", "output padding (2, 2)"),
                Bad<ShapeMismatchException>("deconv empty output", () => ConvTranspose2d(Tensor.Zeros([1, 1, 1, 1]), Tensor.Zeros([1, 1, 1, 1]), padding: 1), "ConvTranspose2d", "(1, 1, 1, 1)", "-1×-1"),
            ],
            Overflows = [Overflow("stride", () => ConvTranspose2d(Tensor.Zeros([1, 1, 3, 3]), Tensor.Zeros([1, 1, 1, 1]), stride: 30000), "(1, 1, 3, 3)")],
            Samples =
            [
                Gradient("ConvTranspose2d", v => ConvTranspose2d(v[0], v[1], v[2]), N(216, 2, 3, 4, 5), N(217, 3, 2, 3, 3), N(218, 2)),
                Gradient("ConvTranspose2d", v => ConvTranspose2d(v[0], v[1], v[2], stride: 2, padding: 1, outputPadding: 1), N(219, 1, 2, 3, 4), N(220, 2, 3, 3, 2), N(234, 3)),
                Gradient("ConvTranspose2d", v => ConvTranspose2d(v[0], v[1], stride: (2, 1), dilation: (1, 2), groups: 2), N(235, 2, 4, 3, 3), N(236, 4, 1, 2, 2)),
            ],
        };
        yield return new OpInfo
        {
            Family = "Convolution",
            Call = "`Conv2d(x, W, b, stride, padding, dilation, groups)`, `Conv1d(x, W, b, stride, padding, dilation, groups)`",
            Forward = "y[n, f] = b[f] + Σ_c W[f, c] ⋆ x[n, c] over f's group (NCHW; Conv1d on (N, C, L))",
            Gradient = "dx = col2im(Wᵀ·g), dW = Σ_n g·colsᵀ, db = Σ g (per group)",
            Fused = true,
            BadInputs = [
                Bad<ShapeMismatchException>("conv rank", () => Conv2d(M23, Tensor.Zeros([2, 3, 1, 1], DType.Float64)), "Conv2d", "(N, C, H, W)", "(2, 3)"),
                Bad<ShapeMismatchException>("conv channels", () => Conv2d(Tensor.Zeros([1, 3, 5, 5]), Tensor.Zeros([2, 2, 3, 3])), "Conv2d", "(2, 2, 3, 3)", "(1, 3, 5, 5)"),
                Bad<ArgumentOutOfRangeException>("conv groups", () => Conv2d(Tensor.Zeros([1, 3, 5, 5]), Tensor.Zeros([4, 1, 3, 3]), groups: 2), "Conv2d", "groups 2", "(1, 3, 5, 5)"),
                Bad<ShapeMismatchException>("conv kernel too large", () => Conv2d(Tensor.Zeros([1, 1, 4, 4]), Tensor.Zeros([1, 1, 5, 5])), "Conv2d", "5×5", "(1, 1, 4, 4)"),
                Bad<ArgumentOutOfRangeException>("conv dilation 0", () => Conv2d(Tensor.Zeros([1, 1, 4, 4]), Tensor.Zeros([1, 1, 2, 2]), dilation: 0), "Conv2d", "dilation (0, 0)"),
                Bad<ArgumentOutOfRangeException>("conv negative padding", () => Conv2d(Tensor.Zeros([1, 1, 4, 4]), Tensor.Zeros([1, 1, 2, 2]), padding: -1), "Conv2d", "padding (-1, -1)"),
                Bad<ShapeMismatchException>("conv bias", () => Conv2d(Tensor.Zeros([1, 1, 4, 4]), Tensor.Zeros([2, 1, 2, 2]), Tensor.Zeros([3])), "Conv2d", "(3,)", "(2,)"),
                Bad<DTypeMismatchException>("conv types", () => Conv2d(Tensor.Zeros([1, 1, 4, 4]), Tensor.Zeros([1, 1, 2, 2], DType.Float64)), "Conv2d", "float32", "float64"),
                Bad<ShapeMismatchException>("conv1d rank", () => Conv1d(Tensor.Zeros([1, 1, 4, 4]), Tensor.Zeros([1, 1, 2])), "Conv1d", "(N, C, L)"),
            ],
            Overflows = [Overflow("padding", () => Conv2d(Tensor.Zeros([1, 1, 1, 1]), Tensor.Zeros([1, 1, 1, 1]), padding: 30000), "(1, 1, 1, 1)")],
            Samples =
            [
                .. cases.Select(c => Gradient("Conv2d", v => Conv2d(v[0], v[1], v[2], c.Stride, c.Padding, c.Dilation, c.Groups), N(205, c.X), N(206, c.W), N(207, c.W[0]))),
                Gradient("Conv2d", v => Conv2d(v[0], v[1], stride: 2), N(208, 1, 1, 5, 5), N(209, 2, 1, 2, 2)),
                Gradient("Conv1d", v => Conv1d(v[0], v[1], v[2], stride: 2, padding: 1, dilation: 2), N(210, 2, 3, 9), N(211, 4, 3, 3), N(212, 4)),
            ],
            Compositions =
            [
                .. cases.Select(c => Composition(
                    "Conv2d",
                    v => Conv2d(v[0], v[1], v[2], c.Stride, c.Padding, c.Dilation, c.Groups),
                    v => ComposedConv2d(v[0], v[1], v[2], Window("Conv2d", (c.W[2], c.W[3]), c.Stride, c.Padding, c.Dilation), c.Groups),
                    N(213, c.X),
                    N(214, c.W),
                    N(215, c.W[0]))),
            ],
        };
    }
}
