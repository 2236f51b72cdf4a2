using System.Numerics;

using AutoGrad.Autodiff;
using AutoGrad.Kernels;
using AutoGrad.Tensors;

using static AutoGrad.Operations.OpSamples;

using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace AutoGrad.Operations;

/// <summary>Ops that move elements without changing them: reshape, transpose/permute, broadcast_to, sum_to, slicing.</summary>
public static partial class Ops
{
    private static readonly Op s_reshape = new Op<ReshapeRule>("Reshape", readsInputs: false);
    private static readonly Op s_permute = new Op<PermuteRule>("Permute", readsInputs: false);
    private static readonly Op s_broadcastTo = new Op<BroadcastToRule>("BroadcastTo", readsInputs: false);
    private static readonly Op s_sumTo = new Op<SumToRule>("SumTo", readsInputs: false);
    private static readonly Op s_slice = new Op<SliceRule>("Slice", readsInputs: false);
    private static readonly Op s_pad = new Op<PadRule>("Pad", readsInputs: false);
    private static readonly Op s_crop = new Op<CropRule>("Crop", readsInputs: false);

    /// <summary>The same elements in another shape, without copying; one dimension may be -1 (inferred). ∂/∂x = g reshaped back.</summary>
    /// <param name="x">The tensor.</param>
    /// <param name="shape">The new dimensions; their product must equal <c>x.Length</c>.</param>
    /// <returns>A view of <paramref name="x"/>'s elements.</returns>
    public static Tensor Reshape(Tensor x, params ReadOnlySpan<int> shape)
    {
        Check.NotNull(x, "Reshape", nameof(x));
        Span<int> dims = stackalloc int[shape.Length];
        shape.CopyTo(dims);
        var inferred = -1;
        var known = 1L;
        for (var i = 0; i < dims.Length; i++)
        {
            if (dims[i] == -1 && inferred < 0)
            {
                inferred = i;
            }
            else if (dims[i] < 0)
            {
                throw new ShapeMismatchException($"Reshape: cannot reshape {x.Shape} to {Shape.Format(dims)}: only one dimension may be -1 and none may be negative.");
            }
            else
            {
                // Saturates just past the largest array, so no product of int dimensions can wrap around to x.Length.
                known = Math.Min(known * dims[i], (long)Array.MaxLength + 1);
            }
        }

        if (inferred >= 0 && known != 0 && x.Length % known == 0)
        {
            dims[inferred] = (int)(x.Length / known);
        }

        if (dims.IndexOfAnyInRange(int.MinValue, -1) >= 0 || known * (inferred >= 0 ? dims[inferred] : 1) != x.Length)
        {
            throw new ShapeMismatchException($"Reshape: cannot reshape {x.Shape} ({x.Length} elements) to {Shape.Format(shape)}" +
                (known > Array.MaxLength ? $", more than the {Array.MaxLength} elements a tensor can hold." : "."));
        }

        var y = x.View(Shape.FromDims(dims, "Reshape", x.Shape));
        Tape.Record(s_reshape, y, x);
        return y;
    }

    /// <summary>
    /// The dimensions from <paramref name="startAxis"/> to <paramref name="endAxis"/> merged into one, as a view (a
    /// <see cref="Reshape"/>): (N, C, H, W) becomes (N, C·H·W) by default, the step from convolutions to a linear
    /// layer (PyTorch's <c>nn.Flatten</c>; <c>torch.flatten</c> starts at 0).
    /// </summary>
    /// <param name="x">The tensor.</param>
    /// <param name="startAxis">The first axis to merge (negative counts from the end).</param>
    /// <param name="endAxis">The last axis to merge.</param>
    /// <returns>A view with the merged dimensions.</returns>
    public static Tensor Flatten(Tensor x, int startAxis = 1, int endAxis = -1)
    {
        Check.NotNull(x, "Flatten", nameof(x));
        if (x.Rank == 0)
        {
            return Reshape(x, 1);
        }

        int start = x.Shape.NormalizeAxis(startAxis, "Flatten"), end = x.Shape.NormalizeAxis(endAxis, "Flatten");
        if (start > end)
        {
            throw new ArgumentOutOfRangeException(nameof(startAxis), startAxis, $"Flatten: startAxis {startAxis} comes after endAxis {endAxis} for shape {x.Shape}.");
        }

        var dims = x.Shape.Dims;
        Span<int> merged = stackalloc int[x.Rank - (end - start)];
        dims[..start].CopyTo(merged);
        merged[start] = 1;
        for (var i = start; i <= end; i++)
        {
            merged[start] *= dims[i];
        }

        dims[(end + 1)..].CopyTo(merged[(start + 1)..]);

        // The same node Reshape records, with the dimensions on the stack (a training step counts its bytes).
        var y = x.View(Shape.FromDims(merged, "Flatten", x.Shape));
        Tape.Record(s_reshape, y, x);
        return y;
    }

    /// <summary>
    /// Adds constant borders, PyTorch's <c>F.pad</c>: <paramref name="padding"/> holds (before, after) pairs for the
    /// last dimension first, then the one before it, … (so (left, right, top, bottom) for images). ∂/∂x = g without
    /// the borders.
    /// </summary>
    /// <param name="x">The tensor.</param>
    /// <param name="padding">Pairs of non-negative counts, at most one pair per dimension (cropping is <see cref="Slice"/>'s job).</param>
    /// <param name="value">The border's value (not NaN).</param>
    /// <returns>The padded tensor.</returns>
    public static Tensor Pad(Tensor x, ReadOnlySpan<int> padding, double value = 0)
    {
        Check.NotNull(x, "Pad", nameof(x));
        Check.NotNaN(value, "Pad", nameof(value));
        if (padding.Length % 2 != 0 || padding.Length > 2 * x.Rank)
        {
            throw new ArgumentException($"Pad: padding {Shape.Format(padding)} must hold (before, after) pairs, at most one per dimension of {x.Shape}.", nameof(padding));
        }

        var before = new int[x.Rank];
        var dims = x.Shape.Dims.ToArray();
        for (var pair = 0; pair < padding.Length / 2; pair++)
        {
            int axis = x.Rank - 1 - pair, low = padding[2 * pair], high = padding[(2 * pair) + 1];
            if (low < 0 || high < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(padding), $"Pad: padding {Shape.Format(padding)} has a negative count for shape {x.Shape}; crop with Slice instead.");
            }

            before[axis] = low;
            dims[axis] = (int)Math.Min((long)dims[axis] + low + high, int.MaxValue);
        }

        var y = Tensor.Uninitialized(x.DType, Shape.FromOwned(dims, "Pad", x.Shape));
        ElementType.Dispatch(x.DType, new PadForward(x, y, before, value));
        Tape.Record(s_pad, y, x, null, null, NodeArgs.Of(before));
        return y;
    }

    /// <summary>Swaps the last two dimensions (a matrix transpose, batched over any leading dimensions).</summary>
    /// <param name="x">A tensor of rank at least 2.</param>
    /// <returns>The transposed copy.</returns>
    public static Tensor Transpose(Tensor x)
    {
        Check.NotNull(x, "Transpose", nameof(x));
        if (x.Rank < 2)
        {
            throw new ShapeMismatchException($"Transpose: needs rank 2 or more, got shape {x.Shape}; use Permute or Reshape for vectors.");
        }

        return Transpose(x, -2, -1);
    }

    /// <summary>Swaps dimensions <paramref name="axis0"/> and <paramref name="axis1"/>.</summary>
    /// <param name="x">The tensor.</param>
    /// <param name="axis0">One dimension.</param>
    /// <param name="axis1">The other.</param>
    /// <returns>The transposed copy.</returns>
    public static Tensor Transpose(Tensor x, int axis0, int axis1)
    {
        Check.NotNull(x, "Transpose", nameof(x));
        var perm = Enumerable.Range(0, x.Rank).ToArray();
        var a = x.Shape.NormalizeAxis(axis0, "Transpose");
        var b = x.Shape.NormalizeAxis(axis1, "Transpose");
        (perm[a], perm[b]) = (perm[b], perm[a]);
        return PermuteCore(x, perm);
    }

    /// <summary>Reorders the dimensions: output dimension i is input dimension <c>perm[i]</c>. ∂/∂x = g permuted by the inverse.</summary>
    /// <param name="x">The tensor.</param>
    /// <param name="perm">A permutation of 0 … rank − 1.</param>
    /// <returns>The permuted copy.</returns>
    public static Tensor Permute(Tensor x, params ReadOnlySpan<int> perm)
    {
        Check.NotNull(x, "Permute", nameof(x));
        // Normalized on the stack and then interned like a shape's dimensions (immutable, and the same few every step),
        // so a recurring permutation (attention's heads) allocates nothing.
        Span<int> p = stackalloc int[perm.Length];
        perm.CopyTo(p);
        Span<bool> seen = stackalloc bool[x.Rank];
        var valid = p.Length == x.Rank;
        for (var i = 0; valid && i < p.Length; i++)
        {
            var a = p[i] < 0 ? p[i] + x.Rank : p[i];
            valid = (uint)a < (uint)x.Rank && !seen[a];
            if (valid)
            {
                seen[a] = true;
                p[i] = a;
            }
        }

        if (!valid)
        {
            throw new ArgumentException($"Permute: {Shape.Format(perm)} is not a permutation of the {x.Rank} axes of shape {x.Shape}.", nameof(perm));
        }

        return PermuteCore(x, RecentShapes.Intern(p));
    }

    /// <summary>Repeats <paramref name="x"/> along the dimensions where it broadcasts to <paramref name="shape"/>. ∂/∂x = sum_to(g, x.shape).</summary>
    /// <param name="x">The tensor.</param>
    /// <param name="shape">A shape <paramref name="x"/> broadcasts to.</param>
    /// <returns>The expanded copy.</returns>
    public static Tensor BroadcastTo(Tensor x, params ReadOnlySpan<int> shape)
    {
        Check.NotNull(x, "BroadcastTo", nameof(x));
        var target = Shape.Create(shape, "BroadcastTo");
        if (!Broadcast.CanBroadcastTo(x.Shape.Dims, target.Dims))
        {
            throw new ShapeMismatchException($"BroadcastTo: shape {x.Shape} cannot be broadcast to {target}.");
        }

        var y = Tensor.Uninitialized(x.DType, target);
        ElementType.Dispatch(x.DType, new ExpandForward(x, y));

        Tape.Record(s_broadcastTo, y, x);
        return y;
    }

    /// <summary>Sums <paramref name="x"/> down to <paramref name="shape"/> (which must broadcast to x's shape): the adjoint of <see cref="BroadcastTo"/>.</summary>
    /// <param name="x">The tensor.</param>
    /// <param name="shape">The target shape.</param>
    /// <returns>The sums.</returns>
    public static Tensor SumTo(Tensor x, params ReadOnlySpan<int> shape)
    {
        Check.NotNull(x, "SumTo", nameof(x));
        var target = Shape.Create(shape, "SumTo");
        if (!Broadcast.CanBroadcastTo(target.Dims, x.Shape.Dims))
        {
            throw new ShapeMismatchException($"SumTo: shape {x.Shape} cannot be summed to {target} ({target} does not broadcast to {x.Shape}).");
        }

        var y = Tensor.Uninitialized(x.DType, target);
        ElementType.Dispatch(x.DType, new SumToForward(x, y));

        Tape.Record(s_sumTo, y, x);
        return y;
    }

    /// <summary>Rows <paramref name="start"/> … start + length − 1 of the leading axis, without copying. ∂/∂x = g in those rows, 0 elsewhere.</summary>
    /// <param name="x">A tensor of rank at least 1.</param>
    /// <param name="start">The first row.</param>
    /// <param name="length">The number of rows.</param>
    /// <returns>A view of the rows.</returns>
    public static Tensor Slice(Tensor x, int start, int length)
    {
        Check.NotNull(x, "Slice", nameof(x));
        if (x.Rank == 0)
        {
            throw new ShapeMismatchException("Slice: cannot slice a scalar (shape ()).");
        }

        var rows = x.Shape[0];
        if (start < 0 || length < 0 || start > rows - length)
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"Slice: rows [{start}, {(long)start + length}) are out of range for shape {x.Shape}.");
        }

        Span<int> dims = stackalloc int[x.Rank];
        x.Shape.Dims.CopyTo(dims);
        dims[0] = length;
        var rowSize = x.Shape.Inner(0);
        var y = x.View(Shape.FromDims(dims, "Slice"), start * rowSize);
        Tape.Record(s_slice, y, x, null, null, new NodeArgs { Axis = start });
        return y;
    }

    private static Tensor PermuteCore(Tensor x, int[] perm)
    {
        Span<int> dims = stackalloc int[perm.Length];
        for (var i = 0; i < perm.Length; i++)
        {
            dims[i] = x.Shape.Dims[perm[i]];
        }

        var y = Tensor.Uninitialized(x.DType, Shape.FromDims(dims, "Permute"));
        ElementType.Dispatch(x.DType, new PermuteForward(x, y, perm));

        Tape.Record(s_permute, y, x, null, null, NodeArgs.Of(perm));
        return y;
    }

    private readonly struct ExpandForward(Tensor x, Tensor y) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T> => Broadcast.Expand<T>(x.Raw<T>(), x.Shape.Dims, y.Raw<T>(), y.Shape.Dims);
    }

    private readonly struct SumToForward(Tensor x, Tensor y) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T> => Broadcast.SumTo<T>(x.Raw<T>(), x.Shape.Dims, y.Raw<T>(), y.Shape.Dims);
    }

    private readonly struct PermuteForward(Tensor x, Tensor y, int[] perm) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T> => Kernels.Permute.Apply<T>(x.Raw<T>(), x.Shape.Dims, perm, y.Raw<T>());
    }

    /// <summary>
    /// Copies <paramref name="block"/> into <paramref name="large"/>, an owned tensor of the same rank and type, starting
    /// at <paramref name="before"/> on each axis: the write behind a tensor's range setter (counted, as every write is).
    /// </summary>
    internal static void WriteBlock(Tensor large, Tensor block, ReadOnlySpan<int> before) =>
        ElementType.Dispatch(large.DType, new BlockWrite(large, block, before.ToArray()));

    private readonly struct BlockWrite(Tensor large, Tensor block, int[] before) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T> =>
            CopyBlock<T>(block.AsReadOnlySpan<T>(), large.WritableSpan<T>("Indexer"), block.Shape.Dims, large.Shape.Dims, before, intoLarge: true);
    }

    /// <summary>
    /// Copies between a block and the larger tensor it sits in at offsets <paramref name="before"/>: block into large
    /// (<paramref name="intoLarge"/>, Pad's forward) or large into block (its gradient); with <paramref name="add"/>,
    /// the block is added into the large tensor rather than copied (Crop's gradient into a slot that holds one).
    /// </summary>
    private static void CopyBlock<T>(ReadOnlySpan<T> source, Span<T> destination, ReadOnlySpan<int> blockDims, ReadOnlySpan<int> largeDims, ReadOnlySpan<int> before, bool intoLarge, bool add = false)
        where T : INumberBase<T>
    {
        var rank = blockDims.Length;
        var row = rank == 0 ? 1 : blockDims[^1];
        var blockLength = 1;
        foreach (var d in blockDims)
        {
            blockLength *= d;
        }

        var rows = row == 0 ? 0 : blockLength / row;
        Span<int> index = stackalloc int[Math.Max(rank, 1)];
        for (var r = 0; r < rows; r++)
        {
            // The large tensor's offset of this block row: Σ (index + before)·stride, with the last axis shifted too.
            var offset = 0;
            for (var d = 0; d < rank - 1; d++)
            {
                offset = (offset * largeDims[d]) + index[d] + before[d];
            }

            offset = rank == 0 ? 0 : (offset * largeDims[rank - 1]) + before[rank - 1];
            if (intoLarge && add)
            {
                var into = destination.Slice(offset, row);
                TensorPrimitives.Add(into, source.Slice(r * row, row), into);
            }
            else if (intoLarge)
            {
                source.Slice(r * row, row).CopyTo(destination.Slice(offset, row));
            }
            else
            {
                source.Slice(offset, row).CopyTo(destination.Slice(r * row, row));
            }

            for (var d = rank - 2; d >= 0; d--)
            {
                if (++index[d] < blockDims[d])
                {
                    break;
                }

                index[d] = 0;
            }
        }
    }

    private readonly struct PadForward(Tensor x, Tensor y, int[] before, double value) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var padded = y.Raw<T>();
            padded.Fill(T.CreateTruncating(value));
            CopyBlock<T>(x.Raw<T>(), padded, x.Shape.Dims, y.Shape.Dims, before, intoLarge: true);
        }
    }

    /// <summary>The interior of a padded tensor: Pad's adjoint, recorded so that Pad's gradient differentiates again.</summary>
    private static Tensor Crop(Tensor padded, Shape block, int[] before)
    {
        var y = Tensor.Uninitialized(padded.DType, block);
        ElementType.Dispatch(padded.DType, new CropForward(padded, y, before));
        Tape.Record(s_crop, y, padded, null, null, NodeArgs.Of(before));
        return y;
    }

    private readonly struct CropForward(Tensor padded, Tensor y, int[] before) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T> =>
            CopyBlock<T>(padded.Raw<T>(), y.Raw<T>(), y.Shape.Dims, padded.Shape.Dims, before, intoLarge: false);
    }

    /// <summary>Pad's rule: the gradient without its borders (in ops, <see cref="Crop"/>).</summary>
    private readonly struct PadRule : IBackwardRule
    {
        // Linear in x (the fill value is a constant): the tangent padded with zeros.
        public static Tensor Jvp(in Node node, InputTangents tangents) =>
            tangents.A is { } ta ? Pad(ta, PaddingPairs(node.Args.State<int[]>(), node.A!.Shape, node.Output.Shape)) : Tensor.ZerosLike(node.Output);

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(Crop(upstream, node.A!.Shape, node.Args.State<int[]>()));

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var target = tape.BeginGradient<T>(node.InA);
            CopyBlock<T>(tape.Upstream<T>(index), target.Span, node.A!.Shape.Dims, node.Output.Shape.Dims, node.Args.State<int[]>(), intoLarge: false);
            tape.Commit(target);
        }
    }

    /// <summary>Crop's rule: the gradient padded with zeros (in ops, <see cref="Pad"/>).</summary>
    private readonly struct CropRule : IBackwardRule
    {
        // A block of every axis: ONNX Slice with starts and ends per axis, the batch axis's end sized at run time.
        public static string? Onnx(in Node node, IOnnxGraph graph)
        {
            var other = graph.OtherRecording;
            int[] before = node.Args.State<int[]>(), otherBefore = other.Args.State<int[]>();
            int[] dims = node.Output.Shape.Dims.ToArray(), otherDims = other.Output.Shape.Dims.ToArray();
            var starts = new string[before.Length];
            var ends = new string[before.Length];
            for (var d = 0; d < before.Length; d++)
            {
                starts[d] = graph.BatchLinear(before[d], otherBefore[d]);
                ends[d] = graph.BatchLinear(before[d] + dims[d], otherBefore[d] + otherDims[d]);
            }

            var axes = graph.Int64s([.. Enumerable.Range(0, before.Length).Select(d => (long)d)]);
            return graph.Node("Slice", [graph.Value(node.A!), graph.Node("Concat", starts, ("axis", 0L)), graph.Node("Concat", ends, ("axis", 0L)), axes]);
        }

        public static Tensor Jvp(in Node node, InputTangents tangents) =>
            tangents.A is { } ta ? Crop(ta, node.Output.Shape, node.Args.State<int[]>()) : Tensor.ZerosLike(node.Output);

        public static InputGradients Differentiate(in Node node, Tensor upstream) =>
            new(Pad(upstream, PaddingPairs(node.Args.State<int[]>(), node.Output.Shape, node.A!.Shape)));

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var slot = tape.BeginRegionGradient<T>(node.InA, out var fresh);
            CopyBlock<T>(tape.Upstream<T>(index), slot, node.Output.Shape.Dims, node.A!.Shape.Dims, node.Args.State<int[]>(), intoLarge: true, add: !fresh);
        }
    }

    /// <summary>Pad's (before, after) pairs, last axis first, that turn <paramref name="block"/> into <paramref name="padded"/>.</summary>
    private static int[] PaddingPairs(int[] before, Shape block, Shape padded)
    {
        var pairs = new int[2 * before.Length];
        for (var axis = 0; axis < before.Length; axis++)
        {
            var pair = before.Length - 1 - axis;
            pairs[2 * pair] = before[axis];
            pairs[(2 * pair) + 1] = padded[axis] - block[axis] - before[axis];
        }

        return pairs;
    }

    // The shape ops are linear: each one's Jacobian-vector product is the op itself applied to the tangent.
    private readonly struct ReshapeRule : IBackwardRule
    {
        public static string? Onnx(in Node node, IOnnxGraph graph) => graph.Node("Reshape", [graph.Value(node.A!), graph.Int64s(graph.ShapeWithBatch(node.Output))]);

        public static Tensor Jvp(in Node node, InputTangents tangents) => tangents.A is { } ta ? Reshape(ta, node.Output.Shape.Dims) : Tensor.ZerosLike(node.Output);

        public static Tensor? JvpBatch(in Node node, InputTangents tangents, int batch) =>
            tangents.A is { } ta ? Reshape(ta, [batch, .. node.Output.Shape.Dims]) : null;

        public static InputGradients? VjpBatch(in Node node, Tensor upstream, int batch) =>
            new InputGradients(node.InA >= 0 ? Reshape(upstream, [batch, .. node.A!.Shape.Dims]) : null);

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(Reshape(upstream, node.A!.Shape.Dims));

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var target = tape.BeginGradient<T>(node.InA);
            tape.Upstream<T>(index).CopyTo(target.Span);
            tape.Commit(target);
        }
    }

    private readonly struct PermuteRule : IBackwardRule
    {
        public static string? Onnx(in Node node, IOnnxGraph graph) => graph.Node("Transpose", [graph.Value(node.A!)], ("perm", node.Args.State<int[]>().Select(a => (long)a).ToArray()));

        public static Tensor Jvp(in Node node, InputTangents tangents) => tangents.A is { } ta ? PermuteCore(ta, node.Args.State<int[]>()) : Tensor.ZerosLike(node.Output);

        public static Tensor? JvpBatch(in Node node, InputTangents tangents, int batch) =>
            tangents.A is { } ta ? PermuteCore(ta, [0, .. node.Args.State<int[]>().Select(axis => axis + 1)]) : null;

        public static InputGradients? VjpBatch(in Node node, Tensor upstream, int batch) =>
            new InputGradients(node.InA >= 0 ? PermuteCore(upstream, [0, .. InversePermutation(node.Args.State<int[]>()).Select(axis => axis + 1)]) : null);

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(Permute(upstream, InversePermutation(node.Args.State<int[]>())));

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var perm = node.Args.State<int[]>();
            Span<int> inverse = stackalloc int[perm.Length];
            for (var i = 0; i < perm.Length; i++)
            {
                inverse[perm[i]] = i;
            }

            var target = tape.BeginGradient<T>(node.InA);
            Kernels.Permute.Apply(tape.Upstream<T>(index), node.Output.Shape.Dims, inverse, target.Span);
            tape.Commit(target);
        }
    }

    private readonly struct BroadcastToRule : IBackwardRule
    {
        public static Tensor Jvp(in Node node, InputTangents tangents) => tangents.A is { } ta ? BroadcastTo(ta, node.Output.Shape.Dims) : Tensor.ZerosLike(node.Output);

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(SumTo(upstream, node.A!.Shape.Dims));

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var target = tape.BeginGradient<T>(node.InA);
            Broadcast.SumTo(tape.Upstream<T>(index), node.Output.Shape.Dims, target.Span, node.A!.Shape.Dims);
            tape.Commit(target);
        }
    }

    private readonly struct SumToRule : IBackwardRule
    {
        public static Tensor Jvp(in Node node, InputTangents tangents) => tangents.A is { } ta ? SumTo(ta, node.Output.Shape.Dims) : Tensor.ZerosLike(node.Output);

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(BroadcastTo(upstream, node.A!.Shape.Dims));

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var target = tape.BeginGradient<T>(node.InA);
            Broadcast.Expand(tape.Upstream<T>(index), node.Output.Shape.Dims, target.Span, node.A!.Shape.Dims);
            tape.Commit(target);
        }
    }

    private readonly struct SliceRule : IBackwardRule
    {
        // Rows start … start + length − 1 of the leading axis; either may grow with the batch (an LSTM's step t is rows
        // t·N … t·N + N − 1), and is then computed from the batch size at run time.
        public static string? Onnx(in Node node, IOnnxGraph graph)
        {
            var other = graph.OtherRecording;
            long start = node.Args.Axis, otherStart = other.Args.Axis;
            var starts = graph.BatchLinear(start, otherStart);
            var ends = graph.BatchLinear(start + node.Output.Shape[0], otherStart + other.Output.Shape[0]);
            return graph.Node("Slice", [graph.Value(node.A!), starts, ends, graph.Int64s(0)]);
        }

        public static Tensor Jvp(in Node node, InputTangents tangents) =>
            tangents.A is { } ta ? Slice(ta, node.Args.Axis, node.Output.Shape[0]) : Tensor.ZerosLike(node.Output);

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(PadRows(upstream, node.Args.Axis, node.A!.Shape[0]));

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var slot = tape.BeginRegionGradient<T>(node.InA, out var fresh);
            var g = tape.Upstream<T>(index);
            var region = slot.Slice(node.Args.Axis * node.A!.Shape.Inner(0), g.Length);
            if (fresh)
            {
                g.CopyTo(region);
            }
            else
            {
                TensorPrimitives.Add(region, g, region);
            }
        }
    }

    /// <summary>The op table's rows for this file's ops, with their gradient checks (see <see cref="OpCatalog"/>).</summary>
    [OpFamily(60)]
    private static IEnumerable<OpInfo> ShapeOpsRows()
    {
        yield return new OpInfo
        {
            Family = "ShapeOps",
            Call = "`Reshape(x, shape)`",
            Forward = "same elements, new shape (a view; one −1 inferred)",
            Gradient = "g reshaped back",
            BadInputs = [
                Bad<ShapeMismatchException>("reshape count", () => Reshape(M23, 4, 2), "Reshape", "(2, 3)", "(4, 2)"),
                Bad<ShapeMismatchException>("reshape two -1", () => Reshape(M23, -1, -1), "Reshape", "(-1, -1)"),
            ],
            Overflows = [
                Overflow("wrapping product", () => Reshape(Tensor.Arange(0, 114), 650274866, 232521397, 61), "(114,)", "(650274866, 232521397, 61)"),
                Overflow("inferred", () => Reshape(Tensor.Arange(0, 114), -1, 65537, 65537), "(114,)"),
            ],
            Samples = [Gradient("Reshape", v => Reshape(v[0], 4, -1) * 2, N(27, 2, 3, 2))],
        };
        yield return new OpInfo
        {
            Family = "ShapeOps",
            Call = "`Flatten(x, startAxis, endAxis)`",
            Forward = "axes start … end merged into one (a view; (N, C, H, W) → (N, C·H·W) by default)",
            Gradient = "g reshaped back",
            BadInputs = [
                Bad<ArgumentOutOfRangeException>("flatten axes", () => Flatten(M23, 1, 0), "Flatten", "startAxis 1", "(2, 3)"),
                Bad<ArgumentOutOfRangeException>("flatten axis", () => Flatten(M23, 3), "Flatten", "axis 3", "(2, 3)"),
            ],
            CannotGrowBecause = "a view of the same elements",
            Samples = [Gradient("Flatten", v => Flatten(v[0]) * 2, N(230, 2, 3, 2, 2)), Gradient("Flatten", v => Flatten(v[0], 0, 1) * 3, N(231, 2, 3, 4))],
        };
        yield return new OpInfo
        {
            Family = "ShapeOps",
            Call = "`Pad(x, padding, value)`",
            Forward = "constant borders, (before, after) pairs from the last dimension back (PyTorch's F.pad)",
            Gradient = "g without the borders",
            BadInputs = [
                Bad<ArgumentException>("pad pairs", () => Pad(M23, [1, 2, 3]), "Pad", "(1, 2, 3)", "(2, 3)"),
                Bad<ArgumentOutOfRangeException>("pad negative", () => Pad(M23, [1, -1]), "Pad", "(1, -1)", "(2, 3)"),
                Bad<ArgumentOutOfRangeException>("pad NaN", () => Pad(M23, [1, 1], double.NaN), "Pad", "NaN"),
            ],
            Overflows = [Overflow("borders", () => Pad(Tensor.Zeros([1, 1]), [50000, 50000, 50000, 50000]), "(1, 1)")],
            Samples =
            [
                Gradient("Pad", v => Pad(v[0], [1, 2]) * Pad(v[0], [2, 1], 0.5), N(232, 3, 4)),
                Gradient("Pad", v => Pad(v[0], [0, 1, 2, 0, 1, 1]), N(233, 2, 3, 4)),
            ],
        };
        yield return new OpInfo
        {
            Family = "ShapeOps",
            Call = "`Transpose(x)`, `Transpose(x, i, j)`, `Permute(x, perm)`",
            Forward = "dimensions reordered (a copy)",
            Gradient = "g permuted back",
            BadInputs = [
                Bad<ShapeMismatchException>("transpose vector", () => Transpose(V3), "Transpose", "(3,)"),
                Bad<ArgumentOutOfRangeException>("transpose axes", () => Transpose(M23, 0, 2), "Transpose", "2", "(2, 3)"),
                Bad<ArgumentException>("permute", () => Permute(M23, 0, 0), "Permute", "(0, 0)", "(2, 3)"),
                Bad<ArgumentException>("permute length", () => Permute(M23, 0), "Permute", "(0,)", "(2, 3)"),
            ],
            CannotGrowBecause = "a permutation",
            Samples = [
                Gradient("Transpose", v => Transpose(v[0]) * 2, N(28, 3, 4)),
                Gradient("Transpose", v => Transpose(v[0], 0, 2) * 2, N(29, 2, 3, 4)),
                Gradient("Permute", v => Permute(v[0], 2, 0, 1) * 2, N(30, 2, 3, 4)),
            ],
        };
        yield return new OpInfo
        {
            Family = "ShapeOps",
            Call = "`BroadcastTo(x, shape)`",
            Forward = "x repeated along broadcast dims",
            Gradient = "sum_to(g, x.shape)",
            BadInputs = [Bad<ShapeMismatchException>("broadcast_to", () => BroadcastTo(M23, 3, 3), "BroadcastTo", "(2, 3)", "(3, 3)")],
            Overflows = [Overflow("to a huge shape", () => BroadcastTo(Tensor.Ones([1]), 65537, 65537), "(65537, 65537)")],
            Samples = [Gradient("BroadcastTo", v => BroadcastTo(v[0], 2, 3, 4) * 2, N(31, 3, 1))],
        };
        yield return new OpInfo
        {
            Family = "ShapeOps",
            Call = "`SumTo(x, shape)`",
            Forward = "x summed down to shape",
            Gradient = "g broadcast to x.shape",
            BadInputs = [Bad<ShapeMismatchException>("sum_to", () => SumTo(M23, 4), "SumTo", "(2, 3)", "(4,)")],
            CannotGrowBecause = "a reduction",
            Samples = [Gradient("SumTo", v => SumTo(v[0], 3, 1), N(32, 2, 3, 4))],
        };
        yield return new OpInfo
        {
            Family = "ShapeOps",
            Call = "`Slice(x, start, length)`, `x[a..b]`",
            Forward = "rows of the leading axis (a view)",
            Gradient = "g in those rows, 0 elsewhere",
            BadInputs = [Bad<ArgumentOutOfRangeException>("slice range", () => Slice(M23, 1, 2), "Slice", "[1, 3)", "(2, 3)")],
            CannotGrowBecause = "a part of its input",
            Samples = [Gradient("Slice", v => Slice(v[0], 1, 2) * 2, N(33, 4, 3))],
        };
    }
}
