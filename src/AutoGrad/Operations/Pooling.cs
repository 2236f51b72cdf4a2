using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

using AutoGrad.Autodiff;
using AutoGrad.Kernels;
using AutoGrad.Tensors;

using static AutoGrad.Operations.OpSamples;

namespace AutoGrad.Operations;

/// <summary>Max, average and adaptive average pooling over the last two axes of (N, C, H, W) images.</summary>
public static partial class Ops
{
    private static readonly Op s_maxPool2d = new Op<MaxPool2dRule>("MaxPool2d");
    private static readonly Op s_avgPool2d = new Op<AvgPool2dRule>("AvgPool2d", readsInputs: false);
    private static readonly Op s_adaptiveAvgPool2d = new Op<AdaptiveAvgPool2dRule>("AdaptiveAvgPool2d", readsInputs: false);
    private static readonly PoolState s_tiling2x2 = new(new WindowGeometry(2, 2, 2, 2, 0, 0, 1, 1), CountIncludePad: true);
    private static readonly Op s_adaptiveAvgPool2dAdjoint = new Op<AdaptiveAvgPool2dAdjointRule>("AdaptiveAvgPool2dAdjoint", readsInputs: false);

    /// <summary>
    /// The maximum of each window. Padding counts as −∞ (it never wins), a NaN in a window makes its output NaN, and
    /// the gradient goes to the first position (row-major within the window) holding the maximum, or to the first
    /// NaN: PyTorch's choices. The output size rounds down (PyTorch's <c>ceil_mode=False</c>).
    /// </summary>
    /// <param name="x">Images, (N, C, H, W).</param>
    /// <param name="kernel">The window's size.</param>
    /// <param name="stride">The step between windows (the kernel's size when null).</param>
    /// <param name="padding">Padding on each side, at most half the kernel (0 when null).</param>
    /// <returns>(N, C, OH, OW).</returns>
    public static Tensor MaxPool2d(Tensor x, Size2d kernel, Size2d? stride = null, Size2d? padding = null) =>
        Pool(s_maxPool2d, x, kernel, stride, padding, countIncludePad: true);

    /// <summary>
    /// The mean of each window. With <paramref name="countIncludePad"/> (PyTorch's default) a window overlapping the
    /// padding still divides by kh·kw, the padding counting as zeros; without it, by the number of real pixels it
    /// covers. ∂/∂x spreads g / divisor over each window.
    /// </summary>
    /// <param name="x">Images, (N, C, H, W).</param>
    /// <param name="kernel">The window's size.</param>
    /// <param name="stride">The step between windows (the kernel's size when null).</param>
    /// <param name="padding">Padding on each side, at most half the kernel (0 when null).</param>
    /// <param name="countIncludePad">Whether padded positions count in the divisor.</param>
    /// <returns>(N, C, OH, OW).</returns>
    public static Tensor AvgPool2d(Tensor x, Size2d kernel, Size2d? stride = null, Size2d? padding = null, bool countIncludePad = true) =>
        Pool(s_avgPool2d, x, kernel, stride, padding, countIncludePad);

    /// <summary>
    /// The mean over bins that tile the image into <paramref name="outputSize"/>, bin i spanning rows
    /// ⌊i·H/OH⌋ … ⌈(i + 1)·H/OH⌉ (PyTorch's bins; they overlap when OH does not divide H). An output of (1, 1) is
    /// global average pooling. ∂/∂x spreads each g over its bin, divided by the bin's size.
    /// </summary>
    /// <param name="x">Images, (N, C, H, W).</param>
    /// <param name="outputSize">The output's (OH, OW), each at least 1.</param>
    /// <returns>(N, C, OH, OW).</returns>
    public static Tensor AdaptiveAvgPool2d(Tensor x, Size2d outputSize)
    {
        Check.NotNull(x, "AdaptiveAvgPool2d", nameof(x));
        RequireRank(x, 4, "AdaptiveAvgPool2d", "x", "(N, C, H, W)");
        if (outputSize.Height < 1 || outputSize.Width < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(outputSize), outputSize, $"AdaptiveAvgPool2d: the output size {outputSize} must be at least (1, 1) for input {x.Shape}.");
        }

        var dims = x.Shape.Dims;
        var y = Tensor.Uninitialized(x.DType, Shape.FromDims([dims[0], dims[1], outputSize.Height, outputSize.Width], "AdaptiveAvgPool2d", x.Shape));
        ElementType.Dispatch(x.DType, new AdaptiveAverage(x, y, spread: false));
        Tape.Record(s_adaptiveAvgPool2d, y, x);
        return y;
    }

    private static Tensor Pool(Op op, Tensor x, Size2d kernel, Size2d? stride, Size2d? padding, bool countIncludePad)
    {
        Check.NotNull(x, op.Name, nameof(x));
        RequireRank(x, 4, op.Name, "x", "(N, C, H, W)");
        var g = Window(op.Name, kernel, stride ?? kernel, padding, 1);
        if (2 * g.PadH > g.KernelH || 2 * g.PadW > g.KernelW)
        {
            throw new ArgumentOutOfRangeException(nameof(padding), padding, $"{op.Name}: the padding ({g.PadH}, {g.PadW}) must be at most half the kernel {kernel}.");
        }

        var (outH, outW) = WindowOutput(op.Name, x.Shape, g);
        var y = Tensor.Uninitialized(x.DType, Shape.FromDims([x.Shape[0], x.Shape[1], outH, outW], op.Name, x.Shape));
        var state = PoolState.Of(g, countIncludePad);
        var maximum = op == s_maxPool2d;
        var choices = ElementType.Dispatch<PoolForward, Tensor?>(x.DType, new PoolForward(x, y, state, maximum, keepChoices: maximum && Tape.MayRecord(x)));

        // Where the forward pass kept each window's choice, the node's state is that record (of the one window it keeps them for).
        Tape.Record(op, y, x, null, null, NodeArgs.Of(choices ?? (object)state));
        return y;
    }

    /// <summary>A pooling's window and, for the average, whether padding counts in the divisor.</summary>
    private sealed record PoolState(WindowGeometry Geometry, bool CountIncludePad)
    {
        [ThreadStatic]
        private static PoolState?[]? s_recent;

        [ThreadStatic]
        private static int s_next;

        /// <summary>An equal state recorded before on this thread, or a new one (see <c>WindowState.Of</c>).</summary>
        public static PoolState Of(in WindowGeometry geometry, bool countIncludePad)
        {
            var recent = s_recent ??= new PoolState?[8];
            foreach (var state in recent)
            {
                if (state is not null && state.Geometry == geometry && state.CountIncludePad == countIncludePad)
                {
                    return state;
                }
            }

            var created = new PoolState(geometry, countIncludePad);
            recent[s_next] = created;
            s_next = (s_next + 1) % recent.Length;
            return created;
        }
    }

    /// <summary>Visits every window of every image plane: (plane, output position, the window's valid rows and columns).</summary>
    private readonly ref struct Windows
    {
        private readonly WindowGeometry _g;
        private readonly int _height;
        private readonly int _width;

        public Windows(in WindowGeometry g, int height, int width)
        {
            _g = g;
            _height = height;
            _width = width;
            OutH = g.OutputHeight(height);
            OutW = g.OutputWidth(width);
        }

        public int OutH { get; }

        public int OutW { get; }

        /// <summary>The rows [top, bottom) and columns [left, right) of output (i, j)'s window that lie inside the image.</summary>
        public (int Top, int Bottom, int Left, int Right) Bounds(int i, int j)
        {
            int top = (i * _g.StrideH) - _g.PadH, left = (j * _g.StrideW) - _g.PadW;
            return (Math.Max(top, 0), Math.Min(top + _g.KernelH, _height), Math.Max(left, 0), Math.Min(left + _g.KernelW, _width));
        }

        /// <summary>The average's divisor for output (i, j).</summary>
        public int Divisor(int i, int j, bool countIncludePad)
        {
            if (countIncludePad)
            {
                // The window clipped to the padded image (which only a stride past its end can cut).
                int top = (i * _g.StrideH) - _g.PadH, left = (j * _g.StrideW) - _g.PadW;
                int bottom = Math.Min(top + _g.KernelH, _height + _g.PadH), right = Math.Min(left + _g.KernelW, _width + _g.PadW);
                return (bottom - top) * (right - left);
            }

            var (t, b, l, r) = Bounds(i, j);
            return (b - t) * (r - l);
        }
    }

    /// <summary>
    /// A window's maximum: NaN if it holds one (IEEE 754 maximum), else the largest value. Branch-free, since on real
    /// data which of two values is larger is a coin toss that a branch predictor loses half the time.
    /// </summary>
    private static T MaxInWindow<T>(ReadOnlySpan<T> plane, int width, (int Top, int Bottom, int Left, int Right) w)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref var origin = ref MemoryMarshal.GetReference(plane);
        var best = T.NegativeInfinity;
        for (var r = w.Top; r < w.Bottom; r++)
        {
            for (var at = (r * width) + w.Left; at < (r * width) + w.Right; at++)
            {
                best = T.Max(best, Unsafe.Add(ref origin, at));
            }
        }

        return best;
    }

    /// <summary>
    /// Where a window's maximum <paramref name="maximum"/> is (row-major in the plane): its first position, or the first
    /// NaN when it is NaN. Each position sets one bit of a mask and the lowest set bit is the answer, so no branch
    /// depends on the data (which of four pixels is largest is random, and a mispredicted branch per window cost more
    /// than the rest of the gradient).
    /// </summary>
    private static int ArgMaxInWindow<T>(ReadOnlySpan<T> plane, int width, (int Top, int Bottom, int Left, int Right) w, T maximum)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref var origin = ref MemoryMarshal.GetReference(plane);
        int columns = w.Right - w.Left, positions = (w.Bottom - w.Top) * columns;
        var nan = T.IsNaN(maximum);
        if (positions <= 64)
        {
            var matches = 0UL;
            var bit = 0;
            for (var r = w.Top; r < w.Bottom; r++)
            {
                for (var at = (r * width) + w.Left; at < (r * width) + w.Right; at++, bit++)
                {
                    var v = Unsafe.Add(ref origin, at);
                    var match = nan ? T.IsNaN(v) : v == maximum;
                    matches |= (ulong)Unsafe.As<bool, byte>(ref match) << bit;
                }
            }

            var first = BitOperations.TrailingZeroCount(matches);
            return first == 64 ? (w.Top * width) + w.Left : ((w.Top + (first / columns)) * width) + w.Left + (first % columns);
        }

        for (var r = w.Top; r < w.Bottom; r++)
        {
            for (var at = (r * width) + w.Left; at < (r * width) + w.Right; at++)
            {
                var v = Unsafe.Add(ref origin, at);
                if (v == maximum || (nan && T.IsNaN(v)))
                {
                    return at;
                }
            }
        }

        return (w.Top * width) + w.Left;
    }

    /// <summary>
    /// Pools x into y; returns the windows' choices (<see cref="MaxPool2x2Choices"/>) where <c>keepChoices</c> asks
    /// for them and the float32 2×2 tiling can keep them, else null.
    /// </summary>
    private readonly struct PoolForward(Tensor x, Tensor y, PoolState state, bool maximum, bool keepChoices) : IElementFunction<Tensor?>
    {
        public Tensor? Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            int planes = x.Shape[0] * x.Shape[1], height = x.Shape[2], width = x.Shape[3];
            var windows = new Windows(state.Geometry, height, width);
            ReadOnlySpan<T> source = x.Raw<T>();
            var destination = y.Raw<T>();
            if (maximum && typeof(T) == typeof(float) && MaxPool2x2.IsSupported && IsTiling2x2(state.Geometry, height, width))
            {
                if (keepChoices && MaxPool2x2Choices.IsSupported)
                {
                    var choices = Tensor.Uninitialized(DType.Float32, Shape.FromDims([MaxPool2x2Choices.StoreLength(y.Shape.ElementCount)], "MaxPool2d"));
                    MaxPool2x2Choices.Forward(x.RawSegment<float>(), y.RawSegment<float>(), choices.RawSegment<float>(), planes * windows.OutH, width);
                    return choices;
                }

                MaxPool2x2.Forward(x.RawSegment<float>(), y.RawSegment<float>(), planes * windows.OutH, width);
                return null;
            }

            if (maximum && state.Geometry.PadH == 0 && state.Geometry.PadW == 0)
            {
                MaxOfWindows(source, planes, height, width, state.Geometry, windows.OutH, windows.OutW, destination);
                return null;
            }

            for (var p = 0; p < planes; p++)
            {
                var plane = source.Slice(p * height * width, height * width);
                var output = destination.Slice(p * windows.OutH * windows.OutW, windows.OutH * windows.OutW);
                for (var i = 0; i < windows.OutH; i++)
                {
                    for (var j = 0; j < windows.OutW; j++)
                    {
                        var w = windows.Bounds(i, j);
                        if (maximum)
                        {
                            output[(i * windows.OutW) + j] = MaxInWindow(plane, width, w);
                            continue;
                        }

                        var sum = T.Zero;
                        for (var r = w.Top; r < w.Bottom; r++)
                        {
                            sum += System.Numerics.Tensors.TensorPrimitives.Sum(plane.Slice((r * width) + w.Left, w.Right - w.Left));
                        }

                        output[(i * windows.OutW) + j] = sum / T.CreateTruncating(windows.Divisor(i, j, state.CountIncludePad));
                    }
                }
            }

            return null;
        }
    }

    /// <summary>
    /// Max pooling without padding, the common case: every window lies inside its plane, so no bounds are clipped and
    /// each output is one pass over kh·kw values at fixed offsets. NaN propagates, as in <see cref="MaxInWindow{T}"/>.
    /// </summary>
    private static void MaxOfWindows<T>(ReadOnlySpan<T> source, int planes, int height, int width, in WindowGeometry g, int outH, int outW, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref var input = ref MemoryMarshal.GetReference(source);
        ref var output = ref MemoryMarshal.GetReference(destination);
        int kh = g.KernelH, kw = g.KernelW, sh = g.StrideH, sw = g.StrideW, o = 0;
        for (var p = 0; p < planes; p++)
        {
            var plane = p * height * width;
            for (var i = 0; i < outH; i++)
            {
                var rowStart = plane + (i * sh * width);
                for (var j = 0; j < outW; j++, o++)
                {
                    var at = rowStart + (j * sw);
                    var best = T.NegativeInfinity;
                    for (var r = 0; r < kh; r++)
                    {
                        for (var c = 0; c < kw; c++)
                        {
                            best = T.Max(best, Unsafe.Add(ref input, at + (r * width) + c));
                        }
                    }

                    Unsafe.Add(ref output, o) = best;
                }
            }
        }
    }

    /// <summary>
    /// Routes each window's gradient back: to the maximum's position (max pooling), or spread over the window divided
    /// by its divisor (average), into <paramref name="gradient"/> (overwritten) or a constant of the columns' layout.
    /// </summary>
    private static void PoolBackward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Shape shape, ReadOnlySpan<T> upstream, PoolState state, bool maximum, Span<T> gradient)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int planes = shape[0] * shape[1], height = shape[2], width = shape[3];
        var windows = new Windows(state.Geometry, height, width);
        if (maximum && IsTiling2x2(state.Geometry, height, width))
        {
            MaxGradient2x2(x, y, planes, height, width, upstream, gradient);
            return;
        }

        gradient.Clear();
        if (maximum && state.Geometry.PadH == 0 && state.Geometry.PadW == 0 && state.Geometry.KernelSize <= 64)
        {
            MaxGradientWithoutPadding(x, y, planes, height, width, state.Geometry, windows.OutH, windows.OutW, upstream, gradient);
            return;
        }

        for (var p = 0; p < planes; p++)
        {
            var plane = x.IsEmpty ? default : x.Slice(p * height * width, height * width);
            var target = gradient.Slice(p * height * width, height * width);
            var g = upstream.Slice(p * windows.OutH * windows.OutW, windows.OutH * windows.OutW);
            var pooled = y.IsEmpty ? default : y.Slice(p * windows.OutH * windows.OutW, windows.OutH * windows.OutW);
            for (var i = 0; i < windows.OutH; i++)
            {
                for (var j = 0; j < windows.OutW; j++)
                {
                    var w = windows.Bounds(i, j);
                    var gij = g[(i * windows.OutW) + j];
                    if (maximum)
                    {
                        target[ArgMaxInWindow(plane, width, w, pooled[(i * windows.OutW) + j])] += gij;
                        continue;
                    }

                    var share = gij / T.CreateTruncating(windows.Divisor(i, j, state.CountIncludePad));
                    for (var r = w.Top; r < w.Bottom; r++)
                    {
                        var row = target.Slice((r * width) + w.Left, w.Right - w.Left);
                        System.Numerics.Tensors.TensorPrimitives.Add(row, share, row);
                    }
                }
            }
        }
    }

    /// <summary>A float32 segment seen as what it is, once the caller has checked that T is float.</summary>
    private static ArraySegment<float> Reinterpret<T>(ArraySegment<T> segment) => new((float[])(object)segment.Array!, segment.Offset, segment.Count);

    /// <summary>Whether the windows are 2×2 at stride 2 without padding and tile the plane exactly (even sides).</summary>
    private static bool IsTiling2x2(in WindowGeometry g, int height, int width) =>
        g is { KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2, PadH: 0, PadW: 0, DilationH: 1, DilationW: 1 } &&
        height % 2 == 0 && width % 2 == 0;

    /// <summary>A max pooling node's window: the 2×2 tiling where its state is the choices its forward pass kept.</summary>
    private static PoolState MaxPoolState(in Node node) => node.Args.StateAs<Tensor>() is null ? node.Args.State<PoolState>() : s_tiling2x2;

    /// <summary>
    /// Max pooling's gradient for 2×2 windows at stride 2 that tile the plane, the pooling of most nets: every input
    /// element belongs to exactly one window, so each window writes its four elements (g at the first one equal to
    /// the output, or the first NaN; 0 at the others; <see cref="MaxPool2x2.FirstMaximum{T}"/>) and the gradient
    /// needs no clearing pass first. The float32 kernel's scalar form, for float64 and machines without vectors.
    /// </summary>
    private static void MaxGradient2x2<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, int planes, int height, int width, ReadOnlySpan<T> upstream, Span<T> gradient)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int outH = height / 2, outW = width / 2, o = 0;
        ref var input = ref MemoryMarshal.GetReference(x);
        ref var output = ref MemoryMarshal.GetReference(y);
        ref var g0 = ref MemoryMarshal.GetReference(upstream);
        ref var target = ref MemoryMarshal.GetReference(gradient);
        for (var p = 0; p < planes; p++)
        {
            for (var i = 0; i < outH; i++)
            {
                var top = (p * height * width) + (2 * i * width);
                for (var j = 0; j < outW; j++, o++)
                {
                    int at = top + (2 * j), below = at + width;
                    var first = MaxPool2x2.FirstMaximum(
                        Unsafe.Add(ref input, at), Unsafe.Add(ref input, at + 1), Unsafe.Add(ref input, below), Unsafe.Add(ref input, below + 1), Unsafe.Add(ref output, o));
                    Unsafe.Add(ref target, at) = T.Zero;
                    Unsafe.Add(ref target, at + 1) = T.Zero;
                    Unsafe.Add(ref target, below) = T.Zero;
                    Unsafe.Add(ref target, below + 1) = T.Zero;
                    Unsafe.Add(ref target, at + (first & 1) + ((first >> 1) * width)) = Unsafe.Add(ref g0, o);
                }
            }
        }
    }

    /// <summary>
    /// Max pooling's gradient without padding: each window's g goes to the first position equal to its output (or
    /// its first NaN), found with the branch-free mask of <see cref="ArgMaxInWindow{T}"/> at fixed offsets.
    /// </summary>
    private static void MaxGradientWithoutPadding<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, int planes, int height, int width, in WindowGeometry g, int outH, int outW, ReadOnlySpan<T> upstream, Span<T> gradient)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref var input = ref MemoryMarshal.GetReference(x);
        ref var output = ref MemoryMarshal.GetReference(y);
        ref var g0 = ref MemoryMarshal.GetReference(upstream);
        ref var target = ref MemoryMarshal.GetReference(gradient);
        int kh = g.KernelH, kw = g.KernelW, sh = g.StrideH, sw = g.StrideW, o = 0;
        for (var p = 0; p < planes; p++)
        {
            var plane = p * height * width;
            for (var i = 0; i < outH; i++)
            {
                var rowStart = plane + (i * sh * width);
                for (var j = 0; j < outW; j++, o++)
                {
                    var at = rowStart + (j * sw);
                    var maximum = Unsafe.Add(ref output, o);

                    // A NaN maximum is rare (and predicted): only then are NaNs looked for, by testing v ≠ v.
                    var nan = T.IsNaN(maximum);
                    var matches = 0UL;
                    var bit = 0;
                    for (var r = 0; r < kh; r++)
                    {
                        for (var c = 0; c < kw; c++, bit++)
                        {
                            var v = Unsafe.Add(ref input, at + (r * width) + c);
                            var match = nan ? T.IsNaN(v) : v == maximum;
                            matches |= (ulong)Unsafe.As<bool, byte>(ref match) << bit;
                        }
                    }

                    var first = matches == 0 ? 0 : BitOperations.TrailingZeroCount(matches);
                    Unsafe.Add(ref target, at + ((first / kw) * width) + (first % kw)) += Unsafe.Add(ref g0, o);
                }
            }
        }
    }

    /// <summary>
    /// MaxPool2d's rule: g to each window's maximum. In ops: g times a constant one-hot mask in the columns' layout,
    /// folded back with <see cref="Col2Im"/>, so the recorded gradient is linear in g and differentiates again.
    /// </summary>
    private readonly struct MaxPool2dRule : IBackwardRule
    {
        public static string? Onnx(in Node node, IOnnxGraph graph) =>
            graph.Node("MaxPool", [graph.Value(node.A!)], OnnxWindow(MaxPoolState(node).Geometry));

        // Each window's tangent at its maximum: the tangent unfolded, masked by the same one-hot constant, summed over the window.
        public static Tensor Jvp(in Node node, InputTangents tangents)
        {
            if (tangents.A is not { } t)
            {
                return Tensor.ZerosLike(node.Output);
            }

            var state = MaxPoolState(node);
            var x = node.A!;
            var g = state.Geometry;
            int n = x.Shape[0], c = x.Shape[1], positions = node.Output.Shape[2] * node.Output.Shape[3];
            var mask = Tensor.Uninitialized(x.DType, Shape.FromDims([n, c * g.KernelSize, positions], "MaxPool2d"));
            ElementType.Dispatch(x.DType, new WindowMaxima(x, node.Output, g, mask));
            var picked = Sum(Reshape(mask * Unfold(t, g), n, c, g.KernelSize, positions), 2);
            return Reshape(picked, node.Output.Shape.Dims);
        }

        public static InputGradients Differentiate(in Node node, Tensor upstream)
        {
            var state = MaxPoolState(node);
            var x = node.A!;
            var g = state.Geometry;
            int n = x.Shape[0], c = x.Shape[1], positions = upstream.Shape[2] * upstream.Shape[3];
            var mask = Tensor.Uninitialized(x.DType, Shape.FromDims([n, c * g.KernelSize, positions], "MaxPool2d"));
            ElementType.Dispatch(x.DType, new WindowMaxima(x, node.Output, g, mask));
            var repeated = Reshape(BroadcastTo(Reshape(upstream, n, c, 1, positions), n, c, g.KernelSize, positions), n, c * g.KernelSize, positions);
            return new(Fold(mask * repeated, x.Shape[2], x.Shape[3], g));
        }

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var target = tape.BeginGradient<T>(node.InA);
            var state = MaxPoolState(node);
            var shape = node.A!.Shape;
            if (node.Args.StateAs<Tensor>() is { } choices)
            {
                // The choices the forward pass kept (float32, the 2×2 tiling): neither the input nor the output is read again.
                MaxPool2x2Choices.Backward(
                    choices.RawSegment<float>(), Reinterpret<T>(tape.UpstreamSegment<T>(index)), Reinterpret<T>(target.Segment), shape[0] * shape[1] * (shape[2] / 2), shape[3]);
            }
            else if (typeof(T) == typeof(float) && MaxPool2x2.IsSupported && IsTiling2x2(state.Geometry, shape[2], shape[3]))
            {
                // The float32 2×2 kernel, its rows shared by the worker threads (PoolBackward's scalar loop is the rest).
                MaxPool2x2.Backward(
                    node.A.RawSegment<float>(), node.Output.RawSegment<float>(), Reinterpret<T>(tape.UpstreamSegment<T>(index)), Reinterpret<T>(target.Segment),
                    shape[0] * shape[1] * (shape[2] / 2), shape[3]);
            }
            else
            {
                PoolBackward<T>(node.A.Raw<T>(), node.Output.Raw<T>(), shape, tape.Upstream<T>(index), state, true, target.Span);
            }

            tape.Commit(target);
        }
    }

    /// <summary>AvgPool2d's rule: g / divisor over each window; in ops, the same spread through <see cref="Col2Im"/>.</summary>
    private readonly struct AvgPool2dRule : IBackwardRule
    {
        // AveragePool has no dilations attribute before opset 19; average pooling here has none either.
        public static string? Onnx(in Node node, IOnnxGraph graph)
        {
            var state = node.Args.State<PoolState>();
            return graph.Node("AveragePool", [graph.Value(node.A!)], [.. OnnxWindow(state.Geometry).Where(a => a.Name != "dilations"), ("count_include_pad", state.CountIncludePad ? 1L : 0L)]);
        }

        // Linear: the tangent averaged over the same windows.
        public static Tensor Jvp(in Node node, InputTangents tangents)
        {
            if (tangents.A is not { } t)
            {
                return Tensor.ZerosLike(node.Output);
            }

            var state = node.Args.State<PoolState>();
            var g = state.Geometry;
            return Pool(s_avgPool2d, t, (g.KernelH, g.KernelW), (g.StrideH, g.StrideW), (g.PadH, g.PadW), state.CountIncludePad);
        }

        public static InputGradients Differentiate(in Node node, Tensor upstream)
        {
            var state = node.Args.State<PoolState>();
            var x = node.A!;
            var windows = new Windows(state.Geometry, x.Shape[2], x.Shape[3]);
            var divisors = new double[windows.OutH * windows.OutW];
            for (var i = 0; i < windows.OutH; i++)
            {
                for (var j = 0; j < windows.OutW; j++)
                {
                    divisors[(i * windows.OutW) + j] = windows.Divisor(i, j, state.CountIncludePad);
                }
            }

            var constant = Tensor.FromArray(divisors, windows.OutH, windows.OutW).ToType(x.DType);
            return new(SpreadOverWindows(upstream, x.Shape, state.Geometry, constant));
        }

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var target = tape.BeginGradient<T>(node.InA);
            PoolBackward<T>(default, default, node.A!.Shape, tape.Upstream<T>(index), node.Args.State<PoolState>(), false, target.Span);
            tape.Commit(target);
        }
    }

    /// <summary>
    /// Every window's g (divided by its divisor, when given) added onto the pixels the window covers, in ops:
    /// g repeated kh·kw times in the columns' layout, then <see cref="Col2Im"/>.
    /// </summary>
    private static Tensor SpreadOverWindows(Tensor upstream, Shape input, in WindowGeometry g, Tensor? divisors)
    {
        int n = input[0], c = input[1], positions = upstream.Shape[2] * upstream.Shape[3];
        var scaled = divisors is null ? upstream : upstream / divisors;
        var repeated = BroadcastTo(Reshape(scaled, n, c, 1, positions), n, c, g.KernelSize, positions);
        return Fold(Reshape(repeated, n, c * g.KernelSize, positions), input[2], input[3], g);
    }

    /// <summary>A constant in the columns' layout (N, C·kh·kw, OH·OW): 1 at each window's maximum, 0 elsewhere.</summary>
    private readonly struct WindowMaxima(Tensor x, Tensor y, WindowGeometry g, Tensor mask) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            int channels = x.Shape[1], planes = x.Shape[0] * channels, height = x.Shape[2], width = x.Shape[3];
            var windows = new Windows(g, height, width);
            int positions = windows.OutH * windows.OutW;
            ReadOnlySpan<T> source = x.Raw<T>(), pooled = y.Raw<T>();
            var columns = mask.Raw<T>();
            columns.Clear();
            for (var p = 0; p < planes; p++)
            {
                var plane = source.Slice(p * height * width, height * width);

                // Plane p is image p / C, channel p % C: its rows of the columns start at (p / C)·C·k² + (p % C)·k².
                var rows = columns.Slice(p * g.KernelSize * positions, g.KernelSize * positions);
                for (var i = 0; i < windows.OutH; i++)
                {
                    for (var j = 0; j < windows.OutW; j++)
                    {
                        var at = ArgMaxInWindow(plane, width, windows.Bounds(i, j), pooled[(((p * windows.OutH) + i) * windows.OutW) + j]);
                        int ki = (at / width) - ((i * g.StrideH) - g.PadH), kj = (at % width) - ((j * g.StrideW) - g.PadW);
                        rows[((((ki * g.KernelW) + kj) * positions) + (i * windows.OutW)) + j] = T.One;
                    }
                }
            }
        }
    }

    /// <summary>The adaptive bins of a tensor pair: averages (image to pooled) or, for the adjoint, spreads (pooled to image).</summary>
    private readonly struct AdaptiveAverage(Tensor source, Tensor destination, bool spread) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T> => AdaptiveBins<T>(source.Raw<T>(), source.Shape, destination.Raw<T>(), destination.Shape, spread);
    }

    /// <summary>
    /// Averages each bin of the images into the pooled output, or (<paramref name="spread"/>) spreads each pooled value
    /// over its bin divided by the bin's size: the adjoint, which overwrites the images.
    /// </summary>
    private static void AdaptiveBins<T>(ReadOnlySpan<T> source, Shape sourceShape, Span<T> destination, Shape destinationShape, bool spread)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (images, pooled) = spread ? (destinationShape, sourceShape) : (sourceShape, destinationShape);
        int planes = images[0] * images[1], height = images[2], width = images[3], outH = pooled[2], outW = pooled[3];
        if (spread)
        {
            destination.Clear();
        }

        for (var p = 0; p < planes; p++)
        {
            for (var i = 0; i < outH; i++)
            {
                int top = i * height / outH, bottom = (((i + 1) * height) + outH - 1) / outH;
                for (var j = 0; j < outW; j++)
                {
                    int left = j * width / outW, right = (((j + 1) * width) + outW - 1) / outW;
                    var size = T.CreateTruncating((bottom - top) * (right - left));
                    var cell = (((p * outH) + i) * outW) + j;
                    var sum = T.Zero;
                    for (var r = top; r < bottom; r++)
                    {
                        var at = (((p * height) + r) * width) + left;
                        if (spread)
                        {
                            var row = destination.Slice(at, right - left);
                            System.Numerics.Tensors.TensorPrimitives.Add(row, source[cell] / size, row);
                        }
                        else
                        {
                            sum += System.Numerics.Tensors.TensorPrimitives.Sum(source.Slice(at, right - left));
                        }
                    }

                    if (!spread)
                    {
                        destination[cell] = sum / size;
                    }
                }
            }
        }
    }

    /// <summary>The adjoint of adaptive average pooling (its gradient), recorded so that the gradient differentiates again.</summary>
    private static Tensor AdaptiveAvgPool2dAdjoint(Tensor upstream, Shape input)
    {
        var y = Tensor.Uninitialized(upstream.DType, input);
        ElementType.Dispatch(upstream.DType, new AdaptiveAverage(upstream, y, spread: true));
        Tape.Record(s_adaptiveAvgPool2dAdjoint, y, upstream);
        return y;
    }

    private readonly struct AdaptiveAvgPool2dRule : IBackwardRule
    {
        // ONNX has the global case only; another output size is refused by the exporter's message for ops without a form.
        public static string? Onnx(in Node node, IOnnxGraph graph) =>
            node.Output.Shape[2] == 1 && node.Output.Shape[3] == 1 ? graph.Node("GlobalAveragePool", [graph.Value(node.A!)]) : null;

        public static Tensor Jvp(in Node node, InputTangents tangents) =>
            tangents.A is { } t ? AdaptiveAvgPool2d(t, (node.Output.Shape[2], node.Output.Shape[3])) : Tensor.ZerosLike(node.Output);

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(AdaptiveAvgPool2dAdjoint(upstream, node.A!.Shape));

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var target = tape.BeginGradient<T>(node.InA);
            AdaptiveBins<T>(tape.Upstream<T>(index), node.Output.Shape, target.Span, node.A!.Shape, spread: true);
            tape.Commit(target);
        }
    }

    private readonly struct AdaptiveAvgPool2dAdjointRule : IBackwardRule
    {
        public static Tensor Jvp(in Node node, InputTangents tangents) =>
            tangents.A is { } t ? AdaptiveAvgPool2dAdjoint(t, node.Output.Shape) : Tensor.ZerosLike(node.Output);

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(AdaptiveAvgPool2d(upstream, (node.A!.Shape[2], node.A.Shape[3])));

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var target = tape.BeginGradient<T>(node.InA);
            AdaptiveBins<T>(tape.Upstream<T>(index), node.Output.Shape, target.Span, node.A!.Shape, spread: false);
            tape.Commit(target);
        }
    }

    /// <summary>The op table's rows for this file's ops, with their gradient checks (see <see cref="OpCatalog"/>).</summary>
    [OpFamily(87)]
    private static IEnumerable<OpInfo> PoolingRows()
    {
        yield return new OpInfo
        {
            Family = "Pooling",
            Call = "`MaxPool2d(x, kernel, stride, padding)`",
            Forward = "the maximum of each window (padding never wins; NaN propagates)",
            Gradient = "g to the first maximum of each window (or its first NaN)",
            BadInputs = [
                Bad<ShapeMismatchException>("maxpool rank", () => MaxPool2d(M23, 2), "MaxPool2d", "(N, C, H, W)", "(2, 3)"),
                Bad<ArgumentOutOfRangeException>("maxpool padding", () => MaxPool2d(Tensor.Zeros([1, 1, 4, 4]), 2, padding: 2), "MaxPool2d", "padding (2, 2)"),
                Bad<ShapeMismatchException>("maxpool too small", () => MaxPool2d(Tensor.Zeros([1, 1, 2, 2]), 3), "MaxPool2d", "3×3", "(1, 1, 2, 2)"),
                Bad<ArgumentOutOfRangeException>("maxpool stride 0", () => MaxPool2d(Tensor.Zeros([1, 1, 4, 4]), 2, stride: 0), "MaxPool2d", "stride (0, 0)"),
            ],
            CannotGrowBecause = "each window has at least one pixel and the stride is at least 1",
            Samples =
            [
                Gradient("MaxPool2d", v => MaxPool2d(v[0], 2), N(221, 2, 3, 6, 4)),
                Gradient("MaxPool2d", v => MaxPool2d(v[0], 3, stride: 2, padding: 1), N(222, 1, 2, 7, 5)),
                Gradient("MaxPool2d", v => MaxPool2d(v[0], (2, 3), stride: (1, 2)), N(223, 2, 1, 5, 7)),
            ],
        };
        yield return new OpInfo
        {
            Family = "Pooling",
            Call = "`AvgPool2d(x, kernel, stride, padding, countIncludePad)`",
            Forward = "the mean of each window (÷ kh·kw, or ÷ the real pixels without countIncludePad)",
            Gradient = "g / divisor spread over each window",
            BadInputs = [
                Bad<ShapeMismatchException>("avgpool rank", () => AvgPool2d(V3, 2), "AvgPool2d", "(3,)"),
                Bad<ArgumentOutOfRangeException>("avgpool negative padding", () => AvgPool2d(Tensor.Zeros([1, 1, 4, 4]), 2, padding: -1), "AvgPool2d", "padding (-1, -1)"),
            ],
            CannotGrowBecause = "each window has at least one pixel and the stride is at least 1",
            Samples =
            [
                Gradient("AvgPool2d", v => AvgPool2d(v[0], 2), N(224, 2, 3, 6, 4)),
                Gradient("AvgPool2d", v => AvgPool2d(v[0], 3, stride: 2, padding: 1), N(225, 1, 2, 7, 5)),
                Gradient("AvgPool2d", v => AvgPool2d(v[0], 3, stride: 2, padding: 1, countIncludePad: false), N(226, 1, 2, 7, 5)),
            ],
        };
        yield return new OpInfo
        {
            Family = "Pooling",
            Call = "`AdaptiveAvgPool2d(x, outputSize)`",
            Forward = "the mean over PyTorch's bins ⌊i·H/OH⌋ … ⌈(i + 1)·H/OH⌉; (1, 1) is global average pooling",
            Gradient = "each g spread over its bin ÷ the bin's size",
            BadInputs = [
                Bad<ShapeMismatchException>("adaptive rank", () => AdaptiveAvgPool2d(M23, 1), "AdaptiveAvgPool2d", "(2, 3)"),
                Bad<ArgumentOutOfRangeException>("adaptive size", () => AdaptiveAvgPool2d(Tensor.Zeros([1, 1, 4, 4]), (0, 2)), "AdaptiveAvgPool2d", "(0, 2)"),
            ],
            Overflows = [Overflow("output size", () => AdaptiveAvgPool2d(Tensor.Zeros([1, 1, 1, 1]), (65536, 65536)), "(1, 1, 1, 1)")],
            Samples =
            [
                Gradient("AdaptiveAvgPool2d", v => AdaptiveAvgPool2d(v[0], 1), N(227, 2, 3, 5, 4)),
                Gradient("AdaptiveAvgPool2d", v => AdaptiveAvgPool2d(v[0], (3, 2)), N(228, 1, 2, 7, 5)),
                Gradient("AdaptiveAvgPool2d", v => AdaptiveAvgPool2d(v[0], (4, 6)), N(229, 1, 1, 3, 4)),
            ],
        };
    }
}
