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
    /// The mean cross-entropy of softmax(x) against class labels: −(1/N) Σᵢ log softmax(x)[i, tᵢ], by log-sum-exp, over
    /// the rows of the last axis (N rows of (N, C); N·T of a sequence's (N, T, V)).
    /// ∂/∂x = g·(y − onehot(t))/N with y = softmax(x).
    /// </summary>
    /// <param name="x">Scores (N, C), (C,) for one sample, or (…, C) with one label per row of the last axis.</param>
    /// <param name="labels">One class index in [0, C) per row. The tape keeps a reference until reset: do not change it meanwhile.</param>
    /// <returns>The loss, a scalar.</returns>
    public static Tensor SoftmaxWithLoss(Tensor x, ReadOnlyMemory<int> labels)
    {
        Check.NotNull(x, "SoftmaxWithLoss", nameof(x));
        var (rows, classes) = ScoreRows(x);
        Check.Labels(labels.Span, rows, classes, "SoftmaxWithLoss");
        return SoftmaxWithLossCore(x, null, labels, rows, classes, null);
    }

    /// <summary>
    /// <see cref="SoftmaxWithLoss(Tensor, ReadOnlyMemory{int})"/> where rows labelled <paramref name="ignoreLabel"/>
    /// (padding; PyTorch's <c>ignore_index</c>, the book's −1) take no part: the mean is over the other rows, and the
    /// ignored rows' gradient is 0. When every row is ignored the loss and its gradient are 0 (PyTorch gives NaN).
    /// </summary>
    /// <param name="x">Scores (…, C), one label per row of the last axis.</param>
    /// <param name="labels">One class index in [0, C), or <paramref name="ignoreLabel"/>, per row.</param>
    /// <param name="ignoreLabel">The label of rows to leave out (any value; a class index too, which is then never learned).</param>
    /// <returns>The loss, a scalar.</returns>
    public static Tensor SoftmaxWithLoss(Tensor x, ReadOnlyMemory<int> labels, int ignoreLabel)
    {
        Check.NotNull(x, "SoftmaxWithLoss", nameof(x));
        var (rows, classes) = ScoreRows(x);
        Check.Labels(labels.Span, rows, classes, "SoftmaxWithLoss", ignoreLabel);
        return SoftmaxWithLossCore(x, null, labels, rows, classes, ignoreLabel);
    }

    /// <summary>The rows and classes of scores (…, C): C ≥ 1, and at least one row (a mean over none would be NaN).</summary>
    private static (int Rows, int Classes) ScoreRows(Tensor x)
    {
        if (x.Rank < 1 || x.Shape[-1] == 0)
        {
            throw new ShapeMismatchException($"SoftmaxWithLoss: needs scores of shape (…, C) with C ≥ 1, got {x.Shape}.");
        }

        RequireSamples(x, "SoftmaxWithLoss");
        return (x.Length / x.Shape[-1], x.Shape[-1]);
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
        var (rows, classes) = ScoreRows(x);
        CheckTarget(x, target, "SoftmaxWithLoss");
        return SoftmaxWithLossCore(x, target, default, rows, classes, null);
    }

    private static Tensor SoftmaxWithLossCore(Tensor x, Tensor? target, ReadOnlyMemory<int> labels, int rows, int classes, int? ignoreLabel)
    {
        var probabilities = Tensor.Uninitialized(x.DType, x.Shape);
        var loss = Tensor.Uninitialized(x.DType, Shape.Scalar);
        ElementType.Dispatch(x.DType, new SoftmaxWithLossForward(x, target, labels, rows, classes, ignoreLabel, probabilities, loss));

        // An ignore label rides in the node's integer, flagged by its scalar (so the record allocates nothing more).
        var args = NodeArgs.Of(target is null ? new LabelState(labels, probabilities) : probabilities, ignoreLabel is null ? 0 : 1, ignoreLabel ?? 0);
        Tape.Record(s_softmaxWithLoss, loss, x, target, null, args);
        return loss;
    }

    /// <summary>The ignore label a node was recorded with, if any.</summary>
    private static int? IgnoreLabel(in Node node) => node.Args.Scalar != 0 ? node.Args.Axis : null;

    /// <summary>The rows whose labels count: all of them, or those not labelled <paramref name="ignoreLabel"/>.</summary>
    private static int CountedRows(ReadOnlySpan<int> labels, int rows, int? ignoreLabel) =>
        ignoreLabel is int ignored ? rows - labels.Count(ignored) : rows;

    private readonly struct SoftmaxWithLossForward(Tensor x, Tensor? target, ReadOnlyMemory<int> labelMemory, int rows, int classes, int? ignoreLabel, Tensor probabilityTensor, Tensor loss) : IElementAction
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
                    if (labels[i] == ignoreLabel)
                    {
                        // Still a softmax row (the backward pass reads it), but no part of the loss.
                        SoftmaxKernels.ExpAndLogSum(p, max);
                    }
                    else
                    {
                        var shifted = p[labels[i]];
                        total -= double.CreateTruncating(shifted - SoftmaxKernels.ExpAndLogSum(p, max));
                    }
                }
                else
                {
                    var t = target.Raw<T>().Slice(i * classes, classes);
                    var dot = TensorPrimitives.Dot(t, p);
                    total -= double.CreateTruncating(dot - (SoftmaxKernels.ExpAndLogSum(p, max) * TensorPrimitives.Sum(t)));
                }

                TensorPrimitives.Divide(p, TensorPrimitives.Sum<T>(p), p);
            }

            var counted = target is null ? CountedRows(labels, rows, ignoreLabel) : rows;
            loss.Raw<T>()[0] = counted == 0 ? T.Zero : T.CreateTruncating(total / counted);
        }
    }

    /// <summary>The probabilities the forward pass saved: beside the labels, or alone when the target is a tensor.</summary>
    private static Tensor SavedProbabilities(in Node node) => node.B is null ? node.Args.State<LabelState>().Saved! : node.Args.State<Tensor>();

    private readonly struct SoftmaxWithLossRule : IBackwardRule
    {
        public static Tensor Jvp(in Node node, InputTangents tangents) => ScalarOutputJvp<SoftmaxWithLossRule>(node, tangents);
        public static Tensor? JvpBatch(in Node node, InputTangents tangents, int batch) => ScalarOutputJvpBatch<SoftmaxWithLossRule>(node, tangents, batch);

        public static InputGradients Differentiate(in Node node, Tensor upstream)
        {
            var x = node.A!;
            var scale = upstream / (x.Length / x.Shape[-1]);
            if (node.B is null && IgnoreLabel(node) is int ignored)
            {
                // The counted rows' (y − onehot(t))/counted; the ignored rows' 0, by a mask of kept rows.
                var labels = node.Args.State<LabelState>().Labels.Span;
                var kept = new double[labels.Length];
                var valid = new int[labels.Length];
                for (var i = 0; i < labels.Length; i++)
                {
                    (kept[i], valid[i]) = labels[i] == ignored ? (0, 0) : (1, labels[i]);
                }

                var counted = CountedRows(labels, labels.Length, ignored);
                var keep = Reshape(Tensor.FromArray(kept, labels.Length, 1).ToType(x.DType), [.. x.Shape.Dims[..^1], 1]);
                return new(node.InA >= 0 ? (Softmax(x) - OneHot(x, valid)) * keep * (upstream / Math.Max(counted, 1)) : null);
            }

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
            var ignored = node.B is null ? IgnoreLabel(node) : null;
            var counted = ignored is null ? rows : CountedRows(node.Args.State<LabelState>().Labels.Span, rows, ignored);
            var scale = tape.Upstream<T>(index)[0] / T.CreateTruncating(Math.Max(counted, 1));
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
                        if (labels[i] == ignored)
                        {
                            dx.Span.Slice(i * classes, classes).Clear();
                        }
                        else
                        {
                            dx.Span[(i * classes) + labels[i]] -= T.One;
                        }
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
            Call = "`SoftmaxWithLoss(x, t)`, `SoftmaxWithLoss(x, labels, ignoreLabel)`",
            Forward = "−(1/N) Σ t ⊙ log softmax(x) over the rows of the last axis, by log-sum-exp; t = labels or rows; rows labelled ignoreLabel left out of the mean",
            Gradient = "dx = g·(y − t)/N (y ⊙ Σt − t for rows not summing to 1), dt = −g·log softmax(x)/N",
            BadInputs = [
                Bad<ArgumentOutOfRangeException>("label too big", () => SoftmaxWithLoss(M23, new[] { 0, 3 }), "SoftmaxWithLoss", "label 3", "row 1", "3 classes"),
                Bad<ShapeMismatchException>("label count", () => SoftmaxWithLoss(M23, new[] { 0 }), "SoftmaxWithLoss", "1 labels", "2 rows"),
                Bad<ShapeMismatchException>("one-hot shape", () => SoftmaxWithLoss(M23, M32), "SoftmaxWithLoss", "(3, 2)", "(2, 3)"),
                Bad<ShapeMismatchException>("sequence label count", () => SoftmaxWithLoss(Tensor.Zeros([2, 2, 2], DType.Float64), new[] { 0, 1 }), "SoftmaxWithLoss", "2 labels", "4 rows"),
                Bad<ArgumentOutOfRangeException>("label not ignored", () => SoftmaxWithLoss(M23, new[] { 0, -2 }, -1), "SoftmaxWithLoss", "label -2", "row 1", "ignore label -1"),
                Bad<ShapeMismatchException>("scalar scores", () => SoftmaxWithLoss(Tensor.Scalar(1.0), new[] { 0 }), "SoftmaxWithLoss", "()"),
                Bad<DTypeMismatchException>("mix loss", () => SoftmaxWithLoss(F23, M23), "SoftmaxWithLoss", "float32", "float64"),
                Bad<ShapeMismatchException>("softmax loss empty", () => SoftmaxWithLoss(Empty, Array.Empty<int>()), "SoftmaxWithLoss", "empty", "(0, 3)"),
            ],
            CannotGrowBecause = "a scalar",
            Fused = true,
            Samples = [
                Gradient("SoftmaxWithLoss", v => SoftmaxWithLoss(v[0], Labels), N(38, 3, 4)),
                Gradient("SoftmaxWithLoss", v => SoftmaxWithLoss(v[0], new[] { 2, 0, 3, 1, 1, 0 }), N(39, 2, 3, 4)),
                Gradient("SoftmaxWithLoss", v => SoftmaxWithLoss(v[0], new[] { 2, -1, 3, 1, -1, 0 }, -1), N(40, 2, 3, 4)),
            ],
            Compositions =
            [
                Composition("SoftmaxWithLoss", v => SoftmaxWithLoss(v[0], v[1]), v => -Sum(v[1] * LogSoftmax(v[0])) / 3, N(47, 3, 4), OneHotLabels),
                Composition("SoftmaxWithLoss", v => SoftmaxWithLoss(v[0], v[1]), v => -Sum(v[1] * Log(Softmax(v[0]))) / 3, N(48, 3, 4), OneHotLabels),

                // Time steps 1 and 4 of 6 are padding: the loss is the mean over the other four rows' picks.
                Composition(
                    "SoftmaxWithLoss",
                    v => SoftmaxWithLoss(v[0], new[] { 2, -1, 3, 1, -1, 0 }, -1),
                    v => -Sum(Gather(Reshape(LogSoftmax(v[0]), 6, 4), new[] { 2, 0, 3, 1, 0, 0 }) * Tensor.FromArray([1.0, 0, 1, 1, 0, 1])) / 4,
                    N(49, 2, 3, 4)),
            ],
        };
    }
}
