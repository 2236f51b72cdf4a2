using System.Numerics;

using AutoGrad.Autodiff;
using AutoGrad.Tensors;

using static AutoGrad.Operations.OpSamples;

using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace AutoGrad.Operations;

/// <summary>The book's mean squared error with its ½ convention, fused.</summary>
public static partial class Ops
{
    private static readonly Op s_meanSquaredError = new Op<MeanSquaredErrorRule>("MeanSquaredError", readsInputs: false);

    /// <summary>
    /// ½ Σ (y − t)² / N, where N is the size of the first axis for rank 2 and above and 1 for rank 0 or 1 (one sample,
    /// as in the book: [0.01, 0.02, 0.9, 0.05, 0.02] against one-hot 2 gives 0.0067).
    /// ∂/∂y = g·(y − t)/N; ∂/∂t = −g·(y − t)/N.
    /// </summary>
    /// <param name="y">The predictions.</param>
    /// <param name="target">The targets, of y's shape.</param>
    /// <returns>The loss, a scalar.</returns>
    public static Tensor MeanSquaredError(Tensor y, Tensor target)
    {
        Check.NotNull(y, "MeanSquaredError", nameof(y));
        CheckTarget(y, target, "MeanSquaredError");
        var difference = Tensor.Uninitialized(y.DType, y.Shape);
        var loss = Tensor.Uninitialized(y.DType, Shape.Scalar);
        ElementType.Dispatch(y.DType, new MeanSquaredErrorForward(y, target, difference, loss));

        Tape.Record(s_meanSquaredError, loss, y, target, null, NodeArgs.Of(difference));
        return loss;
    }

    private readonly struct MeanSquaredErrorForward(Tensor y, Tensor target, Tensor difference, Tensor loss) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var d = difference.Raw<T>();
            TensorPrimitives.Subtract<T>(y.Raw<T>(), target.Raw<T>(), d);
            loss.Raw<T>()[0] = TensorPrimitives.SumOfSquares<T>(d) / T.CreateTruncating(2 * SampleCount(y));
        }
    }

    private readonly struct MeanSquaredErrorRule : IBackwardRule
    {
        // L̇ = Σ (y − t) ⊙ (ẏ − ṫ) / N.
        public static Tensor Jvp(in Node node, InputTangents tangents)
        {
            var change = (tangents.A, tangents.B) switch
            {
                ({ } ty, { } tt) => ty - tt,
                ({ } ty, null) => ty,
                (null, { } tt) => -tt,
                _ => null,
            };
            return change is null ? Tensor.ZerosLike(node.Output) : Sum((node.A! - node.B!) * change) / SampleCount(node.A!);
        }

        public static InputGradients Differentiate(in Node node, Tensor upstream)
        {
            var scaled = (node.A! - node.B!) * (upstream / SampleCount(node.A!));
            return new(node.InA >= 0 ? scaled : null, node.InB >= 0 ? -scaled : null);
        }

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var scale = tape.Upstream<T>(index)[0] / T.CreateTruncating(SampleCount(node.A!));
            var difference = node.Args.State<Tensor>().Raw<T>();
            if (node.InA >= 0)
            {
                var dy = tape.BeginGradient<T>(node.InA);
                TensorPrimitives.Multiply(difference, scale, dy.Span);
                tape.Commit(dy);
            }

            if (node.InB >= 0)
            {
                var dt = tape.BeginGradient<T>(node.InB);
                TensorPrimitives.Multiply(difference, -scale, dt.Span);
                tape.Commit(dt);
            }
        }
    }

    /// <summary>The op table's rows for this file's ops, with their gradient checks (see <see cref="OpCatalog"/>).</summary>
    [OpFamily(110)]
    private static IEnumerable<OpInfo> MeanSquaredErrorRows()
    {
        yield return new OpInfo
        {
            Family = "MeanSquaredError",
            Call = "`MeanSquaredError(y, t)`",
            Forward = "½ Σ (y − t)² / N",
            Gradient = "dy = g·(y − t)/N, dt = −g·(y − t)/N",
            BadInputs = [
                Bad<ShapeMismatchException>("mse shape", () => MeanSquaredError(V3, V2), "MeanSquaredError", "(2,)", "(3,)"),
                Bad<ShapeMismatchException>("mse empty", () => MeanSquaredError(Empty, Empty), "MeanSquaredError", "empty", "(0, 3)"),
            ],
            CannotGrowBecause = "a scalar",
            Fused = true,
            Samples = [Gradient("MeanSquaredError", v => MeanSquaredError(v[0], v[1]), N(41, 3, 2), N(42, 3, 2))],
            Compositions =
            [
                Composition("MeanSquaredError", v => MeanSquaredError(v[0], v[1]), v => Sum(Pow(v[0] - v[1], 2)) * 0.5 / 4, N(51, 4, 3), N(52, 4, 3)),
            ],
        };
    }
}
