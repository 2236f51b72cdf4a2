namespace AutoGrad.Kernels;

/// <summary>Reordering of dimensions: dst = src with its axes permuted (dst dimension i is src dimension perm[i]).</summary>
internal static class Permute
{
    /// <summary>Tile edge for the 2-D transpose, so both the read and the write side stay in L1.</summary>
    private const int Tile = 32;

    public static void Apply<T>(ReadOnlySpan<T> src, ReadOnlySpan<int> srcDims, ReadOnlySpan<int> perm, Span<T> dst)
    {
        var rank = srcDims.Length;
        if (src.Length == 0)
        {
            return;
        }

        if (rank == 2 && perm[0] == 1)
        {
            Transpose2D(src, srcDims[0], srcDims[1], dst);
            return;
        }

        Span<int> srcStrides = stackalloc int[rank];
        var s = 1;
        for (var i = rank - 1; i >= 0; i--)
        {
            srcStrides[i] = s;
            s *= srcDims[i];
        }

        // Walk dst in order; the source offset follows the permuted strides.
        Span<int> dims = stackalloc int[rank];
        Span<int> strides = stackalloc int[rank];
        for (var i = 0; i < rank; i++)
        {
            dims[i] = srcDims[perm[i]];
            strides[i] = srcStrides[perm[i]];
        }

        // The last axis kept last (attention's heads split off and joined back, (N, T, H, D) ↔ (N, H, T, D)): whole
        // rows of it are contiguous on both sides, so they move as blocks and only the outer axes are walked.
        var row = perm[rank - 1] == rank - 1 ? dims[rank - 1] : 1;
        var outer = row > 1 ? rank - 1 : rank;
        Span<int> index = stackalloc int[rank];
        var offset = 0;
        for (var k = 0; k < dst.Length; k += row)
        {
            if (row > 1)
            {
                src.Slice(offset, row).CopyTo(dst.Slice(k, row));
            }
            else
            {
                dst[k] = src[offset];
            }

            for (var d = outer - 1; d >= 0; d--)
            {
                index[d]++;
                offset += strides[d];
                if (index[d] < dims[d])
                {
                    break;
                }

                offset -= strides[d] * dims[d];
                index[d] = 0;
            }
        }
    }

    /// <summary>dst (cols×rows) = srcᵀ for src (rows×cols), in tiles.</summary>
    public static void Transpose2D<T>(ReadOnlySpan<T> src, int rows, int cols, Span<T> dst)
    {
        for (var i0 = 0; i0 < rows; i0 += Tile)
        {
            var iEnd = Math.Min(rows, i0 + Tile);
            for (var j0 = 0; j0 < cols; j0 += Tile)
            {
                var jEnd = Math.Min(cols, j0 + Tile);
                for (var i = i0; i < iEnd; i++)
                {
                    for (var j = j0; j < jEnd; j++)
                    {
                        dst[(j * rows) + i] = src[(i * cols) + j];
                    }
                }
            }
        }
    }
}
