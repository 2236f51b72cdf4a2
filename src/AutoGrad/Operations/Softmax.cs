using System.Numerics;

using AutoGrad.Autodiff;
using AutoGrad.Tensors;

using static AutoGrad.Operations.OpSamples;

using SoftmaxKernels = AutoGrad.Kernels.Softmax;

namespace AutoGrad.Operations;

/// <summary>Softmax and log-softmax along an axis, both shifted by the maximum so large logits cannot overflow.</summary>
public static partial class Ops
{
    private static readonly Op s_softmax = new Op<SoftmaxRule>("Softmax", readsInputs: false);
    private static readonly Op s_logSoftmax = new Op<LogSoftmaxRule>("LogSoftmax", readsInputs: false);

    /// <summary>yᵢ = exp(xᵢ − max) / Σⱼ exp(xⱼ − max) along <paramref name="axis"/>. ∂/∂x = y ⊙ (g − Σ g ⊙ y).</summary>
    /// <param name="x">The logits.</param>
    /// <param name="axis">The axis that sums to 1; -1 is the last.</param>
    /// <returns>The probabilities, of <paramref name="x"/>'s shape.</returns>
    public static Tensor Softmax(Tensor x, int axis = -1) => SoftmaxFamily(s_softmax, x, axis);

    /// <summary>yᵢ = xᵢ − log Σⱼ exp(xⱼ) along <paramref name="axis"/>, by log-sum-exp. ∂/∂x = g − exp(y) ⊙ Σ g.</summary>
    /// <param name="x">The logits.</param>
    /// <param name="axis">The normalized axis; -1 is the last.</param>
    /// <returns>The log-probabilities, of <paramref name="x"/>'s shape.</returns>
    public static Tensor LogSoftmax(Tensor x, int axis = -1) => SoftmaxFamily(s_logSoftmax, x, axis);

    private static Tensor SoftmaxFamily(Op op, Tensor x, int axis)
    {
        Check.NotNull(x, op.Name, nameof(x));
        var a = x.Shape.NormalizeAxis(axis, op.Name);
        int outer = x.Shape.Outer(a), n = x.Shape[a], inner = x.Shape.Inner(a);
        var y = Tensor.Uninitialized(x.DType, x.Shape);
        var log = op == s_logSoftmax;
        ElementType.Dispatch(x.DType, new SoftmaxForward(x, y, outer, n, inner, log));

        Tape.Record(op, y, x, null, null, new NodeArgs { Axis = a });
        return y;
    }

    private readonly struct SoftmaxForward(Tensor x, Tensor y, int outer, int n, int inner, bool log) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            if (log)
            {
                SoftmaxKernels.LogForward<T>(x.Raw<T>(), y.Raw<T>(), outer, n, inner);
            }
            else
            {
                SoftmaxKernels.Forward<T>(x.Raw<T>(), y.Raw<T>(), outer, n, inner);
            }
        }
    }

    private readonly struct SoftmaxRule : IBackwardRule
    {
        public static string? Onnx(in Node node, IOnnxGraph graph) => graph.Node("Softmax", [graph.Value(node.A!)], ("axis", (long)node.Args.Axis));

        // ẏ = y ⊙ (ẋ − Σₐₓᵢₛ y ⊙ ẋ): the Jacobian diag(y) − y·yᵀ is symmetric, so this is the gradient rule with ẋ as upstream.
        public static Tensor Jvp(in Node node, InputTangents tangents) => DiagonalJvp<SoftmaxRule>(node, tangents);
        public static Tensor? JvpBatch(in Node node, InputTangents tangents, int batch) => DiagonalJvpBatch<SoftmaxRule>(node, tangents, batch);

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(node.Output * (upstream - Sum(upstream * node.Output, node.Args.Axis, keepDims: true)));

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var shape = node.Output.Shape;
            var a = node.Args.Axis;
            var target = tape.BeginGradient<T>(node.InA);
            SoftmaxKernels.Backward<T>(node.Output.Raw<T>(), tape.Upstream<T>(index), target.Span, shape.Outer(a), shape[a], shape.Inner(a));
            tape.Commit(target);
        }
    }

    private readonly struct LogSoftmaxRule : IBackwardRule
    {
        public static string? Onnx(in Node node, IOnnxGraph graph) => graph.Node("LogSoftmax", [graph.Value(node.A!)], ("axis", (long)node.Args.Axis));

        // ẏ = ẋ − Σₐₓᵢₛ eʸ ⊙ ẋ.
        public static Tensor Jvp(in Node node, InputTangents tangents) => tangents.A is { } t
            ? t - Sum(Exp(node.Output) * t, node.Args.Axis, keepDims: true)
            : Tensor.ZerosLike(node.Output);

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(upstream - (Exp(node.Output) * Sum(upstream, node.Args.Axis, keepDims: true)));

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var shape = node.Output.Shape;
            var a = node.Args.Axis;
            var target = tape.BeginGradient<T>(node.InA);
            SoftmaxKernels.LogBackward<T>(node.Output.Raw<T>(), tape.Upstream<T>(index), target.Span, shape.Outer(a), shape[a], shape.Inner(a));
            tape.Commit(target);
        }
    }

    /// <summary>The op table's rows for this file's ops, with their gradient checks (see <see cref="OpCatalog"/>).</summary>
    [OpFamily(30)]
    private static IEnumerable<OpInfo> SoftmaxRows()
    {
        (int[] Shape, int Axis)[] cases = [([5], 0), ([3, 4], -1), ([3, 4], 0), ([2, 3, 4], 1)];
        yield return new OpInfo
        {
            Family = "Softmax",
            Call = "`Softmax(x, axis)`",
            Forward = "e^(x − max) / Σ e^(x − max)",
            Gradient = "y ⊙ (g − Σₐₓᵢₛ g ⊙ y)",
            BadInputs = [Bad<ArgumentOutOfRangeException>("softmax axis", () => Softmax(M23, 2), "Softmax", "axis 2", "(2, 3)")],
            CannotGrowBecause = "elementwise along an axis",
            Samples = [.. cases.Select(c => Gradient("Softmax", v => Softmax(v[0], c.Axis), N(20, c.Shape)))],
        };
        yield return new OpInfo
        {
            Family = "Softmax",
            Call = "`LogSoftmax(x, axis)`",
            Forward = "(x − max) − log Σ e^(x − max)",
            Gradient = "g − eʸ ⊙ Σₐₓᵢₛ g",
            BadInputs = [Bad<ArgumentOutOfRangeException>("log_softmax axis", () => LogSoftmax(M23, -3), "LogSoftmax", "axis -3")],
            CannotGrowBecause = "elementwise along an axis",
            Samples = [.. cases.Select(c => Gradient("LogSoftmax", v => LogSoftmax(v[0], c.Axis), N(21, c.Shape)))],
        };
    }
}
