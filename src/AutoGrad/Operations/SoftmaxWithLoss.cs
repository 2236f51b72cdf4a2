using System.Numerics;

using AutoGrad.Autodiff;
using AutoGrad.Tensors;

using static AutoGrad.Operations.OpSamples;

using SoftmaxKernels = AutoGrad.Kernels.Softmax;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace AutoGrad.Operations;

/// <summary>Softmax followed by the mean cross-entropy, fused, with the book's backward rule (y − t)/N.</summary>
public static partial class Ops
{
    private static readonly Op s_softmaxWithLoss = new Op<SoftmaxWithLossRule>("SoftmaxWithLoss");

    /// <summary>
    /// The mean cross-entropy of softmax(x) against class labels: −(1/N) Σᵢ log softmax(x)[i, tᵢ], by log-sum-exp.
    /// ∂/∂x = g·(y − onehot(t))/N with y = softmax(x).
    /// </summary>
    /// <param name="x">Scores (N, C), or (C,) for one sample.</param>
    /// <param name="labels">N class indices in [0, C). The tape keeps a reference until reset: do not change it meanwhile.</param>
    /// <returns>The loss, a scalar.</returns>
    public static Tensor SoftmaxWithLoss(Tensor x, ReadOnlyMemory<int> labels)
    {
        Check.NotNull(x, "SoftmaxWithLoss", nameof(x));
        var (rows, classes) = ScoreShape(x, "SoftmaxWithLoss");
        Check.Labels(labels.Span, rows, classes, "SoftmaxWithLoss");
        return SoftmaxWithLossCore(x, null, labels, rows, classes);
    }

    /// <summary>
    /// The mean cross-entropy of softmax(x) against target distributions t (one-hot rows, or any rows):
    /// −(1/N) Σ t ⊙ log softmax(x). ∂/∂x = g·(y ⊙ Σₖ tₖ − t)/N, which is g·(y − t)/N for rows that sum to 1;
    /// ∂/∂t = −g·log softmax(x)/N.
    /// </summary>
    /// <param name="x">Scores (N, C), or (C,) for one sample.</param>
    /// <param name="target">Targets of x's shape.</param>
    /// <returns>The loss, a scalar.</returns>
    public static Tensor SoftmaxWithLoss(Tensor x, Tensor target)
    {
        Check.NotNull(x, "SoftmaxWithLoss", nameof(x));
        var (rows, classes) = ScoreShape(x, "SoftmaxWithLoss");
        CheckTarget(x, target, "SoftmaxWithLoss");
        return SoftmaxWithLossCore(x, target, default, rows, classes);
    }

    private static Tensor SoftmaxWithLossCore(Tensor x, Tensor? target, ReadOnlyMemory<int> labels, int rows, int classes)
    {
        var probabilities = Tensor.Uninitialized(x.DType, x.Shape);
        var loss = Tensor.Uninitialized(x.DType, Shape.Scalar);
        ElementType.Dispatch(x.DType, new SoftmaxWithLossForward(x, target, labels, rows, classes, probabilities, loss));

        Tape.Record(s_softmaxWithLoss, loss, x, target, null, NodeArgs.Of(target is null ? new LabelState(labels, probabilities) : probabilities));
        return loss;
    }

    private readonly struct SoftmaxWithLossForward(Tensor x, Tensor? target, ReadOnlyMemory<int> labelMemory, int rows, int classes, Tensor probabilityTensor, Tensor loss) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var xs = x.Raw<T>();
            var labels = labelMemory.Span;
            var probabilities = probabilityTensor.Raw<T>();

            // Summed in float64: a float32 running sum over 100,000 rows drifts by about 1e-5 relative.
            var total = 0.0;
            for (var i = 0; i < rows; i++)
            {
                // log softmax(x) = (x − max) − log Σ exp(x − max), formed only where the loss needs it. Never as
                // x − (max + log Σ): that rounds log Σ to the precision of the largest logit (a loss of 0 at 1e30).
                var row = xs.Slice(i * classes, classes);
                var p = probabilities.Slice(i * classes, classes);
                var max = SoftmaxKernels.ShiftByMax(row, p);
                if (target is null)
                {
                    var shifted = p[labels[i]];
                    total -= double.CreateTruncating(shifted - SoftmaxKernels.ExpAndLogSum(p, max));
                }
                else
                {
                    var t = target.Raw<T>().Slice(i * classes, classes);
                    var dot = TensorPrimitives.Dot(t, p);
                    total -= double.CreateTruncating(dot - (SoftmaxKernels.ExpAndLogSum(p, max) * TensorPrimitives.Sum(t)));
                }

                TensorPrimitives.Divide(p, TensorPrimitives.Sum<T>(p), p);
            }

            loss.Raw<T>()[0] = T.CreateTruncating(total / rows);
        }
    }

    /// <summary>The probabilities the forward pass saved: beside the labels, or alone when the target is a tensor.</summary>
    private static Tensor SavedProbabilities(in Node node) => node.B is null ? node.Args.State<LabelState>().Saved! : node.Args.State<Tensor>();

    private readonly struct SoftmaxWithLossRule : IBackwardRule
    {
        public static InputGradients Differentiate(in Node node, Tensor upstream)
        {
            var x = node.A!;
            var scale = upstream / (x.Length / x.Shape[-1]);
            if (node.B is null)
            {
                return new(node.InA >= 0 ? (Softmax(x) - OneHot(x, node.Args.State<LabelState>().Labels.Span)) * scale : null);
            }

            var t = node.B;
            return new(
                node.InA >= 0 ? ((Softmax(x) * Sum(t, -1, keepDims: true)) - t) * scale : null,
                node.InB >= 0 ? -LogSoftmax(x) * scale : null);
        }

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var x = node.A!;
            var classes = x.Shape[-1];
            var rows = x.Length / classes;
            var scale = tape.Upstream<T>(index)[0] / T.CreateTruncating(rows);
            var y = SavedProbabilities(node).Raw<T>();
            if (node.InA >= 0)
            {
                var dx = tape.BeginGradient<T>(node.InA);
                if (node.B is null)
                {
                    y.CopyTo(dx.Span);
                    var labels = node.Args.State<LabelState>().Labels.Span;
                    for (var i = 0; i < rows; i++)
                    {
                        dx.Span[(i * classes) + labels[i]] -= T.One;
                    }
                }
                else
                {
                    var t = node.B.Raw<T>();
                    for (var i = 0; i < rows; i++)
                    {
                        var tr = t.Slice(i * classes, classes);
                        TensorPrimitives.Multiply(y.Slice(i * classes, classes), TensorPrimitives.Sum(tr), dx.Span.Slice(i * classes, classes));
                    }

                    TensorPrimitives.Subtract(dx.Span, t, dx.Span);
                }

                TensorPrimitives.Multiply(dx.Span, scale, dx.Span);
                tape.Commit(dx);
            }

            if (node.InB >= 0)
            {
                // ∂/∂t = −g·log softmax(x)/N, recomputed from x (log y would lose the tiny probabilities).
                var dt = tape.BeginGradient<T>(node.InB);
                SoftmaxKernels.LogForward<T>(x.Raw<T>(), dt.Span, rows, classes, 1);
                TensorPrimitives.Multiply(dt.Span, -scale, dt.Span);
                tape.Commit(dt);
            }
        }
    }

    /// <summary>The op table's rows for this file's ops, with their gradient checks (see <see cref="OpCatalog"/>).</summary>
    [OpFamily(90)]
    private static IEnumerable<OpInfo> SoftmaxWithLossRows()
    {
        yield return new OpInfo
        {
            Family = "SoftmaxWithLoss",
            Call = "`SoftmaxWithLoss(x, t)`",
            Forward = "−(1/N) Σ t ⊙ log softmax(x), by log-sum-exp; t = labels or rows",
            Gradient = "dx = g·(y − t)/N (y ⊙ Σt − t for rows not summing to 1), dt = −g·log softmax(x)/N",
            BadInputs = [
                Bad<ArgumentOutOfRangeException>("label too big", () => SoftmaxWithLoss(M23, new[] { 0, 3 }), "SoftmaxWithLoss", "label 3", "row 1", "3 classes"),
                Bad<ShapeMismatchException>("label count", () => SoftmaxWithLoss(M23, new[] { 0 }), "SoftmaxWithLoss", "1 labels", "2 rows"),
                Bad<ShapeMismatchException>("one-hot shape", () => SoftmaxWithLoss(M23, M32), "SoftmaxWithLoss", "(3, 2)", "(2, 3)"),
                Bad<ShapeMismatchException>("scores rank", () => SoftmaxWithLoss(Tensor.Zeros([2, 2, 2], DType.Float64), new[] { 0, 1 }), "SoftmaxWithLoss", "(2, 2, 2)"),
                Bad<DTypeMismatchException>("mix loss", () => SoftmaxWithLoss(F23, M23), "SoftmaxWithLoss", "float32", "float64"),
                Bad<ShapeMismatchException>("softmax loss empty", () => SoftmaxWithLoss(Empty, Array.Empty<int>()), "SoftmaxWithLoss", "empty", "(0, 3)"),
            ],
            CannotGrowBecause = "a scalar",
            Fused = true,
            Samples = [Gradient("SoftmaxWithLoss", v => SoftmaxWithLoss(v[0], Labels), N(38, 3, 4))],
            Compositions =
            [
                Composition("SoftmaxWithLoss", v => SoftmaxWithLoss(v[0], v[1]), v => -Sum(v[1] * LogSoftmax(v[0])) / 3, N(47, 3, 4), OneHotLabels),
                Composition("SoftmaxWithLoss", v => SoftmaxWithLoss(v[0], v[1]), v => -Sum(v[1] * Log(Softmax(v[0]))) / 3, N(48, 3, 4), OneHotLabels),
            ],
        };
    }
}
