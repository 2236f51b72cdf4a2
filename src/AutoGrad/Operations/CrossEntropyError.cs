using System.Numerics;

using AutoGrad.Autodiff;
using AutoGrad.Tensors;

using static AutoGrad.Operations.OpSamples;

using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace AutoGrad.Operations;

/// <summary>The book's cross-entropy on probabilities, with its δ = 1e-7 guard against log 0.</summary>
public static partial class Ops
{
    /// <summary>The book's guard: log(y + δ) stays finite when a probability is exactly 0.</summary>
    public const double CrossEntropyDelta = 1e-7;

    private static readonly Op s_crossEntropyError = new Op<CrossEntropyErrorRule>("CrossEntropyError");

    /// <summary>
    /// −(1/N) Σᵢ log(y[i, tᵢ] + δ) for probabilities y (N, C) or (C,) and class labels, δ = 1e-7.
    /// ∂/∂y = −g/(N·(y + δ)) at each (i, tᵢ), 0 elsewhere.
    /// </summary>
    /// <param name="y">Probabilities, (N, C) or (C,) for one sample.</param>
    /// <param name="labels">N class indices in [0, C). The tape keeps a reference until reset.</param>
    /// <returns>The loss, a scalar.</returns>
    public static Tensor CrossEntropyError(Tensor y, ReadOnlyMemory<int> labels)
    {
        Check.NotNull(y, "CrossEntropyError", nameof(y));
        var (rows, classes) = ScoreShape(y, "CrossEntropyError");
        Check.Labels(labels.Span, rows, classes, "CrossEntropyError");
        return CrossEntropyErrorCore(y, null, labels);
    }

    /// <summary>
    /// −(1/N) Σ t ⊙ log(y + δ) for probabilities y and targets t of the same shape (one-hot rows give the book's values:
    /// [0.01, 0.02, 0.9, 0.05, 0.02] against one-hot 2 is 0.1053604045467214).
    /// ∂/∂y = −g·t/(N·(y + δ)); ∂/∂t = −g·log(y + δ)/N.
    /// </summary>
    /// <param name="y">Probabilities, (N, C) or (C,) for one sample.</param>
    /// <param name="target">Targets of y's shape.</param>
    /// <returns>The loss, a scalar.</returns>
    public static Tensor CrossEntropyError(Tensor y, Tensor target)
    {
        Check.NotNull(y, "CrossEntropyError", nameof(y));
        ScoreShape(y, "CrossEntropyError");
        CheckTarget(y, target, "CrossEntropyError");
        return CrossEntropyErrorCore(y, target, default);
    }

    private static Tensor CrossEntropyErrorCore(Tensor y, Tensor? target, ReadOnlyMemory<int> labels)
    {
        var loss = Tensor.Uninitialized(y.DType, Shape.Scalar);
        ElementType.Dispatch(y.DType, new CrossEntropyErrorForward(y, target, labels, loss));

        Tape.Record(s_crossEntropyError, loss, y, target, null, target is null ? NodeArgs.Of(new LabelState(labels)) : default);
        return loss;
    }

    private readonly struct CrossEntropyErrorForward(Tensor y, Tensor? target, ReadOnlyMemory<int> labelMemory, Tensor loss) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var labels = labelMemory.Span;
            var ys = y.Raw<T>();
            var delta = T.CreateTruncating(CrossEntropyDelta);
            var total = 0.0; // float64, so a large float32 batch does not drift
            if (target is null)
            {
                var classes = y.Shape[-1];
                for (var i = 0; i < labels.Length; i++)
                {
                    total -= double.CreateTruncating(T.Log(ys[(i * classes) + labels[i]] + delta));
                }
            }
            else
            {
                var t = target.Raw<T>();
                for (var i = 0; i < ys.Length; i++)
                {
                    total -= double.CreateTruncating(t[i] * T.Log(ys[i] + delta));
                }
            }

            loss.Raw<T>()[0] = T.CreateTruncating(total / SampleCount(y));
        }
    }

    private readonly struct CrossEntropyErrorRule : IBackwardRule
    {
        // L̇ = −(1/N) Σ (t ⊙ ẏ / (y + δ) + ṫ ⊙ log(y + δ)).
        public static Tensor Jvp(in Node node, InputTangents tangents)
        {
            var y = node.A!;
            Tensor? change = null;
            if (tangents.A is { } ty)
            {
                var t = node.B ?? OneHot(y, node.Args.State<LabelState>().Labels.Span);
                change = t * ty / (y + CrossEntropyDelta);
            }

            if (tangents.B is { } tt)
            {
                var term = tt * Log(y + CrossEntropyDelta);
                change = change is null ? term : change + term;
            }

            return change is null ? Tensor.ZerosLike(node.Output) : -Sum(change) / SampleCount(y);
        }

        public static InputGradients Differentiate(in Node node, Tensor upstream)
        {
            var y = node.A!;
            var scale = upstream / SampleCount(y);
            var t = node.B ?? OneHot(y, node.Args.State<LabelState>().Labels.Span);
            return new(
                node.InA >= 0 ? -(t / (y + CrossEntropyDelta)) * scale : null,
                node.InB >= 0 ? -Log(y + CrossEntropyDelta) * scale : null);
        }

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var y = node.A!;
            var ys = y.Raw<T>();
            var delta = T.CreateTruncating(CrossEntropyDelta);
            var scale = tape.Upstream<T>(index)[0] / T.CreateTruncating(SampleCount(y));
            if (node.InA >= 0)
            {
                var dy = tape.BeginGradient<T>(node.InA);
                if (node.B is null)
                {
                    dy.Span.Clear();
                    var classes = y.Shape[-1];
                    var labels = node.Args.State<LabelState>().Labels.Span;
                    for (var i = 0; i < labels.Length; i++)
                    {
                        var at = (i * classes) + labels[i];
                        dy.Span[at] = -scale / (ys[at] + delta);
                    }
                }
                else
                {
                    TensorPrimitives.Add(ys, delta, dy.Span);
                    TensorPrimitives.Divide(node.B.Raw<T>(), dy.Span, dy.Span);
                    TensorPrimitives.Multiply(dy.Span, -scale, dy.Span);
                }

                tape.Commit(dy);
            }

            if (node.InB >= 0)
            {
                var dt = tape.BeginGradient<T>(node.InB);
                TensorPrimitives.Add(ys, delta, dt.Span);
                TensorPrimitives.Log(dt.Span, dt.Span);
                TensorPrimitives.Multiply(dt.Span, -scale, dt.Span);
                tape.Commit(dt);
            }
        }
    }

    /// <summary>The op table's rows for this file's ops, with their gradient checks (see <see cref="OpCatalog"/>).</summary>
    [OpFamily(120)]
    private static IEnumerable<OpInfo> CrossEntropyErrorRows()
    {
        yield return new OpInfo
        {
            Family = "CrossEntropyError",
            Call = "`CrossEntropyError(y, t)`",
            Forward = "−(1/N) Σ t ⊙ log(y + δ), δ = 1e-7; t = labels or rows",
            Gradient = "dy = −g·t/(N·(y + δ)), dt = −g·log(y + δ)/N",
            BadInputs = [
                Bad<ArgumentOutOfRangeException>("label negative", () => CrossEntropyError(M23, new[] { -1, 0 }), "CrossEntropyError", "label -1", "row 0"),
                Bad<ShapeMismatchException>("cross entropy target", () => CrossEntropyError(M23, M32), "CrossEntropyError", "(3, 2)", "(2, 3)"),
                Bad<ShapeMismatchException>("cross entropy empty", () => CrossEntropyError(Empty, Array.Empty<int>()), "CrossEntropyError", "empty", "(0, 3)"),
            ],
            CannotGrowBecause = "a scalar",
            Fused = true,
            Samples = [Gradient("CrossEntropyError", v => CrossEntropyError(v[0], Labels), U(43, 0.1, 1, 3, 4))],
            Compositions =
            [
                Composition("CrossEntropyError", v => CrossEntropyError(v[0], v[1]), v => -Sum(v[1] * Log(v[0] + CrossEntropyDelta)) / 3, U(53, 0.1, 1, 3, 4), OneHotLabels),
            ],
        };
    }
}
