using System.Numerics;
using System.Numerics.Tensors;

namespace AutoGrad.Kernels;

/// <summary>
/// Reductions along one axis of a row-major buffer viewed as (outer, n, inner): the axis has n elements and
/// consecutive elements along it are <c>inner</c> apart.
/// </summary>
internal static class Reduce
{
    /// <summary>dst[o, i] = Σₐ src[o, a, i].</summary>
    public static void Sum<T>(ReadOnlySpan<T> src, int outer, int n, int inner, Span<T> dst)
        where T : IFloatingPointIeee754<T>
    {
        if (inner == 1)
        {
            for (var o = 0; o < outer; o++)
            {
                dst[o] = TensorPrimitives.Sum(src.Slice(o * n, n));
            }

            return;
        }

        dst[..(outer * inner)].Clear();
        for (var o = 0; o < outer; o++)
        {
            var row = dst.Slice(o * inner, inner);
            for (var a = 0; a < n; a++)
            {
                TensorPrimitives.Add(row, src.Slice(((o * n) + a) * inner, inner), row);
            }
        }
    }

    /// <summary>dst[o, i] = maxₐ src[o, a, i] (NaN propagates); the axis must not be empty.</summary>
    public static void Max<T>(ReadOnlySpan<T> src, int outer, int n, int inner, Span<T> dst)
        where T : IFloatingPointIeee754<T>
    {
        if (inner == 1)
        {
            for (var o = 0; o < outer; o++)
            {
                dst[o] = TensorPrimitives.Max(src.Slice(o * n, n));
            }

            return;
        }

        for (var o = 0; o < outer; o++)
        {
            var row = dst.Slice(o * inner, inner);
            src.Slice(o * n * inner, inner).CopyTo(row);
            for (var a = 1; a < n; a++)
            {
                TensorPrimitives.Max(row, src.Slice(((o * n) + a) * inner, inner), row);
            }
        }
    }

    /// <summary>
    /// The backward of <see cref="Max{T}"/>: each upstream value goes to the first position along the axis that
    /// holds the maximum (as <c>torch.max(dim)</c>'s index does), or to the first NaN when the maximum is NaN (as
    /// PyTorch sends it there); every other position gets 0.
    /// </summary>
    public static void MaxBackward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> max, ReadOnlySpan<T> upstream, int outer, int n, int inner, Span<T> dx)
        where T : IFloatingPointIeee754<T>
    {
        dx[..(outer * n * inner)].Clear();
        for (var o = 0; o < outer; o++)
        {
            for (var i = 0; i < inner; i++)
            {
                var target = max[(o * inner) + i];
                for (var a = 0; a < n; a++)
                {
                    var at = (((o * n) + a) * inner) + i;
                    if (x[at] == target || (T.IsNaN(target) && T.IsNaN(x[at])))
                    {
                        dx[at] = upstream[(o * inner) + i];
                        break;
                    }
                }
            }
        }
    }

    /// <summary>The first non-finite value, found with one vectorized pass (the largest magnitude is finite only if all are).</summary>
    public static double? FirstNonFinite<T>(ReadOnlySpan<T> values)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (values.IsEmpty || T.IsFinite(TensorPrimitives.MaxMagnitude(values)))
        {
            return null;
        }

        foreach (var v in values)
        {
            if (!T.IsFinite(v))
            {
                return double.CreateTruncating(v);
            }
        }

        return null;
    }
}
