using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AutoGrad.Kernels;

/// <summary>
/// The register-blocked inner kernels of <see cref="Gemm"/>: a 6-row by 2-vector tile of C kept in 12 vector
/// registers while the packed panels of A (6 values per step) and B (2 vectors per step) stream through.
/// With AVX-512 the tile is 6×32 floats (6×16 doubles); with AVX2 it is 6×16 floats.
/// </summary>
internal static unsafe class GemmMicroKernel
{
    /// <summary>Rows of the C tile (the height of a packed A panel).</summary>
    public const int Rows = 6;

    /// <summary>True when the 512-bit kernel runs on this machine.</summary>
    public static bool Uses512 => Vector512.IsHardwareAccelerated;

    /// <summary>Columns of the C tile (the width of a packed B panel) for element type <typeparamref name="T"/>.</summary>
    public static int Columns<T>() => 2 * (Uses512 ? Vector512<T>.Count : Vector256<T>.Count);

    /// <summary>
    /// C[6×Columns] (+)= A·B over <paramref name="depth"/> steps. Element (r, p) of A is at
    /// a[r·<paramref name="rowStride"/> + p·<paramref name="depthStride"/>], so the kernel reads a packed panel
    /// (strides 1 and 6), a row-major A (k and 1) or a transposed one (1 and m) alike. Each depth step's Columns
    /// values of B are contiguous and <paramref name="bStride"/> apart: Columns for a packed panel, n for a row-major B
    /// read in place. C rows are <paramref name="ldc"/> apart.
    /// </summary>
    public static void Run<T>(int depth, T* a, nint rowStride, nint depthStride, T* b, nint bStride, T* c, nint ldc, bool add)
        where T : unmanaged, INumber<T>
    {
        if (Uses512)
        {
            Run512<T, KeepB>(depth, a, rowStride, depthStride, b, bStride, c, ldc, add, null);
        }
        else
        {
            Run256<T, KeepB>(depth, a, rowStride, depthStride, b, bStride, c, ldc, add, null);
        }
    }

    /// <summary>
    /// <see cref="Run{T}"/> that also writes each depth step's Columns values of B to <paramref name="packedB"/>, one
    /// after another: the first tile of a panel read in place packs it for the tiles after it, so the panel's trip from
    /// L3 overlaps that tile's multiply-adds instead of preceding them in a separate copy.
    /// </summary>
    public static void RunPackingB<T>(int depth, T* a, nint rowStride, nint depthStride, T* b, nint bStride, T* c, nint ldc, bool add, T* packedB)
        where T : unmanaged, INumber<T>
    {
        if (Uses512)
        {
            Run512<T, CopyB>(depth, a, rowStride, depthStride, b, bStride, c, ldc, add, packedB);
        }
        else
        {
            Run256<T, CopyB>(depth, a, rowStride, depthStride, b, bStride, c, ldc, add, packedB);
        }
    }

    /// <summary>Whether a kernel writes the B values it reads to a packed panel; a type argument, so each choice compiles to its own loop.</summary>
    private interface IBCopy
    {
        static abstract bool Copies { get; }
    }

    private readonly struct KeepB : IBCopy
    {
        public static bool Copies => false;
    }

    private readonly struct CopyB : IBCopy
    {
        public static bool Copies => true;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run512<T, TCopy>(int depth, T* a, nint rs, nint ds, T* b, nint bs, T* c, nint ldc, bool add, T* packed)
        where T : unmanaged, INumber<T>
        where TCopy : struct, IBCopy
    {
        var w = Vector512<T>.Count;
        PrefetchTile(c, ldc, 2 * w * sizeof(T));
        nint r2 = 2 * rs, r3 = 3 * rs, r4 = 4 * rs, r5 = 5 * rs;
        Vector512<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<T> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (var p = 0; p < depth; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + w);
            if (TCopy.Copies)
            {
                Vector512.Store(b0, packed);
                Vector512.Store(b1, packed + w);
                packed += 2 * w;
            }

            var x = Vector512.Create(a[0]);
            c00 = Fma(x, b0, c00);
            c01 = Fma(x, b1, c01);
            x = Vector512.Create(a[rs]);
            c10 = Fma(x, b0, c10);
            c11 = Fma(x, b1, c11);
            x = Vector512.Create(a[r2]);
            c20 = Fma(x, b0, c20);
            c21 = Fma(x, b1, c21);
            x = Vector512.Create(a[r3]);
            c30 = Fma(x, b0, c30);
            c31 = Fma(x, b1, c31);
            x = Vector512.Create(a[r4]);
            c40 = Fma(x, b0, c40);
            c41 = Fma(x, b1, c41);
            x = Vector512.Create(a[r5]);
            c50 = Fma(x, b0, c50);
            c51 = Fma(x, b1, c51);
            a += ds;
            b += bs;
        }

        Store(c, w, c00, c01, add);
        Store(c + ldc, w, c10, c11, add);
        Store(c + (2 * ldc), w, c20, c21, add);
        Store(c + (3 * ldc), w, c30, c31, add);
        Store(c + (4 * ldc), w, c40, c41, add);
        Store(c + (5 * ldc), w, c50, c51, add);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run256<T, TCopy>(int depth, T* a, nint rs, nint ds, T* b, nint bs, T* c, nint ldc, bool add, T* packed)
        where T : unmanaged, INumber<T>
        where TCopy : struct, IBCopy
    {
        var w = Vector256<T>.Count;
        PrefetchTile(c, ldc, 2 * w * sizeof(T));
        nint r2 = 2 * rs, r3 = 3 * rs, r4 = 4 * rs, r5 = 5 * rs;
        Vector256<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<T> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (var p = 0; p < depth; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + w);
            if (TCopy.Copies)
            {
                Vector256.Store(b0, packed);
                Vector256.Store(b1, packed + w);
                packed += 2 * w;
            }

            var x = Vector256.Create(a[0]);
            c00 = Fma(x, b0, c00);
            c01 = Fma(x, b1, c01);
            x = Vector256.Create(a[rs]);
            c10 = Fma(x, b0, c10);
            c11 = Fma(x, b1, c11);
            x = Vector256.Create(a[r2]);
            c20 = Fma(x, b0, c20);
            c21 = Fma(x, b1, c21);
            x = Vector256.Create(a[r3]);
            c30 = Fma(x, b0, c30);
            c31 = Fma(x, b1, c31);
            x = Vector256.Create(a[r4]);
            c40 = Fma(x, b0, c40);
            c41 = Fma(x, b1, c41);
            x = Vector256.Create(a[r5]);
            c50 = Fma(x, b0, c50);
            c51 = Fma(x, b1, c51);
            a += ds;
            b += bs;
        }

        Store(c, w, c00, c01, add);
        Store(c + ldc, w, c10, c11, add);
        Store(c + (2 * ldc), w, c20, c21, add);
        Store(c + (3 * ldc), w, c30, c31, add);
        Store(c + (4 * ldc), w, c40, c41, add);
        Store(c + (5 * ldc), w, c50, c51, add);
    }

    /// <summary>
    /// The half-width tile, 6 rows × one Vector512 (16 floats, 8 doubles), for a one-vector remainder with no whole
    /// panel before it to join in <see cref="RunThree{T}"/> (20 columns are this and 4). Operands as in
    /// <see cref="Run{T}"/>; AVX-512 only.
    /// </summary>
    public static void RunHalf<T>(int depth, T* a, nint rs, nint ds, T* b, nint bs, T* c, nint ldc, bool add)
        where T : unmanaged, INumber<T> => RunOne<T, WholeVector>(depth, a, rs, ds, b, bs, c, ldc, add, Vector512<T>.AllBitsSet);

    /// <summary>
    /// The half-width tile for fewer columns than one vector: all of a narrow product's (the book's output layer has
    /// 10) or those past its whole panels (42 = 32 + 10). B is read and C read and written with masked loads and
    /// stores of the first <paramref name="columns"/> lanes, so nothing past them is touched and no copy pads B. It
    /// does the work of 16 columns where the padded panel it replaces did that of 32. Operands as in
    /// <see cref="Run{T}"/>; AVX-512 only.
    /// </summary>
    public static void RunMasked<T>(int depth, T* a, nint rs, nint ds, T* b, nint bs, T* c, nint ldc, bool add, int columns)
        where T : unmanaged, INumber<T>
    {
        var mask = Vector512.LessThan(Vector512<T>.Indices, Vector512.Create(T.CreateTruncating(columns)));
        RunOne<T, PartVector>(depth, a, rs, ds, b, bs, c, ldc, add, mask);
    }

    /// <summary>Whether a one-vector tile covers a whole vector of columns or only the lanes of a mask; a type argument, so each choice compiles to its own loop.</summary>
    private interface ILanes
    {
        static abstract bool Masked { get; }
    }

    private readonly struct WholeVector : ILanes
    {
        public static bool Masked => false;
    }

    private readonly struct PartVector : ILanes
    {
        public static bool Masked => true;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunOne<T, TLanes>(int depth, T* a, nint rs, nint ds, T* b, nint bs, T* c, nint ldc, bool add, Vector512<T> mask)
        where T : unmanaged, INumber<T>
        where TLanes : struct, ILanes
    {
        nint r2 = 2 * rs, r3 = 3 * rs, r4 = 4 * rs, r5 = 5 * rs;
        Vector512<T> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        for (var p = 0; p < depth; p++)
        {
            var v = TLanes.Masked ? LoadMasked(b, mask) : Vector512.Load(b);
            c0 = Fma(Vector512.Create(a[0]), v, c0);
            c1 = Fma(Vector512.Create(a[rs]), v, c1);
            c2 = Fma(Vector512.Create(a[r2]), v, c2);
            c3 = Fma(Vector512.Create(a[r3]), v, c3);
            c4 = Fma(Vector512.Create(a[r4]), v, c4);
            c5 = Fma(Vector512.Create(a[r5]), v, c5);
            a += ds;
            b += bs;
        }

        StoreRow<T, TLanes>(c, c0, add, mask);
        StoreRow<T, TLanes>(c + ldc, c1, add, mask);
        StoreRow<T, TLanes>(c + (2 * ldc), c2, add, mask);
        StoreRow<T, TLanes>(c + (3 * ldc), c3, add, mask);
        StoreRow<T, TLanes>(c + (4 * ldc), c4, add, mask);
        StoreRow<T, TLanes>(c + (5 * ldc), c5, add, mask);
    }

    /// <summary>A one-vector tile's row to C (or added to it): the whole vector, or only the lanes of <paramref name="mask"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<T, TLanes>(T* row, Vector512<T> value, bool add, Vector512<T> mask)
        where T : unmanaged, INumber<T>
        where TLanes : struct, ILanes
    {
        if (TLanes.Masked)
        {
            StoreMasked(row, value, add, mask);
        }
        else
        {
            StoreOne(row, value, add);
        }
    }

    /// <summary>The lanes of <paramref name="mask"/> from <paramref name="from"/>, zeros elsewhere; the lanes outside it are never read.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> LoadMasked<T>(T* from, Vector512<T> mask)
        where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            return Avx512F.MaskLoad((float*)from, mask.AsSingle(), Vector512<float>.Zero).As<float, T>();
        }

        return Avx512F.MaskLoad((double*)from, mask.AsDouble(), Vector512<double>.Zero).As<double, T>();
    }

    /// <summary>Stores (or adds to what is there) the lanes of <paramref name="mask"/>; the memory past them is not touched.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreMasked<T>(T* row, Vector512<T> value, bool add, Vector512<T> mask)
        where T : unmanaged, INumber<T>
    {
        if (add)
        {
            value += LoadMasked(row, mask);
        }

        if (typeof(T) == typeof(float))
        {
            Avx512F.MaskStore((float*)row, mask.AsSingle(), value.AsSingle());
        }
        else
        {
            Avx512F.MaskStore((double*)row, mask.AsDouble(), value.AsDouble());
        }
    }

    /// <summary>
    /// The one-and-a-half-panel tile, 6 rows × three Vector512s (48 floats, 24 doubles), for a last whole panel
    /// together with a one-vector remainder: the 50 columns of the book's hidden layer are this and 2. Eighteen
    /// accumulators take nine loads (three of B, six broadcasts of A) per eighteen FMAs, so it runs at the wide tile's
    /// rate where the one-vector tile alone is bound by its six broadcasts. Operands as in <see cref="Run{T}"/>;
    /// AVX-512 only.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunThree<T>(int depth, T* a, nint rs, nint ds, T* b, nint bs, T* c, nint ldc, bool add)
        where T : unmanaged, INumber<T>
    {
        var w = Vector512<T>.Count;
        nint r2 = 2 * rs, r3 = 3 * rs, r4 = 4 * rs, r5 = 5 * rs;
        Vector512<T> c00 = default, c01 = default, c02 = default, c10 = default, c11 = default, c12 = default;
        Vector512<T> c20 = default, c21 = default, c22 = default, c30 = default, c31 = default, c32 = default;
        Vector512<T> c40 = default, c41 = default, c42 = default, c50 = default, c51 = default, c52 = default;
        for (var p = 0; p < depth; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + w);
            var b2 = Vector512.Load(b + (2 * w));
            var x = Vector512.Create(a[0]);
            c00 = Fma(x, b0, c00);
            c01 = Fma(x, b1, c01);
            c02 = Fma(x, b2, c02);
            x = Vector512.Create(a[rs]);
            c10 = Fma(x, b0, c10);
            c11 = Fma(x, b1, c11);
            c12 = Fma(x, b2, c12);
            x = Vector512.Create(a[r2]);
            c20 = Fma(x, b0, c20);
            c21 = Fma(x, b1, c21);
            c22 = Fma(x, b2, c22);
            x = Vector512.Create(a[r3]);
            c30 = Fma(x, b0, c30);
            c31 = Fma(x, b1, c31);
            c32 = Fma(x, b2, c32);
            x = Vector512.Create(a[r4]);
            c40 = Fma(x, b0, c40);
            c41 = Fma(x, b1, c41);
            c42 = Fma(x, b2, c42);
            x = Vector512.Create(a[r5]);
            c50 = Fma(x, b0, c50);
            c51 = Fma(x, b1, c51);
            c52 = Fma(x, b2, c52);
            a += ds;
            b += bs;
        }

        Store(c, w, c00, c01, add);
        StoreOne(c + (2 * w), c02, add);
        Store(c + ldc, w, c10, c11, add);
        StoreOne(c + ldc + (2 * w), c12, add);
        Store(c + (2 * ldc), w, c20, c21, add);
        StoreOne(c + (2 * ldc) + (2 * w), c22, add);
        Store(c + (3 * ldc), w, c30, c31, add);
        StoreOne(c + (3 * ldc) + (2 * w), c32, add);
        Store(c + (4 * ldc), w, c40, c41, add);
        StoreOne(c + (4 * ldc) + (2 * w), c42, add);
        Store(c + (5 * ldc), w, c50, c51, add);
        StoreOne(c + (5 * ldc) + (2 * w), c52, add);
    }

    /// <summary>
    /// Starts loading the tile's six rows of C (<paramref name="rowBytes"/> each: the lines of a row's first and last
    /// byte, and the one between where a row off a cache line spans three) while the depth loop runs. The loop takes
    /// about 1,500 cycles at depth 256; by its end the rows are in cache, where otherwise its last loads and stores waited
    /// on memory: a 4096² C does not fit in L3, and the hardware follows no pattern in tiles 16 KB apart (4096³ NN 84.7
    /// → 88.7–90.4% of the FMA peak, medians of alternating runs, Zen 5, one thread).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchTile<T>(T* c, nint ldc, int rowBytes)
        where T : unmanaged
    {
        if (!Sse.IsSupported)
        {
            return;
        }

        for (var r = 0; r < Rows; r++)
        {
            var row = (byte*)(c + (r * ldc));
            Sse.Prefetch0(row);
            if (rowBytes > 64)
            {
                Sse.Prefetch0(row + 64);
            }

            Sse.Prefetch0(row + rowBytes - 1);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreOne<T>(T* row, Vector512<T> value, bool add)
        where T : unmanaged, INumber<T>
    {
        if (add)
        {
            value += Vector512.Load(row);
        }

        value.Store(row);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<T>(T* row, int w, Vector512<T> left, Vector512<T> right, bool add)
        where T : unmanaged, INumber<T>
    {
        if (add)
        {
            left += Vector512.Load(row);
            right += Vector512.Load(row + w);
        }

        left.Store(row);
        right.Store(row + w);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<T>(T* row, int w, Vector256<T> left, Vector256<T> right, bool add)
        where T : unmanaged, INumber<T>
    {
        if (add)
        {
            left += Vector256.Load(row);
            right += Vector256.Load(row + w);
        }

        left.Store(row);
        right.Store(row + w);
    }

    /// <summary>x·y + z in one rounding; the type test folds away when the JIT specializes for float or double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<T> Fma<T>(Vector512<T> x, Vector512<T> y, Vector512<T> z)
    {
        if (typeof(T) == typeof(float))
        {
            return Vector512.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), z.AsSingle()).As<float, T>();
        }

        return Vector512.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), z.AsDouble()).As<double, T>();
    }

    /// <summary>The 256-bit twin of <see cref="Fma{T}(Vector512{T}, Vector512{T}, Vector512{T})"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<T> Fma<T>(Vector256<T> x, Vector256<T> y, Vector256<T> z)
    {
        if (typeof(T) == typeof(float))
        {
            return Vector256.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), z.AsSingle()).As<float, T>();
        }

        return Vector256.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), z.AsDouble()).As<double, T>();
    }
}
