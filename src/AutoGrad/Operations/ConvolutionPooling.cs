using System.Numerics;
using System.Runtime.InteropServices;

using AutoGrad.Autodiff;
using AutoGrad.Kernels;
using AutoGrad.Tensors;

using static AutoGrad.Operations.OpSamples;

namespace AutoGrad.Operations;

/// <summary>A convolution and the max pooling after it as one op, so that the convolution's output never reaches memory.</summary>
public static partial class Ops
{
    private static readonly Op s_conv2dMaxPool2d = new Op<Conv2dMaxPool2dRule>("Conv2dMaxPool2d");

    /// <summary>
    /// <see cref="MaxPool2d"/>(<see cref="Conv2d"/>(x, W, b, …), <paramref name="pool"/>) as one fused op: the
    /// convolution of each image is pooled while it is still in cache, so its (N, F, OH, OW) output is never stored,
    /// and the backward pass scatters each image's pooled gradient right before the filter gradient reads it. The
    /// pooling windows tile the convolution's output (stride = window, no padding; rows and columns past the last
    /// whole window are dropped); the maxima, ties, NaN and gradients are MaxPool2d's, and the values and gradients
    /// those of the two ops, proven against that composition. The book's SimpleConvNet and LeNet-style nets pool this way.
    /// </summary>
    /// <param name="x">Images, (N, C, H, W).</param>
    /// <param name="weight">Filters, (F, C / groups, kh, kw).</param>
    /// <param name="bias">One value per filter, (F,), or null.</param>
    /// <param name="pool">The pooling window, which is also its stride; at most 256 positions.</param>
    /// <param name="stride">The convolution's stride (1 when null).</param>
    /// <param name="padding">The convolution's padding (0 when null).</param>
    /// <param name="dilation">The convolution's dilation (1 when null).</param>
    /// <param name="groups">The convolution's channel groups.</param>
    /// <returns>(N, F, ⌊OH / ph⌋, ⌊OW / pw⌋) for the convolution's (OH, OW).</returns>
    public static Tensor Conv2dMaxPool2d(Tensor x, Tensor weight, Tensor? bias, Size2d pool, Size2d? stride = null, Size2d? padding = null, Size2d? dilation = null, int groups = 1)
    {
        const string op = "Conv2dMaxPool2d";
        var g = ConvolutionWindow(op, x, weight, bias, stride, padding, dilation, groups);
        var (outH, outW) = WindowOutput(op, x.Shape, g);
        if (pool.Height < 1 || pool.Width < 1 || (long)pool.Height * pool.Width > PoolChoices.MaxWindow)
        {
            throw new ArgumentOutOfRangeException(nameof(pool), pool, $"{op}: the pooling window {pool} must be at least 1 × 1 and at most {PoolChoices.MaxWindow} positions.");
        }

        if (pool.Height > outH || pool.Width > outW)
        {
            throw new ShapeMismatchException($"{op}: the {pool.Height}×{pool.Width} pooling window does not fit the convolution's {outH}×{outW} output (x {x.Shape}, weight {weight.Shape}).");
        }

        var y = Tensor.Uninitialized(x.DType, Shape.FromDims([x.Shape[0], weight.Shape[0], outH / pool.Height, outW / pool.Width], op, x.Shape, weight.Shape));
        var choices = Tensor.Uninitialized(DType.Float32, Shape.FromDims([MaxPool2x2Choices.StoreLength(y.Length)], op, x.Shape, weight.Shape));
        ElementType.Dispatch(x.DType, new ConvPoolForward(x, weight, bias, y, choices, g, groups, pool, (outH, outW)));
        Tape.Record(s_conv2dMaxPool2d, y, x, weight, bias, NodeArgs.Of(new ConvPoolState(WindowState.Of(g, x.Shape[2], x.Shape[3], groups), pool, choices)));
        return y;
    }

    /// <summary>What the fused op's rules need: the convolution's state, the pooling window and each window's choice.</summary>
    private sealed record ConvPoolState(WindowState Convolution, Size2d Pool, Tensor Choices)
    {
        /// <summary>The pooling as a window over the convolution's output.</summary>
        public WindowGeometry PoolWindow => new(Pool.Height, Pool.Width, Pool.Height, Pool.Width, 0, 0, 1, 1);

        /// <summary>The convolution's output (OH, OW).</summary>
        public (int Height, int Width) ConvolutionOutput =>
            (Convolution.Geometry.OutputHeight(Convolution.Height), Convolution.Geometry.OutputWidth(Convolution.Width));

        public ReadOnlySpan<byte> ChoiceBytes => MemoryMarshal.AsBytes(Choices.Raw<float>());
    }

    /// <summary>
    /// The forward pass: image by image, the convolution into the workspace and its pooling from there; where the
    /// convolution's direct path pays (several images side by side), the whole batch convolved first, then pooled.
    /// </summary>
    private readonly struct ConvPoolForward(Tensor x, Tensor weight, Tensor? bias, Tensor y, Tensor choices, WindowGeometry g, int groups, Size2d pool, (int Height, int Width) output) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var shape = new ConvShape(x.Shape, weight.Shape, output.Height, output.Width, g, groups);
            var work = ConvImages<T>.ForThisThread();
            work.Set(ConvImages<T>.Phase.Forward, x, weight, null, shape, g, groups);
            if (!work.DirectForwardPays)
            {
                work.Bias = bias;
                (work.Pool, work.Pooled, work.Choices) = ((pool.Height, pool.Width), y.RawSegment<T>(), choices);
                work.Run(shape.Images);
                return;
            }

            var convolved = Tensor.Uninitialized(x.DType, Shape.FromDims([shape.Images, shape.Filters, output.Height, output.Width], "Conv2dMaxPool2d", x.Shape));
            work.Set(ConvImages<T>.Phase.Forward, x, weight, convolved, shape, g, groups);
            work.Bias = bias;
            work.Run(shape.Images);
            PoolChoices.Forward<T>(
                convolved.Raw<T>(), shape.Images * shape.Filters, output.Height, output.Width, pool.Height, pool.Width, y.Raw<T>(), MemoryMarshal.AsBytes(choices.Raw<float>()));
        }
    }

    /// <summary>
    /// The one-hot constant (N, F·ph·pw, PH·PW) in the pooling's columns' layout: 1 at each window's choice. The rules
    /// in ops route gradients and tangents through it, as MaxPool2d's do through its mask.
    /// </summary>
    private static Tensor ChoiceMask(ConvPoolState state, DType dtype, int images, int filters, int pooledPositions)
    {
        var pool = state.Pool.Height * state.Pool.Width;
        var ones = new double[images * filters * pool * pooledPositions];
        var choices = state.ChoiceBytes;
        for (var plane = 0; plane < images * filters; plane++)
        {
            for (var p = 0; p < pooledPositions; p++)
            {
                var window = (plane * pooledPositions) + p;
                ones[(((plane * pool) + choices[window]) * pooledPositions) + p] = 1;
            }
        }

        return Tensor.FromArray(ones, dtype, images, filters * pool, pooledPositions);
    }

    /// <summary>
    /// Conv2dMaxPool2d's rule. The filter and bias gradients scatter each image's pooled gradient into the workspace
    /// right before reading it (<see cref="ConvImages{T}"/>); the input gradient, or a direct filter gradient, takes the
    /// whole scattered gradient first. In ops: the pooled gradient through the choices' one-hot mask and
    /// <see cref="Col2Im"/> (MaxPool2d's), then the convolution's gradients.
    /// </summary>
    private readonly struct Conv2dMaxPool2dRule : IBackwardRule
    {
        public static string? Onnx(in Node node, IOnnxGraph graph)
        {
            var state = node.Args.State<ConvPoolState>();
            string[] inputs = node.C is { } bias ? [graph.Value(node.A!), graph.Value(node.B!), graph.Value(bias)] : [graph.Value(node.A!), graph.Value(node.B!)];
            var convolved = graph.Node("Conv", inputs, [.. OnnxWindow(state.Convolution.Geometry), ("group", (long)state.Convolution.Groups)]);
            return graph.Node("MaxPool", [convolved], OnnxWindow(state.PoolWindow));
        }

        // The convolution's tangent (bilinear in x and W, plus b), taken at each window's choice.
        public static Tensor Jvp(in Node node, InputTangents tangents)
        {
            var state = node.Args.State<ConvPoolState>();
            var g = state.Convolution.Geometry;
            Tensor Convolve(Tensor x, Tensor w) => Conv2d(x, w, null, (g.StrideH, g.StrideW), (g.PadH, g.PadW), (g.DilationH, g.DilationW), state.Convolution.Groups);
            Tensor? convolved = null;
            foreach (var term in (ReadOnlySpan<Tensor?>)[
                tangents.A is { } tx ? Convolve(tx, node.B!) : null,
                tangents.B is { } tw ? Convolve(node.A!, tw) : null,
                tangents.C is { } tb ? Reshape(tb, 1, -1, 1, 1) : null])
            {
                if (term is not null)
                {
                    convolved = convolved is null ? term : convolved + term;
                }
            }

            if (convolved is null)
            {
                return Tensor.ZerosLike(node.Output);
            }

            var output = node.Output.Shape;
            var (outH, outW) = state.ConvolutionOutput;
            int n = output[0], filters = output[1], positions = output[2] * output[3];
            convolved = BroadcastTo(convolved, n, filters, outH, outW);
            var mask = ChoiceMask(state, node.Output.DType, n, filters, positions);
            var picked = Sum(Reshape(mask * Unfold(convolved, state.PoolWindow), n, filters, state.Pool.Height * state.Pool.Width, positions), 2);
            return Reshape(picked, output.Dims);
        }

        public static InputGradients Differentiate(in Node node, Tensor upstream)
        {
            var state = node.Args.State<ConvPoolState>();
            int n = upstream.Shape[0], filters = upstream.Shape[1], positions = upstream.Shape[2] * upstream.Shape[3], pool = state.Pool.Height * state.Pool.Width;
            var mask = ChoiceMask(state, upstream.DType, n, filters, positions);
            var repeated = Reshape(BroadcastTo(Reshape(upstream, n, filters, 1, positions), n, filters, pool, positions), n, filters * pool, positions);
            var (outH, outW) = state.ConvolutionOutput;
            return ConvolutionGradientsInOps(node, Fold(mask * repeated, outH, outW, state.PoolWindow), state.Convolution);
        }

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var state = node.Args.State<ConvPoolState>();
            var window = state.Convolution;
            var (outH, outW) = state.ConvolutionOutput;
            var shape = new ConvShape(node.A!.Shape, node.B!.Shape, outH, outW, window.Geometry, window.Groups);
            ConvolutionGradients<T>(tape, node, shape, window, default, new PooledGradient<T>((state.Pool.Height, state.Pool.Width), tape.UpstreamSegment<T>(index), state.Choices));
        }
    }

    /// <summary>The op table's row for the fused op, with its gradient checks and its composition (see <see cref="OpCatalog"/>).</summary>
    [OpFamily(86)]
    private static IEnumerable<OpInfo> ConvolutionPoolingRows()
    {
        // (input, kernel, pool, stride, padding, dilation, groups): the book's 2×2 after a 5×5, odd outputs whose last
        // row or column no window covers, a rectangular window, stride, padding, dilation, groups, batch 1.
        (int[] X, int[] W, Size2d Pool, Size2d Stride, Size2d Padding, Size2d Dilation, int Groups)[] cases =
        [
            ([2, 1, 9, 8], [3, 1, 3, 3], 2, 1, 0, 1, 1),
            ([1, 2, 7, 6], [4, 2, 2, 3], (3, 2), 1, (1, 0), 1, 1),
            ([2, 4, 9, 9], [4, 2, 3, 3], 2, (2, 1), 1, 2, 2),
            ([1, 3, 6, 7], [6, 1, 3, 3], (2, 3), 1, 1, 1, 3),
        ];
        yield return new OpInfo
        {
            Family = "ConvolutionPooling",
            Call = "`Conv2dMaxPool2d(x, W, b, pool, stride, padding, dilation, groups)`",
            Forward = "MaxPool2d(Conv2d(x, W, b, …), pool): each image's convolution pooled in cache, windows tiling its output",
            Gradient = "g scattered to each window's maximum, then Conv2d's dx, dW, db (per image, without storing the scattered g)",
            Fused = true,
            BadInputs = [
                Bad<ShapeMismatchException>("convpool rank", () => Conv2dMaxPool2d(M23, Tensor.Zeros([2, 3, 1, 1], DType.Float64), null, 2), "Conv2dMaxPool2d", "(N, C, H, W)", "(2, 3)"),
                Bad<ShapeMismatchException>("convpool channels", () => Conv2dMaxPool2d(Tensor.Zeros([1, 3, 6, 6]), Tensor.Zeros([2, 2, 3, 3]), null, 2), "Conv2dMaxPool2d", "(2, 2, 3, 3)", "(1, 3, 6, 6)"),
                Bad<ArgumentOutOfRangeException>("convpool groups", () => Conv2dMaxPool2d(Tensor.Zeros([1, 3, 6, 6]), Tensor.Zeros([4, 1, 3, 3]), null, 2, groups: 2), "Conv2dMaxPool2d", "groups 2"),
                Bad<ShapeMismatchException>("convpool kernel too large", () => Conv2dMaxPool2d(Tensor.Zeros([1, 1, 4, 4]), Tensor.Zeros([1, 1, 5, 5]), null, 2), "Conv2dMaxPool2d", "5×5", "(1, 1, 4, 4)"),
                Bad<ArgumentOutOfRangeException>("convpool stride 0", () => Conv2dMaxPool2d(Tensor.Zeros([1, 1, 6, 6]), Tensor.Zeros([1, 1, 3, 3]), null, 2, stride: 0), "Conv2dMaxPool2d", "stride (0, 0)"),
                Bad<ArgumentOutOfRangeException>("convpool pool 0", () => Conv2dMaxPool2d(Tensor.Zeros([1, 1, 6, 6]), Tensor.Zeros([1, 1, 3, 3]), null, (0, 2)), "Conv2dMaxPool2d", "(0, 2)"),
                Bad<ArgumentOutOfRangeException>("convpool pool too many", () => Conv2dMaxPool2d(Tensor.Zeros([1, 1, 40, 40]), Tensor.Zeros([1, 1, 3, 3]), null, 17), "Conv2dMaxPool2d", "(17, 17)", "256"),
                Bad<ShapeMismatchException>("convpool pool too large", () => Conv2dMaxPool2d(Tensor.Zeros([1, 1, 6, 6]), Tensor.Zeros([1, 1, 3, 3]), null, 5), "Conv2dMaxPool2d", "5×5", "4×4"),
                Bad<ShapeMismatchException>("convpool bias", () => Conv2dMaxPool2d(Tensor.Zeros([1, 1, 6, 6]), Tensor.Zeros([2, 1, 3, 3]), Tensor.Zeros([3]), 2), "Conv2dMaxPool2d", "(3,)", "(2,)"),
                Bad<DTypeMismatchException>("convpool types", () => Conv2dMaxPool2d(Tensor.Zeros([1, 1, 6, 6]), Tensor.Zeros([1, 1, 3, 3], DType.Float64), null, 2), "Conv2dMaxPool2d", "float32", "float64"),
            ],
            CannotGrowBecause = "its output is a pooling of Conv2d's, which has at most as many elements",
            Samples =
            [
                .. cases.Select(c => Gradient("Conv2dMaxPool2d", v => Conv2dMaxPool2d(v[0], v[1], v[2], c.Pool, c.Stride, c.Padding, c.Dilation, c.Groups), N(237, c.X), N(238, c.W), N(239, c.W[0]))),
                Gradient("Conv2dMaxPool2d", v => Conv2dMaxPool2d(v[0], v[1], null, 2), N(240, 1, 2, 8, 8), N(241, 3, 2, 5, 5)),
            ],
            Compositions =
            [
                .. cases.Select(c => Composition(
                    "Conv2dMaxPool2d",
                    v => Conv2dMaxPool2d(v[0], v[1], v[2], c.Pool, c.Stride, c.Padding, c.Dilation, c.Groups),
                    v => MaxPool2d(Conv2d(v[0], v[1], v[2], c.Stride, c.Padding, c.Dilation, c.Groups), c.Pool),
                    N(242, c.X),
                    N(243, c.W),
                    N(244, c.W[0]))),
            ],
        };
    }
}
