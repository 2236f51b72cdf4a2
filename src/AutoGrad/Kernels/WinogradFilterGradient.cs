using System.Buffers;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AutoGrad.Kernels;

/// <summary>
/// The filter gradient of a <see cref="WinogradConvolution"/> plan in the same transform: with Y = Aᵀ[U ⊙ V]A and
/// U = G g Gᵀ, ∂L/∂U = (A Ȳ Aᵀ) ⊙ V for each 2×2 block of outputs, so ∂L/∂g = Gᵀ[Σ over the blocks of
/// (A Ȳ Aᵀ) ⊙ V]G: per element ξν of the 4×4 transform, a product of the channels' transformed patches with the
/// filters' transformed upstream gradient along the blocks (<see cref="Gemm"/>, the blocks its depth), 16 products
/// where the direct sums take 36 per position pair of channel and filter.
/// </summary>
/// <remarks>
/// The blocks are the forward pass's: pairs of rows, sixteen blocks a vector, each row's last vector ending at its last
/// block. That vector's blocks already counted by the one before are masked out of the upstream gradient's transform
/// (in the forward pass they are only written twice; in a sum they would count twice). Positions between images carry
/// a zero upstream gradient (the caller's spread layout), so they add nothing.
/// </remarks>
internal static unsafe class WinogradFilterGradient
{
    /// <summary>The fewest channels and filters for which the transforms pay here.</summary>
    private const int MinimumChannels = 32;

    /// <summary>
    /// Whether the filter gradient of a <see cref="DirectPlan{T}.Winograd"/> plan runs here rather than as direct dot
    /// products: where channels and filters are both 32 or more. The transforms' cost grows with channels plus filters
    /// and the products' with channels times filters, and the 16 products over the blocks are small matrices. On
    /// DeepConvNet's layers (Zen 5, one thread, each layer forward and backward alone): 64 → 64 went 6.7 → 6.3 ms when
    /// this path came; once the transformed elements no longer shared L1 sets (<see cref="Run"/>), five alternating
    /// pairs gave 32 → 64 5.04–5.29 → 4.73–4.96 ms and 32 → 32 8.78–9.08 → 8.47–9.01, while 16 → 16 (9.5–9.7 → 10.0–11.1)
    /// and 16 → 32 (4.3–4.5 → 4.6–5.4) still lose.
    /// </summary>
    public static bool Pays<T>(in DirectPlan<T> plan)
        where T : unmanaged, System.Numerics.INumber<T> => plan.Winograd && plan.Channels >= MinimumChannels && plan.Filters >= MinimumChannels;

    /// <summary>Transformed elements of the patches buffered per product, at most: the depth of the 16 products grows to fit.</summary>
    private const int BufferedElements = 1 << 16;

    /// <summary>
    /// gradientT (C·9, F) (+)= the filter gradient of the plan's images, transposed as <see cref="DirectFilterGradient"/>
    /// writes it: <paramref name="padded"/> are the images' padded planes, <paramref name="spread"/> the upstream
    /// gradient on the same padded rows (filter f's from f·<paramref name="stride"/>, its dropped positions 0).
    /// </summary>
    public static void Run(in DirectPlan<float> plan, ReadOnlySpan<float> padded, ReadOnlySpan<float> spread, int stride, Span<float> gradientT, bool accumulate)
    {
        int channels = plan.Channels, filters = plan.Filters, lanes = WinogradConvolution.Lanes;
        int blocks = WinogradConvolution.BlocksPerRow(plan.PaddedW), perRow = (blocks + lanes - 1) / lanes, vectors = plan.OutH / 2 * perRow;
        if (gradientT.Length < plan.Depth * filters || spread.Length < ((filters - 1) * stride) + (plan.OutH * plan.PaddedW))
        {
            throw new ArgumentException("The buffers do not fit the Winograd filter gradient's plan.", nameof(gradientT));
        }

        // Vectors of blocks per product: as many as keep the transformed patches near BufferedElements.
        var chunk = Math.Clamp(BufferedElements / (16 * channels * lanes), 1, vectors);
        var depth = chunk * lanes;

        // One vector between the elements' matrices: without it they lie 16 KB apart (a sixteenth of BufferedElements,
        // unless the plan has fewer vectors), and each channel's 16 transformed elements fall in one set of the L1 cache
        // (see WinogradConvolution.ElementStride).
        int patchStride = (channels * depth) + lanes, upstreamStride = (filters * depth) + lanes;
        var patches = ArrayPool<float>.Shared.Rent(16 * patchStride);
        var upstream = ArrayPool<float>.Shared.Rent(16 * upstreamStride);
        var sums = ArrayPool<float>.Shared.Rent(16 * channels * filters);
        try
        {
            Array.Clear(sums, 0, 16 * channels * filters);
            fixed (float* x = padded, g = spread, v = patches, w = upstream)
            {
                for (var first = 0; first < vectors; first += chunk)
                {
                    var count = Math.Min(chunk, vectors - first);
                    for (var j = 0; j < count; j++)
                    {
                        int vector = first + j, pair = vector / perRow, begin = vector % perRow * lanes, start = Math.Min(begin, blocks - lanes);
                        var offset = ((nint)2 * pair * plan.PaddedW) + (2 * start);
                        WinogradConvolution.TransformPatch(plan, x + offset, v + ((nint)j * lanes), patchStride, depth);
                        TransformUpstream(filters, g + offset, stride, plan.PaddedW, begin - start, w + ((nint)j * lanes), upstreamStride, depth);
                    }

                    // Σ over the blocks, per element: (C × F) += V (C × blocks) · Ŷᵀ (blocks × F); a last short chunk
                    // zeroes its unused depth so the products stay whole.
                    var used = count * lanes;
                    for (var e = 0; e < 16; e++)
                    {
                        if (used < depth)
                        {
                            ClearColumns(patches.AsSpan(e * patchStride, channels * depth), depth, used);
                            ClearColumns(upstream.AsSpan(e * upstreamStride, filters * depth), depth, used);
                        }

                        Gemm.Multiply<float>(
                            false, true, channels, filters, depth, patches.AsSpan(e * patchStride, channels * depth), upstream.AsSpan(e * upstreamStride, filters * depth),
                            sums.AsSpan(e * channels * filters, channels * filters), accumulate: true);
                    }
                }
            }

            TransformBack(channels, filters, sums, gradientT, accumulate);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(patches);
            ArrayPool<float>.Shared.Return(upstream);
            ArrayPool<float>.Shared.Return(sums);
        }
    }

    /// <summary>Zeroes columns <paramref name="from"/> … <paramref name="width"/> − 1 of each row.</summary>
    private static void ClearColumns(Span<float> rows, int width, int from)
    {
        for (var at = 0; at < rows.Length; at += width)
        {
            rows.Slice(at + from, width - from).Clear();
        }
    }

    /// <summary>
    /// Ŷ = A Ȳ Aᵀ for sixteen blocks of every filter, Ȳ the 2×2 upstream gradient at <paramref name="origin"/> (the
    /// pair's first row, the first block's column; filter f's at f·<paramref name="stride"/>); the first
    /// <paramref name="repeated"/> blocks, which an earlier vector counted, are zeros. Element ξν of filter f goes to
    /// <paramref name="to"/>[ξν·<paramref name="elementStride"/> + f·<paramref name="filterStride"/>].
    /// </summary>
    private static void TransformUpstream(int filters, float* origin, int stride, int paddedW, int repeated, float* to, nint elementStride, nint filterStride)
    {
        var keep = Vector512.GreaterThanOrEqual(Vector512<int>.Indices, Vector512.Create(repeated)).AsSingle();
        for (var f = 0; f < filters; f++)
        {
            var top = origin + ((nint)f * stride);
            var bottom = top + paddedW;
            Vector512<float> a = Vector512.Load(top), b = Vector512.Load(top + WinogradConvolution.Lanes);
            var y00 = Avx512F.PermuteVar16x32x2(a, WinogradConvolution.s_evens, b) & keep;
            var y01 = Avx512F.PermuteVar16x32x2(a, WinogradConvolution.s_odds, b) & keep;
            (a, b) = (Vector512.Load(bottom), Vector512.Load(bottom + WinogradConvolution.Lanes));
            var y10 = Avx512F.PermuteVar16x32x2(a, WinogradConvolution.s_evens, b) & keep;
            var y11 = Avx512F.PermuteVar16x32x2(a, WinogradConvolution.s_odds, b) & keep;

            // A Ȳ: rows 0, 0 + 1, 0 − 1, −1; then the same on the columns.
            var filter = to + ((nint)f * filterStride);
            Columns(filter, elementStride, 0, y00, y01);
            Columns(filter, elementStride, 4, y00 + y10, y01 + y11);
            Columns(filter, elementStride, 8, y00 - y10, y01 - y11);
            Columns(filter, elementStride, 12, -y10, -y11);
        }
    }

    /// <summary>Stores one row of Ŷ, elements ξν = first … first + 3: columns 0, 0 + 1, 0 − 1, −1.</summary>
    private static void Columns(float* to, nint stride, int first, Vector512<float> left, Vector512<float> right)
    {
        left.Store(to + (first * stride));
        (left + right).Store(to + ((first + 1) * stride));
        (left - right).Store(to + ((first + 2) * stride));
        (-right).Store(to + ((first + 3) * stride));
    }

    /// <summary>
    /// gradientT[(c·9 + k)·F + f] (+)= (Gᵀ S G)[k] for the sums S[ξν][c][f], eight filters a vector (the rest one by
    /// one).
    /// </summary>
    private static void TransformBack(int channels, int filters, float[] sums, Span<float> gradientT, bool accumulate)
    {
        var plane = channels * filters;
        fixed (float* s = sums, g = gradientT)
        {
            for (var c = 0; c < channels; c++)
            {
                var f = 0;
                for (; f + 8 <= filters; f += 8)
                {
                    Back8(s + (c * filters) + f, plane, g + ((nint)c * 9 * filters) + f, filters, accumulate);
                }

                for (; f < filters; f++)
                {
                    Back1(s + (c * filters) + f, plane, g + ((nint)c * 9 * filters) + f, filters, accumulate);
                }
            }
        }
    }

    /// <summary>Gᵀ S G for eight filters: S's 16 elements <paramref name="plane"/> apart, the 9 results <paramref name="filters"/> apart.</summary>
    private static void Back8(float* s, int plane, float* to, int filters, bool accumulate)
    {
        var half = Vector256.Create(0.5f);
        Span<Vector256<float>> r = stackalloc Vector256<float>[12];

        // Gᵀ S: three rows from four, column by column: 0 + ½(1 + 2), ½(1 − 2), ½(1 + 2) + 3.
        for (var j = 0; j < 4; j++)
        {
            Vector256<float> s0 = Vector256.Load(s + ((0 + j) * plane)), s1 = Vector256.Load(s + ((4 + j) * plane));
            Vector256<float> s2 = Vector256.Load(s + ((8 + j) * plane)), s3 = Vector256.Load(s + ((12 + j) * plane));
            r[j] = s0 + (half * (s1 + s2));
            r[4 + j] = half * (s1 - s2);
            r[8 + j] = (half * (s1 + s2)) + s3;
        }

        // (Gᵀ S) G: the same on the columns.
        for (var i = 0; i < 3; i++)
        {
            Vector256<float> s0 = r[4 * i], s1 = r[(4 * i) + 1], s2 = r[(4 * i) + 2], s3 = r[(4 * i) + 3];
            Put(to + (((3 * i) + 0) * filters), s0 + (half * (s1 + s2)), accumulate);
            Put(to + (((3 * i) + 1) * filters), half * (s1 - s2), accumulate);
            Put(to + (((3 * i) + 2) * filters), (half * (s1 + s2)) + s3, accumulate);
        }

        static void Put(float* at, Vector256<float> value, bool accumulate) => (accumulate ? Vector256.Load(at) + value : value).Store(at);
    }

    /// <summary><see cref="Back8"/> for one filter.</summary>
    private static void Back1(float* s, int plane, float* to, int filters, bool accumulate)
    {
        Span<float> r = stackalloc float[12];
        for (var j = 0; j < 4; j++)
        {
            float s0 = s[(0 + j) * plane], s1 = s[(4 + j) * plane], s2 = s[(8 + j) * plane], s3 = s[(12 + j) * plane];
            r[j] = s0 + (0.5f * (s1 + s2));
            r[4 + j] = 0.5f * (s1 - s2);
            r[8 + j] = (0.5f * (s1 + s2)) + s3;
        }

        for (var i = 0; i < 3; i++)
        {
            float s0 = r[4 * i], s1 = r[(4 * i) + 1], s2 = r[(4 * i) + 2], s3 = r[(4 * i) + 3];
            Put(to + (((3 * i) + 0) * filters), s0 + (0.5f * (s1 + s2)), accumulate);
            Put(to + (((3 * i) + 1) * filters), 0.5f * (s1 - s2), accumulate);
            Put(to + (((3 * i) + 2) * filters), (0.5f * (s1 + s2)) + s3, accumulate);
        }

        static void Put(float* at, float value, bool accumulate) => *at = accumulate ? *at + value : value;
    }
}
