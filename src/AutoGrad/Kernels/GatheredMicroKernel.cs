using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AutoGrad.Kernels;

/// <summary>
/// The register-blocked kernels of <see cref="DirectConvolution"/>: <see cref="GemmMicroKernel"/>'s 6-row tiles, whose
/// B operand is not a panel but one base pointer read at a different offset per depth step (the padded image under
/// each kernel position). A is a packed panel, six values per step; C is stored, not accumulated. AVX-512 only.
/// </summary>
internal static unsafe class GatheredMicroKernel
{
    /// <summary>Rows of a tile (filters per packed panel).</summary>
    public const int Rows = 6;

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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<T>(T* row, int w, Vector512<T> left, Vector512<T> right)
        where T : unmanaged
    {
        left.Store(row);
        right.Store(row + w);
    }
}
