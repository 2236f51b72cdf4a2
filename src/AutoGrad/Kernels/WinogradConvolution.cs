using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AutoGrad.Kernels;

/// <summary>
/// The 3×3 stride-1 convolution of <see cref="DirectConvolution"/>'s padded planes by Winograd's minimal filtering
/// F(2×2, 3×3) (Lavin and Gray, 2015), in float32: each 2×2 block of outputs comes from a 4×4 patch of the planes as
/// Y = Aᵀ[Σ_c (G g Gᵀ) ⊙ (Bᵀ d B)]A, 16 multiplications per channel and filter where the direct sum takes 36. The
/// sums over the channels are 16 small products, one per element of the 4×4 transform, run as register-blocked
/// vector FMAs (8 filters × 32 patches); the transforms are additions.
/// </summary>
/// <remarks>
/// <para>
/// The blocks are laid over the planes' computed positions exactly as the direct kernel's outputs are: a pair of
/// rows, 2×2 blocks at every even column, several images side by side; positions between the images are computed and
/// dropped, and each valid output is written once, as a run of one image's row. Sixteen blocks along a row are one
/// vector, the patches' columns de-interleaved from two loads per row; a row's last vector ends at its last block and
/// recomputes the blocks it shares with the one before (the same sums, written again). Vectors go two at a time through
/// the channel sums, from one pair of rows or from two.
/// </para>
/// <para>
/// The sums differ from the direct kernel's in rounding (the transforms add and subtract before multiplying): within
/// a few float32 ulps of the largest output (three in DeepConvNet's layers against float64), which the tests bound.
/// float64, the type for exact checks, keeps the direct sums.
/// </para>
/// </remarks>
internal static unsafe class WinogradConvolution
{
    /// <summary>Filters per register block of the channel sums.</summary>
    private const int FilterBlock = 8;

    /// <summary>Blocks of 2×2 outputs per vector.</summary>
    internal const int Lanes = 16;

    /// <summary>The fewest channels and filters worth the transforms (DeepConvNet's first layer, one channel, keeps the direct sums).</summary>
    private const int MinimumChannels = 8;

    // Even lanes of two vectors, then odd lanes: the de-interleaving of a row's columns into a patch column per vector.
    internal static readonly Vector512<int> s_evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    internal static readonly Vector512<int> s_odds = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);

    // Lane i of the first vector and lane i of the second side by side: the first 16 outputs of a row, then the next.
    private static readonly Vector512<int> s_lowPairs = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    private static readonly Vector512<int> s_highPairs = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);

    /// <summary>
    /// Whether <paramref name="plan"/> runs here: float32 on AVX-512, a 3×3 kernel at stride 1 without dilation, an
    /// even number of output rows, a row of at least one vector of blocks, and at least
    /// <see cref="MinimumChannels"/> channels and filters, the images side by side <see cref="MinimumImageStride"/> or
    /// more columns apart.
    /// </summary>
    public static bool Applies<T>(in DirectPlan<T> plan)
        where T : unmanaged, INumber<T> =>
        typeof(T) == typeof(float) && Avx512F.IsSupported
        && plan.Geometry is { KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1 }
        && plan.OutH > 0 && plan.OutH % 2 == 0 && BlocksPerRow(plan.PaddedW) >= Lanes
        && plan.Channels >= MinimumChannels && plan.Filters >= MinimumChannels && plan.ImageStride >= MinimumImageStride;

    /// <summary>Columns from one image to the next at least: sixteen columns then cover at most <see cref="MaxSegments"/> runs of outputs.</summary>
    private const int MinimumImageStride = 6;

    /// <summary>
    /// output (the plan's images, F, OH, OW) = the convolution of the padded planes by the filters whose transforms
    /// <see cref="TransformFilters"/> wrote, plus <paramref name="bias"/> per filter when there is one;
    /// <paramref name="ahead"/> and <paramref name="outputAhead"/>, the next group's input and output, are prefetched
    /// into L2 meanwhile.
    /// </summary>
    public static void Convolve(
        in DirectPlan<float> plan, ReadOnlySpan<float> padded, ReadOnlySpan<float> transformedFilters, ReadOnlySpan<float> bias, Span<float> output,
        ReadOnlySpan<float> ahead = default, ReadOnlySpan<float> outputAhead = default)
    {
        var blockedFilters = BlockedFilters(plan.Filters);
        if (transformedFilters.Length < TransformedLength(plan.Channels, plan.Filters))
        {
            throw new ArgumentException("The transformed filters do not fit the plan.", nameof(transformedFilters));
        }

        var patches = ArrayPool<float>.Shared.Rent((int)(16 * ElementStride(plan.Channels, 2)) + 16);
        try
        {
            fixed (float* u = transformedFilters, v = patches, x = padded, y = output, b = bias, next = ahead, nextOut = outputAhead)
            {
                // Vector-aligned for the patch stores and loads.
                var aligned = (float*)(((nint)v + 63) & ~(nint)63);
                var vectors = plan.OutH / 2 * ((BlocksPerRow(plan.PaddedW) + Lanes - 1) / Lanes);
                var steps = (vectors + 1) / 2 * (blockedFilters / FilterBlock);
                var prefetch = new PrefetchCursor(next, (nint)ahead.Length * sizeof(float), nextOut, (nint)outputAhead.Length * sizeof(float), steps);
                Rows(plan, x, u, blockedFilters, aligned, b, y, ref prefetch);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(patches);
        }
    }

    /// <summary>
    /// Floats from one element ξν of the transformed patches to the next: the channels' vectors, plus one vector.
    /// Each channel's transform stores its 16 elements a stride apart; without the extra vector that stride is a
    /// multiple of 4 KB at 32 channels and more (64 channels, two vectors: 8 KB), so all 16 stores fall in one set
    /// of the L1 cache (12 ways) and evict each other: 64 channels' patch transform, 16 images of 8×8, took 49 µs
    /// against 20 µs with the extra vector.
    /// </summary>
    private static nint ElementStride(int channels, int vectors) => ((nint)channels * vectors * Lanes) + Lanes;

    /// <summary>Elements of the filters' transforms: 16 per filter and channel, the filters padded to whole register blocks.</summary>
    public static int TransformedLength(int channels, int filters) => 16 * channels * BlockedFilters(filters);

    private static int BlockedFilters(int filters) => (filters + FilterBlock - 1) / FilterBlock * FilterBlock;

    /// <summary>Blocks of 2×2 outputs along a padded row: the columns that can hold an output, Wp − 2, in pairs.</summary>
    internal static int BlocksPerRow(int paddedW) => (paddedW - 2 + 1) / 2;

    /// <summary>
    /// U = G g Gᵀ for every filter and channel, stored [ξν][c][f] with the filters padded to whole register blocks
    /// (zeros), read from the direct kernel's panels (<see cref="DirectPlan{T}.DirectPackedLength"/> elements); once
    /// per call, not per group of images.
    /// </summary>
    public static void TransformFilters(in DirectPlan<float> plan, ReadOnlySpan<float> packed, Span<float> u)
    {
        int channels = plan.Channels, rows = plan.PanelRows, depth = plan.Depth, blockedFilters = BlockedFilters(plan.Filters);
        u = u[..TransformedLength(channels, plan.Filters)];
        if (rows == FilterBlock && packed.Length >= plan.Panels * rows * depth)
        {
            // Eight-row panels hold a register block's filters side by side: one vector per kernel position.
            fixed (float* from = packed, to = u)
            {
                TransformPanels(plan.Panels, channels, depth, blockedFilters, from, to);
            }

            return;
        }

        u.Clear();
        Span<float> g = stackalloc float[9];
        Span<float> t = stackalloc float[12];
        for (var f = 0; f < plan.Filters; f++)
        {
            var panel = packed.Slice(f / rows * rows * depth);
            for (var c = 0; c < channels; c++)
            {
                for (var k = 0; k < 9; k++)
                {
                    g[k] = panel[(((c * 9) + k) * rows) + (f % rows)];
                }

                // G g: four rows from three, column by column.
                for (var j = 0; j < 3; j++)
                {
                    float g0 = g[j], g1 = g[3 + j], g2 = g[6 + j];
                    t[j] = g0;
                    t[3 + j] = 0.5f * (g0 + g1 + g2);
                    t[6 + j] = 0.5f * (g0 - g1 + g2);
                    t[9 + j] = g2;
                }

                // (G g) Gᵀ: four columns from three, row by row.
                for (var i = 0; i < 4; i++)
                {
                    float g0 = t[3 * i], g1 = t[(3 * i) + 1], g2 = t[(3 * i) + 2];
                    u[(((((4 * i) + 0) * channels) + c) * blockedFilters) + f] = g0;
                    u[(((((4 * i) + 1) * channels) + c) * blockedFilters) + f] = 0.5f * (g0 + g1 + g2);
                    u[(((((4 * i) + 2) * channels) + c) * blockedFilters) + f] = 0.5f * (g0 - g1 + g2);
                    u[(((((4 * i) + 3) * channels) + c) * blockedFilters) + f] = g2;
                }
            }
        }
    }

    /// <summary>
    /// <see cref="TransformFilters"/> for panels of eight filters, which are the register blocks: each panel's nine
    /// kernel positions per channel are eight-filter vectors, transformed in vector arithmetic.
    /// </summary>
    private static void TransformPanels(int panels, int channels, int depth, int blockedFilters, float* packed, float* u)
    {
        var half = Vector256.Create(0.5f);
        var stride = (nint)channels * blockedFilters;
        for (var panel = 0; panel < panels; panel++)
        {
            for (var c = 0; c < channels; c++)
            {
                var g = packed + ((nint)panel * FilterBlock * depth) + ((nint)c * 9 * FilterBlock);
                var to = u + ((nint)c * blockedFilters) + (panel * FilterBlock);

                // G g, then (G g) Gᵀ, as in the scalar form, eight filters per vector.
                for (var i = 0; i < 4; i++)
                {
                    Vector256<float> r0, r1, r2;
                    var (a0, a1, a2) = (Vector256.Load(g), Vector256.Load(g + FilterBlock), Vector256.Load(g + (2 * FilterBlock)));
                    var (b0, b1, b2) = (Vector256.Load(g + (3 * FilterBlock)), Vector256.Load(g + (4 * FilterBlock)), Vector256.Load(g + (5 * FilterBlock)));
                    var (c0, c1, c2) = (Vector256.Load(g + (6 * FilterBlock)), Vector256.Load(g + (7 * FilterBlock)), Vector256.Load(g + (8 * FilterBlock)));
                    (r0, r1, r2) = i switch
                    {
                        0 => (a0, a1, a2),
                        1 => (half * (a0 + b0 + c0), half * (a1 + b1 + c1), half * (a2 + b2 + c2)),
                        2 => (half * (a0 - b0 + c0), half * (a1 - b1 + c1), half * (a2 - b2 + c2)),
                        _ => (c0, c1, c2),
                    };

                    var row = to + ((nint)(4 * i) * stride);
                    r0.Store(row);
                    (half * (r0 + r1 + r2)).Store(row + stride);
                    (half * (r0 - r1 + r2)).Store(row + (2 * stride));
                    r2.Store(row + (3 * stride));
                }
            }
        }
    }

    /// <summary>
    /// Every pair of output rows in vectors of sixteen 2×2 blocks (a row's last vector ending at its last block), two
    /// vectors at a time, which may come from two pairs of rows: the channel sums' register block is two vectors wide,
    /// and a row's short rest would otherwise run one vector wide at half the rate.
    /// </summary>
    private static void Rows(in DirectPlan<float> plan, float* x, float* u, int blockedFilters, float* v, float* bias, float* y, ref PrefetchCursor prefetch)
    {
        int blocks = BlocksPerRow(plan.PaddedW), perRow = (blocks + Lanes - 1) / Lanes, jobs = plan.OutH / 2 * perRow;
        var sums = stackalloc Vector512<float>[16 * FilterBlock * 2];
        var origins = stackalloc float*[2];
        var rows = stackalloc int[2];
        var segments = stackalloc Segment[2 * 2 * MaxSegments];
        var counts = stackalloc int[2 * 2];
        for (var job = 0; job < jobs; job += 2)
        {
            var vectors = Math.Min(2, jobs - job);
            for (var h = 0; h < vectors; h++)
            {
                int pair = (job + h) / perRow, start = Math.Min((job + h) % perRow * Lanes, blocks - Lanes);
                origins[h] = x + ((nint)2 * pair * plan.PaddedW) + (2 * start);
                rows[h] = 2 * pair;
                counts[2 * h] = FindSegments(plan, 2 * start, segments + (2 * h * MaxSegments));
                counts[(2 * h) + 1] = FindSegments(plan, (2 * start) + Lanes, segments + (((2 * h) + 1) * MaxSegments));
            }

            TransformPatches(plan, origins, vectors, v);
            for (var f0 = 0; f0 < plan.Filters; f0 += FilterBlock)
            {
                if (vectors == 2)
                {
                    SumChannels2(plan.Channels, u + f0, blockedFilters, v, sums);
                }
                else
                {
                    SumChannels1(plan.Channels, u + f0, blockedFilters, v, sums);
                }

                prefetch.Step();
                TransformOutputs(plan, sums, vectors, Math.Min(FilterBlock, plan.Filters - f0), f0, bias == null ? null : bias + f0, rows, segments, counts, y);
            }
        }
    }

    /// <summary>
    /// V = Bᵀ d B for one or two vectors of patches in every channel, vector h's patches starting at
    /// <paramref name="origins"/>[h] (its pair's first row, its first block's column) two columns apart; stored
    /// [ξν][c][vector], the elements <see cref="ElementStride"/> apart.
    /// </summary>
    private static void TransformPatches(in DirectPlan<float> plan, float** origins, int vectors, float* v)
    {
        var stride = ElementStride(plan.Channels, vectors);
        for (var h = 0; h < vectors; h++)
        {
            TransformPatch(plan, origins[h], v + ((nint)h * Lanes), stride, vectors * Lanes);
        }
    }

    /// <summary>
    /// V = Bᵀ d B for one vector of patches from <paramref name="origin"/> (channel 0's plane) in every channel:
    /// element ξν of channel c goes to <paramref name="to"/>[ξν·<paramref name="elementStride"/> + c·<paramref name="channelStride"/>].
    /// </summary>
    internal static void TransformPatch(in DirectPlan<float> plan, float* origin, float* to, nint elementStride, nint channelStride)
    {
        var wp = plan.PaddedW;
        for (var c = 0; c < plan.Channels; c++)
        {
            var at = origin + ((nint)c * plan.PlaneSize);
            Column(at, out var d00, out var d01, out var d02, out var d03);
            Column(at + wp, out var d10, out var d11, out var d12, out var d13);
            Column(at + (2 * wp), out var d20, out var d21, out var d22, out var d23);
            Column(at + (3 * wp), out var d30, out var d31, out var d32, out var d33);

            // Bᵀ d: rows 0 − 2, 1 + 2, 2 − 1, 1 − 3.
            Vector512<float> t00 = d00 - d20, t01 = d01 - d21, t02 = d02 - d22, t03 = d03 - d23;
            Vector512<float> t10 = d10 + d20, t11 = d11 + d21, t12 = d12 + d22, t13 = d13 + d23;
            Vector512<float> t20 = d20 - d10, t21 = d21 - d11, t22 = d22 - d12, t23 = d23 - d13;
            Vector512<float> t30 = d10 - d30, t31 = d11 - d31, t32 = d12 - d32, t33 = d13 - d33;

            // (Bᵀ d) B: the same on the columns.
            var channel = to + ((nint)c * channelStride);
            Row(channel, elementStride, 0, t00, t01, t02, t03);
            Row(channel, elementStride, 4, t10, t11, t12, t13);
            Row(channel, elementStride, 8, t20, t21, t22, t23);
            Row(channel, elementStride, 12, t30, t31, t32, t33);
        }
    }

    /// <summary>A patch row's four columns for sixteen blocks: columns 2b … 2b + 3 of a row, b = 0 … 15.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Column(float* row, out Vector512<float> c0, out Vector512<float> c1, out Vector512<float> c2, out Vector512<float> c3)
    {
        Vector512<float> a = Vector512.Load(row), b = Vector512.Load(row + Lanes), a2 = Vector512.Load(row + 2), b2 = Vector512.Load(row + Lanes + 2);
        c0 = Avx512F.PermuteVar16x32x2(a, s_evens, b);
        c1 = Avx512F.PermuteVar16x32x2(a, s_odds, b);
        c2 = Avx512F.PermuteVar16x32x2(a2, s_evens, b2);
        c3 = Avx512F.PermuteVar16x32x2(a2, s_odds, b2);
    }

    /// <summary>Stores one row of V, elements ξν = first … first + 3: columns 0 − 2, 1 + 2, 2 − 1, 1 − 3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row(float* to, nint stride, int first, Vector512<float> t0, Vector512<float> t1, Vector512<float> t2, Vector512<float> t3)
    {
        (t0 - t2).Store(to + (first * stride));
        (t1 + t2).Store(to + ((first + 1) * stride));
        (t2 - t1).Store(to + ((first + 2) * stride));
        (t1 - t3).Store(to + ((first + 3) * stride));
    }

    /// <summary>
    /// M[ξν][f][vector] = Σ_c U[ξν][c][f]·V[ξν][c][vector] for eight filters and two vectors of blocks, V's elements
    /// <see cref="ElementStride"/> apart.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SumChannels2(int channels, float* u, int blockedFilters, float* v, Vector512<float>* sums)
    {
        for (var e = 0; e < 16; e++)
        {
            var ue = u + ((nint)e * channels * blockedFilters);
            var ve = v + (e * ElementStride(channels, 2));
            Vector512<float> s00 = default, s01 = default, s10 = default, s11 = default, s20 = default, s21 = default, s30 = default, s31 = default;
            Vector512<float> s40 = default, s41 = default, s50 = default, s51 = default, s60 = default, s61 = default, s70 = default, s71 = default;
            for (var c = 0; c < channels; c++)
            {
                var w = ue + ((nint)c * blockedFilters);
                var p = ve + ((nint)c * 2 * Lanes);
                Vector512<float> v0 = Vector512.Load(p), v1 = Vector512.Load(p + Lanes);
                var k = Vector512.Create(w[0]);
                s00 = GemmMicroKernel.Fma(k, v0, s00);
                s01 = GemmMicroKernel.Fma(k, v1, s01);
                k = Vector512.Create(w[1]);
                s10 = GemmMicroKernel.Fma(k, v0, s10);
                s11 = GemmMicroKernel.Fma(k, v1, s11);
                k = Vector512.Create(w[2]);
                s20 = GemmMicroKernel.Fma(k, v0, s20);
                s21 = GemmMicroKernel.Fma(k, v1, s21);
                k = Vector512.Create(w[3]);
                s30 = GemmMicroKernel.Fma(k, v0, s30);
                s31 = GemmMicroKernel.Fma(k, v1, s31);
                k = Vector512.Create(w[4]);
                s40 = GemmMicroKernel.Fma(k, v0, s40);
                s41 = GemmMicroKernel.Fma(k, v1, s41);
                k = Vector512.Create(w[5]);
                s50 = GemmMicroKernel.Fma(k, v0, s50);
                s51 = GemmMicroKernel.Fma(k, v1, s51);
                k = Vector512.Create(w[6]);
                s60 = GemmMicroKernel.Fma(k, v0, s60);
                s61 = GemmMicroKernel.Fma(k, v1, s61);
                k = Vector512.Create(w[7]);
                s70 = GemmMicroKernel.Fma(k, v0, s70);
                s71 = GemmMicroKernel.Fma(k, v1, s71);
            }

            var to = sums + (e * FilterBlock * 2);
            to[0] = s00;
            to[1] = s01;
            to[2] = s10;
            to[3] = s11;
            to[4] = s20;
            to[5] = s21;
            to[6] = s30;
            to[7] = s31;
            to[8] = s40;
            to[9] = s41;
            to[10] = s50;
            to[11] = s51;
            to[12] = s60;
            to[13] = s61;
            to[14] = s70;
            to[15] = s71;
        }
    }

    /// <summary><see cref="SumChannels2"/> for one vector of blocks; the same layout, the second vector's slots unused.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SumChannels1(int channels, float* u, int blockedFilters, float* v, Vector512<float>* sums)
    {
        for (var e = 0; e < 16; e++)
        {
            var ue = u + ((nint)e * channels * blockedFilters);
            var ve = v + (e * ElementStride(channels, 1));
            Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
            for (var c = 0; c < channels; c++)
            {
                var w = ue + ((nint)c * blockedFilters);
                var v0 = Vector512.Load(ve + ((nint)c * Lanes));
                s0 = GemmMicroKernel.Fma(Vector512.Create(w[0]), v0, s0);
                s1 = GemmMicroKernel.Fma(Vector512.Create(w[1]), v0, s1);
                s2 = GemmMicroKernel.Fma(Vector512.Create(w[2]), v0, s2);
                s3 = GemmMicroKernel.Fma(Vector512.Create(w[3]), v0, s3);
                s4 = GemmMicroKernel.Fma(Vector512.Create(w[4]), v0, s4);
                s5 = GemmMicroKernel.Fma(Vector512.Create(w[5]), v0, s5);
                s6 = GemmMicroKernel.Fma(Vector512.Create(w[6]), v0, s6);
                s7 = GemmMicroKernel.Fma(Vector512.Create(w[7]), v0, s7);
            }

            var to = sums + (e * FilterBlock * 2);
            to[0] = s0;
            to[2] = s1;
            to[4] = s2;
            to[6] = s3;
            to[8] = s4;
            to[10] = s5;
            to[12] = s6;
            to[14] = s7;
        }
    }

    /// <summary>The most runs of one image's row among sixteen computed columns, with images <see cref="MinimumImageStride"/> or more apart.</summary>
    private const int MaxSegments = 4;

    /// <summary>
    /// Y = Aᵀ M A for <paramref name="count"/> filters from <paramref name="firstFilter"/>: per vector, each filter's two
    /// output rows of 32 columns, the bias added where there is one, written straight to the output by the segments of
    /// each 16 columns (<see cref="FindSegments"/>).
    /// </summary>
    private static void TransformOutputs(
        in DirectPlan<float> plan, Vector512<float>* sums, int vectors, int count, int firstFilter, float* bias, int* rows, Segment* segments, int* counts, float* y)
    {
        int ow = plan.OutW, planeOut = plan.OutH * ow;
        for (var f = 0; f < count; f++)
        {
            var filterOut = y + ((nint)(firstFilter + f) * planeOut);
            for (var h = 0; h < vectors; h++)
            {
                // Element e of this filter and vector is sums[e·16 + f·2 + h].
                var m = sums + (f * 2) + h;
                const int E = FilterBlock * 2;
                Vector512<float> m0 = m[0], m1 = m[E], m2 = m[2 * E], m3 = m[3 * E], m4 = m[4 * E], m5 = m[5 * E], m6 = m[6 * E], m7 = m[7 * E];
                Vector512<float> m8 = m[8 * E], m9 = m[9 * E], m10 = m[10 * E], m11 = m[11 * E], m12 = m[12 * E], m13 = m[13 * E], m14 = m[14 * E], m15 = m[15 * E];

                // Aᵀ M: rows 0 + 1 + 2 and 1 − 2 − 3.
                Vector512<float> o00 = m0 + m4 + m8, o01 = m1 + m5 + m9, o02 = m2 + m6 + m10, o03 = m3 + m7 + m11;
                Vector512<float> o10 = m4 - m8 - m12, o11 = m5 - m9 - m13, o12 = m6 - m10 - m14, o13 = m7 - m11 - m15;

                // (Aᵀ M) A: the same on the columns.
                Vector512<float> y00 = o00 + o01 + o02, y01 = o01 - o02 - o03, y10 = o10 + o11 + o12, y11 = o11 - o12 - o13;
                if (bias != null)
                {
                    var b = Vector512.Create(bias[f]);
                    (y00, y01, y10, y11) = (y00 + b, y01 + b, y10 + b, y11 + b);
                }

                var top = filterOut + ((nint)rows[h] * ow);
                var bottom = top + ow;
                Segment* low = segments + (2 * h * MaxSegments), high = low + MaxSegments;
                int lowCount = counts[2 * h], highCount = counts[(2 * h) + 1];
                Write(Avx512F.PermuteVar16x32x2(y00, s_lowPairs, y01), top, low, lowCount);
                Write(Avx512F.PermuteVar16x32x2(y00, s_highPairs, y01), top, high, highCount);
                Write(Avx512F.PermuteVar16x32x2(y10, s_lowPairs, y11), bottom, low, lowCount);
                Write(Avx512F.PermuteVar16x32x2(y10, s_highPairs, y11), bottom, high, highCount);
            }
        }
    }

    /// <summary>Sixteen computed columns' lanes that are outputs of one image's row: lane 0's output offset (image and column; filter 0, row 0) and a mask.</summary>
    private struct Segment
    {
        public int Offset;

        public Vector512<float> Mask;

        public bool Whole;
    }

    /// <summary>The segments of computed columns <paramref name="first"/> … first + 15 of a row (as <see cref="DirectPlan{T}.FillSegments"/> finds them).</summary>
    private static int FindSegments(in DirectPlan<float> plan, int first, Segment* segments)
    {
        var count = 0;
        for (var lane = 0; lane < Lanes;)
        {
            int column = first + lane, image = column / plan.ImageStride, x = column - (image * plan.ImageStride);
            if (image >= plan.Images || x >= plan.OutW)
            {
                lane++;
                continue;
            }

            var run = Math.Min(plan.OutW - x, Lanes - lane);
            segments[count++] = new Segment
            {
                Offset = (image * plan.OutputSize) + x - lane,
                Mask = (Vector512.GreaterThanOrEqual(Vector512<int>.Indices, Vector512.Create(lane)) & Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(lane + run))).AsSingle(),
                Whole = run == Lanes,
            };
            lane += run;
        }

        return count;
    }

    /// <summary>Writes a vector of one row's computed columns through its segments.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Write(Vector512<float> values, float* row, Segment* segments, int count)
    {
        for (var k = 0; k < count; k++)
        {
            if (segments[k].Whole)
            {
                values.Store(row + segments[k].Offset);
            }
            else
            {
                Avx512F.MaskStore(row + segments[k].Offset, segments[k].Mask, values);
            }
        }
    }
}
