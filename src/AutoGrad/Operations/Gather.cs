using System.Numerics;

using AutoGrad.Autodiff;
using AutoGrad.Tensors;

using static AutoGrad.Operations.OpSamples;

namespace AutoGrad.Operations;

/// <summary>Picking one element per row by class index: y[i] = x[i, labels[i]].</summary>
public static partial class Ops
{
    private static readonly Op s_gather = new Op<GatherRule>("Gather", readsInputs: false);

    /// <summary>y[i] = x[i, labels[i]] for a (rows, classes) tensor. ∂/∂x = g[i] at (i, labels[i]), 0 elsewhere.</summary>
    /// <param name="x">A rank-2 tensor.</param>
    /// <param name="labels">One class index per row, each in [0, classes). The tape keeps a reference until reset: do not change it meanwhile.</param>
    /// <returns>A rank-1 tensor of one value per row.</returns>
    public static Tensor Gather(Tensor x, ReadOnlyMemory<int> labels)
    {
        Check.NotNull(x, "Gather", nameof(x));
        if (x.Rank != 2)
        {
            throw new ShapeMismatchException($"Gather: needs a (rows, classes) tensor, got shape {x.Shape}.");
        }

        int rows = x.Shape[0], classes = x.Shape[1];
        Check.Labels(labels.Span, rows, classes, "Gather");
        var y = Tensor.Uninitialized(x.DType, Shape.FromOwned([rows], "Gather"));
        ElementType.Dispatch(x.DType, new GatherForward(x, labels, classes, y));

        Tape.Record(s_gather, y, x, null, null, NodeArgs.Of(new LabelState(labels)));
        return y;
    }

    private readonly struct GatherForward(Tensor x, ReadOnlyMemory<int> labels, int classes, Tensor y) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            ReadOnlySpan<T> values = x.Raw<T>();
            var picked = y.Raw<T>();
            var rows = labels.Span;
            for (var i = 0; i < rows.Length; i++)
            {
                picked[i] = values[(i * classes) + rows[i]];
            }
        }
    }

    private readonly struct GatherRule : IBackwardRule
    {
        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(ScatterLabels(upstream, node.Args.State<LabelState>().Labels, node.A!.Shape[1]));

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var classes = node.A!.Shape[1];
            var labels = node.Args.State<LabelState>().Labels.Span;
            var g = tape.Upstream<T>(index);
            var target = tape.BeginGradient<T>(node.InA);
            target.Span.Clear();
            for (var i = 0; i < labels.Length; i++)
            {
                target.Span[(i * classes) + labels[i]] = g[i];
            }

            tape.Commit(target);
        }
    }

    /// <summary>The op table's rows for this file's ops, with their gradient checks (see <see cref="OpCatalog"/>).</summary>
    [OpFamily(70)]
    private static IEnumerable<OpInfo> GatherRows()
    {
        yield return new OpInfo
        {
            Family = "Gather",
            Call = "`Gather(x, labels)`",
            Forward = "y[i] = x[i, tᵢ]",
            Gradient = "g[i] at (i, tᵢ), 0 elsewhere",
            BadInputs = [
                Bad<ArgumentOutOfRangeException>("gather label", () => Gather(M23, new[] { 0, 7 }), "Gather", "label 7"),
                Bad<ShapeMismatchException>("gather label count", () => Gather(M23, new[] { 0 }), "Gather", "1 labels", "2 rows"),
            ],
            CannotGrowBecause = "one element per row",
            Samples = [Gradient("Gather", v => Gather(v[0], Labels), N(34, 3, 4))],
        };
    }
}
