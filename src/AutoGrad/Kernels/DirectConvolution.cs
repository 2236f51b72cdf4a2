using System.Numerics;
using System.Runtime.Intrinsics;

namespace AutoGrad.Kernels;

/// <summary>
/// A stride-1 convolution without im2col. The images are copied once into zero-padded planes (Hp = H + 2p rows of
/// Wp columns, several images side by side: <see cref="DirectPlan{T}"/>), and the output is computed at every position
/// of a padded row, OH·Wp in all: output position q then reads plane element q + ky·d·Wp + kx·d for kernel position
/// (ky, kx), so the "columns" are the padded planes themselves read at one offset per (channel, ky, kx), and the
/// product runs in <see cref="GatheredMicroKernel"/> with the filters packed once per call. The positions between
/// the images' outputs and at each row's end read across; they are computed and dropped when the rows are copied out.
/// </summary>
/// <remarks>
/// Each output sums its depth in (c, ky, kx) order in one chain, like the im2col product within a depth block. The
/// dropped positions cost work, so the direct path is taken only where they add at most 16% (<see cref="Worthwhile"/>):
/// DeepConvNet's 8×8 layers, eight images side by side, add 15.6% and still run 10–13% faster than im2col and a GEMM;
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

    /// <summary>The most images side by side.</summary>
    private const int MaxImages = 8;

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
        where T : unmanaged
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
    /// packed filters, plus <paramref name="bias"/> per filter when it is not empty. <paramref name="offsets"/> are the
    /// plan's (<see cref="DirectPlan{T}.FillOffsets"/>); <paramref name="workspace"/> holds
    /// <see cref="DirectPlan{T}.WorkspaceLength"/> elements.
    /// </summary>
    public static void Run<T>(in DirectPlan<T> plan, ReadOnlySpan<T> image, ReadOnlySpan<T> packedFilters, ReadOnlySpan<int> offsets, ReadOnlySpan<T> bias, Span<T> output, Span<T> workspace)
        where T : unmanaged, INumber<T>
    {
        if (image.Length < plan.Images * plan.ImageSize || output.Length < plan.Images * plan.OutputSize || workspace.Length < plan.WorkspaceLength || offsets.Length < plan.Depth
            || packedFilters.Length < plan.PackedFiltersLength)
        {
            throw new ArgumentException("The buffers do not fit the direct convolution's plan.", nameof(workspace));
        }

        var padded = workspace[..plan.PaddedLength];
        var computed = workspace.Slice(plan.PaddedLength, plan.ComputedLength);
        Pad(plan, image, padded);
        fixed (T* a = packedFilters, b = padded, c = computed)
        fixed (int* o = offsets)
        {
            int width = 2 * Vector512<T>.Count, panelSize = plan.PanelRows * plan.Depth, rowSize = plan.PanelRows * plan.Columns;
            for (var j = 0; j < plan.Columns; j += width)
            {
                // The columns are whole vectors, so a last tile short of two vectors is one vector wide.
                var half = j + width > plan.Columns;
                for (var panel = 0; panel < plan.Panels; panel++)
                {
                    Tile(plan.PanelRows, half, plan.Depth, a + (panel * panelSize), o, b + j, c + (panel * rowSize) + j, plan.Columns);
                }
            }
        }

        CopyOut(plan, computed, bias, output);
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
    /// The filter gradient of the plan's images, summed and transposed: gradientT (C·kh·kw, F) (+)= Σ over the output
    /// positions q of x̃[(c, ky, kx), q]·g[f, q], where x̃ is the padded images read at each kernel position's offset and
    /// g the upstream gradient (F, OH, OW) spread to the same padded rows, its dropped positions 0; each entry is a dot
    /// product along the positions (<see cref="GatheredMicroKernel.DotTile{T}"/>). <paramref name="workspace"/> holds
    /// <see cref="DirectPlan{T}.FilterWorkspaceLength"/> elements.
    /// </summary>
    /// <remarks>
    /// A dropped position multiplies its 0 by an element of the padded image, which changes nothing unless that
    /// element is infinite or NaN; such an input makes the loss non-finite anyway.
    /// </remarks>
    public static void FilterGradient<T>(in DirectPlan<T> plan, ReadOnlySpan<T> image, ReadOnlySpan<T> upstream, ReadOnlySpan<int> offsets, Span<T> gradientT, bool accumulate, Span<T> workspace)
        where T : unmanaged, INumber<T>
    {
        int filters = plan.Filters, depth = plan.Depth, columns = plan.Columns, positions = plan.OutH * plan.OutW;
        if (image.Length < plan.Images * plan.ImageSize || upstream.Length < plan.Images * filters * positions || offsets.Length < depth
            || gradientT.Length < depth * filters || workspace.Length < plan.FilterWorkspaceLength)
        {
            throw new ArgumentException("The buffers do not fit the direct filter gradient's plan.", nameof(workspace));
        }

        var padded = workspace[..plan.PaddedLength];
        var spread = workspace.Slice(plan.PaddedLength, plan.FilterWorkspaceLength - plan.PaddedLength);
        Pad(plan, image, padded);

        // The spare rows past the last filter are read by a ragged last tile: zeros, not stale values.
        spread[(filters * columns)..].Clear();
        for (var f = 0; f < filters; f++)
        {
            var rows = spread.Slice(f * columns, columns);
            rows.Clear();
            for (var j = 0; j < plan.Images; j++)
            {
                var source = upstream.Slice((j * filters * positions) + (f * positions), positions);
                for (var y = 0; y < plan.OutH; y++)
                {
                    Lines.Copy<T>(source.Slice(y * plan.OutW, plan.OutW), rows.Slice((y * plan.PaddedW) + (j * plan.ImageStride), plan.OutW));
                }
            }
        }

        const int tileRows = GatheredMicroKernel.DotRows, tileFilters = GatheredMicroKernel.DotFilters;
        Span<int> rowOffsets = stackalloc int[tileRows];
        var sums = stackalloc T[tileRows * tileFilters];
        fixed (T* x = padded, g = spread)
        fixed (int* o = rowOffsets)
        {
            for (var p0 = 0; p0 < depth; p0 += tileRows)
            {
                // A ragged last tile repeats its first kernel position, and reads the spare rows past the last filter;
                // those sums are not stored.
                for (var r = 0; r < tileRows; r++)
                {
                    rowOffsets[r] = offsets[p0 + r < depth ? p0 + r : p0];
                }

                for (var f0 = 0; f0 < filters; f0 += tileFilters)
                {
                    GatheredMicroKernel.DotTile(columns, x, o, g + (f0 * columns), columns, sums);
                    for (var r = 0; r < tileRows && p0 + r < depth; r++)
                    {
                        var destination = gradientT.Slice(((p0 + r) * filters) + f0, Math.Min(tileFilters, filters - f0));
                        for (var s = 0; s < destination.Length; s++)
                        {
                            destination[s] = accumulate ? destination[s] + sums[(r * tileFilters) + s] : sums[(r * tileFilters) + s];
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Writes the padded planes: each plane cleared in one pass of whole vectors, then each image's lines copied in,
    /// image by image, so the lines of one image plane are read in order. Clearing the inside too costs less than
    /// setting the zero columns between the images one element at a time (DeepConvNet's sixth layer, eight 8×8 images
    /// a row: 0.21 → 0.09 ms per batch of 100; all six layers' inputs 0.63 → 0.40 ms).
    /// </summary>
    private static void Pad<T>(in DirectPlan<T> plan, ReadOnlySpan<T> image, Span<T> padded)
        where T : unmanaged
    {
        int wp = plan.PaddedW, width = plan.Width, size = plan.Height * width;
        var first = (plan.Geometry.PadH * wp) + plan.Geometry.PadW;
        padded.Clear();
        for (var c = 0; c < plan.Channels; c++)
        {
            var plane = padded.Slice(c * plan.PlaneSize, plan.PlaneSize);
            for (var j = 0; j < plan.Images; j++)
            {
                var source = image.Slice(((j * plan.Channels) + c) * size, size);
                var destination = plane[(first + (j * plan.ImageStride))..];
                for (var y = 0; y < plan.Height; y++)
                {
                    Lines.Copy<T>(source.Slice(y * width, width), destination.Slice(y * wp, width));
                }
            }
        }
    }

    /// <summary>Copies each image's OW positions of each row out of the padded-width result, adding the bias.</summary>
    private static void CopyOut<T>(in DirectPlan<T> plan, ReadOnlySpan<T> computed, ReadOnlySpan<T> bias, Span<T> output)
        where T : unmanaged, INumber<T>
    {
        int outW = plan.OutW, wp = plan.PaddedW, positions = plan.OutH * outW;
        for (var j = 0; j < plan.Images; j++)
        {
            for (var f = 0; f < plan.Filters; f++)
            {
                var rows = computed.Slice((f * plan.Columns) + (j * plan.ImageStride), ((plan.OutH - 1) * wp) + outW);
                var destination = output.Slice(((j * plan.Filters) + f) * positions, positions);
                for (var y = 0; y < plan.OutH; y++)
                {
                    // Without a bias, a plain copy: adding +0 would turn a −0 into +0.
                    if (bias.IsEmpty)
                    {
                        Lines.Copy<T>(rows.Slice(y * wp, outW), destination.Slice(y * outW, outW));
                    }
                    else
                    {
                        Lines.CopyPlus<T>(rows.Slice(y * wp, outW), bias[f], destination.Slice(y * outW, outW));
                    }
                }
            }
        }
    }
}
