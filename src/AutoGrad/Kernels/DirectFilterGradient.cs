using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace AutoGrad.Kernels;

/// <summary>
/// The backward pass of a direct convolution (<see cref="DirectConvolution"/>) for a group of images side by side:
/// the filter gradient as dot products along the positions, the bias gradient, and, where the layouts allow, the input
/// gradient in the same pass, so the upstream gradient is read once instead of three times.
/// </summary>
/// <remarks>
/// The filter gradient is gradientT (C·kh·kw, F) (+)= Σ over the output positions q of x̃[(c, ky, kx), q]·g[f, q],
/// where x̃ is the padded images read at each kernel position's offset and g the upstream gradient (F, OH, OW) laid
/// out on the same padded rows, its dropped positions 0; each entry is a dot product along the positions
/// (<see cref="GatheredMicroKernel.DotTile{T}"/>). A dropped position multiplies its 0 by an element of the padded
/// image, which changes nothing unless that element is infinite or NaN; such an input makes the loss non-finite anyway.
/// </remarks>
internal static unsafe class DirectFilterGradient
{
    /// <summary>
    /// The filter gradient of the plan's images, summed and transposed (see the class remarks), with the upstream
    /// gradient spread to the padded rows in the workspace; each filter's sum of the upstream gradient is added to
    /// <paramref name="biasGradient"/> when it is not empty. <paramref name="workspace"/> holds
    /// <see cref="DirectPlan{T}.FilterWorkspaceLength"/> elements; <paramref name="ahead"/> (the next group's images) is
    /// prefetched meanwhile.
    /// </summary>
    public static void Run<T>(in DirectPlan<T> plan, ReadOnlySpan<T> image, ReadOnlySpan<T> upstream, ReadOnlySpan<int> offsets, Span<T> gradientT, bool accumulate, Span<T> biasGradient, Span<T> workspace, ReadOnlySpan<T> ahead = default)
        where T : unmanaged, INumber<T>
    {
        int filters = plan.Filters, columns = plan.Columns, positions = plan.OutH * plan.OutW;
        if (image.Length < plan.Images * plan.ImageSize || upstream.Length < plan.Images * filters * positions || offsets.Length < plan.Depth
            || gradientT.Length < plan.Depth * filters || workspace.Length < plan.FilterWorkspaceLength || (!biasGradient.IsEmpty && biasGradient.Length < filters))
        {
            throw new ArgumentException("The buffers do not fit the direct filter gradient's plan.", nameof(workspace));
        }

        var padded = workspace[..plan.PaddedLength];
        var spread = workspace.Slice(plan.PaddedLength, plan.FilterWorkspaceLength - plan.PaddedLength);
        DirectConvolution.Pad(plan, image, padded);

        // The spare rows past the last filter are read by a ragged last tile: zeros, not stale values.
        spread[(filters * columns)..].Clear();
        var lineCopies = plan.OutW >= Vector128<T>.Count && Vector128.IsHardwareAccelerated;
        for (var f = 0; f < filters; f++)
        {
            var rows = spread.Slice(f * columns, columns);
            rows.Clear();
            for (var j = 0; j < plan.Images; j++)
            {
                var source = upstream.Slice((j * filters * positions) + (f * positions), positions);
                if (lineCopies)
                {
                    // Inside the plan's rows by its construction: one unchecked vector copy a line (see DirectConvolution.Pad).
                    ref var from = ref MemoryMarshal.GetReference(source);
                    ref var to = ref Unsafe.Add(ref MemoryMarshal.GetReference(rows), j * plan.ImageStride);
                    for (var y = 0; y < plan.OutH; y++)
                    {
                        Lines.Copy(ref Unsafe.Add(ref from, y * plan.OutW), ref Unsafe.Add(ref to, y * plan.PaddedW), plan.OutW);
                    }

                    continue;
                }

                for (var y = 0; y < plan.OutH; y++)
                {
                    Lines.Copy<T>(source.Slice(y * plan.OutW, plan.OutW), rows.Slice((y * plan.PaddedW) + (j * plan.ImageStride), plan.OutW));
                }
            }

            if (!biasGradient.IsEmpty)
            {
                biasGradient[f] += TensorPrimitives.Sum<T>(rows);
            }
        }

        Dots(plan, padded, spread, columns, offsets, gradientT, accumulate, ahead);
    }

    /// <summary>
    /// Whether the input gradient's padded planes (<paramref name="adjoint"/>: the upstream gradient padded for the
    /// convolution by the flipped filters) can serve the filter gradient of <paramref name="plan"/> as its spread
    /// upstream gradient: the same padded width and image stride, so that output position q of the filter gradient
    /// is element q + p·Wp + p of each padded plane, and the rows read past the last output row stay inside the
    /// plane's bottom padding. True for "same" padding (p = d(k − 1)/2).
    /// </summary>
    public static bool CanShare<T>(in DirectPlan<T> plan, in DirectPlan<T> adjoint)
        where T : unmanaged, INumber<T>
    {
        var a = adjoint.Geometry;
        return adjoint.Images == plan.Images && adjoint.PaddedW == plan.PaddedW && adjoint.ImageStride == plan.ImageStride
            && adjoint.Channels == plan.Filters && adjoint.Height == plan.OutH && adjoint.Width == plan.OutW
            && (a.PadH * adjoint.PaddedW) + a.PadW + plan.Columns <= adjoint.PlaneSize;
    }

    /// <summary>
    /// Elements of <see cref="Backward{T}"/>'s workspace: the padded images, then the padded upstream gradient with
    /// spare zero planes up to a whole tile of filters.
    /// </summary>
    public static int BackwardWorkspaceLength<T>(in DirectPlan<T> plan, in DirectPlan<T> adjoint)
        where T : unmanaged, INumber<T> => plan.PaddedLength + SharedLength(plan, adjoint);

    /// <summary>
    /// The whole backward pass of the plan's images in one: the upstream gradient is padded once, for the input
    /// gradient (the convolution by the flipped filters of <paramref name="adjoint"/>, written to
    /// <paramref name="inputGradient"/>), and its padded planes then serve as the filter gradient's spread upstream
    /// gradient (<see cref="CanShare{T}"/> must hold) and give the bias gradient's sums. <paramref name="workspace"/>
    /// holds <see cref="BackwardWorkspaceLength{T}"/> elements. The next group's upstream gradient, images and input
    /// gradient (<paramref name="upstreamAhead"/>, <paramref name="imageAhead"/>, <paramref name="inputGradientAhead"/>)
    /// are prefetched meanwhile.
    /// </summary>
    public static void Backward<T>(
        in DirectPlan<T> plan, in DirectPlan<T> adjoint, ReadOnlySpan<T> image, ReadOnlySpan<T> upstream, ReadOnlySpan<int> offsets, ReadOnlySpan<T> flippedFilters,
        in DirectTables<T> adjointTables, Span<T> inputGradient, Span<T> gradientT, bool accumulate, Span<T> biasGradient, Span<T> workspace,
        ReadOnlySpan<T> upstreamAhead = default, ReadOnlySpan<T> imageAhead = default, ReadOnlySpan<T> inputGradientAhead = default)
        where T : unmanaged, INumber<T>
    {
        int filters = plan.Filters, positions = plan.OutH * plan.OutW;
        if (!CanShare(plan, adjoint) || image.Length < plan.Images * plan.ImageSize || upstream.Length < plan.Images * filters * positions
            || offsets.Length < plan.Depth || gradientT.Length < plan.Depth * filters || workspace.Length < BackwardWorkspaceLength(plan, adjoint)
            || inputGradient.Length < plan.Images * plan.ImageSize || flippedFilters.Length < adjoint.PackedFiltersLength
            || adjointTables.Offsets.Length < adjoint.Depth || adjointTables.SegmentStarts.Length <= adjoint.Vectors
            || (!biasGradient.IsEmpty && biasGradient.Length < filters))
        {
            throw new ArgumentException("The buffers do not fit the direct backward pass's plans.", nameof(workspace));
        }

        var padded = workspace[..plan.PaddedLength];
        var shared = workspace.Slice(plan.PaddedLength, SharedLength(plan, adjoint));
        DirectConvolution.Pad(adjoint, upstream, shared);
        DirectConvolution.Convolve(adjoint, shared, flippedFilters, adjointTables, default, inputGradient, upstreamAhead, inputGradientAhead);
        if (!biasGradient.IsEmpty)
        {
            // A plane's padding is zeros, so its sum is the filter's sum over the images.
            for (var f = 0; f < filters; f++)
            {
                biasGradient[f] += TensorPrimitives.Sum<T>(shared.Slice(f * adjoint.PlaneSize, adjoint.PlaneSize));
            }
        }

        DirectConvolution.Pad(plan, image, padded);
        var first = (adjoint.Geometry.PadH * adjoint.PaddedW) + adjoint.Geometry.PadW;
        Dots(plan, padded, shared[first..], adjoint.PlaneSize, offsets, gradientT, accumulate, imageAhead);
    }

    /// <summary>The padded upstream gradient's length: the adjoint plan's planes, or a whole tile of filters' planes if more.</summary>
    private static int SharedLength<T>(in DirectPlan<T> plan, in DirectPlan<T> adjoint)
        where T : unmanaged, INumber<T>
    {
        var tiles = (plan.Filters + GatheredMicroKernel.DotFilters - 1) / GatheredMicroKernel.DotFilters;
        return Math.Max(adjoint.PaddedLength, tiles * GatheredMicroKernel.DotFilters * adjoint.PlaneSize);
    }

    /// <summary>
    /// gradientT (+)= the dot products of the padded images at each depth step's offset with the upstream gradient's
    /// rows, filter f's row starting at f·<paramref name="stride"/> of <paramref name="spread"/>, the rows past the
    /// last filter up to a whole tile zeros; <paramref name="ahead"/> is prefetched meanwhile.
    /// </summary>
    private static void Dots<T>(in DirectPlan<T> plan, ReadOnlySpan<T> padded, ReadOnlySpan<T> spread, int stride, ReadOnlySpan<int> offsets, Span<T> gradientT, bool accumulate, ReadOnlySpan<T> ahead)
        where T : unmanaged, INumber<T>
    {
        if (WinogradFilterGradient.Pays(plan))
        {
            WinogradFilterGradient.Run(
                Unsafe.As<DirectPlan<T>, DirectPlan<float>>(ref Unsafe.AsRef(in plan)), MemoryMarshal.Cast<T, float>(padded), MemoryMarshal.Cast<T, float>(spread), stride,
                MemoryMarshal.Cast<T, float>(gradientT), accumulate);
            return;
        }

        const int tileRows = GatheredMicroKernel.DotRows, tileFilters = GatheredMicroKernel.DotFilters;
        int filters = plan.Filters, depth = plan.Depth, columns = plan.Columns;
        Span<int> rowOffsets = stackalloc int[tileRows];
        var sums = stackalloc T[tileRows * tileFilters];
        fixed (T* x = padded, g = spread, next = ahead)
        fixed (int* o = rowOffsets)
        {
            var prefetch = new PrefetchCursor(next, (nint)ahead.Length * sizeof(T), null, 0, (depth + tileRows - 1) / tileRows * ((filters + tileFilters - 1) / tileFilters));
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
                    GatheredMicroKernel.DotTile(columns, x, o, g + (f0 * stride), stride, sums);
                    prefetch.Step();
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
}
