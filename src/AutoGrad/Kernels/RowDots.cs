using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AutoGrad.Kernels;

/// <summary>
/// C (m×n) = Σ A·Bᵀ summed over many calls, where A (m×k) and B (n×k) are both contiguous along the depth k: every
/// element of C is a dot product of two rows. A convolution's filter gradient is this sum, one call per image (the
/// upstream gradient's rows against the image's columns, both running along the output positions). Where the
/// general GEMM transposes one operand into panels at every call and pads a few rows and columns up to its 6×32
/// tile, here each call only adds to vectors of partial sums (<see cref="PartialLength{T}"/>), kept across calls in
/// tiles of 4 rows of A × 6 rows of B (24 accumulators), and the horizontal sums happen once, in
/// <see cref="Reduce{T}"/>.
/// </summary>
internal static unsafe class RowDots
{
    /// <summary>Rows of A per tile.</summary>
    public const int TileRowsA = 4;

    /// <summary>Rows of B per tile.</summary>
    public const int TileRowsB = 6;

    /// <summary>Whether the 512-bit kernel runs here; without it, callers keep to the general GEMM.</summary>
    public static bool IsSupported => Vector512.IsHardwareAccelerated;

    /// <summary>
    /// The depth below which the general GEMM is faster: each tile loads and stores its 24 accumulators once per call,
    /// which long rows hide (SimpleConvNet's 576 positions) and short ones do not (DeepConvNet's 8×8 planes, 64
    /// positions: its step 33 → 40 ms through here).
    /// </summary>
    public static int WorthwhileDepth<T>()
        where T : unmanaged => 16 * Vector512<T>.Count;

    /// <summary>The shortest depth: the last vector of a row is read ending at k, so a row must span one.</summary>
    public static int MinimumDepth<T>()
        where T : unmanaged => Vector512<T>.Count;

    /// <summary>Elements of the partial sums for an m×n result: a vector per element of the padded tiles.</summary>
    public static int PartialLength<T>(int m, int n)
        where T : unmanaged => Tiles(m, TileRowsA) * Tiles(n, TileRowsB) * TileRowsA * TileRowsB * Vector512<T>.Count;

    /// <summary>
    /// partial += the vector partial sums of A·Bᵀ, for A (m×k) and B (n×k) row-major. With
    /// <paramref name="extraRow"/> not empty, A has one more row (m + 1 in all), read from there: a row of ones turns its
    /// dot products into the row sums of B (a convolution's bias gradient). k is at least
    /// <see cref="MinimumDepth{T}"/>; <paramref name="partial"/> holds <see cref="PartialLength{T}"/>(m + 1, n)
    /// elements with the extra row, (m, n) without.
    /// </summary>
    public static void Accumulate<T>(int m, int n, int k, ReadOnlySpan<T> a, ReadOnlySpan<T> extraRow, ReadOnlySpan<T> b, Span<T> partial)
        where T : unmanaged, INumber<T> => Accumulate(m, n, k, a, extraRow, b, partial, default);

    /// <summary>
    /// <see cref="Accumulate{T}(int, int, int, ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T})"/>, and
    /// meanwhile <paramref name="ahead"/> (the next call's B, say) is prefetched into L2 a few lines per tile.
    /// </summary>
    public static void Accumulate<T>(int m, int n, int k, ReadOnlySpan<T> a, ReadOnlySpan<T> extraRow, ReadOnlySpan<T> b, Span<T> partial, ReadOnlySpan<T> ahead)
        where T : unmanaged, INumber<T>
    {
        if (a.Length < m * k)
        {
            throw new ArgumentException($"RowDots.Accumulate: operands too short for m = {m}, n = {n}, k = {k}.");
        }

        AccumulateRows(m, n, k, a, default, extraRow, b, partial, ahead);
    }

    /// <summary>
    /// <see cref="Accumulate{T}(int, int, int, ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, ReadOnlySpan{T})"/>
    /// with A's row i read from <paramref name="a"/> at <paramref name="rowOffsets"/>[i] rather than at i·k: rows may
    /// overlap (a convolution's columns as windows of <see cref="ShiftedRows"/>' copies).
    /// </summary>
    public static void Accumulate<T>(int m, int n, int k, ReadOnlySpan<T> a, ReadOnlySpan<int> rowOffsets, ReadOnlySpan<T> extraRow, ReadOnlySpan<T> b, Span<T> partial, ReadOnlySpan<T> ahead)
        where T : unmanaged, INumber<T>
    {
        if (rowOffsets.Length < m)
        {
            throw new ArgumentException($"RowDots.Accumulate: operands too short for m = {m}, n = {n}, k = {k}.");
        }

        for (var i = 0; i < m; i++)
        {
            if (rowOffsets[i] < 0 || rowOffsets[i] > a.Length - k)
            {
                throw new ArgumentException($"RowDots.Accumulate: row {i} at {rowOffsets[i]} runs past A's {a.Length} elements (k = {k}).", nameof(rowOffsets));
            }
        }

        AccumulateRows(m, n, k, a, rowOffsets, extraRow, b, partial, ahead);
    }

    /// <summary>
    /// C (+)= the horizontal sums of <paramref name="partial"/> for rows <paramref name="firstRow"/> … m − 1 of the
    /// n-column result (A's extra row, when there is one, is row m − 1): element (i, j) goes to
    /// c[(i − firstRow)·rowStride + j·columnStride], so a caller can write the result transposed.
    /// </summary>
    public static void Reduce<T>(int firstRow, int m, int n, ReadOnlySpan<T> partial, Span<T> c, int rowStride, int columnStride, bool add)
        where T : unmanaged, INumber<T>
    {
        if (partial.Length < PartialLength<T>(m, n) || (m > firstRow && n > 0 && c.Length <= ((m - 1 - firstRow) * rowStride) + ((n - 1) * columnStride)))
        {
            throw new ArgumentException($"RowDots.Reduce: operands too short for rows {firstRow} … {m - 1} and n = {n}.");
        }

        fixed (T* pp = partial, pc = c)
        {
            ReduceTiles(firstRow, m, n, pp, pc, rowStride, columnStride, add);
        }
    }

    /// <summary>Both overloads' shared checks and body; A's rows at i·k when <paramref name="rowOffsets"/> is empty.</summary>
    private static void AccumulateRows<T>(int m, int n, int k, ReadOnlySpan<T> a, ReadOnlySpan<int> rowOffsets, ReadOnlySpan<T> extraRow, ReadOnlySpan<T> b, Span<T> partial, ReadOnlySpan<T> ahead)
        where T : unmanaged, INumber<T>
    {
        var rowsA = m + (extraRow.IsEmpty ? 0 : 1);
        if (k < MinimumDepth<T>() || b.Length < n * k || (!extraRow.IsEmpty && extraRow.Length < k) || partial.Length < PartialLength<T>(rowsA, n))
        {
            throw new ArgumentException($"RowDots.Accumulate: operands too short for m = {m}, n = {n}, k = {k}.");
        }

        fixed (T* pa = a, pe = extraRow, pb = b, pp = partial, next = ahead)
        fixed (int* offsets = rowOffsets)
        {
            var prefetch = new PrefetchCursor(next, (nint)ahead.Length * sizeof(T), null, 0, Tiles(rowsA, TileRowsA) * Tiles(n, TileRowsB));
            AccumulateTiles(m, n, k, pa, offsets, pe, pb, pp, ref prefetch);
        }
    }

    private static void AccumulateTiles<T>(int m, int n, int k, T* a, int* rowOffsets, T* extraRow, T* b, T* partial, ref PrefetchCursor prefetch)
        where T : unmanaged, INumber<T>
    {
        var rowsA = m + (extraRow is null ? 0 : 1);
        var tilesB = Tiles(n, TileRowsB);
        var w = Vector512<T>.Count;

        // The last vector ends at k; the lanes an earlier vector covered are zeroed in A's copy of it.
        var tail = k % w;
        var fresh = Vector512.GreaterThanOrEqual(Vector512<int>.Indices, Vector512.Create(w - tail)).As<int, T>();
        if (typeof(T) == typeof(double))
        {
            fresh = Vector512.GreaterThanOrEqual(Vector512<long>.Indices, Vector512.Create((long)(w - tail))).As<long, T>();
        }

        var rows = stackalloc T*[TileRowsA + TileRowsB];

        // B's six rows stay in L1 while A's stream past them: four rows a step from L2 rather than six (SimpleConvNet's
        // 26×30 sums of 576 positions: 65% → 77% of the FMA peak). Chunks of the depth that kept both in L1 cost more in
        // reloaded accumulators than they saved.
        for (var j = 0; j < n; j += TileRowsB)
        {
            for (var c = 0; c < TileRowsB; c++)
            {
                rows[TileRowsA + c] = b + ((nint)Math.Min(j + c, n - 1) * k);
            }

            for (var i = 0; i < rowsA; i += TileRowsA)
            {
                // Rows past the last repeat it; their sums land in padding that Reduce never reads.
                for (var r = 0; r < TileRowsA; r++)
                {
                    var row = Math.Min(i + r, rowsA - 1);
                    rows[r] = row >= m ? extraRow : a + (rowOffsets is null ? (nint)row * k : rowOffsets[row]);
                }

                var tile = (Vector512<T>*)partial + ((((i / TileRowsA) * tilesB) + (j / TileRowsB)) * TileRowsA * TileRowsB);
                prefetch.Step();
                Tile(k, tail, fresh, rows[0], rows[1], rows[2], rows[3], rows[4], rows[5], rows[6], rows[7], rows[8], rows[9], tile);
            }
        }
    }

    private static void ReduceTiles<T>(int firstRow, int m, int n, T* partial, T* c, nint rowStride, nint columnStride, bool add)
        where T : unmanaged, INumber<T>
    {
        var tilesB = Tiles(n, TileRowsB);
        var sums = (Vector512<T>*)partial;
        for (var i = firstRow; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var tile = ((i / TileRowsA) * tilesB) + (j / TileRowsB);
                var sum = Vector512.Sum(sums[(tile * TileRowsA * TileRowsB) + ((i % TileRowsA) * TileRowsB) + (j % TileRowsB)]);
                var target = c + ((i - firstRow) * rowStride) + (j * columnStride);
                *target = add ? *target + sum : sum;
            }
        }
    }

    private static int Tiles(int count, int tile) => (count + tile - 1) / tile;

    /// <summary>
    /// Twenty-four dot products, rows a0…a3 against b0…b5, added to sums[6r + c]. Straight-line loads and stores
    /// and no call while the accumulators live, or the JIT spills them inside the loop.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<T>(int k, int tail, Vector512<T> fresh, T* a0, T* a1, T* a2, T* a3, T* b0, T* b1, T* b2, T* b3, T* b4, T* b5, Vector512<T>* sums)
        where T : unmanaged, INumber<T>
    {
        var w = Vector512<T>.Count;
        Vector512<T> s00 = sums[0], s01 = sums[1], s02 = sums[2], s03 = sums[3], s04 = sums[4], s05 = sums[5];
        Vector512<T> s10 = sums[6], s11 = sums[7], s12 = sums[8], s13 = sums[9], s14 = sums[10], s15 = sums[11];
        Vector512<T> s20 = sums[12], s21 = sums[13], s22 = sums[14], s23 = sums[15], s24 = sums[16], s25 = sums[17];
        Vector512<T> s30 = sums[18], s31 = sums[19], s32 = sums[20], s33 = sums[21], s34 = sums[22], s35 = sums[23];
        var end = k - tail;
        for (var p = 0; p <= end; p += w)
        {
            Vector512<T> x0, x1, x2, x3;
            if (p < end)
            {
                (x0, x1, x2, x3) = (Vector512.Load(a0 + p), Vector512.Load(a1 + p), Vector512.Load(a2 + p), Vector512.Load(a3 + p));
            }
            else if (tail > 0)
            {
                // The tail: the vector ending at k, its lanes before p zeroed on A's side.
                p = k - w;
                x0 = Vector512.BitwiseAnd(Vector512.Load(a0 + p), fresh);
                x1 = Vector512.BitwiseAnd(Vector512.Load(a1 + p), fresh);
                x2 = Vector512.BitwiseAnd(Vector512.Load(a2 + p), fresh);
                x3 = Vector512.BitwiseAnd(Vector512.Load(a3 + p), fresh);
            }
            else
            {
                break;
            }

            var y = Vector512.Load(b0 + p);
            s00 = GemmMicroKernel.Fma(x0, y, s00);
            s10 = GemmMicroKernel.Fma(x1, y, s10);
            s20 = GemmMicroKernel.Fma(x2, y, s20);
            s30 = GemmMicroKernel.Fma(x3, y, s30);
            y = Vector512.Load(b1 + p);
            s01 = GemmMicroKernel.Fma(x0, y, s01);
            s11 = GemmMicroKernel.Fma(x1, y, s11);
            s21 = GemmMicroKernel.Fma(x2, y, s21);
            s31 = GemmMicroKernel.Fma(x3, y, s31);
            y = Vector512.Load(b2 + p);
            s02 = GemmMicroKernel.Fma(x0, y, s02);
            s12 = GemmMicroKernel.Fma(x1, y, s12);
            s22 = GemmMicroKernel.Fma(x2, y, s22);
            s32 = GemmMicroKernel.Fma(x3, y, s32);
            y = Vector512.Load(b3 + p);
            s03 = GemmMicroKernel.Fma(x0, y, s03);
            s13 = GemmMicroKernel.Fma(x1, y, s13);
            s23 = GemmMicroKernel.Fma(x2, y, s23);
            s33 = GemmMicroKernel.Fma(x3, y, s33);
            y = Vector512.Load(b4 + p);
            s04 = GemmMicroKernel.Fma(x0, y, s04);
            s14 = GemmMicroKernel.Fma(x1, y, s14);
            s24 = GemmMicroKernel.Fma(x2, y, s24);
            s34 = GemmMicroKernel.Fma(x3, y, s34);
            y = Vector512.Load(b5 + p);
            s05 = GemmMicroKernel.Fma(x0, y, s05);
            s15 = GemmMicroKernel.Fma(x1, y, s15);
            s25 = GemmMicroKernel.Fma(x2, y, s25);
            s35 = GemmMicroKernel.Fma(x3, y, s35);
        }

        (sums[0], sums[1], sums[2], sums[3], sums[4], sums[5]) = (s00, s01, s02, s03, s04, s05);
        (sums[6], sums[7], sums[8], sums[9], sums[10], sums[11]) = (s10, s11, s12, s13, s14, s15);
        (sums[12], sums[13], sums[14], sums[15], sums[16], sums[17]) = (s20, s21, s22, s23, s24, s25);
        (sums[18], sums[19], sums[20], sums[21], sums[22], sums[23]) = (s30, s31, s32, s33, s34, s35);
    }
}
