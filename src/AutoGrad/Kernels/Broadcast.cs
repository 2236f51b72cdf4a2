using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace AutoGrad.Kernels;

/// <summary>
/// NumPy broadcasting over row-major buffers: the shape rule, elementwise binary kernels, the reduction back to an
/// input's shape (<c>sum_to</c>, the backward of broadcasting) and its adjoint, the expansion (<c>broadcast_to</c>).
/// </summary>
internal static class Broadcast
{
    /// <summary>The broadcast of two shapes, or null when a pair of aligned dimensions differs and neither is 1.</summary>
    public static int[]? ResultDims(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        var rank = Math.Max(a.Length, b.Length);
        var result = new int[rank];
        for (var i = 1; i <= rank; i++)
        {
            var da = i <= a.Length ? a[^i] : 1;
            var db = i <= b.Length ? b[^i] : 1;
            if (da != db && da != 1 && db != 1)
            {
                return null;
            }

            result[^i] = da == 1 ? db : da;
        }

        return result;
    }

    /// <summary>True when <paramref name="from"/> broadcasts to exactly <paramref name="to"/>.</summary>
    public static bool CanBroadcastTo(ReadOnlySpan<int> from, ReadOnlySpan<int> to)
    {
        if (from.Length > to.Length)
        {
            return false;
        }

        for (var i = 1; i <= from.Length; i++)
        {
            if (from[^i] != 1 && from[^i] != to[^i])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>d = a ∘ b with NumPy broadcasting; <paramref name="outDims"/> is the broadcast of the two input shapes.</summary>
    /// <remarks>
    /// Inlined for operands of one shape, the common case, which then costs no call beyond the kernel's; the
    /// broadcasting cases, with their stack buffers, are a method of their own.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Binary<T, TKernel>(ReadOnlySpan<T> a, ReadOnlySpan<int> aDims, ReadOnlySpan<T> b, ReadOnlySpan<int> bDims, Span<T> d, ReadOnlySpan<int> outDims)
        where T : IFloatingPointIeee754<T>
        where TKernel : IBinaryKernel<T>
    {
        if (a.Length == d.Length && b.Length == d.Length)
        {
            TKernel.Apply(a, b, d);
            return;
        }

        Broadcasting<T, TKernel>(a, aDims, b, bDims, d, outDims);
    }

    /// <summary>
    /// True when an operand of <paramref name="dims"/> (<paramref name="length"/> elements) is one row of
    /// <paramref name="width"/>, broadcast along every other dimension: its last dimension is the width and the rest
    /// are ones.
    /// </summary>
    private static bool IsRow(ReadOnlySpan<int> dims, int length, int width) => dims.Length > 0 && dims[^1] == width && length == width;

    /// <summary><see cref="Binary{T, TKernel}"/> where an operand is broadcast.</summary>
    private static void Broadcasting<T, TKernel>(ReadOnlySpan<T> a, ReadOnlySpan<int> aDims, ReadOnlySpan<T> b, ReadOnlySpan<int> bDims, Span<T> d, ReadOnlySpan<int> outDims)
        where T : IFloatingPointIeee754<T>
        where TKernel : IBinaryKernel<T>
    {
        if (b.Length == 1 && a.Length == d.Length)
        {
            TKernel.Apply(a, b[0], d);
            return;
        }

        if (a.Length == 1 && b.Length == d.Length)
        {
            TKernel.Apply(a[0], b, d);
            return;
        }

        if (d.Length == 0)
        {
            return;
        }

        // A row (x·W + b's bias) against every row of the other operand: the kernel row by row, without the strided
        // plan, which costs a tiny op more than the arithmetic.
        var width = outDims.IsEmpty ? 1 : outDims[^1];
        if (a.Length == d.Length && IsRow(bDims, b.Length, width))
        {
            for (var row = 0; row < d.Length; row += width)
            {
                TKernel.Apply(a.Slice(row, width), b, d.Slice(row, width));
            }

            return;
        }

        if (b.Length == d.Length && IsRow(aDims, a.Length, width))
        {
            for (var row = 0; row < d.Length; row += width)
            {
                TKernel.Apply(a, b.Slice(row, width), d.Slice(row, width));
            }

            return;
        }

        var rank = Math.Max(outDims.Length, 1);
        Span<int> buffer = stackalloc int[5 * rank];
        var dims = Plan(outDims, aDims, bDims, buffer, out var sizes, out var sa, out var sb, out var so, out var index);
        var run = sizes[dims - 1];
        var cursor = new StridedCursor(sizes[..dims], sa[..dims], sb[..dims], so[..dims], index[..dims]);
        var runs = d.Length / run;
        var contiguousA = sa[dims - 1] != 0;
        var contiguousB = sb[dims - 1] != 0;
        for (var r = 0; r < runs; r++, cursor.MoveNext())
        {
            var dst = d.Slice(cursor.OffsetOut, run);
            if (contiguousA && contiguousB)
            {
                TKernel.Apply(a.Slice(cursor.OffsetA, run), b.Slice(cursor.OffsetB, run), dst);
            }
            else if (contiguousA)
            {
                TKernel.Apply(a.Slice(cursor.OffsetA, run), b[cursor.OffsetB], dst);
            }
            else if (contiguousB)
            {
                TKernel.Apply(a[cursor.OffsetA], b.Slice(cursor.OffsetB, run), dst);
            }
            else
            {
                dst.Fill(TKernel.Apply(a[cursor.OffsetA], b[cursor.OffsetB]));
            }
        }
    }

    /// <summary>
    /// dst = the sum of <paramref name="src"/> over the dimensions in which <paramref name="dstDims"/> was broadcast
    /// to <paramref name="srcDims"/>. When <paramref name="accumulate"/> is set the sums are added to dst instead.
    /// </summary>
    public static void SumTo<T>(ReadOnlySpan<T> src, ReadOnlySpan<int> srcDims, Span<T> dst, ReadOnlySpan<int> dstDims, bool accumulate = false)
        where T : IFloatingPointIeee754<T>
    {
        if (src.Length == dst.Length)
        {
            if (accumulate)
            {
                TensorPrimitives.Add(dst, src, dst);
            }
            else
            {
                src.CopyTo(dst);
            }

            return;
        }

        if (!accumulate)
        {
            dst.Clear();
        }

        if (dst.Length == 1)
        {
            dst[0] += TensorPrimitives.Sum(src);
            return;
        }

        if (src.Length == 0)
        {
            return;
        }

        // A row's gradient (a bias's): the rows of src added in order, as the strided plan would add them.
        var width = srcDims.IsEmpty ? 1 : srcDims[^1];
        if (IsRow(dstDims, dst.Length, width))
        {
            for (var row = 0; row < src.Length; row += width)
            {
                TensorPrimitives.Add(dst, src.Slice(row, width), dst);
            }

            return;
        }

        var rank = Math.Max(srcDims.Length, 1);
        Span<int> buffer = stackalloc int[5 * rank];
        var dims = Plan(srcDims, dstDims, srcDims, buffer, out var sizes, out var sd, out var unused, out var ss, out var index);
        var run = sizes[dims - 1];
        var cursor = new StridedCursor(sizes[..dims], sd[..dims], unused[..dims], ss[..dims], index[..dims]);
        var runs = src.Length / run;
        var contiguous = sd[dims - 1] != 0;
        for (var r = 0; r < runs; r++, cursor.MoveNext())
        {
            var from = src.Slice(cursor.OffsetOut, run);
            if (contiguous)
            {
                var to = dst.Slice(cursor.OffsetA, run);
                TensorPrimitives.Add(to, from, to);
            }
            else
            {
                dst[cursor.OffsetA] += TensorPrimitives.Sum(from);
            }
        }
    }

    /// <summary>dst = <paramref name="src"/> repeated along the dimensions in which it broadcasts to <paramref name="dstDims"/>.</summary>
    public static void Expand<T>(ReadOnlySpan<T> src, ReadOnlySpan<int> srcDims, Span<T> dst, ReadOnlySpan<int> dstDims)
    {
        if (src.Length == dst.Length)
        {
            src.CopyTo(dst);
            return;
        }

        if (src.Length == 1)
        {
            dst.Fill(src[0]);
            return;
        }

        if (dst.Length == 0)
        {
            return;
        }

        var rank = Math.Max(dstDims.Length, 1);
        Span<int> buffer = stackalloc int[5 * rank];
        var dims = Plan(dstDims, srcDims, dstDims, buffer, out var sizes, out var ss, out var unused, out var sd, out var index);
        var run = sizes[dims - 1];
        var cursor = new StridedCursor(sizes[..dims], ss[..dims], unused[..dims], sd[..dims], index[..dims]);
        var runs = dst.Length / run;
        var contiguous = ss[dims - 1] != 0;
        for (var r = 0; r < runs; r++, cursor.MoveNext())
        {
            var to = dst.Slice(cursor.OffsetOut, run);
            if (contiguous)
            {
                src.Slice(cursor.OffsetA, run).CopyTo(to);
            }
            else
            {
                to.Fill(src[cursor.OffsetA]);
            }
        }
    }

    /// <summary>
    /// Aligns both inputs to the output's dimensions (stride 0 where an input is broadcast), drops dimensions of
    /// size 1, and merges neighbours that are contiguous in all three, so the innermost run is as long as possible.
    /// </summary>
    /// <returns>The number of dimensions left (at least 1).</returns>
    private static int Plan(
        ReadOnlySpan<int> outDims, ReadOnlySpan<int> aDims, ReadOnlySpan<int> bDims, Span<int> buffer,
        out Span<int> sizes, out Span<int> sa, out Span<int> sb, out Span<int> so, out Span<int> index)
    {
        var rank = Math.Max(outDims.Length, 1);
        sizes = buffer[..rank];
        sa = buffer.Slice(rank, rank);
        sb = buffer.Slice(2 * rank, rank);
        so = buffer.Slice(3 * rank, rank);
        index = buffer.Slice(4 * rank, rank);

        var count = 0;
        int strideA = 1, strideB = 1, strideOut = 1;

        // Walk from the innermost dimension outwards, writing the kept dimensions at the end of each span.
        for (var i = 1; i <= outDims.Length; i++)
        {
            var size = outDims[^i];
            var da = i <= aDims.Length ? aDims[^i] : 1;
            var db = i <= bDims.Length ? bDims[^i] : 1;
            var stepA = da == 1 ? 0 : strideA;
            var stepB = db == 1 ? 0 : strideB;
            if (size != 1)
            {
                var k = rank - 1 - count;
                var merge = count > 0
                    && sa[k + 1] * sizes[k + 1] == stepA
                    && sb[k + 1] * sizes[k + 1] == stepB
                    && so[k + 1] * sizes[k + 1] == strideOut;
                if (merge)
                {
                    sizes[k + 1] *= size;
                }
                else
                {
                    sizes[k] = size;
                    sa[k] = stepA;
                    sb[k] = stepB;
                    so[k] = strideOut;
                    count++;
                }
            }

            strideA *= da;
            strideB *= db;
            strideOut *= size;
        }

        if (count == 0)
        {
            sizes[rank - 1] = 1;
            sa[rank - 1] = sb[rank - 1] = so[rank - 1] = 0;
            count = 1;
        }

        var start = rank - count;
        sizes = sizes[start..];
        sa = sa[start..];
        sb = sb[start..];
        so = so[start..];
        index = index[..count];
        return count;
    }
}
