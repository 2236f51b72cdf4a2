using System.Numerics;

using AutoGrad.Autodiff;
using AutoGrad.Kernels;
using AutoGrad.Tensors;

using static AutoGrad.Operations.OpSamples;

namespace AutoGrad.Operations;

/// <summary>Matrix product, batched with broadcasting over leading dimensions.</summary>
public static partial class Ops
{
    private static readonly Op s_matMul = new Op<MatMulRule>("MatMul");

    /// <summary>
    /// The matrix product a·b. Rank-2 operands give (m, n) from (m, k)·(k, n); higher ranks are batches of matrices
    /// whose leading dimensions broadcast (as <c>torch.matmul</c>); a rank-1 operand is a vector (a row on the left,
    /// a column on the right) and its dimension is dropped from the result.
    /// ∂/∂a = g·bᵀ and ∂/∂b = aᵀ·g, summed over broadcast batch dimensions.
    /// </summary>
    /// <param name="a">The left operand.</param>
    /// <param name="b">The right operand.</param>
    /// <returns>The product.</returns>
    public static Tensor MatMul(Tensor a, Tensor b)
    {
        Check.NotNull(a, "MatMul", nameof(a));
        Check.NotNull(b, "MatMul", nameof(b));
        Check.SameType(a, b, "MatMul");
        if (a.Rank == 0 || b.Rank == 0)
        {
            throw new ShapeMismatchException($"MatMul: operands must have rank 1 or more, got {a.Shape} and {b.Shape}; use Multiply for scalars.");
        }

        if (a.Rank == 1 || b.Rank == 1)
        {
            // A vector becomes a one-row (left) or one-column (right) matrix, and that dimension is dropped after.
            var left = a.Rank == 1 ? Reshape(a, 1, a.Length) : a;
            var right = b.Rank == 1 ? Reshape(b, b.Length, 1) : b;
            var product = MatMul(left, right);
            var dims = product.Shape.Dims.ToArray().ToList();
            if (b.Rank == 1)
            {
                dims.RemoveAt(dims.Count - 1);
            }

            if (a.Rank == 1)
            {
                dims.RemoveAt(dims.Count - (b.Rank == 1 ? 1 : 2));
            }

            return Reshape(product, [.. dims]);
        }

        int m = a.Shape[-2], k = a.Shape[-1], n = b.Shape[-1];
        if (b.Shape[-2] != k)
        {
            throw new ShapeMismatchException($"MatMul: inner dimensions differ: {a.Shape} · {b.Shape} ({k} ≠ {b.Shape[-2]}).");
        }

        Shape shape;
        if (a.Rank == 2 && b.Rank == 2)
        {
            shape = Shape.FromDims([m, n], "MatMul", a.Shape, b.Shape);
        }
        else
        {
            var batch = Broadcast.ResultDims(a.Shape.Dims[..^2], b.Shape.Dims[..^2])
                ?? throw new ShapeMismatchException($"MatMul: batch dimensions of {a.Shape} and {b.Shape} cannot be broadcast together.");
            shape = Shape.FromOwned([.. batch, m, n], "MatMul", a.Shape, b.Shape);
        }

        var y = Tensor.Uninitialized(a.DType, shape);
        ElementType.Dispatch(a.DType, new MatMulForward(a, b, y));

        Tape.Record(s_matMul, y, a, b);
        return y;
    }

    private readonly struct MatMulForward(Tensor a, Tensor b, Tensor y) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            int m = a.Shape[-2], k = a.Shape[-1], n = b.Shape[-1];
            ReadOnlySpan<T> av = a.Raw<T>(), bv = b.Raw<T>();
            var yv = y.Raw<T>();
            var batches = y.Length / Math.Max(1, m * n);
            for (var i = 0; i < batches; i++)
            {
                var (offA, offB) = BatchOffsets(y.Shape, a.Shape, b.Shape, i);
                Gemm.Multiply(false, false, m, n, k, av.Slice(offA * m * k, m * k), bv.Slice(offB * k * n, k * n), yv.Slice(i * m * n, m * n), accumulate: false);
            }
        }
    }

    /// <summary>Which matrix of a and of b (counted in matrices) batch <paramref name="index"/> of the output uses.</summary>
    private static (int A, int B) BatchOffsets(Shape output, Shape a, Shape b, int index)
    {
        if (a.Rank == 2 && b.Rank == 2)
        {
            return (0, 0);
        }

        var batchRank = output.Rank - 2;
        int offA = 0, offB = 0, strideA = 1, strideB = 1;
        for (var d = batchRank - 1; d >= 0; d--)
        {
            var size = output.Dims[d];
            var coordinate = index % size;
            index /= size;
            var da = d - (batchRank - (a.Rank - 2));
            var db = d - (batchRank - (b.Rank - 2));
            var sizeA = da >= 0 ? a.Dims[da] : 1;
            var sizeB = db >= 0 ? b.Dims[db] : 1;
            offA += sizeA == 1 ? 0 : coordinate * strideA;
            offB += sizeB == 1 ? 0 : coordinate * strideB;
            strideA *= sizeA;
            strideB *= sizeB;
        }

        return (offA, offB);
    }

    /// <summary>
    /// t·b for every direction of a batched t (batch, …, m, k) and a matrix b (k, n), as one product of all their rows:
    /// one packing of b, not one per direction.
    /// </summary>
    private static Tensor BatchedTimesMatrix(Tensor t, Tensor b, int batch)
    {
        var rows = MatMul(Reshape(t, -1, b.Shape[0]), b);
        int[] dims = [.. t.Shape.Dims[..^1], b.Shape[1]];
        return Reshape(rows, dims);
    }

    /// <summary>
    /// a·t for a matrix a (m, k) and every direction of a batched t (batch, k, n), as one product with the directions
    /// side by side, (m, k)·(k, batch·n), then the batch axis moved back in front.
    /// </summary>
    private static Tensor MatrixTimesBatched(Tensor a, Tensor t, int batch)
    {
        int k = a.Shape[1], n = t.Shape[2];
        var sideBySide = Reshape(Permute(t, 1, 0, 2), k, batch * n);
        return Permute(Reshape(MatMul(a, sideBySide), a.Shape[0], batch, n), 1, 0, 2);
    }

    private readonly struct MatMulRule : IBackwardRule
    {
        public static string? Onnx(in Node node, IOnnxGraph graph) => OnnxBinary("MatMul", node, graph);

        // Bilinear: ẏ = ȧ·b + a·ḃ.
        public static Tensor Jvp(in Node node, InputTangents tangents) => TangentSum(
            node,
            tangents.A is { } ta ? MatMul(ta, node.B!) : null,
            tangents.B is { } tb ? MatMul(node.A!, tb) : null);

        // Batched: the leading batch axis rides as a broadcast batch dimension of the product, when the other factor is a
        // matrix (so its own batch dimensions cannot clash with it).
        public static Tensor? JvpBatch(in Node node, InputTangents tangents, int batch)
        {
            Tensor a = node.A!, b = node.B!;
            if ((tangents.A is not null && (b.Rank != 2 || a.Rank < 2)) || (tangents.B is not null && (a.Rank != 2 || b.Rank != 2)))
            {
                return null;
            }

            var fromA = tangents.A is { } ta ? BatchedTimesMatrix(ta, b, batch) : null;
            var fromB = tangents.B is { } tb ? MatrixTimesBatched(a, tb, batch) : null;
            return fromA is null ? fromB : fromB is null ? fromA : fromA + fromB;
        }

        // Batched cotangents: the same products with the batch axis riding along, one GEMM for all of them, when neither
        // gradient sums over broadcast batches.
        public static InputGradients? VjpBatch(in Node node, Tensor upstream, int batch)
        {
            Tensor a = node.A!, b = node.B!;
            if ((node.InA >= 0 && (b.Rank != 2 || a.Rank < 2)) || (node.InB >= 0 && (a.Rank != 2 || b.Rank != 2)))
            {
                return null;
            }

            return new(
                node.InA >= 0 ? BatchedTimesMatrix(upstream, Transpose(b), batch) : null,
                node.InB >= 0 ? MatrixTimesBatched(Transpose(a), upstream, batch) : null);
        }

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(
            node.InA >= 0 ? ReduceTo(MatMul(upstream, Transpose(node.B!)), node.A!) : null,
            node.InB >= 0 ? ReduceTo(MatMul(Transpose(node.A!), upstream), node.B!) : null);

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            Tensor a = node.A!, b = node.B!, y = node.Output;
            int m = a.Shape[-2], k = a.Shape[-1], n = b.Shape[-1];
            var g = tape.Upstream<T>(index);
            var batches = y.Length / Math.Max(1, m * n);

            // With broadcast batches several output matrices feed one input matrix, so those gradients accumulate.
            if (node.InA >= 0)
            {
                // The product adds into the slot when it already holds a gradient; several batches feeding one
                // broadcast matrix add up too, after one clearing when the slot is fresh.
                var target = tape.BeginSummedGradient<T>(node.InA, out var accumulate);
                if (!accumulate && batches * m * k != a.Length)
                {
                    target.Clear();
                    accumulate = true;
                }

                for (var i = 0; i < batches; i++)
                {
                    var (offA, offB) = BatchOffsets(y.Shape, a.Shape, b.Shape, i);
                    Gemm.Multiply(false, true, m, k, n, g.Slice(i * m * n, m * n), b.Raw<T>().Slice(offB * k * n, k * n), target.Slice(offA * m * k, m * k), accumulate);
                }
            }

            if (node.InB >= 0)
            {
                var target = tape.BeginSummedGradient<T>(node.InB, out var accumulate);
                if (!accumulate && batches * k * n != b.Length)
                {
                    target.Clear();
                    accumulate = true;
                }

                for (var i = 0; i < batches; i++)
                {
                    var (offA, offB) = BatchOffsets(y.Shape, a.Shape, b.Shape, i);
                    Gemm.Multiply(true, false, k, n, m, a.Raw<T>().Slice(offA * m * k, m * k), g.Slice(i * m * n, m * n), target.Slice(offB * k * n, k * n), accumulate);
                }
            }
        }
    }

    /// <summary>The op table's rows for this file's ops, with their gradient checks (see <see cref="OpCatalog"/>).</summary>
    [OpFamily(50)]
    private static IEnumerable<OpInfo> MatMulRows()
    {
        (int[] A, int[] B)[] pairs = [([3, 4], [4, 5]), ([2, 3, 4], [4, 5]), ([2, 1, 3, 4], [5, 4, 2]), ([4], [4, 2])];
        yield return new OpInfo
        {
            Family = "MatMul",
            Call = "`MatMul(a, b)`",
            Forward = "a·b, batched with broadcast leading dims; vectors allowed",
            Gradient = "∂a = g·bᵀ, ∂b = aᵀ·g (summed over broadcast batches)",
            BadInputs = [
                Bad<ShapeMismatchException>("matmul inner", () => MatMul(M23, M23), "MatMul", "(2, 3)", "3 ≠ 2"),
                Bad<ShapeMismatchException>("matmul scalar", () => MatMul(Tensor.Scalar(1, DType.Float64), M23), "MatMul", "()"),
                Bad<DTypeMismatchException>("mix matmul", () => MatMul(F23, M32), "MatMul", "float32", "float64"),
            ],
            Overflows = [
                Overflow("outer product", () => MatMul(Column, Row), "(65537, 1)", "(1, 65537)", "(65537, 65537)"),
                Overflow("batched", () => MatMul(Reshape(Column, 65537, 1, 1), Reshape(Row, 1, 1, 65537)), "(65537, 1, 1)", "(1, 1, 65537)"),
            ],
            Samples = [.. pairs.Select(p => Gradient("MatMul", v => MatMul(v[0], v[1]), N(25, p.A), N(26, p.B)))],
        };
    }
}
