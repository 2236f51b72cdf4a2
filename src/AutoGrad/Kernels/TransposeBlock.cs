using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AutoGrad.Kernels;

/// <summary>
/// A square block of one 512-bit vector a row transposed in registers, for packing a transposed B: 16×16 floats
/// (sixteen loads, 64 shuffles, sixteen stores for 256 elements) or 8×8 doubles (eight loads, 24 shuffles, eight
/// stores). Copied element by element instead, each store lands a panel row (128 bytes) past the last, about three
/// cycles per element: 0.76 ms of a 100×1000·(1000×1000)ᵀ float32 product.
/// </summary>
internal static unsafe class TransposeBlock
{
    /// <summary>True when <see cref="Square{T}"/> can run here.</summary>
    public static bool IsSupported => Avx512F.IsSupported;

    /// <summary>Rows (and columns) of the block for <typeparamref name="T"/>: one 512-bit vector, 16 floats or 8 doubles.</summary>
    /// <typeparam name="T">float or double.</typeparam>
    /// <returns>16 or 8.</returns>
    public static int Side<T>()
        where T : unmanaged => 64 / sizeof(T);

    /// <summary>dst[q·dstStride + i] = src[i·srcStride + q] for i, q below <see cref="Side{T}"/>.</summary>
    /// <typeparam name="T">float or double.</typeparam>
    /// <param name="src">Row 0 of the block; rows are <paramref name="srcStride"/> elements apart.</param>
    /// <param name="srcStride">The source row stride.</param>
    /// <param name="dst">Row 0 of the transposed block; rows are <paramref name="dstStride"/> elements apart.</param>
    /// <param name="dstStride">The destination row stride.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Square<T>(T* src, nint srcStride, T* dst, nint dstStride)
        where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            Float16((float*)src, srcStride, (float*)dst, dstStride);
        }
        else if (typeof(T) == typeof(double))
        {
            Double8((double*)src, srcStride, (double*)dst, dstStride);
        }
        else
        {
            throw new NotSupportedException($"TransposeBlock: no {typeof(T).Name} block.");
        }
    }

    /// <summary>dst[q·dstStride + i] = src[i·srcStride + q] for i, q in 0 … 7.</summary>
    /// <param name="src">Row 0 of the block; rows are <paramref name="srcStride"/> doubles apart.</param>
    /// <param name="srcStride">The source row stride.</param>
    /// <param name="dst">Row 0 of the transposed block; rows are <paramref name="dstStride"/> doubles apart.</param>
    /// <param name="dstStride">The destination row stride.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Double8(double* src, nint srcStride, double* dst, nint dstStride)
    {
        // Stage 1: interleave pairs of rows (each 128-bit lane: a0 b0 | a2 b2 | a4 b4 | a6 b6, and the odd columns).
        var r0 = Vector512.Load(src);
        var r1 = Vector512.Load(src + srcStride);
        var r2 = Vector512.Load(src + (2 * srcStride));
        var r3 = Vector512.Load(src + (3 * srcStride));
        var r4 = Vector512.Load(src + (4 * srcStride));
        var r5 = Vector512.Load(src + (5 * srcStride));
        var r6 = Vector512.Load(src + (6 * srcStride));
        var r7 = Vector512.Load(src + (7 * srcStride));
        var t0 = Avx512F.UnpackLow(r0, r1);
        var t1 = Avx512F.UnpackHigh(r0, r1);
        var t2 = Avx512F.UnpackLow(r2, r3);
        var t3 = Avx512F.UnpackHigh(r2, r3);
        var t4 = Avx512F.UnpackLow(r4, r5);
        var t5 = Avx512F.UnpackHigh(r4, r5);
        var t6 = Avx512F.UnpackLow(r6, r7);
        var t7 = Avx512F.UnpackHigh(r6, r7);

        // Stage 2: lanes 0 and 2 (columns 0 and 4, or 1 and 5) or 1 and 3 (columns 2 and 6, 3 and 7) of two row pairs.
        r0 = Avx512F.Shuffle4x128(t0, t2, 0x88);
        r2 = Avx512F.Shuffle4x128(t0, t2, 0xDD);
        r1 = Avx512F.Shuffle4x128(t1, t3, 0x88);
        r3 = Avx512F.Shuffle4x128(t1, t3, 0xDD);
        r4 = Avx512F.Shuffle4x128(t4, t6, 0x88);
        r6 = Avx512F.Shuffle4x128(t4, t6, 0xDD);
        r5 = Avx512F.Shuffle4x128(t5, t7, 0x88);
        r7 = Avx512F.Shuffle4x128(t5, t7, 0xDD);

        // Stage 3: the even lanes of the top and bottom halves give columns 0 … 3, the odd lanes columns 4 … 7.
        Avx512F.Shuffle4x128(r0, r4, 0x88).Store(dst);
        Avx512F.Shuffle4x128(r1, r5, 0x88).Store(dst + dstStride);
        Avx512F.Shuffle4x128(r2, r6, 0x88).Store(dst + (2 * dstStride));
        Avx512F.Shuffle4x128(r3, r7, 0x88).Store(dst + (3 * dstStride));
        Avx512F.Shuffle4x128(r0, r4, 0xDD).Store(dst + (4 * dstStride));
        Avx512F.Shuffle4x128(r1, r5, 0xDD).Store(dst + (5 * dstStride));
        Avx512F.Shuffle4x128(r2, r6, 0xDD).Store(dst + (6 * dstStride));
        Avx512F.Shuffle4x128(r3, r7, 0xDD).Store(dst + (7 * dstStride));
    }

    /// <summary>dst[q·dstStride + i] = src[i·srcStride + q] for i, q in 0 … 15.</summary>
    /// <param name="src">Row 0 of the block; rows are <paramref name="srcStride"/> floats apart.</param>
    /// <param name="srcStride">The source row stride.</param>
    /// <param name="dst">Row 0 of the transposed block; rows are <paramref name="dstStride"/> floats apart.</param>
    /// <param name="dstStride">The destination row stride.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Float16(float* src, nint srcStride, float* dst, nint dstStride)
    {
        // Stage 1: interleave pairs of rows (within each 128-bit lane: a0 b0 a1 b1 | a2 b2 a3 b3).
        var r0 = Vector512.Load(src);
        var r1 = Vector512.Load(src + srcStride);
        var r2 = Vector512.Load(src + (2 * srcStride));
        var r3 = Vector512.Load(src + (3 * srcStride));
        var r4 = Vector512.Load(src + (4 * srcStride));
        var r5 = Vector512.Load(src + (5 * srcStride));
        var r6 = Vector512.Load(src + (6 * srcStride));
        var r7 = Vector512.Load(src + (7 * srcStride));
        var r8 = Vector512.Load(src + (8 * srcStride));
        var r9 = Vector512.Load(src + (9 * srcStride));
        var r10 = Vector512.Load(src + (10 * srcStride));
        var r11 = Vector512.Load(src + (11 * srcStride));
        var r12 = Vector512.Load(src + (12 * srcStride));
        var r13 = Vector512.Load(src + (13 * srcStride));
        var r14 = Vector512.Load(src + (14 * srcStride));
        var r15 = Vector512.Load(src + (15 * srcStride));
        var t0 = Avx512F.UnpackLow(r0, r1);
        var t1 = Avx512F.UnpackHigh(r0, r1);
        var t2 = Avx512F.UnpackLow(r2, r3);
        var t3 = Avx512F.UnpackHigh(r2, r3);
        var t4 = Avx512F.UnpackLow(r4, r5);
        var t5 = Avx512F.UnpackHigh(r4, r5);
        var t6 = Avx512F.UnpackLow(r6, r7);
        var t7 = Avx512F.UnpackHigh(r6, r7);
        var t8 = Avx512F.UnpackLow(r8, r9);
        var t9 = Avx512F.UnpackHigh(r8, r9);
        var t10 = Avx512F.UnpackLow(r10, r11);
        var t11 = Avx512F.UnpackHigh(r10, r11);
        var t12 = Avx512F.UnpackLow(r12, r13);
        var t13 = Avx512F.UnpackHigh(r12, r13);
        var t14 = Avx512F.UnpackLow(r14, r15);
        var t15 = Avx512F.UnpackHigh(r14, r15);

        // Stage 2: pairs of pairs, so each 128-bit lane holds one column of four rows.
        r0 = Avx512F.Shuffle(t0, t2, 0x44);
        r1 = Avx512F.Shuffle(t0, t2, 0xEE);
        r2 = Avx512F.Shuffle(t1, t3, 0x44);
        r3 = Avx512F.Shuffle(t1, t3, 0xEE);
        r4 = Avx512F.Shuffle(t4, t6, 0x44);
        r5 = Avx512F.Shuffle(t4, t6, 0xEE);
        r6 = Avx512F.Shuffle(t5, t7, 0x44);
        r7 = Avx512F.Shuffle(t5, t7, 0xEE);
        r8 = Avx512F.Shuffle(t8, t10, 0x44);
        r9 = Avx512F.Shuffle(t8, t10, 0xEE);
        r10 = Avx512F.Shuffle(t9, t11, 0x44);
        r11 = Avx512F.Shuffle(t9, t11, 0xEE);
        r12 = Avx512F.Shuffle(t12, t14, 0x44);
        r13 = Avx512F.Shuffle(t12, t14, 0xEE);
        r14 = Avx512F.Shuffle(t13, t15, 0x44);
        r15 = Avx512F.Shuffle(t13, t15, 0xEE);

        // Stages 3 and 4: move the 128-bit lanes so lane L of output row q comes from rows 4L … 4L+3.
        t0 = Avx512F.Shuffle4x128(r0, r4, 0x88);
        t1 = Avx512F.Shuffle4x128(r1, r5, 0x88);
        t2 = Avx512F.Shuffle4x128(r2, r6, 0x88);
        t3 = Avx512F.Shuffle4x128(r3, r7, 0x88);
        t4 = Avx512F.Shuffle4x128(r0, r4, 0xDD);
        t5 = Avx512F.Shuffle4x128(r1, r5, 0xDD);
        t6 = Avx512F.Shuffle4x128(r2, r6, 0xDD);
        t7 = Avx512F.Shuffle4x128(r3, r7, 0xDD);
        t8 = Avx512F.Shuffle4x128(r8, r12, 0x88);
        t9 = Avx512F.Shuffle4x128(r9, r13, 0x88);
        t10 = Avx512F.Shuffle4x128(r10, r14, 0x88);
        t11 = Avx512F.Shuffle4x128(r11, r15, 0x88);
        t12 = Avx512F.Shuffle4x128(r8, r12, 0xDD);
        t13 = Avx512F.Shuffle4x128(r9, r13, 0xDD);
        t14 = Avx512F.Shuffle4x128(r10, r14, 0xDD);
        t15 = Avx512F.Shuffle4x128(r11, r15, 0xDD);
        Avx512F.Shuffle4x128(t0, t8, 0x88).Store(dst);
        Avx512F.Shuffle4x128(t1, t9, 0x88).Store(dst + dstStride);
        Avx512F.Shuffle4x128(t2, t10, 0x88).Store(dst + (2 * dstStride));
        Avx512F.Shuffle4x128(t3, t11, 0x88).Store(dst + (3 * dstStride));
        Avx512F.Shuffle4x128(t4, t12, 0x88).Store(dst + (4 * dstStride));
        Avx512F.Shuffle4x128(t5, t13, 0x88).Store(dst + (5 * dstStride));
        Avx512F.Shuffle4x128(t6, t14, 0x88).Store(dst + (6 * dstStride));
        Avx512F.Shuffle4x128(t7, t15, 0x88).Store(dst + (7 * dstStride));
        Avx512F.Shuffle4x128(t0, t8, 0xDD).Store(dst + (8 * dstStride));
        Avx512F.Shuffle4x128(t1, t9, 0xDD).Store(dst + (9 * dstStride));
        Avx512F.Shuffle4x128(t2, t10, 0xDD).Store(dst + (10 * dstStride));
        Avx512F.Shuffle4x128(t3, t11, 0xDD).Store(dst + (11 * dstStride));
        Avx512F.Shuffle4x128(t4, t12, 0xDD).Store(dst + (12 * dstStride));
        Avx512F.Shuffle4x128(t5, t13, 0xDD).Store(dst + (13 * dstStride));
        Avx512F.Shuffle4x128(t6, t14, 0xDD).Store(dst + (14 * dstStride));
        Avx512F.Shuffle4x128(t7, t15, 0xDD).Store(dst + (15 * dstStride));
    }
}
