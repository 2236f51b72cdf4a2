using System.Numerics;

using AutoGrad.Autodiff;
using AutoGrad.Tensors;

using static AutoGrad.Operations.OpSamples;

namespace AutoGrad.Operations;

/// <summary>Ops that join tensors, tile one, or cut one into pieces along an axis: concat, stack, repeat, narrow, split, chunk.</summary>
public static partial class Ops
{
    private static readonly Op s_concat = new Op<ConcatRule>("Concat", readsInputs: false);

    /// <summary>
    /// The tensors joined along an existing axis, PyTorch's <c>torch.cat</c>: their other dimensions must be equal.
    /// ∂/∂tensors[i] = g's piece at tensors[i]'s place along the axis.
    /// </summary>
    /// <param name="tensors">One or more tensors of the same rank (at least 1) and element type.</param>
    /// <param name="axis">The axis to join along (negative counts from the end).</param>
    /// <returns>A new tensor whose size along the axis is the sum of theirs.</returns>
    public static Tensor Concat(IReadOnlyList<Tensor> tensors, int axis = 0)
    {
        var first = FirstOf(tensors, "Concat");
        if (first.Rank == 0)
        {
            throw new ShapeMismatchException("Concat: cannot join scalars (shape ()) along an axis; Stack them instead.");
        }

        var a = first.Shape.NormalizeAxis(axis, "Concat");
        long total = 0;
        for (var i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i];
            Check.NotNull(t, "Concat", "tensors", i);
            Check.SameType(first, t, "Concat");
            if (!SameOutside(first.Shape, t.Shape, a))
            {
                throw new ShapeMismatchException($"Concat: tensor {i} has shape {t.Shape}, which differs from tensor 0's {first.Shape} outside axis {a}.");
            }

            total += t.Shape[a];
        }

        if (total > int.MaxValue)
        {
            throw new ShapeMismatchException($"Concat: {tensors.Count} tensors of shape like {first.Shape} make {total} along axis {a}, more than the {Array.MaxLength} elements a tensor can hold.");
        }

        var inputs = Tape.RentInputs(tensors.Count);
        for (var i = 0; i < tensors.Count; i++)
        {
            inputs.Inputs[i] = tensors[i];
        }

        return ConcatChecked(inputs, a, (int)total);
    }

    /// <summary>Concat of inputs already checked, whose sizes along <paramref name="axis"/> sum to <paramref name="total"/>.</summary>
    private static Tensor ConcatChecked(ManyInputs inputs, int axis, int total)
    {
        var first = inputs.Inputs[0];
        Span<int> dims = stackalloc int[first.Rank];
        first.Shape.Dims.CopyTo(dims);
        dims[axis] = total;
        var y = Tensor.Uninitialized(first.DType, Shape.FromDims(dims, "Concat", first.Shape));
        ElementType.Dispatch(first.DType, new ConcatForward(inputs.Inputs, y, axis));
        Tape.RecordMany(s_concat, y, inputs, axis);
        return y;
    }

    /// <summary>
    /// The tensors stacked along a new axis, PyTorch's <c>torch.stack</c>: all of one shape, each becomes index i of
    /// the new axis (a <see cref="Concat"/> of views with a dimension of 1 inserted). ∂/∂tensors[i] = g at index i.
    /// </summary>
    /// <param name="tensors">One or more tensors of one shape and element type.</param>
    /// <param name="axis">Where the new axis goes, 0 … rank (negative counts from the end, −1 being after the last).</param>
    /// <returns>A tensor of rank one more than theirs.</returns>
    public static Tensor Stack(IReadOnlyList<Tensor> tensors, int axis = 0)
    {
        var first = FirstOf(tensors, "Stack");
        var rank = first.Rank;
        var a = axis < 0 ? axis + rank + 1 : axis;
        if (a < 0 || a > rank)
        {
            throw new ArgumentOutOfRangeException(nameof(axis), axis, $"Stack: axis {axis} is out of range for tensors of shape {first.Shape} (a new axis goes at 0 … {rank}).");
        }

        Span<int> dims = stackalloc int[rank + 1];
        first.Shape.Dims[..a].CopyTo(dims);
        first.Shape.Dims[a..].CopyTo(dims[(a + 1)..]);

        // The result's size is checked here, so that a too large one is Stack's error, not Concat's.
        dims[a] = tensors.Count;
        Shape.FromDims(dims, "Stack", first.Shape);
        dims[a] = 1;
        var views = Tape.RentInputs(tensors.Count);
        for (var i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i];
            Check.NotNull(t, "Stack", "tensors", i);
            Check.SameType(first, t, "Stack");
            if (t.Shape != first.Shape)
            {
                throw new ShapeMismatchException($"Stack: tensor {i} has shape {t.Shape}, tensor 0 {first.Shape}; stacked tensors must have one shape.");
            }

            views.Inputs[i] = Reshape(t, dims);
        }

        return ConcatChecked(views, a, tensors.Count);
    }

    /// <summary>
    /// Elements <paramref name="start"/> … start + length − 1 along <paramref name="axis"/>, PyTorch's
    /// <c>narrow</c>: a view along the leading axis (<see cref="Slice"/>), a copy along the others. ∂/∂x = g in that
    /// range, 0 elsewhere.
    /// </summary>
    /// <param name="x">A tensor of rank at least 1.</param>
    /// <param name="axis">The axis (negative counts from the end).</param>
    /// <param name="start">The first index kept.</param>
    /// <param name="length">How many indices are kept.</param>
    /// <returns>The range.</returns>
    public static Tensor Narrow(Tensor x, int axis, int start, int length)
    {
        Check.NotNull(x, "Narrow", nameof(x));
        if (x.Rank == 0)
        {
            throw new ShapeMismatchException("Narrow: cannot narrow a scalar (shape ()).");
        }

        var a = x.Shape.NormalizeAxis(axis, "Narrow");
        var size = x.Shape[a];
        if (start < 0 || length < 0 || start > size - length)
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"Narrow: [{start}, {(long)start + length}) is out of range along axis {a} of shape {x.Shape}.");
        }

        if (a == 0)
        {
            return Slice(x, start, length);
        }

        var dims = x.Shape.Dims.ToArray();
        dims[a] = length;
        var before = new int[x.Rank];
        before[a] = start;
        return Crop(x, Shape.FromOwned(dims, "Narrow"), before);
    }

    /// <summary>
    /// <paramref name="x"/> cut along <paramref name="axis"/> into consecutive pieces of the given sizes, PyTorch's
    /// <c>split</c> with a list of sizes (each piece a <see cref="Narrow"/>).
    /// </summary>
    /// <param name="x">A tensor of rank at least 1.</param>
    /// <param name="sizes">The pieces' sizes, none negative, summing to x's size along the axis.</param>
    /// <param name="axis">The axis (negative counts from the end).</param>
    /// <returns>One tensor per size.</returns>
    public static Tensor[] Split(Tensor x, ReadOnlySpan<int> sizes, int axis = 0)
    {
        Check.NotNull(x, "Split", nameof(x));
        if (x.Rank == 0)
        {
            throw new ShapeMismatchException("Split: cannot split a scalar (shape ()).");
        }

        var a = x.Shape.NormalizeAxis(axis, "Split");
        long sum = 0;
        foreach (var size in sizes)
        {
            sum += size;
            if (size < 0)
            {
                break;
            }
        }

        if (sum != x.Shape[a] || sizes.IndexOfAnyExceptInRange(0, int.MaxValue) >= 0)
        {
            throw new ArgumentException($"Split: sizes {Shape.Format(sizes)} must be non-negative and sum to {x.Shape[a]}, the size of axis {a} of shape {x.Shape}.", nameof(sizes));
        }

        var pieces = new Tensor[sizes.Length];
        var start = 0;
        for (var i = 0; i < sizes.Length; i++)
        {
            pieces[i] = Narrow(x, a, start, sizes[i]);
            start += sizes[i];
        }

        return pieces;
    }

    /// <summary>
    /// <paramref name="x"/> cut along <paramref name="axis"/> into at most <paramref name="chunks"/> pieces of
    /// ⌈size / chunks⌉, the last smaller when the size does not divide, PyTorch's <c>chunk</c> (so 5 in 3 chunks is
    /// 2, 2, 1, and 6 in 4 chunks is 2, 2, 2: three).
    /// </summary>
    /// <param name="x">A tensor of rank at least 1.</param>
    /// <param name="chunks">The most pieces, at least 1.</param>
    /// <param name="axis">The axis (negative counts from the end).</param>
    /// <returns>The pieces.</returns>
    public static Tensor[] Chunk(Tensor x, int chunks, int axis = 0)
    {
        Check.NotNull(x, "Chunk", nameof(x));
        if (chunks < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(chunks), chunks, $"Chunk: needs at least 1 chunk, got {chunks} for shape {x.Shape}.");
        }

        if (x.Rank == 0)
        {
            throw new ShapeMismatchException("Chunk: cannot chunk a scalar (shape ()).");
        }

        var a = x.Shape.NormalizeAxis(axis, "Chunk");
        var size = x.Shape[a];
        var step = (int)(((long)size + chunks - 1) / chunks);
        var count = size == 0 ? 1 : (size + step - 1) / step;
        var sizes = new int[count];
        for (var i = 0; i < count; i++)
        {
            sizes[i] = Math.Min(step, size - (i * step));
        }

        return Split(x, sizes, a);
    }

    /// <summary>
    /// <paramref name="x"/> tiled <paramref name="repeats"/>[i] times along each axis, PyTorch's <c>Tensor.repeat</c>:
    /// with more counts than x has axes, x gains leading axes of size 1 first. Where broadcasting would do, it is
    /// cheaper (<see cref="BroadcastTo"/>); this copies. ∂/∂x = the sum of g over the tiles.
    /// </summary>
    /// <param name="x">The tensor.</param>
    /// <param name="repeats">One count per axis (at least x's rank of them), none negative.</param>
    /// <returns>A tensor of dimensions repeats[i]·dims[i].</returns>
    public static Tensor Repeat(Tensor x, params ReadOnlySpan<int> repeats)
    {
        Check.NotNull(x, "Repeat", nameof(x));
        if (repeats.Length < x.Rank || repeats.IndexOfAnyExceptInRange(0, int.MaxValue) >= 0)
        {
            throw new ArgumentException($"Repeat: repeats {Shape.Format(repeats)} must give a non-negative count for each of the {x.Rank} axes of shape {x.Shape} (or more).", nameof(repeats));
        }

        // (d0, d1, …) as (1, d0, 1, d1, …), broadcast to (r0, d0, r1, d1, …), then merged pairwise.
        var rank = repeats.Length;
        var dims = new int[rank];
        x.Shape.Dims.CopyTo(dims.AsSpan(rank - x.Rank));
        dims.AsSpan(0, rank - x.Rank).Fill(1);
        var tiled = new int[rank];
        var pairs = new int[2 * rank];
        var broadcast = new int[2 * rank];
        for (var i = 0; i < rank; i++)
        {
            tiled[i] = (int)Math.Min((long)repeats[i] * dims[i], int.MaxValue);
            (pairs[2 * i], pairs[(2 * i) + 1]) = (1, dims[i]);
            (broadcast[2 * i], broadcast[(2 * i) + 1]) = (repeats[i], dims[i]);
        }

        // The result's size is checked here, so that a too large one is Repeat's error.
        var shape = Shape.FromDims(tiled, "Repeat", x.Shape);
        return Reshape(BroadcastTo(Reshape(x, pairs), broadcast), shape.Dims);
    }

    private static Tensor FirstOf(IReadOnlyList<Tensor> tensors, string op)
    {
        if (tensors is null)
        {
            throw new ArgumentNullException(nameof(tensors), $"{op}: argument 'tensors' is null.");
        }

        if (tensors.Count == 0)
        {
            throw new ArgumentException($"{op}: needs at least one tensor, got none.", nameof(tensors));
        }

        Check.NotNull(tensors[0], op, "tensors[0]");
        return tensors[0];
    }

    /// <summary>Whether two shapes have the same rank and the same dimensions except along <paramref name="axis"/>.</summary>
    private static bool SameOutside(Shape a, Shape b, int axis)
    {
        if (a.Rank != b.Rank)
        {
            return false;
        }

        for (var d = 0; d < a.Rank; d++)
        {
            if (d != axis && a.Dims[d] != b.Dims[d])
            {
                return false;
            }
        }

        return true;
    }

    private readonly struct ConcatForward(Tensor[] inputs, Tensor y, int axis) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            Span<int> before = stackalloc int[y.Rank];
            foreach (var input in inputs)
            {
                CopyBlock<T>(input.Raw<T>(), y.Raw<T>(), input.Shape.Dims, y.Shape.Dims, before, intoLarge: true);
                before[axis] += input.Shape[axis];
            }
        }
    }

    /// <summary>Concat's rule: each input's piece of g (in ops, a crop of it).</summary>
    private readonly struct ConcatRule : IBackwardRule
    {
        public static string? Onnx(in Node node, IOnnxGraph graph) => graph.Node("Concat", [.. node.Args.Inputs!.Select(graph.Value)], ("axis", (long)node.Args.Axis));

        // Linear: the tangents joined the same way, zeros for inputs without one.
        public static Tensor Jvp(in Node node, InputTangents tangents)
        {
            var inputs = node.Args.Inputs!;
            var pieces = new Tensor[inputs.Length];
            for (var i = 0; i < inputs.Length; i++)
            {
                pieces[i] = tangents.Many![i] ?? Tensor.ZerosLike(inputs[i]);
            }

            return Concat(pieces, node.Args.Axis);
        }

        public static InputGradients Differentiate(in Node node, Tensor upstream)
        {
            var inputs = node.Args.Inputs!;
            var nodes = node.Args.InputNodes!;
            var axis = node.Args.Axis;
            var gradients = new Tensor?[inputs.Length];
            var offset = 0;
            for (var i = 0; i < inputs.Length; i++)
            {
                if (nodes[i] >= 0)
                {
                    var before = new int[upstream.Rank];
                    before[axis] = offset;
                    gradients[i] = Crop(upstream, inputs[i].Shape, before);
                }

                offset += inputs[i].Shape[axis];
            }

            return new InputGradients(null, Many: gradients);
        }

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var inputs = node.Args.Inputs!;
            var nodes = node.Args.InputNodes!;
            var axis = node.Args.Axis;
            var g = tape.Upstream<T>(index);
            Span<int> before = stackalloc int[node.Output.Rank];
            for (var i = 0; i < inputs.Length; i++)
            {
                if (nodes[i] >= 0)
                {
                    var target = tape.BeginGradient<T>(nodes[i]);
                    CopyBlock<T>(g, target.Span, inputs[i].Shape.Dims, node.Output.Shape.Dims, before, intoLarge: false);
                    tape.Commit(target);
                }

                before[axis] += inputs[i].Shape[axis];
            }
        }
    }

    /// <summary>The op table's rows for this file's ops, with their gradient checks (see <see cref="OpCatalog"/>).</summary>
    [OpFamily(65)]
    private static IEnumerable<OpInfo> JoiningRows()
    {
        yield return new OpInfo
        {
            Family = "Joining",
            Call = "`Concat(tensors, axis)`",
            Forward = "the tensors joined along an existing axis (equal elsewhere)",
            Gradient = "g cut back into the inputs' pieces",
            BadInputs = [
                Bad<ShapeMismatchException>("concat shapes", () => Concat([M23, M32], 0), "Concat", "tensor 1", "(3, 2)", "(2, 3)", "axis 0"),
                Bad<ShapeMismatchException>("concat ranks", () => Concat([M23, V3]), "Concat", "tensor 1", "(3,)"),
                Bad<DTypeMismatchException>("concat types", () => Concat([M23, F23], 1), "Concat", "float64", "float32"),
                Bad<ArgumentException>("concat none", () => Concat([]), "Concat", "none"),
                Bad<ArgumentOutOfRangeException>("concat axis", () => Concat([M23, M23], 2), "Concat", "2", "(2, 3)"),
                Bad<ShapeMismatchException>("concat scalars", () => Concat([Tensor.Scalar(1.0), Tensor.Scalar(2.0)]), "Concat", "()"),
            ],
            Overflows = [Overflow("many copies", () => Concat(Enumerable.Repeat(Tensor.Ones([65537]), 32769).ToArray()), "(65537,)")],
            Samples = [
                Gradient("Concat", v => Concat([v[0], v[1], v[0]], 1) * Concat([v[1], v[0], v[0]], 1), N(650, 2, 3), N(651, 2, 3)),
                Gradient("Concat", v => Concat([v[0], v[1]], 0), N(652, 1, 3, 2), N(653, 2, 3, 2)),
                Gradient("Concat", v => Concat([v[0], v[1]], -1) * 3, N(654, 2, 2, 1), N(655, 2, 2, 3)),
            ],
        };
        yield return new OpInfo
        {
            Family = "Joining",
            Call = "`Stack(tensors, axis)`",
            Forward = "the tensors, of one shape, as indices of a new axis",
            Gradient = "g at each tensor's index",
            BadInputs = [
                Bad<ShapeMismatchException>("stack shapes", () => Stack([M23, M32]), "Stack", "tensor 1", "(3, 2)", "(2, 3)"),
                Bad<ArgumentOutOfRangeException>("stack axis", () => Stack([M23, M23], 3), "Stack", "axis 3", "(2, 3)"),
                Bad<ArgumentException>("stack none", () => Stack([]), "Stack", "none"),
            ],
            Overflows = [Overflow("many copies", () => Stack(Enumerable.Repeat(Tensor.Ones([65537]), 32769).ToArray(), 1), "(65537,)")],
            Samples = [
                Gradient("Stack", v => Stack([v[0], v[1], v[0]], 1) * 2, N(656, 2, 3), N(657, 2, 3)),
                Gradient("Stack", v => Stack([v[0], v[1]]), N(658, 3), N(659, 3)),
                Gradient("Stack", v => Stack([v[0], v[1]], -1), N(660, 2, 2), N(661, 2, 2)),
            ],
        };
        yield return new OpInfo
        {
            Family = "Joining",
            Call = "`Repeat(x, repeats)`",
            Forward = "x tiled repeats[i] times along each axis (more counts than axes add leading ones)",
            Gradient = "g summed over the tiles",
            BadInputs = [
                Bad<ArgumentException>("repeat counts", () => Repeat(M23, 2), "Repeat", "(2,)", "(2, 3)"),
                Bad<ArgumentException>("repeat negative", () => Repeat(M23, 1, -2), "Repeat", "(1, -2)", "(2, 3)"),
            ],
            Overflows = [Overflow("tiles", () => Repeat(Tensor.Ones([1, 1]), 65537, 32769), "(1, 1)")],
            Samples = [
                Gradient("Repeat", v => Repeat(v[0], 2, 3) * Repeat(v[0], 2, 3), N(667, 2, 2)),
                Gradient("Repeat", v => Repeat(v[0], 3, 1, 2), N(668, 2, 3)),
            ],
        };
        yield return new OpInfo
        {
            Family = "Joining",
            Call = "`Narrow(x, axis, start, length)`, `Split(x, sizes, axis)`, `Chunk(x, chunks, axis)`",
            Forward = "a range along any axis (a view along the leading one); consecutive ranges of given sizes; ⌈size / chunks⌉ each",
            Gradient = "g in each range, 0 elsewhere",
            BadInputs = [
                Bad<ArgumentOutOfRangeException>("narrow range", () => Narrow(M23, 1, 2, 2), "Narrow", "[2, 4)", "axis 1", "(2, 3)"),
                Bad<ArgumentOutOfRangeException>("narrow axis", () => Narrow(M23, 2, 0, 1), "Narrow", "2", "(2, 3)"),
                Bad<ArgumentException>("split sizes", () => Split(M23, [1, 1], 1), "Split", "(1, 1)", "3", "(2, 3)"),
                Bad<ArgumentException>("split negative", () => Split(M23, [4, -1], 1), "Split", "(4, -1)", "(2, 3)"),
                Bad<ArgumentOutOfRangeException>("chunk count", () => Chunk(M23, 0), "Chunk", "0", "(2, 3)"),
            ],
            CannotGrowBecause = "a part of its input",
            Samples = [
                Gradient("Narrow", v => Narrow(v[0], 1, 1, 2) * Narrow(v[0], 1, 0, 2), N(662, 2, 4, 2)),
                Gradient("Narrow", v => Narrow(v[0], -1, 1, 2) * 2, N(666, 2, 3, 4)),
                Gradient("Narrow", v => Narrow(v[0], 0, 1, 2) * 2, N(663, 3, 2)),
                Gradient("Split", v => Split(v[0], [1, 3, 0, 2], 1) is var p ? (p[0] * 2) + Sum(p[1]) + Sum(p[3] * p[3]) : v[0], N(664, 2, 6)),
                Gradient("Chunk", v => Chunk(v[0], 3, -1) is var p ? Concat([p[2], p[0], p[1]], 1) * 2 : v[0], N(665, 2, 5)),
            ],
        };
    }
}
