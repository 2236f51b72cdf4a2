using System.Numerics;

using AutoGrad.Autodiff;
using AutoGrad.Tensors;

using static AutoGrad.Operations.OpSamples;

namespace AutoGrad.Operations;

/// <summary>
/// Picking by index: one element per row by class index (y[i] = x[i, labels[i]]), and whole slices along an axis
/// (<c>IndexSelect</c>, an embedding's lookup).
/// </summary>
public static partial class Ops
{
    private static readonly Op s_gather = new Op<GatherRule>("Gather", readsInputs: false);
    private static readonly Op s_indexSelect = new Op<IndexSelectRule>("IndexSelect", readsInputs: false);
    private static readonly Op s_indexAdd = new Op<IndexAddRule>("IndexAdd", readsInputs: false);

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
        var y = Tensor.Uninitialized(x.DType, Shape.FromDims([rows], "Gather"));
        ElementType.Dispatch(x.DType, new GatherForward(x, labels, classes, y));

        Tape.Record(s_gather, y, x, null, null, NodeArgs.Of(new LabelState(labels)));
        return y;
    }

    /// <summary>
    /// The slices of <paramref name="x"/> at <paramref name="indices"/> along <paramref name="axis"/>, in the indices'
    /// order and as often as they repeat, PyTorch's <c>index_select</c> (an embedding's lookup is
    /// <c>IndexSelect(table, 0, ids)</c>). ∂/∂x = g's slices added back at their indices, so a repeated index receives
    /// the sum of its slices' gradients.
    /// </summary>
    /// <param name="x">A tensor of rank at least 1.</param>
    /// <param name="axis">The axis (negative counts from the end).</param>
    /// <param name="indices">A one-dimensional tensor of indices, each in [0, size of the axis). It is immutable, so the tape may keep it.</param>
    /// <returns>x's shape with the axis's size replaced by the number of indices.</returns>
    public static Tensor IndexSelect(Tensor x, int axis, IntTensor indices)
    {
        Check.NotNull(x, "IndexSelect", nameof(x));
        if (indices is null)
        {
            throw new ArgumentNullException(nameof(indices), "IndexSelect: argument 'indices' is null.");
        }

        if (x.Rank == 0)
        {
            throw new ShapeMismatchException("IndexSelect: cannot select from a scalar (shape ()).");
        }

        if (indices.Rank != 1)
        {
            throw new ShapeMismatchException($"IndexSelect: indices must be one-dimensional, got shape {indices.Shape} for x of shape {x.Shape}.");
        }

        var a = x.Shape.NormalizeAxis(axis, "IndexSelect");
        var size = x.Shape[a];
        if (FirstOutOfRange(indices, size) is { } i)
        {
            throw new ArgumentOutOfRangeException(nameof(indices), $"IndexSelect: index {indices.AsReadOnlySpan()[i]} (position {i}) is out of range for size {size} of axis {a} of shape {x.Shape}.");
        }

        return IndexSelectCore(x, a, indices, "IndexSelect");
    }

    /// <summary>
    /// The rows of <paramref name="table"/> (vocabulary, D) at <paramref name="ids"/>, an embedding's lookup: the
    /// result has ids' shape followed by D. A fused op: the lookup is an <see cref="IndexSelect"/> of rows, whose
    /// backward adds each id's gradient row into that row of the table (a repeated id receives the sum), equal to
    /// onehot(ids)·table, the book's view of it (checked as the composition).
    /// </summary>
    /// <param name="table">The embedding table, (vocabulary, D).</param>
    /// <param name="ids">Token ids of any shape, each in [0, vocabulary). It is immutable, so the tape may keep it.</param>
    /// <returns>The embeddings, (…ids' shape, D).</returns>
    public static Tensor Embedding(Tensor table, IntTensor ids)
    {
        Check.NotNull(table, "Embedding", nameof(table));
        if (ids is null)
        {
            throw new ArgumentNullException(nameof(ids), "Embedding: argument 'ids' is null.");
        }

        if (table.Rank != 2)
        {
            throw new ShapeMismatchException($"Embedding: the table must be (vocabulary, dimension), got {table.Shape}.");
        }

        var vocabulary = table.Shape[0];
        if (FirstOutOfRange(ids, vocabulary) is { } i)
        {
            throw new ArgumentOutOfRangeException(nameof(ids), $"Embedding: id {ids.AsReadOnlySpan()[i]} (position {i}) is out of range for a vocabulary of {vocabulary} (table {table.Shape}).");
        }

        int[] dims = [.. ids.Shape.Dims, table.Shape[1]];
        var rows = IndexSelectCore(table, 0, ids, "Embedding");
        return Reshape(rows, dims);
    }

    /// <summary>The position of the first index outside [0, <paramref name="size"/>), or null when all are inside.</summary>
    private static int? FirstOutOfRange(IntTensor indices, int size)
    {
        var values = indices.AsReadOnlySpan();
        for (var i = 0; i < values.Length; i++)
        {
            if ((uint)values[i] >= (uint)size)
            {
                return i;
            }
        }

        return null;
    }

    /// <summary>The slices at checked indices (of any shape, taken in order); the result's axis has one slice per index.</summary>
    private static Tensor IndexSelectCore(Tensor x, int axis, IntTensor indices, string op)
    {
        var dims = x.Shape.Dims.ToArray();
        dims[axis] = indices.Length;
        var y = Tensor.Uninitialized(x.DType, Shape.FromOwned(dims, op, x.Shape));
        ElementType.Dispatch(x.DType, new IndexCopy(x, y, indices, axis, add: false));
        Tape.Record(s_indexSelect, y, x, null, null, NodeArgs.Of(indices, axis: axis));
        return y;
    }

    /// <summary>Embedding from primitives (its composition check): one-hot rows of the ids times the table.</summary>
    private static Tensor ComposedEmbedding(Tensor table, IntTensor ids)
    {
        var vocabulary = table.Shape[0];
        var oneHot = new double[ids.Length * vocabulary];
        var values = ids.AsReadOnlySpan();
        for (var i = 0; i < values.Length; i++)
        {
            oneHot[(i * vocabulary) + values[i]] = 1;
        }

        int[] dims = [.. ids.Shape.Dims, table.Shape[1]];
        return Reshape(MatMul(Tensor.FromArray(oneHot, ids.Length, vocabulary).ToType(table.DType), table), dims);
    }

    /// <summary>
    /// IndexSelect's adjoint: zeros of <paramref name="like"/>'s shape with g's slices added at their indices, recorded
    /// so that IndexSelect's gradient differentiates again (its own gradient is IndexSelect).
    /// </summary>
    private static Tensor IndexAdd(Tensor g, int axis, IntTensor indices, Shape like)
    {
        var y = Tensor.Uninitialized(g.DType, like);
        ElementType.Dispatch(g.DType, new IndexCopy(g, y, indices, axis, add: true));
        Tape.Record(s_indexAdd, y, g, null, null, NodeArgs.Of(indices, axis: axis));
        return y;
    }

    /// <summary>
    /// Slices along <paramref name="axis"/>: selected (slice k of <paramref name="to"/> is slice indices[k] of
    /// <paramref name="from"/>) or, when <paramref name="add"/>, scattered and summed (slice k of
    /// <paramref name="from"/> added to slice indices[k] of <paramref name="to"/>, which is cleared first).
    /// </summary>
    private readonly struct IndexCopy(Tensor from, Tensor to, IntTensor indices, int axis, bool add) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T> => Slices<T>(from.Raw<T>(), from.Shape, to.Raw<T>(), to.Shape, indices.AsReadOnlySpan(), axis, add);
    }

    private static void Slices<T>(ReadOnlySpan<T> from, Shape fromShape, Span<T> to, Shape toShape, ReadOnlySpan<int> indices, int axis, bool add)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int inner = fromShape.Inner(axis), fromSize = fromShape[axis], toSize = toShape[axis];
        var outer = fromSize == 0 || inner == 0 ? 0 : from.Length / (fromSize * inner);
        if (add)
        {
            to.Clear();
            outer = toSize == 0 || inner == 0 ? 0 : to.Length / (toSize * inner);
        }

        for (var o = 0; o < outer; o++)
        {
            for (var k = 0; k < indices.Length; k++)
            {
                if (add)
                {
                    var source = from.Slice(((o * fromSize) + k) * inner, inner);
                    var target = to.Slice(((o * toSize) + indices[k]) * inner, inner);
                    System.Numerics.Tensors.TensorPrimitives.Add(target, source, target);
                }
                else
                {
                    from.Slice(((o * fromSize) + indices[k]) * inner, inner).CopyTo(to.Slice(((o * toSize) + k) * inner, inner));
                }
            }
        }
    }

    private readonly struct IndexSelectRule : IBackwardRule
    {
        // Gather along the axis; the ids are the graph's input (an embedding of float ids) or a constant.
        public static string? Onnx(in Node node, IOnnxGraph graph)
        {
            var ids = graph.Indices(node.Args.State<IntTensor>(), graph.OtherRecording.Args.State<IntTensor>());
            return graph.Node("Gather", [graph.Value(node.A!), ids], ("axis", (long)node.Args.Axis));
        }

        // Linear: the tangent's rows picked by the same indices.
        public static Tensor Jvp(in Node node, InputTangents tangents) =>
            tangents.A is { } ta ? IndexSelectCore(ta, node.Args.Axis, node.Args.State<IntTensor>(), "IndexSelect") : Tensor.ZerosLike(node.Output);

        public static InputGradients Differentiate(in Node node, Tensor upstream) =>
            new(IndexAdd(upstream, node.Args.Axis, node.Args.State<IntTensor>(), node.A!.Shape));

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var target = tape.BeginGradient<T>(node.InA);
            Slices(tape.Upstream<T>(index), node.Output.Shape, target.Span, node.A!.Shape, node.Args.State<IntTensor>().AsReadOnlySpan(), node.Args.Axis, add: true);
            tape.Commit(target);
        }
    }

    private readonly struct IndexAddRule : IBackwardRule
    {
        // Linear: the tangent added up at the same indices.
        public static Tensor Jvp(in Node node, InputTangents tangents) =>
            tangents.A is { } ta ? IndexAdd(ta, node.Args.Axis, node.Args.State<IntTensor>(), node.Output.Shape) : Tensor.ZerosLike(node.Output);

        public static InputGradients Differentiate(in Node node, Tensor upstream) =>
            new(IndexSelect(upstream, node.Args.Axis, node.Args.State<IntTensor>()));

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var target = tape.BeginGradient<T>(node.InA);
            Slices(tape.Upstream<T>(index), node.Output.Shape, target.Span, node.A!.Shape, node.Args.State<IntTensor>().AsReadOnlySpan(), node.Args.Axis, add: false);
            tape.Commit(target);
        }
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
        // Linear: the tangent's entries at the same labels.
        public static Tensor Jvp(in Node node, InputTangents tangents) =>
            tangents.A is { } ta ? Gather(ta, node.Args.State<LabelState>().Labels) : Tensor.ZerosLike(node.Output);

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
        yield return new OpInfo
        {
            Family = "Gather",
            Call = "`IndexSelect(x, axis, indices)`",
            Forward = "x's slices at the indices along the axis, in their order, repeats included",
            Gradient = "g's slices added back at their indices (a repeated index sums them)",
            BadInputs = [
                Bad<ArgumentOutOfRangeException>("index range", () => IndexSelect(M23, 1, IntTensor.FromArray([0, 3, -1])), "IndexSelect", "index 3", "position 1", "(2, 3)"),
                Bad<ShapeMismatchException>("index rank", () => IndexSelect(M23, 0, IntTensor.FromArray([0, 1], 1, 2)), "IndexSelect", "(1, 2)", "(2, 3)"),
                Bad<ArgumentOutOfRangeException>("index axis", () => IndexSelect(M23, 2, IntTensor.FromArray([0])), "IndexSelect", "2", "(2, 3)"),
                Bad<ShapeMismatchException>("index scalar", () => IndexSelect(Tensor.Scalar(1.0), 0, IntTensor.FromArray([0])), "IndexSelect", "()"),
            ],
            Overflows = [Overflow("many indices", () => IndexSelect(Tensor.Ones([1, 65537]), 0, IntTensor.FromArray(new int[32769])), "(1, 65537)")],
            Samples = [
                Gradient("IndexSelect", v => IndexSelect(v[0], 0, IntTensor.FromArray([2, 0, 2, 3])) * 2, N(71, 4, 3)),
                Gradient("IndexSelect", v => IndexSelect(v[0], 1, IntTensor.FromArray([1, 1, 0])), N(72, 2, 3, 2)),
                Gradient("IndexSelect", v => IndexSelect(v[0], -1, IntTensor.FromArray([])) + 1, N(73, 2, 3)),
            ],
        };
        IntTensor[] idSets = [IntTensor.FromArray([3, 0, 3, 1]), IntTensor.FromArray([1, 4, 4, 0, 2, 1], 2, 3), IntTensor.FromArray([2], 1, 1)];
        yield return new OpInfo
        {
            Family = "Gather",
            Call = "`Embedding(table, ids)`",
            Forward = "the table's rows at the ids: (…ids' shape, D)",
            Gradient = "each id's gradient row added into its row of the table (repeats sum)",
            Fused = true,
            BadInputs = [
                Bad<ArgumentOutOfRangeException>("embedding id", () => Embedding(M32, IntTensor.FromArray([1, 3])), "Embedding", "id 3", "position 1", "(3, 2)"),
                Bad<ShapeMismatchException>("embedding table", () => Embedding(V3, IntTensor.FromArray([0])), "Embedding", "(3,)"),
            ],
            Overflows = [Overflow("many ids", () => Embedding(Tensor.Ones([1, 65537]), IntTensor.FromArray(new int[32769])), "(1, 65537)")],
            Samples = [.. idSets.Select(ids => Gradient("Embedding", v => Embedding(v[0], ids) * 2, N(74, 5, 3)))],
            Compositions = [.. idSets.Select(ids => Composition("Embedding", v => Embedding(v[0], ids), v => ComposedEmbedding(v[0], ids), N(75, 5, 3)))],
        };
    }
}
