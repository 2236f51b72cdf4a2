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

    /// <summary>y = x − max − log Σ exp(x − max) along the axis.</summary>
    public static void LogForward<T>(ReadOnlySpan<T> x, Span<T> y, int outer, int n, int inner)
        where T : IFloatingPointIeee754<T>
    {
        if (inner == 1)
        {
            for (var o = 0; o < outer; o++)
            {
                var src = x.Slice(o * n, n);
                var dst = y.Slice(o * n, n);
                TensorPrimitives.Subtract(src, LogSumExp(src, dst), dst);
            }

            return;
        }

        using var scratch = SpanOwner<T>.Allocate(2 * inner);
        var max = scratch.Span[..inner];
        var sum = scratch.Span[inner..];
        for (var o = 0; o < outer; o++)
        {
            var block = o * n * inner;
            Reduce.Max(x.Slice(block, n * inner), 1, n, inner, max);
            sum.Clear();
            for (var a = 0; a < n; a++)
            {
                var dst = y.Slice(block + (a * inner), inner);
                TensorPrimitives.Subtract(x.Slice(block + (a * inner), inner), max, dst);
                TensorPrimitives.Exp(dst, dst);
                TensorPrimitives.Add(sum, dst, sum);
            }

            TensorPrimitives.Log(sum, sum);
            TensorPrimitives.Add(sum, max, sum);
            for (var a = 0; a < n; a++)
            {
                TensorPrimitives.Subtract(x.Slice(block + (a * inner), inner), sum, y.Slice(block + (a * inner), inner));
            }
        }
    }

    /// <summary>
    /// log Σ exp(x), computed as max + log Σ exp(x − max) with vectorized exponentials. <paramref name="scratch"/>
    /// (x's length) receives exp(x − max), which callers that also want softmax(x) can reuse.
    /// </summary>
    public static T LogSumExp<T>(ReadOnlySpan<T> x, Span<T> scratch)
        where T : IFloatingPointIeee754<T>
    {
        var max = TensorPrimitives.Max(x);
        if (T.IsInfinity(max))
        {
            // All −∞ (or a +∞ present): the shift would make ∞ − ∞ = NaN; the answer is max itself.
            scratch.Fill(T.IsNegativeInfinity(max) ? T.Zero : T.NaN);
            return max;
        }

        TensorPrimitives.Subtract(x, max, scratch);
        TensorPrimitives.Exp(scratch, scratch);
        return max + T.Log(TensorPrimitives.Sum<T>(scratch));
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
}
