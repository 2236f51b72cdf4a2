using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AutoGrad.Kernels;

/// <summary>
/// The last few (≤ 4) columns of a GEMM, which a 6×32 register tile would cover with mostly empty lanes: 50 columns
/// cost as much as 64 there, and 50 = 48 + 2 leaves two for here. Every lane does useful work. When op(A)'s rows are
/// contiguous along the depth, each element is a dot product and the vectors run along the depth (blocks of 4 rows ×
/// 4 columns, or 8 × 2 for one or two columns); when op(A) is transposed, its columns are contiguous, so the vectors
/// run along the rows instead (4 vectors of rows × 4 columns, or 8 × 2) and B's values are broadcast. A block narrower than 4 columns or 4 rows repeats
/// its last column or row and discards the copy, so no code path reads outside the operands.
/// </summary>
internal static unsafe class GemmNarrow
{
    /// <summary>The most columns worth computing here: each element ends in a horizontal sum, which costs more than padding beyond this.</summary>
    public const int MaxColumns = 4;

    /// <summary>The shallowest product worth it: below four vectors of depth the horizontal sums dominate.</summary>
    public static int MinimumDepth<T>()
        where T : unmanaged => 4 * Vector512<T>.Count;

    /// <summary>The fewest rows the kernels need: a transposed A is read a whole vector of rows at a time.</summary>
    public static int MinimumRows<T>()
        where T : unmanaged => Vector512<T>.Count;

    /// <summary>Columns j0 … j0+cols−1 of C (m×n, row stride n) (+)= op(A)·op(B), as <see cref="Gemm.Multiply{T}"/> defines them.</summary>
    /// <param name="transposeA">A is stored k×m.</param>
    /// <param name="transposeB">B is stored n×k.</param>
    /// <param name="m">Rows of C.</param>
    /// <param name="n">Columns of C (its row stride).</param>
    /// <param name="k">The depth.</param>
    /// <param name="a">A.</param>
    /// <param name="b">B.</param>
    /// <param name="c">C.</param>
    /// <param name="add">Add to C instead of overwriting it.</param>
    /// <param name="j0">The first column to compute.</param>
    /// <param name="cols">How many columns.</param>
    /// <param name="packedB">Scratch of cols × k elements, used to lay out op(B)'s columns along the depth when B is not transposed.</param>
    public static void Run<T>(bool transposeA, bool transposeB, int m, int n, int k, T* a, T* b, T* c, bool add, int j0, int cols, T* packedB)
        where T : unmanaged, INumber<T>
    {
        var sums = stackalloc Vector512<T>[16];
        if (!transposeA)
        {
            // Dot products along the depth need op(B)'s columns contiguous: rows of a transposed B already are.
            T* columns;
            nint columnStride = k;
            if (transposeB)
            {
                columns = b + ((nint)j0 * k);
            }
            else
            {
                for (var j = 0; j < cols; j++)
                {
                    for (var p = 0; p < k; p++)
                    {
                        packedB[((nint)j * k) + p] = b[((nint)p * n) + j0 + j];
                    }
                }

                columns = packedB;
            }

            // Sixteen accumulators: 4 rows × 4 columns, or 8 rows × 2 columns when there are only one or two.
            var blockRows = cols <= 2 ? 8 : 4;
            for (var i = 0; i < m; i += blockRows)
            {
                for (var j = 0; j < cols; j += 4)
                {
                    Dot(k, a, i, Math.Min(blockRows, m - i), columns + (j * columnStride), Math.Min(4, cols - j), c + j0 + j, n, add, sums);
                }
            }

            return;
        }

        var w = Vector512<T>.Count;
        var blockVectors = cols <= 2 ? 8 : 4;
        for (var i = 0; i < m; i += blockVectors * w)
        {
            var vectors = Math.Min(blockVectors, (m - i + w - 1) / w);
            for (var j = 0; j < cols; j += 4)
            {
                Axpy(transposeB, m, n, k, a, b, i, vectors, j0 + j, Math.Min(4, cols - j), c, add, sums);
            }
        }
    }

    /// <summary>
    /// The vector part of sixteen dot products, rows a0…a3 against columns b0…b3, into sums[4r + c]. Straight-line
    /// stores at the end and no call while the accumulators live, or the JIT spills them inside the loop.
    /// </summary>
    /// <returns>The depth the vectors covered; the caller adds the scalar tail from there.</returns>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int DotBlock<T>(int k, T* a0, T* a1, T* a2, T* a3, T* b0, T* b1, T* b2, T* b3, Vector512<T>* sums)
        where T : unmanaged, INumber<T>
    {
        var w = Vector512<T>.Count;
        Vector512<T> s00 = default, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default;
        Vector512<T> s20 = default, s21 = default, s22 = default, s23 = default, s30 = default, s31 = default, s32 = default, s33 = default;
        var p = 0;
        for (; p + w <= k; p += w)
        {
            var v0 = Vector512.Load(b0 + p);
            var v1 = Vector512.Load(b1 + p);
            var v2 = Vector512.Load(b2 + p);
            var v3 = Vector512.Load(b3 + p);
            var x = Vector512.Load(a0 + p);
            s00 = GemmMicroKernel.Fma(x, v0, s00);
            s01 = GemmMicroKernel.Fma(x, v1, s01);
            s02 = GemmMicroKernel.Fma(x, v2, s02);
            s03 = GemmMicroKernel.Fma(x, v3, s03);
            x = Vector512.Load(a1 + p);
            s10 = GemmMicroKernel.Fma(x, v0, s10);
            s11 = GemmMicroKernel.Fma(x, v1, s11);
            s12 = GemmMicroKernel.Fma(x, v2, s12);
            s13 = GemmMicroKernel.Fma(x, v3, s13);
            x = Vector512.Load(a2 + p);
            s20 = GemmMicroKernel.Fma(x, v0, s20);
            s21 = GemmMicroKernel.Fma(x, v1, s21);
            s22 = GemmMicroKernel.Fma(x, v2, s22);
            s23 = GemmMicroKernel.Fma(x, v3, s23);
            x = Vector512.Load(a3 + p);
            s30 = GemmMicroKernel.Fma(x, v0, s30);
            s31 = GemmMicroKernel.Fma(x, v1, s31);
            s32 = GemmMicroKernel.Fma(x, v2, s32);
            s33 = GemmMicroKernel.Fma(x, v3, s33);
        }

        (sums[0], sums[1], sums[2], sums[3]) = (s00, s01, s02, s03);
        (sums[4], sums[5], sums[6], sums[7]) = (s10, s11, s12, s13);
        (sums[8], sums[9], sums[10], sums[11]) = (s20, s21, s22, s23);
        (sums[12], sums[13], sums[14], sums[15]) = (s30, s31, s32, s33);
        return p;
    }

    /// <summary>
    /// C[i … i+rows−1, 0 … colCount−1] (+)= Σₚ A[i+r, p]·column[c][p] for a row-major A (row stride k), with sixteen
    /// accumulators (4 rows × 4 columns, or 8 × 2 for one or two columns).
    /// </summary>
    private static void Dot<T>(int k, T* a, int i, int rows, T* columns, int colCount, T* c, nint ldc, bool add, Vector512<T>* sums)
        where T : unmanaged, INumber<T>
    {
        // Missing rows and columns repeat the last real one; their sums are computed and dropped.
        var wide = colCount > 2;
        var blockRows = wide ? 4 : 8;
        var blockColumns = wide ? 4 : 2;
        var row = stackalloc nint[8];
        var column = stackalloc nint[4];
        for (var r = 0; r < blockRows; r++)
        {
            row[r] = (nint)(i + Math.Min(r, rows - 1)) * k;
        }

        for (var col = 0; col < blockColumns; col++)
        {
            column[col] = (nint)Math.Min(col, colCount - 1) * k;
        }

        var tail = wide
            ? DotBlock(k, a + row[0], a + row[1], a + row[2], a + row[3], columns + column[0], columns + column[1], columns + column[2], columns + column[3], sums)
            : DotBlock8x2(k, a + row[0], a + row[1], a + row[2], a + row[3], a + row[4], a + row[5], a + row[6], a + row[7], columns + column[0], columns + column[1], sums);
        for (var r = 0; r < rows; r++)
        {
            for (var col = 0; col < colCount; col++)
            {
                var sum = Vector512.Sum(sums[(r * blockColumns) + col]);
                for (var q = tail; q < k; q++)
                {
                    sum += a[row[r] + q] * columns[column[col] + q];
                }

                var target = c + ((nint)(i + r) * ldc) + col;
                *target = add ? *target + sum : sum;
            }
        }
    }

    /// <summary>The 8-row × 2-column form of <see cref="DotBlock{T}"/>; sums[2r + c] holds row r, column c.</summary>
    /// <returns>The depth the vectors covered.</returns>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int DotBlock8x2<T>(int k, T* a0, T* a1, T* a2, T* a3, T* a4, T* a5, T* a6, T* a7, T* b0, T* b1, Vector512<T>* sums)
        where T : unmanaged, INumber<T>
    {
        var w = Vector512<T>.Count;
        Vector512<T> s00 = default, s01 = default, s10 = default, s11 = default, s20 = default, s21 = default, s30 = default, s31 = default;
        Vector512<T> s40 = default, s41 = default, s50 = default, s51 = default, s60 = default, s61 = default, s70 = default, s71 = default;
        var p = 0;
        for (; p + w <= k; p += w)
        {
            var v0 = Vector512.Load(b0 + p);
            var v1 = Vector512.Load(b1 + p);
            var x = Vector512.Load(a0 + p);
            s00 = GemmMicroKernel.Fma(x, v0, s00);
            s01 = GemmMicroKernel.Fma(x, v1, s01);
            x = Vector512.Load(a1 + p);
            s10 = GemmMicroKernel.Fma(x, v0, s10);
            s11 = GemmMicroKernel.Fma(x, v1, s11);
            x = Vector512.Load(a2 + p);
            s20 = GemmMicroKernel.Fma(x, v0, s20);
            s21 = GemmMicroKernel.Fma(x, v1, s21);
            x = Vector512.Load(a3 + p);
            s30 = GemmMicroKernel.Fma(x, v0, s30);
            s31 = GemmMicroKernel.Fma(x, v1, s31);
            x = Vector512.Load(a4 + p);
            s40 = GemmMicroKernel.Fma(x, v0, s40);
            s41 = GemmMicroKernel.Fma(x, v1, s41);
            x = Vector512.Load(a5 + p);
            s50 = GemmMicroKernel.Fma(x, v0, s50);
            s51 = GemmMicroKernel.Fma(x, v1, s51);
            x = Vector512.Load(a6 + p);
            s60 = GemmMicroKernel.Fma(x, v0, s60);
            s61 = GemmMicroKernel.Fma(x, v1, s61);
            x = Vector512.Load(a7 + p);
            s70 = GemmMicroKernel.Fma(x, v0, s70);
            s71 = GemmMicroKernel.Fma(x, v1, s71);
        }

        (sums[0], sums[1], sums[2], sums[3]) = (s00, s01, s10, s11);
        (sums[4], sums[5], sums[6], sums[7]) = (s20, s21, s30, s31);
        (sums[8], sums[9], sums[10], sums[11]) = (s40, s41, s50, s51);
        (sums[12], sums[13], sums[14], sums[15]) = (s60, s61, s70, s71);
        return p;
    }

    /// <summary>
    /// Σₚ A[p, r..r+W]·op(B)[p, c] for four vectors of rows (offsets r0…r3 within a row of A stored k×m) and four
    /// columns (offsets c0…c3 within a depth step of B), into sums[4v + c].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AxpyBlock<T>(int m, int k, T* a, T* b, nint bRow, nint r0, nint r1, nint r2, nint r3, nint c0, nint c1, nint c2, nint c3, Vector512<T>* sums)
        where T : unmanaged, INumber<T>
    {
        Vector512<T> s00 = default, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default;
        Vector512<T> s20 = default, s21 = default, s22 = default, s23 = default, s30 = default, s31 = default, s32 = default, s33 = default;
        for (var p = 0; p < k; p++)
        {
            var ap = a + ((nint)p * m);
            var bp = b + (p * bRow);
            var v0 = Vector512.Create(bp[c0]);
            var v1 = Vector512.Create(bp[c1]);
            var v2 = Vector512.Create(bp[c2]);
            var v3 = Vector512.Create(bp[c3]);
            var x = Vector512.Load(ap + r0);
            s00 = GemmMicroKernel.Fma(x, v0, s00);
            s01 = GemmMicroKernel.Fma(x, v1, s01);
            s02 = GemmMicroKernel.Fma(x, v2, s02);
            s03 = GemmMicroKernel.Fma(x, v3, s03);
            x = Vector512.Load(ap + r1);
            s10 = GemmMicroKernel.Fma(x, v0, s10);
            s11 = GemmMicroKernel.Fma(x, v1, s11);
            s12 = GemmMicroKernel.Fma(x, v2, s12);
            s13 = GemmMicroKernel.Fma(x, v3, s13);
            x = Vector512.Load(ap + r2);
            s20 = GemmMicroKernel.Fma(x, v0, s20);
            s21 = GemmMicroKernel.Fma(x, v1, s21);
            s22 = GemmMicroKernel.Fma(x, v2, s22);
            s23 = GemmMicroKernel.Fma(x, v3, s23);
            x = Vector512.Load(ap + r3);
            s30 = GemmMicroKernel.Fma(x, v0, s30);
            s31 = GemmMicroKernel.Fma(x, v1, s31);
            s32 = GemmMicroKernel.Fma(x, v2, s32);
            s33 = GemmMicroKernel.Fma(x, v3, s33);
        }

        // Straight-line stores and no call while the accumulators live, or the JIT spills them inside the loop.
        (sums[0], sums[1], sums[2], sums[3]) = (s00, s01, s02, s03);
        (sums[4], sums[5], sums[6], sums[7]) = (s10, s11, s12, s13);
        (sums[8], sums[9], sums[10], sums[11]) = (s20, s21, s22, s23);
        (sums[12], sums[13], sums[14], sums[15]) = (s30, s31, s32, s33);
    }

    /// <summary>
    /// C[i …, j … j+colCount−1] (+)= Σₚ Aᵀ[i.., p]·op(B)[p, j] for A stored k×m, over <paramref name="vectors"/>
    /// vectors of rows. A last vector that would run past m is moved back to end at m, and only its rows not covered
    /// by the vector before it are written.
    /// </summary>
    private static void Axpy<T>(bool transposeB, int m, int n, int k, T* a, T* b, int i, int vectors, int j, int colCount, T* c, bool add, Vector512<T>* sums)
        where T : unmanaged, INumber<T>
    {
        var w = Vector512<T>.Count;
        var wide = colCount > 2;
        var blockVectors = wide ? 4 : 8;
        var blockColumns = wide ? 4 : 2;

        // Row offsets of the vectors; a vector past the ones asked for reuses the last one's rows (discarded).
        var last = Math.Min(i + (vectors * w), m) - w;
        var rows = stackalloc nint[8];
        for (var v = 0; v < blockVectors; v++)
        {
            rows[v] = Math.Min(i + (v * w), last);
        }

        // op(B)[p, j] is at b + p·bRow + j·bColumn.
        nint bRow = transposeB ? 1 : n, bColumn = transposeB ? k : 1;
        var cols = stackalloc nint[4];
        for (var col = 0; col < blockColumns; col++)
        {
            cols[col] = (j + Math.Min(col, colCount - 1)) * bColumn;
        }

        if (wide)
        {
            AxpyBlock(m, k, a, b, bRow, rows[0], rows[1], rows[2], rows[3], cols[0], cols[1], cols[2], cols[3], sums);
        }
        else
        {
            AxpyBlock8x2(m, k, a, b, bRow, rows[0], rows[1], rows[2], rows[3], rows[4], rows[5], rows[6], rows[7], cols[0], cols[1], sums);
        }

        var from = i;
        for (var v = 0; v < vectors; v++)
        {
            StoreColumns(sums + (blockColumns * v), c, n, rows[v], from, j, colCount, add);
            from = (int)rows[v] + w;
        }
    }

    /// <summary>The 8-vector × 2-column form of <see cref="AxpyBlock{T}"/>; sums[2v + c] holds vector v, column c.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AxpyBlock8x2<T>(int m, int k, T* a, T* b, nint bRow, nint r0, nint r1, nint r2, nint r3, nint r4, nint r5, nint r6, nint r7, nint c0, nint c1, Vector512<T>* sums)
        where T : unmanaged, INumber<T>
    {
        Vector512<T> s00 = default, s01 = default, s10 = default, s11 = default, s20 = default, s21 = default, s30 = default, s31 = default;
        Vector512<T> s40 = default, s41 = default, s50 = default, s51 = default, s60 = default, s61 = default, s70 = default, s71 = default;
        for (var p = 0; p < k; p++)
        {
            var ap = a + ((nint)p * m);
            var bp = b + (p * bRow);
            var v0 = Vector512.Create(bp[c0]);
            var v1 = Vector512.Create(bp[c1]);
            var x = Vector512.Load(ap + r0);
            s00 = GemmMicroKernel.Fma(x, v0, s00);
            s01 = GemmMicroKernel.Fma(x, v1, s01);
            x = Vector512.Load(ap + r1);
            s10 = GemmMicroKernel.Fma(x, v0, s10);
            s11 = GemmMicroKernel.Fma(x, v1, s11);
            x = Vector512.Load(ap + r2);
            s20 = GemmMicroKernel.Fma(x, v0, s20);
            s21 = GemmMicroKernel.Fma(x, v1, s21);
            x = Vector512.Load(ap + r3);
            s30 = GemmMicroKernel.Fma(x, v0, s30);
            s31 = GemmMicroKernel.Fma(x, v1, s31);
            x = Vector512.Load(ap + r4);
            s40 = GemmMicroKernel.Fma(x, v0, s40);
            s41 = GemmMicroKernel.Fma(x, v1, s41);
            x = Vector512.Load(ap + r5);
            s50 = GemmMicroKernel.Fma(x, v0, s50);
            s51 = GemmMicroKernel.Fma(x, v1, s51);
            x = Vector512.Load(ap + r6);
            s60 = GemmMicroKernel.Fma(x, v0, s60);
            s61 = GemmMicroKernel.Fma(x, v1, s61);
            x = Vector512.Load(ap + r7);
            s70 = GemmMicroKernel.Fma(x, v0, s70);
            s71 = GemmMicroKernel.Fma(x, v1, s71);
        }

        (sums[0], sums[1], sums[2], sums[3]) = (s00, s01, s10, s11);
        (sums[4], sums[5], sums[6], sums[7]) = (s20, s21, s30, s31);
        (sums[8], sums[9], sums[10], sums[11]) = (s40, s41, s50, s51);
        (sums[12], sums[13], sums[14], sums[15]) = (s60, s61, s70, s71);
    }

    /// <summary>Writes rows start … start+W−1 (from row <paramref name="from"/> on) of up to four columns.</summary>
    private static void StoreColumns<T>(Vector512<T>* columns, T* c, int n, nint start, int from, int j, int colCount, bool add)
        where T : unmanaged, INumber<T>
    {
        if (typeof(T) == typeof(float) && colCount == 2 && from <= start)
        {
            StorePairs(columns[0].AsSingle(), columns[1].AsSingle(), (float*)c + (start * n) + j, n, add);
            return;
        }

        if (typeof(T) == typeof(float) && colCount == 4 && from <= start)
        {
            StoreQuads((Vector512<float>*)columns, (float*)c + (start * n) + j, n, add);
            return;
        }

        var w = Vector512<T>.Count;
        for (var col = 0; col < colCount; col++)
        {
            var lanes = (T*)(columns + col);
            for (var lane = (int)Math.Max(0, from - start); lane < w; lane++)
            {
                var target = c + ((start + lane) * n) + j + col;
                *target = add ? *target + lanes[lane] : lanes[lane];
            }
        }
    }

    /// <summary>
    /// Sixteen rows of two adjacent float columns, <paramref name="left"/> and <paramref name="right"/>, to C from
    /// <paramref name="c"/> (rows <paramref name="n"/> apart): the two vectors are interleaved into row pairs in
    /// registers and each pair goes to its row as one 8-byte store. Storing the lanes one by one from memory took about a
    /// third of the two columns' time (784x2x100, the book's weight gradient past its 48-column tile).
    /// </summary>
    private static void StorePairs(Vector512<float> left, Vector512<float> right, float* c, int n, bool add)
    {
        // Per 128-bit lane q: low holds rows 4q and 4q+1 as (left, right) pairs, high holds rows 4q+2 and 4q+3.
        var low = Avx512F.UnpackLow(left, right).AsDouble();
        var high = Avx512F.UnpackHigh(left, right).AsDouble();
        StoreFourRows(low.GetLower().GetLower(), high.GetLower().GetLower(), c, n, add);
        StoreFourRows(low.GetLower().GetUpper(), high.GetLower().GetUpper(), c + (4 * (nint)n), n, add);
        StoreFourRows(low.GetUpper().GetLower(), high.GetUpper().GetLower(), c + (8 * (nint)n), n, add);
        StoreFourRows(low.GetUpper().GetUpper(), high.GetUpper().GetUpper(), c + (12 * (nint)n), n, add);
    }

    /// <summary>Rows 0 and 1 from the halves of <paramref name="first"/>, rows 2 and 3 from those of <paramref name="second"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreFourRows(Vector128<double> first, Vector128<double> second, float* c, int n, bool add)
    {
        StoreTwoRows(first, c, c + n, add);
        StoreTwoRows(second, c + (2 * (nint)n), c + (3 * (nint)n), add);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreTwoRows(Vector128<double> pairs, float* top, float* bottom, bool add)
    {
        if (add)
        {
            var old = Sse2.LoadHigh(Sse2.LoadScalarVector128((double*)top), (double*)bottom);
            pairs = Sse.Add(pairs.AsSingle(), old.AsSingle()).AsDouble();
        }

        Sse2.StoreScalar((double*)top, pairs);
        Sse2.StoreHigh((double*)bottom, pairs);
    }

    /// <summary>
    /// Sixteen rows of four adjacent float columns (<paramref name="columns"/>[0…3]) to C from <paramref name="c"/>
    /// (rows <paramref name="n"/> apart): a 4×4 transpose inside each 128-bit lane turns the four column vectors into
    /// four vectors of rows, and each row goes out as one 16-byte store (784x100x100 TN, the 784-100-10 net's weight
    /// gradient, ends in four such columns).
    /// </summary>
    private static void StoreQuads(Vector512<float>* columns, float* c, int n, bool add)
    {
        var (c0, c1, c2, c3) = (columns[0], columns[1], columns[2], columns[3]);
        var low01 = Avx512F.UnpackLow(c0, c1).AsDouble();
        var high01 = Avx512F.UnpackHigh(c0, c1).AsDouble();
        var low23 = Avx512F.UnpackLow(c2, c3).AsDouble();
        var high23 = Avx512F.UnpackHigh(c2, c3).AsDouble();

        // Lane q of row t holds row 4q + t of the block.
        var row0 = Avx512F.UnpackLow(low01, low23).AsSingle();
        var row1 = Avx512F.UnpackHigh(low01, low23).AsSingle();
        var row2 = Avx512F.UnpackLow(high01, high23).AsSingle();
        var row3 = Avx512F.UnpackHigh(high01, high23).AsSingle();
        StoreRowQuads(row0.GetLower().GetLower(), row1.GetLower().GetLower(), row2.GetLower().GetLower(), row3.GetLower().GetLower(), c, n, add);
        StoreRowQuads(row0.GetLower().GetUpper(), row1.GetLower().GetUpper(), row2.GetLower().GetUpper(), row3.GetLower().GetUpper(), c + (4 * (nint)n), n, add);
        StoreRowQuads(row0.GetUpper().GetLower(), row1.GetUpper().GetLower(), row2.GetUpper().GetLower(), row3.GetUpper().GetLower(), c + (8 * (nint)n), n, add);
        StoreRowQuads(row0.GetUpper().GetUpper(), row1.GetUpper().GetUpper(), row2.GetUpper().GetUpper(), row3.GetUpper().GetUpper(), c + (12 * (nint)n), n, add);
    }

    /// <summary>Four rows of four floats, one from each argument, to rows 0…3 from <paramref name="c"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRowQuads(Vector128<float> r0, Vector128<float> r1, Vector128<float> r2, Vector128<float> r3, float* c, int n, bool add)
    {
        StoreQuad(r0, c, add);
        StoreQuad(r1, c + n, add);
        StoreQuad(r2, c + (2 * (nint)n), add);
        StoreQuad(r3, c + (3 * (nint)n), add);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreQuad(Vector128<float> row, float* target, bool add)
    {
        if (add)
        {
            row += Vector128.Load(target);
        }

        row.Store(target);
    }
}
