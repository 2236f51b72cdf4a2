using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AutoGrad.Kernels;

/// <summary>
/// A stride-1 convolution without im2col. The images are copied once into zero-padded planes (Hp = H + 2p rows of
/// Wp columns, several images side by side: <see cref="DirectPlan{T}"/>), and the output is computed at every position
/// of a padded row, OH·Wp in all: output position q then reads plane element q + ky·d·Wp + kx·d for kernel position
/// (ky, kx), so the "columns" are the padded planes themselves read at one offset per (channel, ky, kx), and the
/// product runs in <see cref="GatheredMicroKernel"/> with the filters packed once per call. The positions between
/// the images' outputs and at each row's end read across; they are computed and never stored (the masked stores that
/// write each tile to the output skip them).
/// </summary>
/// <remarks>
/// Each output sums its depth in (c, ky, kx) order in one chain, like the im2col product within a depth block. The
/// dropped positions cost work, so the direct path is taken only where they add at most 16% (<see cref="Worthwhile"/>):
/// DeepConvNet's 8×8 layers, sixteen images side by side, add 14% (eight: 15.6%, still 10–13% faster than im2col and a
/// GEMM);
/// SimpleConvNet's 5×5 layer without padding adds 16.7% and gains nothing (its Fashion-MNIST epoch on two threads ran
/// 1.71–1.79 s through the direct path against 1.63–1.66 s without, in alternating runs).
/// </remarks>
internal static unsafe class DirectConvolution
{
    /// <summary>The most computed positions per output position the direct path accepts.</summary>
    private const double MaxWaste = 1.16;

    /// <summary>
    /// Output positions a plan of images side by side aims at: long rows spread the dropped positions and the filter
    /// gradient's sums over more work (eight 14×14 images: 6.8 → 6.6 ms for DeepConvNet's fourth layer), and a group's
    /// planes still fit in L2.
    /// </summary>
    private const int TargetPositions = 2048;

    /// <summary>
    /// The most images side by side: sixteen 8×8 images drop 14% of the positions they compute where eight drop 15.6%,
    /// and their planes still fit in L2 (64 channels: 371 KB).
    /// </summary>
    private const int MaxImages = 16;

    /// <summary>
    /// How many of <paramref name="count"/> images to lay side by side: enough for about
    /// <see cref="TargetPositions"/> output positions, at most <see cref="MaxImages"/>; 1 where the padding exceeds
    /// the kernel's span (an image's outputs would reach into the next one's).
    /// </summary>
    public static int ImagesPerRow(in WindowGeometry g, int height, int width, int count)
    {
        int outH = g.OutputHeight(height), outW = g.OutputWidth(width);
        if (outH <= 0 || outW <= 0 || g.PadW > g.DilationW * (g.KernelW - 1))
        {
            return 1;
        }

        var wanted = (TargetPositions + (outH * outW) - 1) / (outH * outW);
        return Math.Clamp(Math.Min(wanted, count), 1, MaxImages);
    }

    /// <summary>
    /// Whether a convolution of <paramref name="images"/> images <paramref name="height"/> × <paramref name="width"/>
    /// side by side by geometry <paramref name="g"/> runs here: AVX-512, stride 1, and few dropped positions.
    /// </summary>
    public static bool Worthwhile<T>(in WindowGeometry g, int height, int width, int images = 1)
        where T : unmanaged, INumber<T>
    {
        if (!GatheredMicroKernel.IsSupported<T>() || g.StrideH != 1 || g.StrideW != 1 || g.OutputHeight(height) <= 0 || g.OutputWidth(width) <= 0)
        {
            return false;
        }

        return new DirectPlan<T>(1, height, width, g, 1, images).Waste <= MaxWaste;
    }

    /// <summary>
    /// Packs filters (<paramref name="filters"/> rows of <paramref name="depth"/>, row-major) into panels of
    /// <paramref name="rows"/> rows (<see cref="DirectPlan{T}.PanelRows"/>), depth-major within a panel, the rows past
    /// the last filter 0.
    /// </summary>
    public static void PackFilters<T>(ReadOnlySpan<T> weights, int filters, int depth, int rows, Span<T> packed)
        where T : unmanaged, INumber<T>
    {
        var panels = (filters + rows - 1) / rows;
        for (var panel = 0; panel < panels; panel++)
        {
            var destination = packed.Slice(panel * rows * depth, rows * depth);
            for (var r = 0; r < rows; r++)
            {
                var f = (panel * rows) + r;
                for (var p = 0; p < depth; p++)
                {
                    destination[(p * rows) + r] = f < filters ? weights[(f * depth) + p] : T.Zero;
                }
            }
        }
    }

    /// <summary>
    /// For a <see cref="DirectPlan{T}.Winograd"/> plan, writes the transforms of the filters packed in
    /// <paramref name="packed"/>'s first <see cref="DirectPlan{T}.DirectPackedLength"/> elements after them; else nothing.
    /// </summary>
    public static void PrepareWinograd<T>(in DirectPlan<T> plan, Span<T> packed)
        where T : unmanaged, INumber<T>
    {
        if (plan.Winograd)
        {
            var filters = MemoryMarshal.Cast<T, float>(packed);
            WinogradConvolution.TransformFilters(AsSingle(plan), filters[..plan.DirectPackedLength], filters[plan.DirectPackedLength..]);
        }
    }

    /// <summary>A plan of float32, which <see cref="DirectPlan{T}.Winograd"/> implies.</summary>
    private static ref readonly DirectPlan<float> AsSingle<T>(in DirectPlan<T> plan)
        where T : unmanaged, INumber<T> => ref Unsafe.As<DirectPlan<T>, DirectPlan<float>>(ref Unsafe.AsRef(in plan));

    /// <summary>
    /// Packs the filters of the input gradient: the weight (F, C, kh, kw) read as C filters of depth F·kh·kw, each
    /// kernel flipped, so that dx is the direct convolution of the upstream gradient (see <see cref="PackFilters{T}"/>).
    /// </summary>
    public static void PackFlippedFilters<T>(ReadOnlySpan<T> weights, int filters, int channels, int kernelH, int kernelW, int rows, Span<T> packed)
        where T : unmanaged, INumber<T>
    {
        int kernel = kernelH * kernelW, depth = filters * kernel, panels = (channels + rows - 1) / rows;
        for (var panel = 0; panel < panels; panel++)
        {
            var destination = packed.Slice(panel * rows * depth, rows * depth);
            for (var r = 0; r < rows; r++)
            {
                var c = (panel * rows) + r;
                for (var f = 0; f < filters; f++)
                {
                    for (var k = 0; k < kernel; k++)
                    {
                        var p = (f * kernel) + k;
                        destination[(p * rows) + r] = c < channels ? weights[(((f * channels) + c) * kernel) + (kernel - 1 - k)] : T.Zero;
                    }
                }
            }
        }
    }

    /// <summary>
    /// output (the plan's images, F, OH, OW) = the convolution of <paramref name="image"/> (its images, C, H, W) by the
    /// packed filters, plus <paramref name="bias"/> per filter when it is not empty. <paramref name="tables"/> are the
    /// plan's, with segments; <paramref name="workspace"/> holds <see cref="DirectPlan{T}.WorkspaceLength"/> elements.
    /// <paramref name="ahead"/> and <paramref name="outputAhead"/>, the next group's input and output where the caller
    /// knows them, are prefetched into L2 while this group computes (<see cref="PrefetchCursor"/>).
    /// </summary>
    /// <remarks>
    /// Each tile is left in a small buffer that stays in L1 and goes straight to the output by masked stores, one per
    /// segment and filter (<see cref="Scatter{T}"/>), so no padded-width result is written and copied out again: the
    /// copy took 4% of DeepConvNet's six convolutions, the stores take as long in the whole step, and the workspace is
    /// only the padded planes.
    /// </remarks>
    public static void Run<T>(
        in DirectPlan<T> plan, ReadOnlySpan<T> image, ReadOnlySpan<T> packedFilters, in DirectTables<T> tables, ReadOnlySpan<T> bias, Span<T> output, Span<T> workspace,
        ReadOnlySpan<T> ahead = default, ReadOnlySpan<T> outputAhead = default)
        where T : unmanaged, INumber<T>
    {
        if (image.Length < plan.Images * plan.ImageSize || output.Length < plan.Images * plan.OutputSize || workspace.Length < plan.WorkspaceLength
            || tables.Offsets.Length < plan.Depth || tables.SegmentStarts.Length <= plan.Vectors || packedFilters.Length < plan.PackedFiltersLength
            || (!bias.IsEmpty && bias.Length < plan.Filters))
        {
            throw new ArgumentException("The buffers do not fit the direct convolution's plan.", nameof(workspace));
        }

        var padded = workspace[..plan.PaddedLength];
        Pad(plan, image, padded);
        Convolve(plan, padded, packedFilters, tables, bias, output, ahead, outputAhead);
    }

    /// <summary>
    /// The product of <see cref="Run{T}"/> on planes that are already padded (<see cref="Pad{T}"/>), into
    /// <paramref name="output"/>; the caller has checked the buffers against the plan.
    /// </summary>
    internal static void Convolve<T>(
        in DirectPlan<T> plan, ReadOnlySpan<T> padded, ReadOnlySpan<T> packedFilters, in DirectTables<T> tables, ReadOnlySpan<T> bias, Span<T> output,
        ReadOnlySpan<T> ahead = default, ReadOnlySpan<T> outputAhead = default)
        where T : unmanaged, INumber<T>
    {
        if (plan.Winograd)
        {
            WinogradConvolution.Convolve(
                AsSingle(plan), MemoryMarshal.Cast<T, float>(padded), MemoryMarshal.Cast<T, float>(packedFilters[plan.DirectPackedLength..]),
                MemoryMarshal.Cast<T, float>(bias), MemoryMarshal.Cast<T, float>(output), MemoryMarshal.Cast<T, float>(ahead), MemoryMarshal.Cast<T, float>(outputAhead));
            return;
        }

        int lanes = Vector512<T>.Count, width = 2 * lanes, panelSize = plan.PanelRows * plan.Depth;
        var tile = stackalloc T[GatheredMicroKernel.TallRows * width];
        var segments = new Segments<T>(tables, plan.OutH * plan.OutW);
        fixed (T* a = packedFilters, b = padded, y = output, bs = bias, next = ahead, nextOut = outputAhead)
        fixed (int* o = tables.Offsets)
        {
            if (plan.PanelRows == 1)
            {
                ConvolveWide(plan, a, o, b, tile, segments, y, bs, next, (nint)ahead.Length * sizeof(T), nextOut, (nint)outputAhead.Length * sizeof(T));
                return;
            }

            var prefetch = new PrefetchCursor(next, (nint)ahead.Length * sizeof(T), nextOut, (nint)outputAhead.Length * sizeof(T), (plan.Columns + width - 1) / width * plan.Panels);
            for (var j = 0; j < plan.Columns; j += width)
            {
                // The columns are whole vectors, so a last tile short of two vectors is one vector wide.
                var half = j + width > plan.Columns;
                for (var panel = 0; panel < plan.Panels; panel++)
                {
                    int first = panel * plan.PanelRows, rows = Math.Min(plan.PanelRows, plan.Filters - first);
                    Tile(plan.PanelRows, half, plan.Depth, a + (panel * panelSize), o, b + j, tile, width);
                    prefetch.Step();
                    Scatter(tile, width, rows, j / lanes, half ? 1 : 2, segments, y + (first * segments.FilterStride), bs == null ? null : bs + first);
                }
            }
        }
    }

    /// <summary>
    /// <see cref="Convolve{T}"/> for a single filter, eight vectors of positions a tile; the last tile ends at the
    /// last vector and recomputes the positions it shares with the one before (the same sums, stored again), so a
    /// narrower tile is needed only where all the positions are fewer than one tile's.
    /// </summary>
    private static void ConvolveWide<T>(in DirectPlan<T> plan, T* a, int* offsets, T* b, T* tile, in Segments<T> segments, T* y, T* bias, void* next, nint nextBytes, void* nextOut, nint nextOutBytes)
        where T : unmanaged, INumber<T>
    {
        int lanes = Vector512<T>.Count, vectors = GatheredMicroKernel.WideVectors, width = vectors * lanes;
        var prefetch = new PrefetchCursor(next, nextBytes, nextOut, nextOutBytes, (plan.Columns + width - 1) / width);
        if (plan.Columns < width)
        {
            // Fewer positions than one wide tile (a few small images): a vector at a time.
            for (var j = 0; j < plan.Columns; j += lanes)
            {
                GatheredMicroKernel.RunNarrow(plan.Depth, a, offsets, b + j, tile);
                Scatter(tile, lanes, 1, j / lanes, 1, segments, y, bias);
            }

            return;
        }

        for (var j = 0; j < plan.Columns; j += width)
        {
            var start = Math.Min(j, plan.Columns - width);
            GatheredMicroKernel.RunWide(plan.Depth, a, offsets, b + start, tile);
            prefetch.Step();
            Scatter(tile, width, 1, start / lanes, vectors, segments, y, bias);
        }
    }

    /// <summary>
    /// Stores <paramref name="rows"/> filters' rows of a tile (row stride <paramref name="ldt"/>; its
    /// <paramref name="vectors"/> vectors are the plan's from <paramref name="vector"/> on) to the output through
    /// their segments, adding the bias when there is one.
    /// </summary>
    private static void Scatter<T>(T* tile, nint ldt, int rows, int vector, int vectors, in Segments<T> segments, T* output, T* bias)
        where T : unmanaged, INumber<T>
    {
        var lanes = Vector512<T>.Count;
        for (var h = 0; h < vectors; h++)
        {
            for (int s = segments.Starts[vector + h], end = segments.Starts[vector + h + 1]; s < end; s++)
            {
                T* destination = output + segments.Offsets[s];
                var mask = segments.Masks[s];
                if (mask == Vector512<T>.AllBitsSet)
                {
                    for (var r = 0; r < rows; r++)
                    {
                        var value = Vector512.Load(tile + (r * ldt) + (h * lanes));
                        if (bias != null)
                        {
                            value += Vector512.Create(bias[r]);
                        }

                        value.Store(destination + (r * segments.FilterStride));
                    }

                    continue;
                }

                for (var r = 0; r < rows; r++)
                {
                    var value = Vector512.Load(tile + (r * ldt) + (h * lanes));

                    // Without a bias, the value as it is: adding +0 would turn a −0 into +0.
                    if (bias != null)
                    {
                        value += Vector512.Create(bias[r]);
                    }

                    MaskedStore(destination + (r * segments.FilterStride), mask, value);
                }
            }
        }
    }

    /// <summary>Stores the lanes of <paramref name="value"/> that <paramref name="mask"/> selects; the others' memory is not touched.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MaskedStore<T>(T* destination, Vector512<T> mask, Vector512<T> value)
        where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            Avx512F.MaskStore((float*)destination, mask.AsSingle(), value.AsSingle());
        }
        else if (typeof(T) == typeof(double))
        {
            Avx512F.MaskStore((double*)destination, mask.AsDouble(), value.AsDouble());
        }
        else
        {
            throw new NotSupportedException($"Masked stores of {typeof(T).Name} are not supported.");
        }
    }

    /// <summary>The segment tables of a call, pinned for its length (the arrays are rented and live past it).</summary>
    private readonly ref struct Segments<T>
        where T : unmanaged, INumber<T>
    {
        public Segments(in DirectTables<T> tables, int filterStride)
        {
            Starts = tables.SegmentStarts;
            Offsets = tables.SegmentOffsets;
            Masks = tables.SegmentMasks;
            FilterStride = filterStride;
        }

        public ReadOnlySpan<int> Starts { get; }

        public ReadOnlySpan<int> Offsets { get; }

        public ReadOnlySpan<Vector512<T>> Masks { get; }

        /// <summary>Elements from one filter's output plane to the next, OH·OW.</summary>
        public nint FilterStride { get; }
    }

    /// <summary>One tile of <paramref name="rows"/> (6 or 8) filters by two vectors of positions, or one when <paramref name="half"/>.</summary>
    private static void Tile<T>(int rows, bool half, int depth, T* a, int* offsets, T* b, T* c, nint ldc)
        where T : unmanaged, INumber<T>
    {
        switch (rows == GatheredMicroKernel.TallRows, half)
        {
            case (true, false):
                GatheredMicroKernel.RunTall(depth, a, offsets, b, c, ldc);
                break;
            case (true, true):
                GatheredMicroKernel.RunTallHalf(depth, a, offsets, b, c, ldc);
                break;
            case (false, false):
                GatheredMicroKernel.Run(depth, a, offsets, b, c, ldc);
                break;
            default:
                GatheredMicroKernel.RunHalf(depth, a, offsets, b, c, ldc);
                break;
        }
    }

    /// <summary>
    /// Writes the padded planes: each plane cleared in one pass of whole vectors, then each image's lines copied in,
    /// image by image, so the lines of one image plane are read in order. Clearing the inside too costs less than
    /// setting the zero columns between the images one element at a time (DeepConvNet's sixth layer, eight 8×8 images
    /// a row: 0.21 → 0.09 ms per batch of 100; all six layers' inputs 0.63 → 0.40 ms).
    /// </summary>
    internal static void Pad<T>(in DirectPlan<T> plan, ReadOnlySpan<T> image, Span<T> padded)
        where T : unmanaged, INumber<T>
    {
        int wp = plan.PaddedW, width = plan.Width, size = plan.Height * width;
        var first = (plan.Geometry.PadH * wp) + plan.Geometry.PadW;
        if (image.Length < plan.Images * plan.Channels * size || padded.Length < plan.Channels * plan.PlaneSize || plan.Height == 0)
        {
            throw new ArgumentException($"DirectConvolution.Pad: buffers too short for {plan.Images} images of ({plan.Channels}, {plan.Height}, {width}).", nameof(padded));
        }

        padded.Clear();
        if (width < Vector128<T>.Count || !Vector128.IsHardwareAccelerated)
        {
            for (var c = 0; c < plan.Channels; c++)
            {
                for (var j = 0; j < plan.Images; j++)
                {
                    var source = image.Slice(((j * plan.Channels) + c) * size, size);
                    var destination = padded[((c * plan.PlaneSize) + first + (j * plan.ImageStride))..];
                    for (var y = 0; y < plan.Height; y++)
                    {
                        source.Slice(y * width, width).CopyTo(destination.Slice(y * wp, width));
                    }
                }
            }

            return;
        }

        // The bounds were checked once above: each line is one unchecked vector copy (the checked slices of a line
        // loop cost more than DeepConvNet's 8- to 28-element lines).
        ref var from = ref MemoryMarshal.GetReference(image);
        ref var to = ref MemoryMarshal.GetReference(padded);
        for (var c = 0; c < plan.Channels; c++)
        {
            for (var j = 0; j < plan.Images; j++)
            {
                ref var source = ref Unsafe.Add(ref from, ((j * plan.Channels) + c) * size);
                ref var destination = ref Unsafe.Add(ref to, (c * plan.PlaneSize) + first + (j * plan.ImageStride));
                for (var y = 0; y < plan.Height; y++)
                {
                    Lines.Copy(ref Unsafe.Add(ref source, y * width), ref Unsafe.Add(ref destination, y * wp), width);
                }
            }
        }
    }
}
