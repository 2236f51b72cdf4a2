using System.Numerics;

using AutoGrad.Autodiff;
using AutoGrad.Kernels;
using AutoGrad.Tensors;

namespace AutoGrad.Operations;

/// <summary>
/// Helpers for the differentiable backward rules (the <c>Differentiate</c> method beside each op's fast rule), and the
/// two adjoint ops they need: padding rows back around a slice, and scattering per-row values back to their labels.
/// </summary>
public static partial class Ops
{
    private static readonly Op s_padRows = new Op<PadRowsRule>("PadRows", readsInputs: false);
    private static readonly Op s_scatterLabels = new Op<ScatterLabelsRule>("ScatterLabels", readsInputs: false);

    /// <summary>sum_to(g, input's shape), or g itself when the shapes already agree.</summary>
    private static Tensor ReduceTo(Tensor g, Tensor input) => g.Shape == input.Shape ? g : SumTo(g, input.Shape.Dims);

    /// <summary>A tensor of <paramref name="like"/>'s shape holding f(x) elementwise, as a constant no tape tracks.</summary>
    private static Tensor Constant(Tensor like, Func<double, double> f)
    {
        var values = like.ToDoubleArray();
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = f(values[i]);
        }

        return FromDoubles(values, like);
    }

    /// <summary><paramref name="values"/> in a tensor of <paramref name="like"/>'s shape and element type.</summary>
    private static Tensor FromDoubles(double[] values, Tensor like)
    {
        var result = Tensor.Uninitialized(like.DType, like.Shape);
        ElementType.Dispatch(like.DType, new ConvertInto(values, result));
        return result;
    }

    private readonly struct ConvertInto(double[] values, Tensor result) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var destination = result.Raw<T>();
            for (var i = 0; i < values.Length; i++)
            {
                destination[i] = T.CreateTruncating(values[i]);
            }
        }
    }

    /// <summary>The upstream gradient of a reduction, given its reduced dimensions back and broadcast to the input's shape.</summary>
    private static Tensor ExpandReduced(Tensor upstream, in Node node)
    {
        var input = node.A!.Shape;
        var kept = ReducedShape(input, node.Args.Axis, keepDims: true);
        return BroadcastTo(upstream.Shape == kept ? upstream : Reshape(upstream, kept.Dims), input.Dims);
    }

    /// <summary>
    /// A tangent of a reduction's input summed the way the reduction sums (along its axis, or all), in the output's
    /// shape: the forward-mode counterpart of <see cref="ExpandReduced"/>.
    /// </summary>
    private static Tensor SumReduced(Tensor tangent, in Node node)
    {
        var sum = node.Args.Axis == AllAxes ? Sum(tangent) : Sum(tangent, node.Args.Axis, keepDims: true);
        return sum.Shape == node.Output.Shape ? sum : Reshape(sum, node.Output.Shape.Dims);
    }

    /// <summary>1 at the first maximum along the reduced axis, 0 elsewhere: where Max routes its gradient.</summary>
    private static Tensor MaxMask(in Node node)
    {
        var x = node.A!;
        var (outer, n, inner) = ReductionView(x.Shape, node.Args.Axis);
        var mask = Tensor.Uninitialized(x.DType, x.Shape);
        ElementType.Dispatch(x.DType, new FillMaxMask(x, node.Output, mask, outer, n, inner));

        return mask;
    }

    private readonly struct FillMaxMask(Tensor x, Tensor max, Tensor mask, int outer, int n, int inner) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var ones = new T[max.Length];
            Array.Fill(ones, T.One);
            Reduce.MaxBackward<T>(x.Raw<T>(), max.Raw<T>(), ones, outer, n, inner, mask.Raw<T>());
        }
    }

    private static int[] InversePermutation(int[] perm)
    {
        var inverse = new int[perm.Length];
        for (var i = 0; i < perm.Length; i++)
        {
            inverse[perm[i]] = i;
        }

        return inverse;
    }

    /// <summary>Labels as one-hot rows of <paramref name="like"/>'s shape, a constant.</summary>
    private static Tensor OneHot(Tensor like, ReadOnlySpan<int> labels)
    {
        var classes = like.Shape[-1];
        var values = new double[like.Length];
        for (var i = 0; i < labels.Length; i++)
        {
            values[(i * classes) + labels[i]] = 1;
        }

        return FromDoubles(values, like);
    }

    /// <summary>Zeros of <paramref name="rows"/> rows with <paramref name="g"/> at rows start …: the adjoint of <see cref="Slice"/>.</summary>
    internal static Tensor PadRows(Tensor g, int start, int rows)
    {
        var dims = g.Shape.Dims.ToArray();
        dims[0] = rows;
        var y = Tensor.Uninitialized(g.DType, Shape.FromOwned(dims, "PadRows"));
        var offset = start * g.Shape.Inner(0);
        ElementType.Dispatch(g.DType, new PadRowsForward(g, y, offset));
        Tape.Record(s_padRows, y, g, null, null, new NodeArgs { Axis = start });
        return y;
    }

    private readonly struct PadRowsForward(Tensor g, Tensor y, int offset) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var padded = y.Raw<T>();
            padded.Clear();
            g.Raw<T>().CopyTo(padded[offset..]);
        }
    }

    /// <summary>(rows, classes) zeros with g[i] at (i, labels[i]): the adjoint of <see cref="Gather"/>.</summary>
    internal static Tensor ScatterLabels(Tensor g, ReadOnlyMemory<int> labels, int classes)
    {
        var y = Tensor.Uninitialized(g.DType, Shape.FromDims([labels.Length, classes], "ScatterLabels"));
        ElementType.Dispatch(g.DType, new Scatter(g, labels, classes, y));

        Tape.Record(s_scatterLabels, y, g, null, null, NodeArgs.Of(new LabelState(labels)));
        return y;
    }

    private readonly struct Scatter(Tensor gTensor, ReadOnlyMemory<int> labelsMemory, int classes, Tensor yTensor) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            ReadOnlySpan<T> g = gTensor.Raw<T>();
            var labels = labelsMemory.Span;
            Span<T> y = yTensor.Raw<T>();
            y.Clear();
            for (var i = 0; i < labels.Length; i++)
            {
                y[(i * classes) + labels[i]] = g[i];
            }
        }
    }

    private readonly struct PadRowsRule : IBackwardRule
    {
        // Linear: the tangent padded with the same zero rows.
        public static Tensor Jvp(in Node node, InputTangents tangents) =>
            tangents.A is { } ta ? PadRows(ta, node.Args.Axis, node.Output.Shape[0]) : Tensor.ZerosLike(node.Output);

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(Slice(upstream, node.Args.Axis, node.A!.Shape[0]));

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var target = tape.BeginGradient<T>(node.InA);
            tape.Upstream<T>(index).Slice(node.Args.Axis * node.A!.Shape.Inner(0), target.Span.Length).CopyTo(target.Span);
            tape.Commit(target);
        }
    }

    private readonly struct ScatterLabelsRule : IBackwardRule
    {
        // Linear: the tangent scattered to the same places.
        public static Tensor Jvp(in Node node, InputTangents tangents) =>
            tangents.A is { } ta ? ScatterLabels(ta, node.Args.State<LabelState>().Labels, node.Output.Shape[1]) : Tensor.ZerosLike(node.Output);

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(Gather(upstream, node.Args.State<LabelState>().Labels));

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var classes = node.Output.Shape[1];
            var labels = node.Args.State<LabelState>().Labels.Span;
            var g = tape.Upstream<T>(index);
            var target = tape.BeginGradient<T>(node.InA);
            for (var i = 0; i < labels.Length; i++)
            {
                target.Span[i] = g[(i * classes) + labels[i]];
            }

            tape.Commit(target);
        }
    }
}
