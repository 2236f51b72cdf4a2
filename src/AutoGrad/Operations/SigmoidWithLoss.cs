using System.Numerics;

using AutoGrad.Autodiff;
using AutoGrad.Tensors;

using static AutoGrad.Operations.OpSamples;

using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace AutoGrad.Operations;

/// <summary>Sigmoid followed by binary cross-entropy, fused, with backward (y − t)/N.</summary>
public static partial class Ops
{
    private static readonly Op s_sigmoidWithLoss = new Op<SigmoidWithLossRule>("SigmoidWithLoss");

    /// <summary>
    /// The binary cross-entropy of sigmoid(x) against targets t in [0, 1], summed and divided by N, the size of the
    /// first axis (each element of a rank-1 input is one sample, as in the book's word2vec; a scalar is one sample).
    /// Computed from the logits as max(x, 0) − x·t + log(1 + e^−|x|), so |x| of 1000 is exact.
    /// ∂/∂x = g·(y − t)/N with y = sigmoid(x); ∂/∂t = −g·x/N.
    /// </summary>
    /// <param name="x">The logits.</param>
    /// <param name="target">Targets of x's shape.</param>
    /// <returns>The loss, a scalar.</returns>
    public static Tensor SigmoidWithLoss(Tensor x, Tensor target)
    {
        Check.NotNull(x, "SigmoidWithLoss", nameof(x));
        CheckTarget(x, target, "SigmoidWithLoss");
        if (x.Length == 0)
        {
            throw new ShapeMismatchException($"SigmoidWithLoss: the input of shape {x.Shape} is empty.");
        }

        var probabilities = Tensor.Uninitialized(x.DType, x.Shape);
        var loss = Tensor.Uninitialized(x.DType, Shape.Scalar);
        ElementType.Dispatch(x.DType, new SigmoidWithLossForward(x, target, probabilities, loss));

        Tape.Record(s_sigmoidWithLoss, loss, x, target, null, NodeArgs.Of(probabilities));
        return loss;
    }

    private static int BinarySamples(Tensor x) => x.Rank == 0 ? 1 : x.Shape[0];

    private readonly struct SigmoidWithLossForward(Tensor logits, Tensor target, Tensor probabilities, Tensor loss) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            ReadOnlySpan<T> x = logits.Raw<T>(), t = target.Raw<T>();
            var y = probabilities.Raw<T>();
            TensorPrimitives.Sigmoid(x, y);
            var total = 0.0; // float64, so a large float32 batch does not drift
            for (var i = 0; i < x.Length; i++)
            {
                // max(x, 0) − x·t written as x·(1 − t) or −x·t by the sign of x, as PyTorch's BCEWithLogits: at x = +∞ and
                // t = 0 the loss is +∞, where ∞ − ∞·0 would be NaN.
                var linear = x[i] >= T.Zero ? x[i] * (T.One - t[i]) : -(x[i] * t[i]);
                total += double.CreateTruncating(linear + T.LogP1(T.Exp(-T.Abs(x[i]))));
            }

            loss.Raw<T>()[0] = T.CreateTruncating(total / BinarySamples(logits));
        }
    }

    private readonly struct SigmoidWithLossRule : IBackwardRule
    {
        // L̇ = Σ ((σ(x) − t) ⊙ ẋ − x ⊙ ṫ) / N.
        public static Tensor Jvp(in Node node, InputTangents tangents)
        {
            var x = node.A!;
            var fromLogits = tangents.A is { } tx ? (Sigmoid(x) - node.B!) * tx : null;
            var fromTarget = tangents.B is { } tt ? -(x * tt) : null;
            var change = fromLogits is null ? fromTarget : fromTarget is null ? fromLogits : fromLogits + fromTarget;
            return change is null ? Tensor.ZerosLike(node.Output) : Sum(change) / BinarySamples(x);
        }

        public static InputGradients Differentiate(in Node node, Tensor upstream)
        {
            var scale = upstream / BinarySamples(node.A!);
            return new(
                node.InA >= 0 ? (Sigmoid(node.A!) - node.B!) * scale : null,
                node.InB >= 0 ? -node.A! * scale : null);
        }

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var scale = tape.Upstream<T>(index)[0] / T.CreateTruncating(BinarySamples(node.A!));
            if (node.InA >= 0)
            {
                var dx = tape.BeginGradient<T>(node.InA);
                TensorPrimitives.Subtract(node.Args.State<Tensor>().Raw<T>(), node.B!.Raw<T>(), dx.Span);
                TensorPrimitives.Multiply(dx.Span, scale, dx.Span);
                tape.Commit(dx);
            }

            if (node.InB >= 0)
            {
                var dt = tape.BeginGradient<T>(node.InB);
                TensorPrimitives.Multiply(node.A!.Raw<T>(), -scale, dt.Span);
                tape.Commit(dt);
            }
        }
    }

    /// <summary>The op table's rows for this file's ops, with their gradient checks (see <see cref="OpCatalog"/>).</summary>
    [OpFamily(100)]
    private static IEnumerable<OpInfo> SigmoidWithLossRows()
    {
        yield return new OpInfo
        {
            Family = "SigmoidWithLoss",
            Call = "`SigmoidWithLoss(x, t)`",
            Forward = "(1/N) Σ max(x, 0) − x·t + log(1 + e^−\\|x\\|)",
            Gradient = "dx = g·(y − t)/N, dt = −g·x/N",
            BadInputs = [
                Bad<ShapeMismatchException>("sigmoid loss shape", () => SigmoidWithLoss(V3, M23), "SigmoidWithLoss", "(2, 3)", "(3,)"),
                Bad<ShapeMismatchException>("sigmoid loss empty", () => SigmoidWithLoss(Empty, Empty), "SigmoidWithLoss", "empty", "(0, 3)"),
            ],
            CannotGrowBecause = "a scalar",
            Fused = true,
            Samples = [Gradient("SigmoidWithLoss", v => SigmoidWithLoss(v[0], v[1]), N(39, 4, 2), U(40, 0, 1, 4, 2))],
            Compositions =
            [
                Composition("SigmoidWithLoss", v => SigmoidWithLoss(v[0], v[1]), v => -Sum((v[1] * Log(Sigmoid(v[0]))) + ((1 - v[1]) * Log(1 - Sigmoid(v[0])))) / 4, N(49, 4, 3), U(50, 0, 1, 4, 3)),
            ],
        };
    }
}
