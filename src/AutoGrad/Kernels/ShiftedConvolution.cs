using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AutoGrad.Kernels;

/// <summary>
/// One image's stride-1 convolution read straight from <see cref="ShiftedRows"/>' copies: y (F × P) = W (F × D) · B + b,
/// where B's row p, the columns' row of kernel position p, is the run of P elements of the copies at offsets[p]. Where
/// im2col and a GEMM write the D × P columns and then copy them again into the GEMM's panels, this writes the copies
/// (a kh-th of the columns) and reads B in place, in tiles of 6 filters × 2 vectors of positions whose sums start from
/// the bias and go to y once. For kernels the direct path drops too many positions for (SimpleConvNet's 5×5 layer).
/// </summary>
internal static unsafe class ShiftedConvolution
{
    /// <summary>Filters per tile.</summary>
    private const int Rows = 6;

    /// <summary>The deepest sum: one pointer per kernel position lives on the stack (a 64-channel 5×5 kernel has 1,600).</summary>
    public const int MaxDepth = 2048;

    /// <summary>
    /// The deepest sum for which a convolution should come here rather than to im2col and the GEMM: 100 images, forward,
    /// one thread, 1 → 30 channels 5×5 on 28×28 (depth 25) 1.2–1.6 → 0.6–0.8 ms and 8 → 8 3×3 on 7×7 0.55 → 0.12–0.17 ms,
    /// while 64 → 64 3×3 on 6×6 (depth 576, 36 positions, a last tile mostly empty) was no faster.
    /// </summary>
    public const int WorthwhileDepth = 256;

    /// <summary>Whether the kernel runs here (it needs 512-bit vectors).</summary>
    public static bool IsSupported => Vector512.IsHardwareAccelerated;

    /// <summary>
    /// Elements the copies need past their end: a tile's last vector may read up to two vectors beyond a row's P
    /// elements, which the caller's buffer must hold (their products land in lanes that are never stored).
    /// </summary>
    public static int Slack<T>()
        where T : unmanaged => 2 * Vector512<T>.Count;

    /// <summary>
    /// y[f·P + q] = bias[f] (0 without one) + Σ_p weights[f·D + p] · copies[offsets[p] + q] for f &lt; filters and
    /// q &lt; positions; <paramref name="copies"/> holds <see cref="Slack{T}"/> elements past the furthest row.
    /// </summary>
    public static void Run<T>(int filters, int depth, int positions, ReadOnlySpan<T> weights, ReadOnlySpan<T> copies, ReadOnlySpan<int> offsets, ReadOnlySpan<T> bias, Span<T> y)
        where T : unmanaged, INumber<T>
    {
        if (weights.Length < filters * depth || offsets.Length < depth || y.Length < filters * positions || (!bias.IsEmpty && bias.Length < filters))
        {
            throw new ArgumentException($"ShiftedConvolution.Run: operands too short for {filters} filters, depth {depth}, {positions} positions.");
        }

        for (var p = 0; p < depth; p++)
        {
            if (offsets[p] < 0 || offsets[p] > copies.Length - positions - Slack<T>())
            {
                throw new ArgumentException($"ShiftedConvolution.Run: row {p} at {offsets[p]} runs past the copies' {copies.Length} elements.", nameof(offsets));
            }
        }

        if (depth > MaxDepth)
        {
            throw new ArgumentException($"ShiftedConvolution.Run: depth {depth} is past {MaxDepth}.", nameof(depth));
        }

        var width = 2 * Vector512<T>.Count;
        var tile = stackalloc Vector512<T>[2 * Rows];
        var rows = stackalloc T*[depth];
        var weightRows = stackalloc T*[Rows];
        var starts = stackalloc T[Rows];
        fixed (T* w = weights, source = copies, b = bias, output = y)
        {
            for (var p = 0; p < depth; p++)
            {
                rows[p] = source + offsets[p];
            }

            for (var f = 0; f < filters; f += Rows)
            {
                // Rows past the last filter repeat it; their sums are never stored.
                for (var r = 0; r < Rows; r++)
                {
                    var filter = Math.Min(f + r, filters - 1);
                    weightRows[r] = w + ((nint)filter * depth);
                    starts[r] = b is null ? T.Zero : b[filter];
                }

                var valid = Math.Min(Rows, filters - f);
                for (var q = 0; q < positions; q += width)
                {
                    var count = Math.Min(width, positions - q);
                    var target = output + ((nint)f * positions) + q;

                    // Whole tiles of six filters go from the registers to y; a last filter tile or position block
                    // narrower than the tile goes through a buffer and only its part is copied out.
                    if (count == width && valid == Rows)
                    {
                        Tile(depth, rows, q, weightRows, starts, (Vector512<T>*)target, positions);
                        continue;
                    }

                    Tile(depth, rows, q, weightRows, starts, tile, 2 * Vector512<T>.Count);
                    for (var r = 0; r < valid; r++)
                    {
                        new ReadOnlySpan<T>((T*)tile + (r * width), count).CopyTo(new Span<T>(target + ((nint)r * positions), count));
                    }
                }
            }
        }
    }

    /// <summary>
    /// The 6 × 2-vector tile at positions q … q + 2·lanes − 1, its twelve sums in registers over the depth, stored to
    /// six rows <paramref name="stride"/> elements apart from <paramref name="target"/> on.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<T>(int depth, T** rows, int q, T** weightRows, T* starts, Vector512<T>* target, nint stride)
        where T : unmanaged, INumber<T>
    {
        var lanes = Vector512<T>.Count;
        T* w0 = weightRows[0], w1 = weightRows[1], w2 = weightRows[2], w3 = weightRows[3], w4 = weightRows[4], w5 = weightRows[5];
        Vector512<T> c00 = Vector512.Create(starts[0]), c10 = Vector512.Create(starts[1]), c20 = Vector512.Create(starts[2]);
        Vector512<T> c30 = Vector512.Create(starts[3]), c40 = Vector512.Create(starts[4]), c50 = Vector512.Create(starts[5]);
        Vector512<T> c01 = c00, c11 = c10, c21 = c20, c31 = c30, c41 = c40, c51 = c50;
        for (var p = 0; p < depth; p++)
        {
            var row = rows[p] + q;
            var b0 = Vector512.Load(row);
            var b1 = Vector512.Load(row + lanes);
            var x = Vector512.Create(w0[p]);
            c00 = GemmMicroKernel.Fma(x, b0, c00);
            c01 = GemmMicroKernel.Fma(x, b1, c01);
            x = Vector512.Create(w1[p]);
            c10 = GemmMicroKernel.Fma(x, b0, c10);
            c11 = GemmMicroKernel.Fma(x, b1, c11);
            x = Vector512.Create(w2[p]);
            c20 = GemmMicroKernel.Fma(x, b0, c20);
            c21 = GemmMicroKernel.Fma(x, b1, c21);
            x = Vector512.Create(w3[p]);
            c30 = GemmMicroKernel.Fma(x, b0, c30);
            c31 = GemmMicroKernel.Fma(x, b1, c31);
            x = Vector512.Create(w4[p]);
            c40 = GemmMicroKernel.Fma(x, b0, c40);
            c41 = GemmMicroKernel.Fma(x, b1, c41);
            x = Vector512.Create(w5[p]);
            c50 = GemmMicroKernel.Fma(x, b0, c50);
            c51 = GemmMicroKernel.Fma(x, b1, c51);
        }

        var t = (T*)target;
        c00.Store(t);
        c01.Store(t + lanes);
        c10.Store(t + stride);
        c11.Store(t + stride + lanes);
        c20.Store(t + (2 * stride));
        c21.Store(t + (2 * stride) + lanes);
        c30.Store(t + (3 * stride));
        c31.Store(t + (3 * stride) + lanes);
        c40.Store(t + (4 * stride));
        c41.Store(t + (4 * stride) + lanes);
        c50.Store(t + (5 * stride));
        c51.Store(t + (5 * stride) + lanes);
    }
}
