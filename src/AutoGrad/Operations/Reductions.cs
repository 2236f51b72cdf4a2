using System.Buffers;
using System.Numerics;

using AutoGrad.Autodiff;
using AutoGrad.Kernels;
using AutoGrad.Tensors;

using static AutoGrad.Operations.OpSamples;

using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace AutoGrad.Operations;

/// <summary>Sum, mean, product, maximum, minimum, log-sum-exp, variance and standard deviation over one axis or over all elements, optionally keeping the reduced axis.</summary>
public static partial class Ops
{
    /// <summary>Marks a reduction over every element in <see cref="NodeArgs.Axis"/>.</summary>
    private const int AllAxes = -1;

    private static readonly Op s_sum = new Op<SumRule>("Sum", readsInputs: false);
    private static readonly Op s_mean = new Op<MeanRule>("Mean", readsInputs: false);
    private static readonly Op s_max = new Op<MaxRule>("Max");

    // The maximum's rule serves the minimum too: both send g to the first element equal to the output.
    private static readonly Op s_min = new Op<MaxRule>("Min");
    private static readonly Op s_logSumExp = new Op<LogSumExpRule>("LogSumExp");
    private static readonly Op s_var = new Op<VarRule>("Var");
    private static readonly Op s_prod = new Op<ProdRule>("Prod");
    private static readonly Op s_prodOthers = new Op<ProdOthersRule>("ProdOthers");

    /// <summary>The sum over <paramref name="axis"/>, or over all elements when it is null. ∂/∂x = g broadcast back.</summary>
    /// <param name="x">The tensor.</param>
    /// <param name="axis">The axis to reduce (negative counts from the end), or null for all.</param>
    /// <param name="keepDims">Keep the reduced axis (all axes, for a full reduction) with size 1.</param>
    /// <returns>The sums.</returns>
    public static Tensor Sum(Tensor x, int? axis = null, bool keepDims = false) => Reduction(s_sum, x, axis, keepDims);

    /// <summary>The mean over <paramref name="axis"/>, or over all elements when it is null. ∂/∂x = g / n broadcast back.</summary>
    /// <param name="x">The tensor.</param>
    /// <param name="axis">The axis to reduce, or null for all.</param>
    /// <param name="keepDims">Keep the reduced axis with size 1.</param>
    /// <returns>The means.</returns>
    /// <exception cref="ArgumentException">The reduced axis is empty (the mean of nothing is undefined).</exception>
    public static Tensor Mean(Tensor x, int? axis = null, bool keepDims = false) => Reduction(s_mean, x, axis, keepDims);

    /// <summary>
    /// The product over <paramref name="axis"/>, or over all elements when it is null (1 for an empty axis), multiplied
    /// in float64. ∂/∂x_i = g ⊙ Π_{j≠i} x_j, from prefix and suffix products rather than y / x_i, so zeros in x give
    /// the exact gradient (PyTorch's result) and the rule differentiates again any number of times.
    /// </summary>
    /// <param name="x">The tensor.</param>
    /// <param name="axis">The axis to reduce, or null for all.</param>
    /// <param name="keepDims">Keep the reduced axis with size 1.</param>
    /// <returns>The products.</returns>
    public static Tensor Prod(Tensor x, int? axis = null, bool keepDims = false) => Reduction(s_prod, x, axis, keepDims);

    /// <summary>
    /// The maximum over <paramref name="axis"/>, or over all elements when it is null. The gradient goes to the first
    /// position holding the maximum (as <c>torch.max(dim)</c>); other positions get 0.
    /// </summary>
    /// <param name="x">The tensor.</param>
    /// <param name="axis">The axis to reduce, or null for all.</param>
    /// <param name="keepDims">Keep the reduced axis with size 1.</param>
    /// <returns>The maxima.</returns>
    /// <exception cref="ArgumentException">The reduced axis is empty.</exception>
    public static Tensor Max(Tensor x, int? axis = null, bool keepDims = false) => Reduction(s_max, x, axis, keepDims);

    /// <summary>
    /// The minimum over <paramref name="axis"/>, or over all elements when it is null; NaN propagates. The gradient goes
    /// to the first position holding the minimum (or the first NaN); other positions get 0.
    /// </summary>
    /// <param name="x">The tensor.</param>
    /// <param name="axis">The axis to reduce, or null for all.</param>
    /// <param name="keepDims">Keep the reduced axis with size 1.</param>
    /// <returns>The minima.</returns>
    /// <exception cref="ArgumentException">The reduced axis is empty.</exception>
    public static Tensor Min(Tensor x, int? axis = null, bool keepDims = false) => Reduction(s_min, x, axis, keepDims);

    /// <summary>
    /// log Σ exp(x) over <paramref name="axis"/>, or over all elements when it is null, as max + log Σ exp(x − max): finite
    /// for logits of ±1000. ∂/∂x = g ⊙ softmax(x) along the axis.
    /// </summary>
    /// <param name="x">The tensor.</param>
    /// <param name="axis">The axis to reduce, or null for all.</param>
    /// <param name="keepDims">Keep the reduced axis with size 1.</param>
    /// <returns>The log-sum-exps.</returns>
    /// <exception cref="ArgumentException">The reduced axis is empty.</exception>
    public static Tensor LogSumExp(Tensor x, int? axis = null, bool keepDims = false) => Reduction(s_logSumExp, x, axis, keepDims);

    /// <summary>
    /// The variance over <paramref name="axis"/>, or over all elements when it is null: Σ (x − mean)² / (n − 1), or / n
    /// when <paramref name="unbiased"/> is false (PyTorch's <c>var</c>, correction 1 or 0), by two passes in float64.
    /// ∂/∂x = g ⊙ 2(x − mean)/(n − correction).
    /// </summary>
    /// <param name="x">The tensor.</param>
    /// <param name="axis">The axis to reduce, or null for all.</param>
    /// <param name="keepDims">Keep the reduced axis with size 1.</param>
    /// <param name="unbiased">Divide by n − 1 (Bessel's correction) instead of n.</param>
    /// <returns>The variances (NaN for a single unbiased element, as in PyTorch).</returns>
    /// <exception cref="ArgumentException">The reduced axis is empty.</exception>
    public static Tensor Var(Tensor x, int? axis = null, bool keepDims = false, bool unbiased = true) =>
        Reduction(s_var, x, axis, keepDims, correction: unbiased ? 1 : 0);

    /// <summary>The standard deviation, √<see cref="Var"/> (recorded as the two ops). ∂/∂x = g ⊙ (x − mean)/((n − correction)·y).</summary>
    /// <param name="x">The tensor.</param>
    /// <param name="axis">The axis to reduce, or null for all.</param>
    /// <param name="keepDims">Keep the reduced axis with size 1.</param>
    /// <param name="unbiased">Divide by n − 1 instead of n.</param>
    /// <returns>The standard deviations.</returns>
    /// <exception cref="ArgumentException">The reduced axis is empty.</exception>
    public static Tensor Std(Tensor x, int? axis = null, bool keepDims = false, bool unbiased = true)
    {
        Check.NotNull(x, "Std", nameof(x));
        return Sqrt(Var(x, axis, keepDims, unbiased));
    }

    private static Tensor Reduction(Op op, Tensor x, int? axis, bool keepDims) => Reduction(op, x, axis, keepDims, correction: 0);

    private static Tensor Reduction(Op op, Tensor x, int? axis, bool keepDims, int correction)
    {
        Check.NotNull(x, op.Name, nameof(x));
        var a = axis is int given ? x.Shape.NormalizeAxis(given, op.Name) : AllAxes;
        var (outer, n, inner) = ReductionView(x.Shape, a);
        if (n == 0 && op != s_sum && op != s_prod)
        {
            throw new ArgumentException($"{op.Name}: cannot reduce an empty axis of shape {x.Shape}.", nameof(x));
        }

        var y = Tensor.Uninitialized(x.DType, ReducedShape(x.Shape, a, keepDims));
        if (op == s_var)
        {
            // Var's backward needs the correction, not keep-dims (the upstream's shape tells that), so it takes Scalar.
            ElementType.Dispatch(x.DType, new VarianceForward(x, outer, n, inner, correction, y));

            Tape.Record(op, y, x, null, null, new NodeArgs { Axis = a, Scalar = correction });
            return y;
        }

        ElementType.Dispatch(x.DType, new ReduceForward(op, x, outer, n, inner, y));

        Tape.Record(op, y, x, null, null, new NodeArgs { Axis = a });
        return y;
    }

    /// <summary>Σ (x − mean)² / (n − correction) per slice, both passes summed in float64.</summary>
    private readonly struct VarianceForward(Tensor xTensor, int outer, int n, int inner, int correction, Tensor yTensor) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            ReadOnlySpan<T> x = xTensor.Raw<T>();
            Span<T> y = yTensor.Raw<T>();
            for (var o = 0; o < outer; o++)
            {
                for (var i = 0; i < inner; i++)
                {
                    var mean = SliceMean(x, o, n, inner, i);
                    var squares = 0.0;
                    for (var a = 0; a < n; a++)
                    {
                        var d = double.CreateTruncating(x[(((o * n) + a) * inner) + i]) - mean;
                        squares += d * d;
                    }

                    y[(o * inner) + i] = T.CreateTruncating(squares / (n - correction));
                }
            }
        }
    }

    private static double SliceMean<T>(ReadOnlySpan<T> x, int o, int n, int inner, int i)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var sum = 0.0;
        for (var a = 0; a < n; a++)
        {
            sum += double.CreateTruncating(x[(((o * n) + a) * inner) + i]);
        }

        return sum / n;
    }

    private readonly struct ReduceForward(Op op, Tensor xTensor, int outer, int n, int inner, Tensor yTensor) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            ReadOnlySpan<T> x = xTensor.Raw<T>();
            Span<T> y = yTensor.Raw<T>();
            if (op == s_logSumExp)
            {
                Kernels.Softmax.LogSumExp(x, y, outer, n, inner);
                return;
            }

            if (op == s_max || op == s_min)
            {
                Reduce.Extremum(x, outer, n, inner, y, minimum: op == s_min);
                return;
            }

            if (op == s_prod)
            {
                ProdForward(x, outer, n, inner, y);
                return;
            }

            Reduce.Sum(x, outer, n, inner, y);
            if (op == s_mean)
            {
                TensorPrimitives.Divide(y, T.CreateTruncating(n), y);
            }
        }
    }

    private static void ProdForward<T>(ReadOnlySpan<T> x, int outer, int n, int inner, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (var o = 0; o < outer; o++)
        {
            for (var i = 0; i < inner; i++)
            {
                var product = 1.0;
                for (var a = 0; a < n; a++)
                {
                    product *= double.CreateTruncating(x[(((o * n) + a) * inner) + i]);
                }

                y[(o * inner) + i] = T.CreateTruncating(product);
            }
        }
    }

    /// <summary>
    /// Π_{j≠i} x_j along the axis for every i, shaped like x: Prod's derivative, as an op of its own so that it can be
    /// differentiated again. No division, so zeros are exact.
    /// </summary>
    private static Tensor ProdOthers(Tensor x, int axis)
    {
        var y = Tensor.Uninitialized(x.DType, x.Shape);
        var (outer, n, inner) = ReductionView(x.Shape, axis);
        ElementType.Dispatch(x.DType, new ProdOthersForward(x, y, outer, n, inner));
        Tape.Record(s_prodOthers, y, x, null, null, new NodeArgs { Axis = axis });
        return y;
    }

    /// <summary>
    /// For every slice along the axis: <paramref name="destination"/>[i] = scale · Π_{j&lt;i} x_j · Π_{j&gt;i} x_j, with the
    /// suffix products in <paramref name="suffix"/> (n + 1 long) and the prefix carried along.
    /// </summary>
    private static void ExclusiveProducts<T>(ReadOnlySpan<T> x, int outer, int n, int inner, ReadOnlySpan<T> scale, Span<T> destination, Span<T> suffix)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (var o = 0; o < outer; o++)
        {
            for (var i = 0; i < inner; i++)
            {
                var at = (o * n * inner) + i;
                suffix[n] = T.One;
                for (var a = n - 1; a >= 0; a--)
                {
                    suffix[a] = suffix[a + 1] * x[at + (a * inner)];
                }

                var prefix = scale.IsEmpty ? T.One : scale[(o * inner) + i];
                for (var a = 0; a < n; a++)
                {
                    destination[at + (a * inner)] = prefix * suffix[a + 1];
                    prefix *= x[at + (a * inner)];
                }
            }
        }
    }

    /// <summary>The tensor as (outer, n, inner) around the reduced axis; a full reduction is (1, length, 1).</summary>
    private static (int Outer, int N, int Inner) ReductionView(Shape shape, int axis) => axis == AllAxes
        ? (1, shape.ElementCount, 1)
        : (shape.Outer(axis), shape[axis], shape.Inner(axis));

    private static Shape ReducedShape(Shape shape, int axis, bool keepDims)
    {
        var dims = shape.Dims;
        if (axis == AllAxes && !keepDims)
        {
            return Shape.Scalar;
        }

        Span<int> result = stackalloc int[dims.Length];
        if (axis == AllAxes)
        {
            result.Fill(1);
            return Shape.FromDims(result, "Reduction");
        }

        dims.CopyTo(result);
        if (keepDims)
        {
            result[axis] = 1;
            return Shape.FromDims(result, "Reduction");
        }

        dims[(axis + 1)..].CopyTo(result[axis..]);
        return Shape.FromDims(result[..^1], "Reduction");
    }

    /// <summary>Writes g (of the reduced shape) repeated along the reduced axis, scaled by <paramref name="scale"/>.</summary>
    private static void ExpandReduced<T>(Tape tape, int index, in Node node, T scale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (outer, n, inner) = ReductionView(node.A!.Shape, node.Args.Axis);
        var target = tape.BeginGradient<T>(node.InA);
        var upstream = tape.Upstream<T>(index);
        if (scale == T.One)
        {
            Broadcast.Expand(upstream, [outer, 1, inner], target.Span, [outer, n, inner]);
        }
        else
        {
            // Scale the reduced gradient, then expand it: one pass over the input's size instead of two (the same
            // products, so the same bits).
            var scaled = ArrayPool<T>.Shared.Rent(upstream.Length);
            try
            {
                TensorPrimitives.Multiply(upstream, scale, scaled.AsSpan(0, upstream.Length));
                Broadcast.Expand(scaled.AsSpan(0, upstream.Length), [outer, 1, inner], target.Span, [outer, n, inner]);
            }
            finally
            {
                ArrayPool<T>.Shared.Return(scaled);
            }
        }

        tape.Commit(target);
    }

    private readonly struct SumRule : IBackwardRule
    {
        // Linear: the tangent summed the same way.
        public static Tensor Jvp(in Node node, InputTangents tangents) => tangents.A is { } t ? SumReduced(t, node) : Tensor.ZerosLike(node.Output);

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(ExpandReduced(upstream, node));

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T> => ExpandReduced(tape, index, node, T.One);
    }

    private readonly struct MeanRule : IBackwardRule
    {
        public static Tensor Jvp(in Node node, InputTangents tangents) =>
            tangents.A is { } t ? SumReduced(t, node) / ReductionView(node.A!.Shape, node.Args.Axis).N : Tensor.ZerosLike(node.Output);

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(ExpandReduced(upstream, node) / ReductionView(node.A!.Shape, node.Args.Axis).N);

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var n = ReductionView(node.A!.Shape, node.Args.Axis).N;
            ExpandReduced(tape, index, node, T.One / T.CreateTruncating(n));
        }
    }

    private readonly struct LogSumExpRule : IBackwardRule
    {
        // ẏ = Σ softmax(x) ⊙ ẋ along the axis.
        public static Tensor Jvp(in Node node, InputTangents tangents) => tangents.A is { } t
            ? SumReduced(Exp(node.A! - ExpandReduced(node.Output, node)) * t, node)
            : Tensor.ZerosLike(node.Output);

        // dx = g ⊙ exp(x − y), y broadcast back: the softmax along the axis.
        public static InputGradients Differentiate(in Node node, Tensor upstream) =>
            new(ExpandReduced(upstream, node) * Exp(node.A! - ExpandReduced(node.Output, node)));

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var (outer, n, inner) = ReductionView(node.A!.Shape, node.Args.Axis);
            var x = node.A.Raw<T>();
            var y = node.Output.Raw<T>();
            var g = tape.Upstream<T>(index);
            var target = tape.BeginGradient<T>(node.InA);
            for (var o = 0; o < outer; o++)
            {
                for (var a = 0; a < n; a++)
                {
                    var at = ((o * n) + a) * inner;
                    for (var i = 0; i < inner; i++)
                    {
                        target.Span[at + i] = g[(o * inner) + i] * T.Exp(x[at + i] - y[(o * inner) + i]);
                    }
                }
            }

            tape.Commit(target);
        }
    }

    private readonly struct VarRule : IBackwardRule
    {
        // ẏ = Σ 2(x − mean) ⊙ ẋ / (n − correction).
        public static Tensor Jvp(in Node node, InputTangents tangents)
        {
            if (tangents.A is not { } t)
            {
                return Tensor.ZerosLike(node.Output);
            }

            var x = node.A!;
            var n = ReductionView(x.Shape, node.Args.Axis).N;
            var mean = node.Args.Axis == AllAxes ? Mean(x, null, keepDims: true) : Mean(x, node.Args.Axis, keepDims: true);
            return SumReduced((x - mean) * t, node) * (2 / (n - node.Args.Scalar));
        }

        // dx = g ⊙ 2(x − mean)/(n − correction), with the mean written in ops so createGraph can go on.
        public static InputGradients Differentiate(in Node node, Tensor upstream)
        {
            var x = node.A!;
            var n = ReductionView(x.Shape, node.Args.Axis).N;
            var mean = node.Args.Axis == AllAxes ? Mean(x, null, keepDims: true) : Mean(x, node.Args.Axis, keepDims: true);
            return new(ExpandReduced(upstream, node) * (x - mean) * (2 / (n - node.Args.Scalar)));
        }

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var (outer, n, inner) = ReductionView(node.A!.Shape, node.Args.Axis);
            var x = node.A.Raw<T>();
            var g = tape.Upstream<T>(index);
            var scale = 2 / (n - node.Args.Scalar);
            var target = tape.BeginGradient<T>(node.InA);
            for (var o = 0; o < outer; o++)
            {
                for (var i = 0; i < inner; i++)
                {
                    var mean = SliceMean(x, o, n, inner, i);
                    var gs = double.CreateTruncating(g[(o * inner) + i]) * scale;
                    for (var a = 0; a < n; a++)
                    {
                        var at = (((o * n) + a) * inner) + i;
                        target.Span[at] = T.CreateTruncating(gs * (double.CreateTruncating(x[at]) - mean));
                    }
                }
            }

            tape.Commit(target);
        }
    }

    private readonly struct ProdOthersForward(Tensor x, Tensor y, int outer, int n, int inner) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var suffix = System.Buffers.ArrayPool<T>.Shared.Rent(n + 1);
            ExclusiveProducts<T>(x.Raw<T>(), outer, n, inner, default, y.Raw<T>(), suffix);
            System.Buffers.ArrayPool<T>.Shared.Return(suffix);
        }
    }

    /// <summary>Prod's rule: g times the product of the others, from prefix and suffix products.</summary>
    private readonly struct ProdRule : IBackwardRule
    {
        // ẏ = Σ ẋ ⊙ Π of the others.
        public static Tensor Jvp(in Node node, InputTangents tangents) =>
            tangents.A is { } t ? SumReduced(t * ProdOthers(node.A!, node.Args.Axis), node) : Tensor.ZerosLike(node.Output);

        public static InputGradients Differentiate(in Node node, Tensor upstream) =>
            new(ExpandReduced(upstream, node) * ProdOthers(node.A!, node.Args.Axis));

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var (outer, n, inner) = ReductionView(node.A!.Shape, node.Args.Axis);
            var target = tape.BeginGradient<T>(node.InA);
            ExclusiveProducts<T>(node.A.Raw<T>(), outer, n, inner, tape.Upstream<T>(index), target.Span, tape.Scratch<T>(n + 1));
            tape.Commit(target);
        }
    }

    /// <summary>
    /// ProdOthers' rule: v_m = Σ_{k≠m} u_k Π_{j∉{k,m}} x_j. The terms with k &lt; m and k &gt; m each follow a running
    /// recurrence, so a slice costs O(n) and no division (zeros stay exact).
    /// </summary>
    private readonly struct ProdOthersRule : IBackwardRule
    {
        // ẏₖ = Σ_{m≠k} ẋₘ Π_{j∉{k,m}} xⱼ: the Jacobian is symmetric, so its product with the tangent is the gradient
        // rule's with the tangent as upstream.
        public static Tensor Jvp(in Node node, InputTangents tangents) =>
            tangents.A is { } t ? Differentiate(node, t).A! : Tensor.ZerosLike(node.Output);

        // In ops, for createGraph: along a new axis m, X'[m, k] = x_k with X'[m, m] = 1, so ProdOthers(X') along k is
        // Π_{j∉{k,m}} x_j; masking u's diagonal and summing over k gives v. The n × n intermediate appears only when a
        // third derivative is asked for.
        public static InputGradients Differentiate(in Node node, Tensor upstream)
        {
            var x = node.A!;
            if (node.Args.Axis == AllAxes)
            {
                var flat = ProdOthersVjp(Reshape(x, x.Length), Reshape(upstream, x.Length), 0);
                return new(Reshape(flat, x.Shape.Dims));
            }

            return new(ProdOthersVjp(x, upstream, node.Args.Axis));
        }

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var (outer, n, inner) = ReductionView(node.A!.Shape, node.Args.Axis);
            ReadOnlySpan<T> x = node.A.Raw<T>(), u = tape.Upstream<T>(index);
            var target = tape.BeginGradient<T>(node.InA);
            var v = target.Span;
            Span<T> prefix = tape.Scratch<T>(n + 1), suffix = tape.Scratch<T>(n + 1);
            for (var o = 0; o < outer; o++)
            {
                for (var i = 0; i < inner; i++)
                {
                    var at = (o * n * inner) + i;
                    prefix[0] = T.One;
                    for (var a = 0; a < n; a++)
                    {
                        prefix[a + 1] = prefix[a] * x[at + (a * inner)];
                    }

                    suffix[n] = T.One;
                    for (var a = n - 1; a >= 0; a--)
                    {
                        suffix[a] = suffix[a + 1] * x[at + (a * inner)];
                    }

                    // Terms with k < m: A_{m+1} = A_m x_m + u_m prefix_m; those with k > m: B_{m−1} = B_m x_m + u_m suffix_{m+1}.
                    var before = T.Zero;
                    for (var m = 0; m < n; m++)
                    {
                        var p = at + (m * inner);
                        v[p] = suffix[m + 1] * before;
                        before = (before * x[p]) + (u[p] * prefix[m]);
                    }

                    var after = T.Zero;
                    for (var m = n - 1; m >= 0; m--)
                    {
                        var p = at + (m * inner);
                        v[p] += prefix[m] * after;
                        after = (after * x[p]) + (u[p] * suffix[m + 1]);
                    }
                }
            }

            tape.Commit(target);
        }

        private static Tensor ProdOthersVjp(Tensor x, Tensor u, int axis)
        {
            var dims = x.Shape.Dims.ToArray();
            var n = dims[axis];
            int[] unsqueezed = [.. dims[..axis], 1, .. dims[axis..]];
            int[] square = [.. dims[..axis], n, .. dims[axis..]];
            var eye = new bool[n * n];
            for (var m = 0; m < n; m++)
            {
                eye[(m * n) + m] = true;
            }

            int[] eyeDims = [n, n, .. Enumerable.Repeat(1, dims.Length - axis - 1)];
            var diagonal = BoolTensor.FromArray(eye, eyeDims);
            var others = Where(diagonal, 1.0, BroadcastTo(Reshape(x, unsqueezed), square));
            var weights = Where(diagonal, 0.0, BroadcastTo(Reshape(u, unsqueezed), square));
            return Sum(weights * ProdOthers(others, axis + 1), axis + 1);
        }
    }

    private readonly struct MaxRule : IBackwardRule
    {
        // The tangent at the maximum (shared between ties as the gradient is).
        public static Tensor Jvp(in Node node, InputTangents tangents) =>
            tangents.A is { } t ? SumReduced(t * MaxMask(node), node) : Tensor.ZerosLike(node.Output);

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(ExpandReduced(upstream, node) * MaxMask(node));

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var (outer, n, inner) = ReductionView(node.A!.Shape, node.Args.Axis);
            var target = tape.BeginGradient<T>(node.InA);
            Reduce.MaxBackward<T>(node.A.Raw<T>(), node.Output.Raw<T>(), tape.Upstream<T>(index), outer, n, inner, target.Span);
            tape.Commit(target);
        }
    }

    /// <summary>The op table's rows for this file's ops, with their gradient checks (see <see cref="OpCatalog"/>).</summary>
    [OpFamily(40)]
    private static IEnumerable<OpInfo> ReductionsRows()
    {
        (int[] Shape, int? Axis, bool Keep)[] cases = [([5], null, false), ([3, 4], 1, true), ([3, 4], null, true), ([2, 3, 4], 1, false)];
        yield return new OpInfo
        {
            Family = "Reductions",
            Call = "`Sum(x, axis?, keepDims)`",
            Forward = "Σ over an axis or all",
            Gradient = "g broadcast back",
            BadInputs = [Bad<ArgumentOutOfRangeException>("sum axis", () => Sum(M23, 5), "Sum", "axis 5", "(2, 3)")],
            CannotGrowBecause = "a reduction",
            Samples = [.. cases.Select(c => Gradient("Sum", v => Sum(v[0], c.Axis, c.Keep), N(22, c.Shape)))],
        };
        yield return new OpInfo
        {
            Family = "Reductions",
            Call = "`Mean(x, axis?, keepDims)`",
            Forward = "Σ / n",
            Gradient = "g / n broadcast back",
            BadInputs = [
                Bad<ArgumentOutOfRangeException>("mean axis", () => Mean(M23, -3), "Mean", "axis -3", "(2, 3)"),
                Bad<ArgumentException>("mean empty", () => Mean(Empty), "Mean", "empty", "(0, 3)"),
            ],
            CannotGrowBecause = "a reduction",
            Samples = [.. cases.Select(c => Gradient("Mean", v => Mean(v[0], c.Axis, c.Keep), N(23, c.Shape)))],
        };
        // Zeros at fixed places: one in some slices, two in others, where y / x would divide by zero.
        Func<Tensor> WithZeros(int seed, int[] shape, params int[] zeros) => () =>
        {
            var t = N(seed, shape)();
            foreach (var at in zeros)
            {
                t.AsSpan<double>()[at] = 0;
            }

            return t;
        };
        yield return new OpInfo
        {
            Family = "Reductions",
            Call = "`Prod(x, axis?, keepDims)`",
            Forward = "Π over an axis or all (1 when empty)",
            Gradient = "g ⊙ Π of the others, from prefix and suffix products (exact at zeros)",
            BadInputs = [
                Bad<ArgumentOutOfRangeException>("prod axis", () => Prod(M23, -3), "Prod", "axis -3", "(2, 3)"),
                Bad<ArgumentNullException>("prod null", () => Prod(null!), "Prod", "'x'"),
            ],
            CannotGrowBecause = "a reduction",
            Samples =
            [
                .. cases.Select(c => Gradient("Prod", v => Prod(v[0], c.Axis, c.Keep), N(79, c.Shape))),
                Gradient("Prod", v => Prod(v[0], 1), WithZeros(80, [3, 4], 1, 4, 6)),
                Gradient("Prod", v => Prod(v[0], 0, keepDims: true), WithZeros(85, [4, 3], 0, 3, 5)),
                Gradient("Prod", v => Prod(v[0]), WithZeros(86, [5], 2)),
            ],
        };
        yield return new OpInfo
        {
            Family = "Reductions",
            Call = "`Max(x, axis?, keepDims)`",
            Forward = "max over an axis or all",
            Gradient = "g to the first maximum (or the first NaN), 0 elsewhere",
            BadInputs = [
                Bad<ArgumentOutOfRangeException>("max axis", () => Max(V3, 1), "Max", "axis 1", "(3,)"),
                Bad<ArgumentException>("max empty", () => Max(Empty, 0), "Max", "empty", "(0, 3)"),
            ],
            CannotGrowBecause = "a reduction",
            Samples = [.. cases.Select(c => Gradient("Max", v => Max(v[0], c.Axis, c.Keep), N(24, c.Shape)))],
        };
        yield return new OpInfo
        {
            Family = "Reductions",
            Call = "`Min(x, axis?, keepDims)`",
            Forward = "min over an axis or all",
            Gradient = "g to the first minimum (or the first NaN), 0 elsewhere",
            BadInputs = [
                Bad<ArgumentOutOfRangeException>("min axis", () => Min(V3, 1), "Min", "axis 1", "(3,)"),
                Bad<ArgumentException>("min empty", () => Min(Empty, 0), "Min", "empty", "(0, 3)"),
            ],
            CannotGrowBecause = "a reduction",
            Samples = [.. cases.Select(c => Gradient("Min", v => Min(v[0], c.Axis, c.Keep), N(74, c.Shape)))],
        };
        yield return new OpInfo
        {
            Family = "Reductions",
            Call = "`LogSumExp(x, axis?, keepDims)`",
            Forward = "max + log Σ e^(x − max) over an axis or all",
            Gradient = "g ⊙ softmax(x) along the axis",
            BadInputs = [
                Bad<ArgumentOutOfRangeException>("logsumexp axis", () => LogSumExp(M23, 2), "LogSumExp", "axis 2", "(2, 3)"),
                Bad<ArgumentException>("logsumexp empty", () => LogSumExp(Empty, 0), "LogSumExp", "empty", "(0, 3)"),
            ],
            CannotGrowBecause = "a reduction",
            Samples = [.. cases.Select(c => Gradient("LogSumExp", v => LogSumExp(v[0], c.Axis, c.Keep), N(75, c.Shape)))],
        };
        yield return new OpInfo
        {
            Family = "Reductions",
            Call = "`Var(x, axis?, keepDims, unbiased)`, `Std(x, axis?, keepDims, unbiased)`",
            Forward = "Σ (x − mean)² / (n − 1), or / n when not unbiased; Std = √Var",
            Gradient = "g ⊙ 2(x − mean)/(n − 1) (or / n); Std's through √",
            BadInputs = [
                Bad<ArgumentOutOfRangeException>("var axis", () => Var(M23, 2), "Var", "axis 2", "(2, 3)"),
                Bad<ArgumentException>("var empty", () => Var(Empty, 0), "Var", "empty", "(0, 3)"),
                Bad<ArgumentNullException>("std null", () => Std(null!), "Std", "'x'"),
            ],
            CannotGrowBecause = "a reduction",
            Samples =
            [
                .. cases.Select(c => Gradient("Var", v => Var(v[0], c.Axis, c.Keep), N(76, c.Shape))),
                .. cases.Select(c => Gradient("Var", v => Var(v[0], c.Axis, c.Keep, unbiased: false), N(77, c.Shape))),
                .. cases.Select(c => Gradient("Std", v => Std(v[0], c.Axis, c.Keep), N(78, c.Shape))),
            ],
        };
    }
}
