using System.Numerics;
using System.Numerics.Tensors;

using CommunityToolkit.HighPerformance.Buffers;

namespace AutoGrad.Kernels;

/// <summary>
/// Softmax and log-softmax along one axis of a buffer viewed as (outer, n, inner), with their backward rules.
/// Every form subtracts the maximum first, so logits of ±1000 neither overflow nor lose the largest term.
/// </summary>
internal static class Softmax
{
    /// <summary>y = exp(x − max) / Σ exp(x − max) along the axis.</summary>
    public static void Forward<T>(ReadOnlySpan<T> x, Span<T> y, int outer, int n, int inner)
        where T : IFloatingPointIeee754<T>
    {
        if (inner == 1)
        {
            for (var o = 0; o < outer; o++)
            {
                var src = x.Slice(o * n, n);
                var dst = y.Slice(o * n, n);
                TensorPrimitives.Subtract(src, TensorPrimitives.Max(src), dst);
                TensorPrimitives.Exp(dst, dst);
                TensorPrimitives.Divide(dst, TensorPrimitives.Sum(dst), dst);
            }

            return;
        }

        using var scratch = SpanOwner<T>.Allocate(inner);
        var sum = scratch.Span;
        for (var o = 0; o < outer; o++)
        {
            var block = o * n * inner;
            Reduce.Max(x.Slice(block, n * inner), 1, n, inner, sum);
            for (var a = 0; a < n; a++)
            {
                var dst = y.Slice(block + (a * inner), inner);
                TensorPrimitives.Subtract(x.Slice(block + (a * inner), inner), sum, dst);
                TensorPrimitives.Exp(dst, dst);
            }

            Reduce.Sum(y.Slice(block, n * inner), 1, n, inner, sum);
            for (var a = 0; a < n; a++)
            {
                var dst = y.Slice(block + (a * inner), inner);
                TensorPrimitives.Divide(dst, sum, dst);
            }
        }
    }

    /// <summary>
    /// y = (x − max) − log Σ exp(x − max) along the axis. The shift comes first: x − (max + log Σ) would round the
    /// log-sum-exp to the precision of the largest logit (log-softmax of [1e6, 1e6] in float32 would be −0.6875).
    /// </summary>
    public static void LogForward<T>(ReadOnlySpan<T> x, Span<T> y, int outer, int n, int inner)
        where T : IFloatingPointIeee754<T>
    {
        if (inner == 1)
        {
            for (var o = 0; o < outer; o++)
            {
                var src = x.Slice(o * n, n);
                var dst = y.Slice(o * n, n);
                var max = ShiftByMax(src, dst);
                var logSum = ExpAndLogSum(dst, max);
                TensorPrimitives.Subtract(src, max, dst);
                TensorPrimitives.Subtract(dst, logSum, dst);
            }

            return;
        }

        using var scratch = SpanOwner<T>.Allocate(2 * inner);
        var max2 = scratch.Span[..inner];
        var sum = scratch.Span[inner..];
        for (var o = 0; o < outer; o++)
        {
            var block = o * n * inner;
            Reduce.Max(x.Slice(block, n * inner), 1, n, inner, max2);
            sum.Clear();
            for (var a = 0; a < n; a++)
            {
                var dst = y.Slice(block + (a * inner), inner);
                TensorPrimitives.Subtract(x.Slice(block + (a * inner), inner), max2, dst);
                TensorPrimitives.Exp(dst, dst);
                TensorPrimitives.Add(sum, dst, sum);
            }

            TensorPrimitives.Log(sum, sum);
            for (var a = 0; a < n; a++)
            {
                var dst = y.Slice(block + (a * inner), inner);
                TensorPrimitives.Subtract(x.Slice(block + (a * inner), inner), max2, dst);
                TensorPrimitives.Subtract(dst, sum, dst);
            }
        }
    }

    /// <summary>Writes x − max(x) into <paramref name="shifted"/> and returns the maximum (NaN propagates).</summary>
    public static T ShiftByMax<T>(ReadOnlySpan<T> x, Span<T> shifted)
        where T : IFloatingPointIeee754<T>
    {
        var max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, shifted);
        return max;
    }

    /// <summary>
    /// Turns x − max (from <see cref="ShiftByMax{T}"/>) into exp(x − max) in place and returns log Σ exp(x − max), so
    /// that log softmax(x) = (x − max) − the result and softmax(x) = the buffer divided by its sum. Kept apart from
    /// the max so that callers never form max + log Σ, whose rounding at large logits would swamp the answer.
    /// </summary>
    public static T ExpAndLogSum<T>(Span<T> shifted, T max)
        where T : IFloatingPointIeee754<T>
    {
        if (T.IsInfinity(max))
        {
            // All −∞, or a +∞ present: x − max is ∞ − ∞ = NaN at the maximum. Exponentials of 0 (all −∞) or NaN (+∞)
            // keep the row's answer NaN there, as PyTorch's is, without a log of an empty sum.
            shifted.Fill(T.IsNegativeInfinity(max) ? T.Zero : T.NaN);
            return T.Zero;
        }

        TensorPrimitives.Exp(shifted, shifted);
        return T.Log(TensorPrimitives.Sum<T>(shifted));
    }

    /// <summary>dx = y ⊙ (dy − Σₐ dy ⊙ y), the vector-Jacobian product of softmax.</summary>
    public static void Backward<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, int outer, int n, int inner)
        where T : IFloatingPointIeee754<T>
    {
        if (inner == 1)
        {
            for (var o = 0; o < outer; o++)
            {
                var yr = y.Slice(o * n, n);
                var dyr = dy.Slice(o * n, n);
                var dxr = dx.Slice(o * n, n);
                var dot = TensorPrimitives.Dot(dyr, yr);
                TensorPrimitives.Subtract(dyr, dot, dxr);
                TensorPrimitives.Multiply(dxr, yr, dxr);
            }

            return;
        }

        using var scratch = SpanOwner<T>.Allocate(inner);
        var dot2 = scratch.Span;
        for (var o = 0; o < outer; o++)
        {
            var block = o * n * inner;
            dot2.Clear();
            for (var a = 0; a < n; a++)
            {
                var at = block + (a * inner);
                TensorPrimitives.MultiplyAdd(dy.Slice(at, inner), y.Slice(at, inner), dot2, dot2);
            }

            for (var a = 0; a < n; a++)
            {
                var at = block + (a * inner);
                var dxr = dx.Slice(at, inner);
                TensorPrimitives.Subtract(dy.Slice(at, inner), dot2, dxr);
                TensorPrimitives.Multiply(dxr, y.Slice(at, inner), dxr);
            }
        }
    }

    /// <summary>dx = dy − exp(y) ⊙ Σₐ dy, the vector-Jacobian product of log-softmax (y is its output).</summary>
    public static void LogBackward<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, int outer, int n, int inner)
        where T : IFloatingPointIeee754<T>
    {
        if (inner == 1)
        {
            for (var o = 0; o < outer; o++)
            {
                var dxr = dx.Slice(o * n, n);
                var dyr = dy.Slice(o * n, n);
                TensorPrimitives.Exp(y.Slice(o * n, n), dxr);
                TensorPrimitives.Multiply(dxr, -TensorPrimitives.Sum(dyr), dxr);
                TensorPrimitives.Add(dxr, dyr, dxr);
            }

            return;
        }

        using var scratch = SpanOwner<T>.Allocate(inner);
        var sum = scratch.Span;
        for (var o = 0; o < outer; o++)
        {
            var block = o * n * inner;
            Reduce.Sum(dy.Slice(block, n * inner), 1, n, inner, sum);
            for (var a = 0; a < n; a++)
            {
                var at = block + (a * inner);
                var dxr = dx.Slice(at, inner);
                TensorPrimitives.Exp(y.Slice(at, inner), dxr);
                TensorPrimitives.Multiply(dxr, sum, dxr);
                TensorPrimitives.Subtract(dy.Slice(at, inner), dxr, dxr);
            }
        }
    }

    /// <summary>
    /// y = log Σₐ exp(x) along the axis, as max + log Σ exp(x − max): exact for logits of any size. An all −∞ slice
    /// gives −∞ and a +∞ gives +∞ (PyTorch's logsumexp); NaN propagates.
    /// </summary>
    public static void LogSumExp<T>(ReadOnlySpan<T> x, Span<T> y, int outer, int n, int inner)
        where T : IFloatingPointIeee754<T>
    {
        using var scratch = SpanOwner<T>.Allocate(Math.Max(n, inner));
        if (inner == 1)
        {
            for (var o = 0; o < outer; o++)
            {
                var shifted = scratch.Span[..n];
                var max = ShiftByMax(x.Slice(o * n, n), shifted);
                y[o] = T.IsInfinity(max) ? max : max + ExpAndLogSum(shifted, max);
            }

            return;
        }

        var sum = scratch.Span[..inner];
        for (var o = 0; o < outer; o++)
        {
            var block = x.Slice(o * n * inner, n * inner);
            var max = y.Slice(o * inner, inner);
            Reduce.Max(block, 1, n, inner, max);
            sum.Clear();
            for (var i = 0; i < inner; i++)
            {
                if (T.IsInfinity(max[i]))
                {
                    continue;
                }

                for (var a = 0; a < n; a++)
                {
                    sum[i] += T.Exp(block[(a * inner) + i] - max[i]);
                }

                max[i] += T.Log(sum[i]);
            }
        }
    }
}
