using System.Buffers;
using System.Numerics;

using AutoGrad.Autodiff;
using AutoGrad.Kernels;
using AutoGrad.Tensors;

using static AutoGrad.Operations.OpSamples;

using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace AutoGrad.Operations;

/// <summary>Scaled dot-product attention, softmax(q·kᵀ·scale, masked)·v, fused with its hand-written backward.</summary>
public static partial class Ops
{
    private static readonly Op s_attention = new Op<AttentionRule>("ScaledDotProductAttention");

    /// <summary>A masked score in the ops form of attention: finite in float32 too, and exp(−10³⁰ − max) is exactly 0.</summary>
    private const double Hidden = -1e30;

    /// <summary>
    /// Scaled dot-product attention, PyTorch's <c>F.scaled_dot_product_attention</c>: per batch,
    /// P = softmax(q·kᵀ·scale) over the keys, where the positions the mask leaves out take no part, and the result is
    /// P·v. A fused op: with dO the upstream gradient, dv = Pᵀ·dO, dS = P ⊙ (dO·vᵀ − rowsum(P ⊙ dO·vᵀ))·scale,
    /// dq = dS·k and dk = dSᵀ·q, proven equal to the same computation from MatMul, MaskedFill and Softmax.
    /// A query whose keys are all masked attends to nothing: its row of P is 0, so its output and its gradients are
    /// 0 (where PyTorch gives NaN).
    /// </summary>
    /// <param name="q">Queries, (…, Tq, d).</param>
    /// <param name="k">Keys, (…, Tk, d), the same leading dimensions.</param>
    /// <param name="v">Values, (…, Tk, dv).</param>
    /// <param name="mask">
    /// As in PyTorch, true where a query may attend to a key; it broadcasts to (…, Tq, Tk). Null for none.
    /// </param>
    /// <param name="isCausal">Query i attends to keys 0 … i only (PyTorch's <c>is_causal</c>, aligned top left).</param>
    /// <param name="scale">The scores' factor; null for 1/√d.</param>
    /// <returns>The attended values, (…, Tq, dv).</returns>
    public static Tensor ScaledDotProductAttention(Tensor q, Tensor k, Tensor v, BoolTensor? mask = null, bool isCausal = false, double? scale = null)
    {
        const string op = "ScaledDotProductAttention";
        Check.NotNull(q, op, nameof(q));
        Check.NotNull(k, op, nameof(k));
        Check.NotNull(v, op, nameof(v));
        Check.SameType(q, k, op);
        Check.SameType(q, v, op);
        var rank = q.Rank;
        if (rank < 2 || k.Rank != rank || v.Rank != rank || !q.Shape.Dims[..^2].SequenceEqual(k.Shape.Dims[..^2]) || !q.Shape.Dims[..^2].SequenceEqual(v.Shape.Dims[..^2])
            || q.Shape[rank - 1] != k.Shape[rank - 1] || k.Shape[rank - 2] != v.Shape[rank - 2])
        {
            throw new ShapeMismatchException($"{op}: q {q.Shape}, k {k.Shape} and v {v.Shape} must be (…, Tq, d), (…, Tk, d) and (…, Tk, dv) with the same leading dimensions.");
        }

        int queries = q.Shape[rank - 2], keys = k.Shape[rank - 2];
        var factor = scale ?? (1 / Math.Sqrt(Math.Max(q.Shape[rank - 1], 1)));
        if (!(factor > 0) || !double.IsFinite(factor))
        {
            throw new ArgumentOutOfRangeException(nameof(scale), scale, $"{op}: scale {factor} must be positive and finite.");
        }

        // The scores' and the output's dimensions on the stack: their shapes recur every step, and FromDims shares them.
        Span<int> scoreDims = stackalloc int[rank], outputDims = stackalloc int[rank];
        q.Shape.Dims[..^1].CopyTo(scoreDims);
        q.Shape.Dims[..^1].CopyTo(outputDims);
        scoreDims[^1] = keys;
        outputDims[^1] = v.Shape[rank - 1];
        if (mask is not null && (Broadcast.ResultDims(mask.Shape.Dims, scoreDims) is not { } joint || !joint.AsSpan().SequenceEqual(scoreDims)))
        {
            throw new ShapeMismatchException($"{op}: mask {mask.Shape} does not broadcast to the scores' shape {Shape.Format(scoreDims)}.");
        }

        var y = Tensor.Uninitialized(q.DType, Shape.FromDims(outputDims, op, q.Shape, v.Shape));

        // P, kept for the backward pass in the tape's arena like the result, with the scale beside it.
        var probabilities = Tensor.Uninitialized(q.DType, Shape.FromDims(scoreDims, op, q.Shape, k.Shape));
        ElementType.Dispatch(q.DType, new AttentionForward(q, k, v, mask, isCausal, factor, probabilities, y));
        Tape.Record(s_attention, y, q, k, v, NodeArgs.Of(new AttentionState(probabilities, mask, isCausal), factor, queries));
        return y;
    }

    /// <summary>What the backward rules need: P, and the mask to recompute it in ops.</summary>
    private sealed record AttentionState(Tensor Probabilities, BoolTensor? Mask, bool IsCausal);

    /// <summary>Attention from primitives (its composition check): P (<see cref="ComposedProbabilities"/>) times v.</summary>
    private static Tensor ComposedAttention(Tensor q, Tensor k, Tensor v, BoolTensor? mask, bool isCausal, double scale) =>
        MatMul(ComposedProbabilities(q, k, mask, isCausal, scale), v);

    /// <summary>
    /// P in ops (the composition check, and the rule in ops): the scores of masked positions are set to
    /// <see cref="Hidden"/> before the softmax, which then gives them exactly 0, and the rows with no allowed key are
    /// multiplied by 0 (−∞ would make those rows NaN, and NaN times 0 is NaN).
    /// </summary>
    private static Tensor ComposedProbabilities(Tensor q, Tensor k, BoolTensor? mask, bool isCausal, double scale)
    {
        var scores = MatMul(q, Transpose(k)) * scale;
        var allowed = AllowedKeys(mask, isCausal, scores.Shape.Dims.ToArray());
        return allowed is null ? Softmax(scores) : Softmax(Where(allowed, scores, Hidden)) * AnyAllowed(allowed).ToType(q.DType);
    }

    /// <summary>The number of (Tq, Tk) score matrices: the product of the leading dimensions of a (…, T, d) operand.</summary>
    private static int AttentionBatches(Shape operand)
    {
        var batches = 1;
        foreach (var d in operand.Dims[..^2])
        {
            batches *= d;
        }

        return batches;
    }

    /// <summary>The mask and the causal rule as one (…, Tq, Tk) mask of allowed keys, or null when every key is allowed.</summary>
    private static BoolTensor? AllowedKeys(BoolTensor? mask, bool isCausal, int[] scoreDims)
    {
        if (mask is null && !isCausal)
        {
            return null;
        }

        int keys = scoreDims[^1], queries = scoreDims[^2];
        var length = scoreDims.Aggregate(1, (a, b) => a * b);
        var allowed = new bool[length];
        if (mask is null)
        {
            allowed.AsSpan().Fill(true);
        }
        else
        {
            Broadcast.Expand(mask.AsReadOnlySpan(), mask.Shape.Dims, allowed, scoreDims);
        }

        if (isCausal)
        {
            for (var row = 0; row < length / Math.Max(keys, 1); row++)
            {
                var i = row % queries;
                allowed.AsSpan((row * keys) + Math.Min(i + 1, keys), keys - Math.Min(i + 1, keys)).Clear();
            }
        }

        return BoolTensor.FromArray(allowed, scoreDims);
    }

    /// <summary>1 for the rows (…, Tq, 1) that allow at least one key, else 0.</summary>
    private static Tensor AnyAllowed(BoolTensor allowed)
    {
        var dims = allowed.Shape.Dims.ToArray();
        var keys = dims[^1];
        var values = allowed.AsReadOnlySpan();
        var rows = new double[keys == 0 ? 0 : values.Length / keys];
        for (var r = 0; r < rows.Length; r++)
        {
            rows[r] = values.Slice(r * keys, keys).Contains(true) ? 1 : 0;
        }

        dims[^1] = 1;
        return Tensor.FromArray(rows, dims);
    }

    private readonly struct AttentionForward(Tensor q, Tensor k, Tensor v, BoolTensor? mask, bool isCausal, double scale, Tensor probabilities, Tensor y) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var rank = q.Rank;
            int queries = q.Shape[rank - 2], keys = k.Shape[rank - 2], depth = q.Shape[rank - 1], width = v.Shape[rank - 1];
            var batches = AttentionBatches(q.Shape);

            // A mask is spread to the scores' shape in pooled memory; the causal rule needs none (row i allows keys
            // 0 … i, a prefix), so the usual case allocates nothing.
            var scoreDims = probabilities.Shape.Dims;
            var length = probabilities.Length;
            var spread = mask is null ? null : ArrayPool<bool>.Shared.Rent(length);
            try
            {
                if (spread is not null)
                {
                    Broadcast.Expand(mask!.AsReadOnlySpan(), mask.Shape.Dims, spread.AsSpan(0, length), scoreDims);
                }

                ReadOnlySpan<T> qs = q.Raw<T>(), ks = k.Raw<T>(), vs = v.Raw<T>();
                Span<T> p = probabilities.Raw<T>(), output = y.Raw<T>();
                int pSize = queries * keys, qSize = queries * depth, kSize = keys * depth, vSize = keys * width, ySize = queries * width;
                var factor = T.CreateTruncating(scale);
                for (var b = 0; b < batches; b++)
                {
                    var scores = p.Slice(b * pSize, pSize);
                    Gemm.Multiply<T>(false, true, queries, keys, depth, qs.Slice(b * qSize, qSize), ks.Slice(b * kSize, kSize), scores, accumulate: false);
                    for (var i = 0; i < queries; i++)
                    {
                        var row = scores.Slice(i * keys, keys);
                        var prefix = isCausal ? Math.Min(i + 1, keys) : keys;
                        if (spread is null)
                        {
                            SoftmaxPrefix(row, factor, prefix);
                        }
                        else
                        {
                            SoftmaxRow(row, factor, spread.AsSpan((b * pSize) + (i * keys), keys), prefix);
                        }
                    }

                    Gemm.Multiply<T>(false, false, queries, width, keys, scores, vs.Slice(b * vSize, vSize), output.Slice(b * ySize, ySize), accumulate: false);
                }
            }
            finally
            {
                if (spread is not null)
                {
                    ArrayPool<bool>.Shared.Return(spread);
                }
            }
        }

        /// <summary>softmax(scale·s) over the first <paramref name="prefix"/> keys (all but none), 0 after them, in vectors.</summary>
        private static void SoftmaxPrefix<T>(Span<T> row, T scale, int prefix)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var live = row[..prefix];
            row[prefix..].Clear();
            if (live.IsEmpty)
            {
                return;
            }

            TensorPrimitives.Multiply(live, scale, live);
            var max = TensorPrimitives.Max(live);
            if (T.IsNegativeInfinity(max))
            {
                // Every score −∞: no key to attend to, as for a fully masked row.
                live.Clear();
                return;
            }

            TensorPrimitives.Subtract(live, max, live);
            TensorPrimitives.Exp(live, live);
            TensorPrimitives.Multiply(live, T.One / TensorPrimitives.Sum(live), live);
        }

        /// <summary>
        /// softmax(scale·s) over the keys <paramref name="allowed"/> and among the first <paramref name="prefix"/>
        /// (the causal rule), 0 elsewhere; all 0 when none is allowed.
        /// </summary>
        private static void SoftmaxRow<T>(Span<T> row, T scale, ReadOnlySpan<bool> allowed, int prefix)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var max = T.NegativeInfinity;
            for (var j = 0; j < row.Length; j++)
            {
                row[j] *= scale;
                if (j < prefix && allowed[j])
                {
                    max = T.Max(max, row[j]);
                }
            }

            if (T.IsNegativeInfinity(max))
            {
                row.Clear();
                return;
            }

            var sum = T.Zero;
            for (var j = 0; j < row.Length; j++)
            {
                row[j] = j < prefix && allowed[j] ? T.Exp(row[j] - max) : T.Zero;
                sum += row[j];
            }

            var inverse = T.One / sum;
            for (var j = 0; j < row.Length; j++)
            {
                row[j] *= inverse;
            }
        }
    }

    /// <summary>Attention's rule: dv = Pᵀ·dO, dS = P ⊙ (dO·vᵀ − rowsum(P ⊙ dO·vᵀ))·scale, dq = dS·k, dk = dSᵀ·q.</summary>
    private readonly struct AttentionRule : IBackwardRule
    {
        // softmax(q·kᵀ·scale, with masked scores hidden) · v, as the composition; the mask (with the causal rule) is a
        // constant over (…, Tq, Tk) without the batch, so a mask with a batch axis of its own is refused.
        public static string? Onnx(in Node node, IOnnxGraph graph)
        {
            var state = node.Args.State<AttentionState>();
            Tensor q = node.A!, k = node.B!, v = node.C!;
            var perm = Enumerable.Range(0, k.Rank).Select(i => (long)i).ToArray();
            (perm[^1], perm[^2]) = (perm[^2], perm[^1]);
            var keysT = graph.Node("Transpose", [graph.Value(k)], ("perm", perm));
            var scores = graph.Node("Mul", [graph.Node("MatMul", [graph.Value(q), keysT]), OnnxScalar(node.Args.Scalar, q, graph)]);
            if (state.Mask is { } mask && mask.Rank == q.Rank && mask.Shape[0] > 1)
            {
                throw new NotSupportedException($"ScaledDotProductAttention: a mask {mask.Shape} with a batch axis of its own cannot be a constant of an ONNX graph for every batch size.");
            }

            int[] maskDims = state.Mask is { } given ? [.. given.Shape.Dims[..^2], q.Shape[-2], k.Shape[-2]] : [q.Shape[-2], k.Shape[-2]];
            var allowed = AllowedKeys(state.Mask, state.IsCausal, maskDims);
            if (allowed is not null)
            {
                scores = graph.Node("Where", [graph.Booleans(allowed), scores, OnnxScalar(Hidden, q, graph)]);
            }

            var probabilities = graph.Node("Softmax", [scores], ("axis", -1L));
            if (allowed is not null)
            {
                probabilities = graph.Node("Mul", [probabilities, graph.Constant(AnyAllowed(allowed).ToType(q.DType))]);
            }

            return graph.Node("MatMul", [probabilities, graph.Value(v)]);
        }

        // y = P·v with P = softmax(S), S = scale·q·kᵀ (+ mask): Ṡ = scale·(q̇·kᵀ + q·k̇ᵀ), Ṗ = P ⊙ (Ṡ − rowsum(P ⊙ Ṡ)),
        // ẏ = Ṗ·v + P·v̇. Masked scores have P = 0, so their tangent drops out.
        public static Tensor Jvp(in Node node, InputTangents tangents)
        {
            var state = node.Args.State<AttentionState>();
            Tensor q = node.A!, k = node.B!, v = node.C!;
            var scale = node.Args.Scalar;
            var p = ComposedProbabilities(q, k, state.Mask, state.IsCausal, scale);
            Tensor? scores = null;
            if (tangents.A is { } tq)
            {
                scores = MatMul(tq, Transpose(k));
            }

            if (tangents.B is { } tk)
            {
                var term = MatMul(q, Transpose(tk));
                scores = scores is null ? term : scores + term;
            }

            Tensor? fromScores = null;
            if (scores is not null)
            {
                var ds = scores * scale;
                fromScores = MatMul(p * (ds - Sum(p * ds, -1, keepDims: true)), v);
            }

            return TangentSum(node, fromScores, tangents.C is { } tv ? MatMul(p, tv) : null);
        }

        public static InputGradients Differentiate(in Node node, Tensor upstream)
        {
            var state = node.Args.State<AttentionState>();
            Tensor q = node.A!, k = node.B!, v = node.C!;
            var scale = node.Args.Scalar;

            // P again in ops, so that the gradients differentiate again in q, k, v and g.
            var p = ComposedProbabilities(q, k, state.Mask, state.IsCausal, scale);
            var dp = MatMul(upstream, Transpose(v));
            var ds = p * (dp - Sum(p * dp, -1, keepDims: true)) * scale;
            return new(
                node.InA >= 0 ? MatMul(ds, k) : null,
                node.InB >= 0 ? MatMul(Transpose(ds), q) : null,
                node.InC >= 0 ? MatMul(Transpose(p), upstream) : null);
        }

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var state = node.Args.State<AttentionState>();
            Tensor q = node.A!, k = node.B!, v = node.C!;
            var scale = T.CreateTruncating(node.Args.Scalar);
            var rank = q.Rank;
            int queries = q.Shape[rank - 2], keys = k.Shape[rank - 2], depth = q.Shape[rank - 1], width = v.Shape[rank - 1];
            int pSize = queries * keys, qSize = queries * depth, kSize = keys * depth, vSize = keys * width, ySize = queries * width;
            var batches = AttentionBatches(q.Shape);

            ReadOnlySpan<T> g = tape.Upstream<T>(index), qs = q.Raw<T>(), ks = k.Raw<T>(), vs = v.Raw<T>(), p = state.Probabilities.Raw<T>();
            var dq = node.InA >= 0 ? tape.BeginGradient<T>(node.InA) : default;
            var dk = node.InB >= 0 ? tape.BeginGradient<T>(node.InB) : default;
            var dv = node.InC >= 0 ? tape.BeginGradient<T>(node.InC) : default;
            var scratch = ArrayPool<T>.Shared.Rent(pSize);
            try
            {
                var ds = scratch.AsSpan(0, pSize);
                for (var b = 0; b < batches; b++)
                {
                    ReadOnlySpan<T> pb = p.Slice(b * pSize, pSize), gb = g.Slice(b * ySize, ySize);
                    if (node.InC >= 0)
                    {
                        Gemm.Multiply<T>(true, false, keys, width, queries, pb, gb, dv.Span.Slice(b * vSize, vSize), accumulate: false);
                    }

                    if (node.InA < 0 && node.InB < 0)
                    {
                        continue;
                    }

                    // dS = P ⊙ (dP − rowsum(P ⊙ dP))·scale, with dP = dO·vᵀ.
                    Gemm.Multiply<T>(false, true, queries, keys, width, gb, vs.Slice(b * vSize, vSize), ds, accumulate: false);
                    for (var i = 0; i < queries; i++)
                    {
                        var row = ds.Slice(i * keys, keys);
                        var probabilities = pb.Slice(i * keys, keys);
                        var dot = T.Zero;
                        for (var j = 0; j < keys; j++)
                        {
                            dot += row[j] * probabilities[j];
                        }

                        for (var j = 0; j < keys; j++)
                        {
                            row[j] = probabilities[j] * (row[j] - dot) * scale;
                        }
                    }

                    if (node.InA >= 0)
                    {
                        Gemm.Multiply<T>(false, false, queries, depth, keys, ds, ks.Slice(b * kSize, kSize), dq.Span.Slice(b * qSize, qSize), accumulate: false);
                    }

                    if (node.InB >= 0)
                    {
                        Gemm.Multiply<T>(true, false, keys, depth, queries, ds, qs.Slice(b * qSize, qSize), dk.Span.Slice(b * kSize, kSize), accumulate: false);
                    }
                }
            }
            finally
            {
                ArrayPool<T>.Shared.Return(scratch);
            }

            if (node.InA >= 0)
            {
                tape.Commit(dq);
            }

            if (node.InB >= 0)
            {
                tape.Commit(dk);
            }

            if (node.InC >= 0)
            {
                tape.Commit(dv);
            }
        }
    }

    /// <summary>The op table's rows for this file's ops, with their gradient checks (see <see cref="OpCatalog"/>).</summary>
    [OpFamily(97)]
    private static IEnumerable<OpInfo> AttentionRows()
    {
        var keyMask = BoolTensor.FromArray([true, true, false, true, true, false, true, false, true, true], 2, 1, 5);
        (string Shapes, int[] Q, int[] K, int[] V, BoolTensor? Mask, bool Causal)[] cases =
        [
            ("plain", [2, 3, 4], [2, 5, 4], [2, 5, 2], null, false),
            ("causal", [1, 4, 3], [1, 4, 3], [1, 4, 3], null, true),
            ("key mask", [2, 3, 4], [2, 5, 4], [2, 5, 2], keyMask, false),
            ("heads", [2, 2, 3, 2], [2, 2, 3, 2], [2, 2, 3, 4], null, true),
        ];
        yield return new OpInfo
        {
            Family = "Attention",
            Call = "`ScaledDotProductAttention(q, k, v, mask, isCausal, scale)`",
            Forward = "softmax(q·kᵀ·scale over the allowed keys)·v; a query with no allowed key gives 0",
            Gradient = "dv = Pᵀ·g, dS = P ⊙ (g·vᵀ − rowsum(P ⊙ g·vᵀ))·scale, dq = dS·k, dk = dSᵀ·q",
            Fused = true,
            BadInputs = [
                Bad<ShapeMismatchException>("attention depth", () => ScaledDotProductAttention(M23, M32, M32), "ScaledDotProductAttention", "(2, 3)", "(3, 2)"),
                Bad<ShapeMismatchException>("attention mask", () => ScaledDotProductAttention(M23, M23, M23, BoolTensor.FromArray([true, false, true], 3, 1)), "ScaledDotProductAttention", "mask (3, 1)", "(2, 2)"),
                Bad<DTypeMismatchException>("attention types", () => ScaledDotProductAttention(M23, F23, M23), "ScaledDotProductAttention", "float64", "float32"),
                Bad<ArgumentOutOfRangeException>("attention scale", () => ScaledDotProductAttention(M23, M23, M23, scale: 0), "ScaledDotProductAttention", "scale 0"),
            ],
            Overflows = [Overflow("scores", () => ScaledDotProductAttention(Tensor.Zeros([65537, 0]), Tensor.Zeros([65537, 0]), Tensor.Zeros([65537, 0])), "(65537, 0)")],
            Samples = [.. cases.Select(c => Gradient("ScaledDotProductAttention", v => ScaledDotProductAttention(v[0], v[1], v[2], c.Mask, c.Causal), N(260, c.Q), N(261, c.K), N(262, c.V)))],
            Compositions = [
                .. cases.Select(c => Composition(
                    "ScaledDotProductAttention",
                    v => ScaledDotProductAttention(v[0], v[1], v[2], c.Mask, c.Causal),
                    v => ComposedAttention(v[0], v[1], v[2], c.Mask, c.Causal, 1 / Math.Sqrt(c.Q[^1])),
                    N(263, c.Q),
                    N(264, c.K),
                    N(265, c.V))),
            ],
        };
    }
}
