using System.Numerics;

using AutoGrad.Autodiff;
using AutoGrad.Kernels;
using AutoGrad.Tensors;

using static AutoGrad.Operations.OpSamples;

using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace AutoGrad.Operations;

/// <summary>The fused fully connected layer of "Deep Learning from Scratch", with its hand-written backward rule.</summary>
public static partial class Ops
{
    private static readonly Op s_affine = new Op<AffineRule>("Affine");

    /// <summary>
    /// y = x·W + b, one GEMM and a row-broadcast add. An input of rank above 2 is flattened to (N, −1) and dx gets its
    /// shape back. Backward: dx = g·Wᵀ, dW = xᵀ·g, db = Σ rows of g (each computed only when needed).
    /// </summary>
    /// <param name="x">The input, (N, D) or (N, …) with D elements after the first axis.</param>
    /// <param name="weight">The weights, (D, M).</param>
    /// <param name="bias">The bias, (M,).</param>
    /// <returns>The output, (N, M).</returns>
    public static Tensor Affine(Tensor x, Tensor weight, Tensor bias)
    {
        Check.NotNull(x, "Affine", nameof(x));
        Check.NotNull(weight, "Affine", nameof(weight));
        Check.NotNull(bias, "Affine", nameof(bias));
        Check.SameType(x, weight, "Affine");
        Check.SameType(x, bias, "Affine");
        if (weight.Rank != 2 || bias.Rank != 1 || bias.Length != weight.Shape[1] || x.Rank < 2 || x.Length / Math.Max(1, x.Shape[0]) != weight.Shape[0])
        {
            throw new ShapeMismatchException(
                $"Affine: x {x.Shape}, W {weight.Shape}, b {bias.Shape} do not fit: need x (N, D…) with D elements per row, W (D, M), b (M,).");
        }

        var y = Tensor.Uninitialized(x.DType, Shape.FromDims([x.Shape[0], weight.Shape[1]], "Affine", x.Shape, weight.Shape));
        ElementType.Dispatch(x.DType, new AffineForward(x, weight, bias, y));

        Tape.Record(s_affine, y, x, weight, bias);
        return y;
    }

    private readonly struct AffineForward(Tensor x, Tensor weight, Tensor bias, Tensor y) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            int n = y.Shape[0], d = weight.Shape[0], m = weight.Shape[1];
            var yv = y.Raw<T>();
            Gemm.Multiply<T>(false, false, n, m, d, x.Raw<T>(), weight.Raw<T>(), yv, accumulate: false);
            var b = bias.Raw<T>();
            for (var i = 0; i < n; i++)
            {
                var row = yv.Slice(i * m, m);
                TensorPrimitives.Add(row, b, row);
            }
        }
    }

    private readonly struct AffineRule : IBackwardRule
    {
        // Gemm takes a matrix: an input of higher rank is flattened to (N, D) first, as the forward pass does.
        public static string? Onnx(in Node node, IOnnxGraph graph)
        {
            var x = graph.Value(node.A!);
            if (node.A!.Rank > 2)
            {
                x = graph.Node("Flatten", [x], ("axis", 1L));
            }

            return graph.Node("Gemm", [x, graph.Value(node.B!), graph.Value(node.C!)]);
        }

        // Bilinear in (x, W) plus b: ẏ = ẋ·W + x·Ẇ + ḃ, with x flattened to rows as the forward pass does.
        public static Tensor Jvp(in Node node, InputTangents tangents)
        {
            var rows = node.A!.Shape[0];
            return TangentSum(
                node,
                tangents.A is { } ta ? MatMul(Reshape(ta, rows, -1), node.B!) : null,
                tangents.B is { } tb ? MatMul(Reshape(node.A!, rows, -1), tb) : null,
                tangents.C);
        }

        // Batched: rows keep the batch axis in front; the bias's tangent broadcasts over the rows.
        public static Tensor? JvpBatch(in Node node, InputTangents tangents, int batch)
        {
            var rows = node.A!.Shape[0];
            var width = node.B!.Shape[1];
            Tensor? sum = null;
            if (tangents.A is { } ta)
            {
                sum = BatchedTimesMatrix(Reshape(ta, batch, rows, -1), node.B!, batch);
            }

            if (tangents.B is { } tb)
            {
                var term = MatrixTimesBatched(Reshape(node.A!, rows, -1), tb, batch);
                sum = sum is null ? term : sum + term;
            }

            if (tangents.C is { } tc)
            {
                var term = Reshape(tc, batch, 1, width);
                sum = sum is null ? BroadcastTo(term, batch, rows, width) : sum + term;
            }

            return sum;
        }

        // Batched cotangents: dx for every cotangent as one product of all their rows, dW as one product with the
        // cotangents side by side, db as the row sums of each.
        public static InputGradients? VjpBatch(in Node node, Tensor upstream, int batch)
        {
            Tensor x = node.A!, weight = node.B!;
            return new(
                node.InA >= 0 ? Reshape(BatchedTimesMatrix(upstream, Transpose(weight), batch), [batch, .. x.Shape.Dims]) : null,
                node.InB >= 0 ? MatrixTimesBatched(Transpose(Reshape(x, x.Shape[0], -1)), upstream, batch) : null,
                node.InC >= 0 ? Sum(upstream, 1) : null);
        }

        public static InputGradients Differentiate(in Node node, Tensor upstream)
        {
            Tensor x = node.A!, weight = node.B!;
            return new(
                node.InA >= 0 ? Reshape(MatMul(upstream, Transpose(weight)), x.Shape.Dims) : null,
                node.InB >= 0 ? MatMul(Transpose(Reshape(x, x.Shape[0], -1)), upstream) : null,
                node.InC >= 0 ? Sum(upstream, 0) : null);
        }

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            Tensor x = node.A!, weight = node.B!;
            int n = node.Output.Shape[0], d = weight.Shape[0], m = weight.Shape[1];
            var g = tape.Upstream<T>(index);
            if (node.InA >= 0)
            {
                var dx = tape.BeginSummedGradient<T>(node.InA, out var accumulate);
                Gemm.Multiply(false, true, n, d, m, g, weight.Raw<T>(), dx, accumulate);
            }

            if (node.InB >= 0)
            {
                var dw = tape.BeginSummedGradient<T>(node.InB, out var accumulate);
                Gemm.Multiply(true, false, d, m, n, x.Raw<T>(), g, dw, accumulate);
            }

            if (node.InC >= 0)
            {
                var db = tape.BeginGradient<T>(node.InC);
                Reduce.Sum(g, 1, n, m, db.Span);
                tape.Commit(db);
            }
        }
    }

    /// <summary>The op table's rows for this file's ops, with their gradient checks (see <see cref="OpCatalog"/>).</summary>
    [OpFamily(80)]
    private static IEnumerable<OpInfo> AffineRows()
    {
        yield return new OpInfo
        {
            Family = "Affine",
            Call = "`Affine(x, W, b)`",
            Forward = "x·W + b; x of rank > 2 is flattened to (N, −1)",
            Gradient = "dx = g·Wᵀ (x's shape), dW = xᵀ·g, db = Σ rows of g",
            BadInputs = [
                Bad<ShapeMismatchException>("affine weight", () => Affine(M23, M23, V3), "Affine", "(2, 3)", "(3,)"),
                Bad<ShapeMismatchException>("affine bias", () => Affine(M23, M32, V3), "Affine", "b (3,)"),
                Bad<DTypeMismatchException>("mix affine", () => Affine(F23, M32, V2), "Affine", "float32", "float64"),
            ],
            Overflows = [Overflow("outer product", () => Affine(Column, Row, Tensor.Ones([65537])), "(65537, 1)", "(1, 65537)")],
            Fused = true,
            Samples = [Gradient("Affine", v => Affine(v[0], v[1], v[2]), N(35, 3, 4), N(36, 4, 5), N(37, 5))],
            Compositions =
            [
                Composition("Affine", v => Affine(v[0], v[1], v[2]), v => MatMul(Reshape(v[0], 4, -1), v[1]) + v[2], N(44, 4, 2, 3), N(45, 6, 5), N(46, 5)),
            ],
        };
    }
}
