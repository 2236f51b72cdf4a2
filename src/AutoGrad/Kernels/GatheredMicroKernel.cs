using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AutoGrad.Kernels;

/// <summary>
/// The register-blocked kernels of <see cref="DirectConvolution"/>. The convolution's tiles are
/// <see cref="GemmMicroKernel"/>'s, 6 or 8 rows high, whose B operand is not a panel but one base pointer read at a
/// different offset per depth step (the padded images under each kernel position); A is a packed panel, six or eight
/// values per step, and C is stored, not accumulated. The filter gradient's tile (<see cref="DotTile{T}"/>) instead
/// takes dot products along the positions. AVX-512 only.
/// </summary>
internal static unsafe class GatheredMicroKernel
{
    /// <summary>Rows of a tile (filters per packed panel).</summary>
    public const int Rows = 6;

    /// <summary>Rows of the taller tile, for filter counts that are multiples of 8 (16, 32, 64), which 6-row panels pad.</summary>
    public const int TallRows = 8;

    /// <summary>Vectors of positions in the one-row tile (<see cref="RunWide{T}"/>).</summary>
    public const int WideVectors = 8;

    /// <summary>Whether the kernels run on this machine for <typeparamref name="T"/>.</summary>
    public static bool IsSupported<T>() => Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported;

    /// <summary>C[6 × two vectors] = Σ over the depth of A[r, p]·B[offsets[p] + column].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<T>(int depth, T* a, int* offsets, T* b, T* c, nint ldc)
        where T : unmanaged, INumber<T>
    {
        var w = Vector512<T>.Count;
        Vector512<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<T> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (var p = 0; p < depth; p++)
        {
            var row = b + offsets[p];
            var b0 = Vector512.Load(row);
            var b1 = Vector512.Load(row + w);
            var x = Vector512.Create(a[0]);
            c00 = GemmMicroKernel.Fma(x, b0, c00);
            c01 = GemmMicroKernel.Fma(x, b1, c01);
            x = Vector512.Create(a[1]);
            c10 = GemmMicroKernel.Fma(x, b0, c10);
            c11 = GemmMicroKernel.Fma(x, b1, c11);
            x = Vector512.Create(a[2]);
            c20 = GemmMicroKernel.Fma(x, b0, c20);
            c21 = GemmMicroKernel.Fma(x, b1, c21);
            x = Vector512.Create(a[3]);
            c30 = GemmMicroKernel.Fma(x, b0, c30);
            c31 = GemmMicroKernel.Fma(x, b1, c31);
            x = Vector512.Create(a[4]);
            c40 = GemmMicroKernel.Fma(x, b0, c40);
            c41 = GemmMicroKernel.Fma(x, b1, c41);
            x = Vector512.Create(a[5]);
            c50 = GemmMicroKernel.Fma(x, b0, c50);
            c51 = GemmMicroKernel.Fma(x, b1, c51);
            a += Rows;
        }

        Store(c, w, c00, c01);
        Store(c + ldc, w, c10, c11);
        Store(c + (2 * ldc), w, c20, c21);
        Store(c + (3 * ldc), w, c30, c31);
        Store(c + (4 * ldc), w, c40, c41);
        Store(c + (5 * ldc), w, c50, c51);
    }

    /// <summary>The one-vector tile, for a last vector of positions: C[6 × one vector], operands as in <see cref="Run{T}"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunHalf<T>(int depth, T* a, int* offsets, T* b, T* c, nint ldc)
        where T : unmanaged, INumber<T>
    {
        Vector512<T> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        for (var p = 0; p < depth; p++)
        {
            var v = Vector512.Load(b + offsets[p]);
            c0 = GemmMicroKernel.Fma(Vector512.Create(a[0]), v, c0);
            c1 = GemmMicroKernel.Fma(Vector512.Create(a[1]), v, c1);
            c2 = GemmMicroKernel.Fma(Vector512.Create(a[2]), v, c2);
            c3 = GemmMicroKernel.Fma(Vector512.Create(a[3]), v, c3);
            c4 = GemmMicroKernel.Fma(Vector512.Create(a[4]), v, c4);
            c5 = GemmMicroKernel.Fma(Vector512.Create(a[5]), v, c5);
            a += Rows;
        }

        c0.Store(c);
        c1.Store(c + ldc);
        c2.Store(c + (2 * ldc));
        c3.Store(c + (3 * ldc));
        c4.Store(c + (4 * ldc));
        c5.Store(c + (5 * ldc));
    }

    /// <summary>
    /// <see cref="Run{T}"/> with eight rows: sixteen accumulators take eleven loads (the offset, two of B, eight
    /// broadcasts) per sixteen FMAs, and a 16-filter product needs two panels instead of three with a third empty.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunTall<T>(int depth, T* a, int* offsets, T* b, T* c, nint ldc)
        where T : unmanaged, INumber<T>
    {
        var w = Vector512<T>.Count;
        Vector512<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<T> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        for (var p = 0; p < depth; p++)
        {
            var row = b + offsets[p];
            var b0 = Vector512.Load(row);
            var b1 = Vector512.Load(row + w);
            var x = Vector512.Create(a[0]);
            c00 = GemmMicroKernel.Fma(x, b0, c00);
            c01 = GemmMicroKernel.Fma(x, b1, c01);
            x = Vector512.Create(a[1]);
            c10 = GemmMicroKernel.Fma(x, b0, c10);
            c11 = GemmMicroKernel.Fma(x, b1, c11);
            x = Vector512.Create(a[2]);
            c20 = GemmMicroKernel.Fma(x, b0, c20);
            c21 = GemmMicroKernel.Fma(x, b1, c21);
            x = Vector512.Create(a[3]);
            c30 = GemmMicroKernel.Fma(x, b0, c30);
            c31 = GemmMicroKernel.Fma(x, b1, c31);
            x = Vector512.Create(a[4]);
            c40 = GemmMicroKernel.Fma(x, b0, c40);
            c41 = GemmMicroKernel.Fma(x, b1, c41);
            x = Vector512.Create(a[5]);
            c50 = GemmMicroKernel.Fma(x, b0, c50);
            c51 = GemmMicroKernel.Fma(x, b1, c51);
            x = Vector512.Create(a[6]);
            c60 = GemmMicroKernel.Fma(x, b0, c60);
            c61 = GemmMicroKernel.Fma(x, b1, c61);
            x = Vector512.Create(a[7]);
            c70 = GemmMicroKernel.Fma(x, b0, c70);
            c71 = GemmMicroKernel.Fma(x, b1, c71);
            a += TallRows;
        }

        Store(c, w, c00, c01);
        Store(c + ldc, w, c10, c11);
        Store(c + (2 * ldc), w, c20, c21);
        Store(c + (3 * ldc), w, c30, c31);
        Store(c + (4 * ldc), w, c40, c41);
        Store(c + (5 * ldc), w, c50, c51);
        Store(c + (6 * ldc), w, c60, c61);
        Store(c + (7 * ldc), w, c70, c71);
    }

    /// <summary><see cref="RunTall{T}"/> one vector wide, for a last vector of positions.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunTallHalf<T>(int depth, T* a, int* offsets, T* b, T* c, nint ldc)
        where T : unmanaged, INumber<T>
    {
        Vector512<T> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        for (var p = 0; p < depth; p++)
        {
            var v = Vector512.Load(b + offsets[p]);
            c0 = GemmMicroKernel.Fma(Vector512.Create(a[0]), v, c0);
            c1 = GemmMicroKernel.Fma(Vector512.Create(a[1]), v, c1);
            c2 = GemmMicroKernel.Fma(Vector512.Create(a[2]), v, c2);
            c3 = GemmMicroKernel.Fma(Vector512.Create(a[3]), v, c3);
            c4 = GemmMicroKernel.Fma(Vector512.Create(a[4]), v, c4);
            c5 = GemmMicroKernel.Fma(Vector512.Create(a[5]), v, c5);
            c6 = GemmMicroKernel.Fma(Vector512.Create(a[6]), v, c6);
            c7 = GemmMicroKernel.Fma(Vector512.Create(a[7]), v, c7);
            a += TallRows;
        }

        c0.Store(c);
        c1.Store(c + ldc);
        c2.Store(c + (2 * ldc));
        c3.Store(c + (3 * ldc));
        c4.Store(c + (4 * ldc));
        c5.Store(c + (5 * ldc));
        c6.Store(c + (6 * ldc));
        c7.Store(c + (7 * ldc));
    }

    /// <summary>
    /// One filter by eight vectors of positions, for a product with a single filter (the input gradient of a
    /// one-channel image), which a 6- or 8-row tile would compute with all but one row wasted: eight accumulators, and
    /// per depth step the offset, one broadcast and eight loads of B per eight FMAs. C is one row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunWide<T>(int depth, T* a, int* offsets, T* b, T* c)
        where T : unmanaged, INumber<T>
    {
        var w = Vector512<T>.Count;
        Vector512<T> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        for (var p = 0; p < depth; p++)
        {
            var row = b + offsets[p];
            var x = Vector512.Create(a[p]);
            c0 = GemmMicroKernel.Fma(x, Vector512.Load(row), c0);
            c1 = GemmMicroKernel.Fma(x, Vector512.Load(row + w), c1);
            c2 = GemmMicroKernel.Fma(x, Vector512.Load(row + (2 * w)), c2);
            c3 = GemmMicroKernel.Fma(x, Vector512.Load(row + (3 * w)), c3);
            c4 = GemmMicroKernel.Fma(x, Vector512.Load(row + (4 * w)), c4);
            c5 = GemmMicroKernel.Fma(x, Vector512.Load(row + (5 * w)), c5);
            c6 = GemmMicroKernel.Fma(x, Vector512.Load(row + (6 * w)), c6);
            c7 = GemmMicroKernel.Fma(x, Vector512.Load(row + (7 * w)), c7);
        }

        Store(c, w, c0, c1);
        Store(c + (2 * w), w, c2, c3);
        Store(c + (4 * w), w, c4, c5);
        Store(c + (6 * w), w, c6, c7);
    }

    /// <summary>One filter by one vector of positions, where the positions are fewer than <see cref="RunWide{T}"/>'s.</summary>
    public static void RunNarrow<T>(int depth, T* a, int* offsets, T* b, T* c)
        where T : unmanaged, INumber<T>
    {
        var sum = Vector512<T>.Zero;
        for (var p = 0; p < depth; p++)
        {
            sum = GemmMicroKernel.Fma(Vector512.Create(a[p]), Vector512.Load(b + offsets[p]), sum);
        }

        sum.Store(c);
    }

    /// <summary>Kernel positions per <see cref="DotTile{T}"/>.</summary>
    public const int DotRows = 6;

    /// <summary>Filters per <see cref="DotTile{T}"/>.</summary>
    public const int DotFilters = 4;

    /// <summary>
    /// The filter gradient's tile as dot products along the output positions: sums[r·4 + s] = Σ over
    /// <paramref name="length"/> positions q (a multiple of the vector) of x[rows[r] + q]·g[s·gStride + q], for six
    /// kernel positions r (the padded image at their offsets) and four filters s (the upstream gradient's padded
    /// rows). Twenty-four accumulators take ten loads per twenty-four FMAs, and neither operand is packed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DotTile<T>(int length, T* x, int* rows, T* g, nint gStride, T* sums)
        where T : unmanaged, INumber<T>
    {
        T* x0 = x + rows[0], x1 = x + rows[1], x2 = x + rows[2], x3 = x + rows[3], x4 = x + rows[4], x5 = x + rows[5];
        T* g1 = g + gStride, g2 = g + (2 * gStride), g3 = g + (3 * gStride);
        Vector512<T> a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<T> a20 = default, a21 = default, a22 = default, a23 = default, a30 = default, a31 = default, a32 = default, a33 = default;
        Vector512<T> a40 = default, a41 = default, a42 = default, a43 = default, a50 = default, a51 = default, a52 = default, a53 = default;
        for (nint q = 0; q < length; q += Vector512<T>.Count)
        {
            var h0 = Vector512.Load(g + q);
            var h1 = Vector512.Load(g1 + q);
            var h2 = Vector512.Load(g2 + q);
            var h3 = Vector512.Load(g3 + q);
            var v = Vector512.Load(x0 + q);
            a00 = GemmMicroKernel.Fma(v, h0, a00);
            a01 = GemmMicroKernel.Fma(v, h1, a01);
            a02 = GemmMicroKernel.Fma(v, h2, a02);
            a03 = GemmMicroKernel.Fma(v, h3, a03);
            v = Vector512.Load(x1 + q);
            a10 = GemmMicroKernel.Fma(v, h0, a10);
            a11 = GemmMicroKernel.Fma(v, h1, a11);
            a12 = GemmMicroKernel.Fma(v, h2, a12);
            a13 = GemmMicroKernel.Fma(v, h3, a13);
            v = Vector512.Load(x2 + q);
            a20 = GemmMicroKernel.Fma(v, h0, a20);
            a21 = GemmMicroKernel.Fma(v, h1, a21);
            a22 = GemmMicroKernel.Fma(v, h2, a22);
            a23 = GemmMicroKernel.Fma(v, h3, a23);
            v = Vector512.Load(x3 + q);
            a30 = GemmMicroKernel.Fma(v, h0, a30);
            a31 = GemmMicroKernel.Fma(v, h1, a31);
            a32 = GemmMicroKernel.Fma(v, h2, a32);
            a33 = GemmMicroKernel.Fma(v, h3, a33);
            v = Vector512.Load(x4 + q);
            a40 = GemmMicroKernel.Fma(v, h0, a40);
            a41 = GemmMicroKernel.Fma(v, h1, a41);
            a42 = GemmMicroKernel.Fma(v, h2, a42);
            a43 = GemmMicroKernel.Fma(v, h3, a43);
            v = Vector512.Load(x5 + q);
            a50 = GemmMicroKernel.Fma(v, h0, a50);
            a51 = GemmMicroKernel.Fma(v, h1, a51);
            a52 = GemmMicroKernel.Fma(v, h2, a52);
            a53 = GemmMicroKernel.Fma(v, h3, a53);
        }

        sums[0] = Vector512.Sum(a00);
        sums[1] = Vector512.Sum(a01);
        sums[2] = Vector512.Sum(a02);
        sums[3] = Vector512.Sum(a03);
        sums[4] = Vector512.Sum(a10);
        sums[5] = Vector512.Sum(a11);
        sums[6] = Vector512.Sum(a12);
        sums[7] = Vector512.Sum(a13);
        sums[8] = Vector512.Sum(a20);
        sums[9] = Vector512.Sum(a21);
        sums[10] = Vector512.Sum(a22);
        sums[11] = Vector512.Sum(a23);
        sums[12] = Vector512.Sum(a30);
        sums[13] = Vector512.Sum(a31);
        sums[14] = Vector512.Sum(a32);
        sums[15] = Vector512.Sum(a33);
        sums[16] = Vector512.Sum(a40);
        sums[17] = Vector512.Sum(a41);
        sums[18] = Vector512.Sum(a42);
        sums[19] = Vector512.Sum(a43);
        sums[20] = Vector512.Sum(a50);
        sums[21] = Vector512.Sum(a51);
        sums[22] = Vector512.Sum(a52);
        sums[23] = Vector512.Sum(a53);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<T>(T* row, int w, Vector512<T> left, Vector512<T> right)
        where T : unmanaged
    {
        left.Store(row);
        right.Store(row + w);
    }
}
