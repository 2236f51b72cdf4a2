using System.Numerics;

using AutoGrad.Autodiff;
using AutoGrad.Kernels;
using AutoGrad.Tensors;

using static AutoGrad.Operations.OpSamples;

namespace AutoGrad.Operations;

/// <summary>Ops that move elements without changing them: reshape, transpose/permute, broadcast_to, sum_to, slicing.</summary>
public static partial class Ops
{
    private static readonly Op s_reshape = new Op<ReshapeRule>("Reshape", readsInputs: false);
    private static readonly Op s_permute = new Op<PermuteRule>("Permute", readsInputs: false);
    private static readonly Op s_broadcastTo = new Op<BroadcastToRule>("BroadcastTo", readsInputs: false);
    private static readonly Op s_sumTo = new Op<SumToRule>("SumTo", readsInputs: false);
    private static readonly Op s_slice = new Op<SliceRule>("Slice", readsInputs: false);

    /// <summary>The same elements in another shape, without copying; one dimension may be -1 (inferred). ∂/∂x = g reshaped back.</summary>
    /// <param name="x">The tensor.</param>
    /// <param name="shape">The new dimensions; their product must equal <c>x.Length</c>.</param>
    /// <returns>A view of <paramref name="x"/>'s elements.</returns>
    public static Tensor Reshape(Tensor x, params ReadOnlySpan<int> shape)
    {
        Check.NotNull(x, "Reshape", nameof(x));
        var dims = shape.ToArray();
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

        if (dims.Any(d => d < 0) || known * (inferred >= 0 ? dims[inferred] : 1) != x.Length)
        {
            throw new ShapeMismatchException($"Reshape: cannot reshape {x.Shape} ({x.Length} elements) to {Shape.Format(shape)}" +
                (known > Array.MaxLength ? $", more than the {Array.MaxLength} elements a tensor can hold." : "."));
        }

        var y = x.View(Shape.FromOwned(dims, "Reshape", x.Shape));
        Tape.Record(s_reshape, y, x);
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
        var p = perm.ToArray();
        var seen = new bool[x.Rank];
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

        return PermuteCore(x, p);
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

        var dims = x.Shape.Dims.ToArray();
        dims[0] = length;
        var rowSize = x.Shape.Inner(0);
        var y = x.View(Shape.FromOwned(dims, "Slice"), start * rowSize);
        Tape.Record(s_slice, y, x, null, null, new NodeArgs { Axis = start });
        return y;
    }

    private static Tensor PermuteCore(Tensor x, int[] perm)
    {
        var dims = new int[perm.Length];
        for (var i = 0; i < perm.Length; i++)
        {
            dims[i] = x.Shape.Dims[perm[i]];
        }

        var y = Tensor.Uninitialized(x.DType, Shape.FromOwned(dims, "Permute"));
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

    private readonly struct ReshapeRule : IBackwardRule
    {
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
        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(PadRows(upstream, node.Args.Axis, node.A!.Shape[0]));

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var target = tape.BeginGradient<T>(node.InA);
            target.Span.Clear();
            var g = tape.Upstream<T>(index);
            g.CopyTo(target.Span.Slice(node.Args.Axis * node.A!.Shape.Inner(0), g.Length));
            tape.Commit(target);
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
