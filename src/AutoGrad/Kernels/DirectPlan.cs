using System.Numerics;
using System.Runtime.Intrinsics;

namespace AutoGrad.Kernels;

/// <summary>
/// The sizes of a direct convolution (<see cref="DirectConvolution"/>) of <see cref="Images"/> images laid side by side:
/// each channel's padded plane holds one row of every image in turn, the images sharing the zero columns between them
/// (p of them, so image j starts at column p + j·(W + p)), which spreads the positions dropped at each row's end over
/// several images (8-wide planes with padding 1: 25% more work alone, 14% eight at a time). Also its computed
/// positions (whole padded rows, rounded up to a vector), the filter panels and the workspace.
/// </summary>
internal readonly struct DirectPlan<T>
    where T : unmanaged, INumber<T>
{
    /// <summary>
    /// Plans a stride-1 convolution of <paramref name="images"/> (C, H, W) images at once by
    /// <paramref name="filters"/> filters. More than one image needs padding p ≤ d(kw − 1), so that an image's outputs
    /// end before the next image's begin.
    /// </summary>
    public DirectPlan(int channels, int height, int width, in WindowGeometry g, int filters, int images = 1)
    {
        if (images < 1 || (images > 1 && g.PadW > g.DilationW * (g.KernelW - 1)))
        {
            throw new ArgumentOutOfRangeException(nameof(images), images, "Images side by side need at least one image and padding within the kernel's span.");
        }

        Channels = channels;
        Height = height;
        Width = width;
        Geometry = g;
        Filters = filters;
        Images = images;
        ImageStride = width + g.PadW;
        PaddedW = (images * width) + ((images + 1) * g.PadW);
        PlaneSize = (height + (2 * g.PadH)) * PaddedW;
        OutH = g.OutputHeight(height);
        OutW = g.OutputWidth(width);
        var vector = Vector512<T>.Count;
        Columns = ((Math.Max(OutH, 0) * PaddedW) + vector - 1) / vector * vector;
        Depth = channels * g.KernelSize;

        // Eight-row panels where they waste no more rows than six-row ones (16, 32, 64 filters), else six; one filter
        // alone takes the one-row tile, eight vectors wide. The panels depend on the filters only, so every plan of
        // a call (WithImages) reads the same packed filters.
        int tall = GatheredMicroKernel.TallRows, low = GatheredMicroKernel.Rows;
        PanelRows = (filters + tall - 1) / tall * tall <= (filters + low - 1) / low * low ? tall : low;
        if (filters == 1)
        {
            PanelRows = 1;
        }

        Panels = (filters + PanelRows - 1) / PanelRows;

        // The last computed position reads (OH − 1 + (kh − 1)d)·Wp + (Wp − 1) + (kw − 1)d + (Columns − OH·Wp) of the
        // last plane: the plane's end, plus the kernel's width and the rounding.
        PaddedLength = (channels * PlaneSize) + (g.DilationW * (g.KernelW - 1)) + Columns - (Math.Max(OutH, 0) * PaddedW);
        Winograd = WinogradConvolution.Applies(this);
    }

    /// <summary>The same plan for <paramref name="images"/> images side by side.</summary>
    public DirectPlan<T> WithImages(int images) => new(Channels, Height, Width, Geometry, Filters, images);

    /// <summary>Images side by side.</summary>
    public int Images { get; }

    /// <summary>Columns from one image's start to the next one's, W + p.</summary>
    public int ImageStride { get; }

    /// <summary>Computed positions per output position: 1 plus the share of dropped positions and rounding.</summary>
    public double Waste => (double)Columns / Math.Max(1, Images * OutH * OutW);

    /// <summary>Input channels.</summary>
    public int Channels { get; }

    /// <summary>Input height.</summary>
    public int Height { get; }

    /// <summary>Input width.</summary>
    public int Width { get; }

    /// <summary>The window.</summary>
    public WindowGeometry Geometry { get; }

    /// <summary>Output channels.</summary>
    public int Filters { get; }

    /// <summary>Width of a padded plane: the images' rows and the zero columns around and between them.</summary>
    public int PaddedW { get; }

    /// <summary>Elements of a padded plane.</summary>
    public int PlaneSize { get; }

    /// <summary>Output height.</summary>
    public int OutH { get; }

    /// <summary>Output width.</summary>
    public int OutW { get; }

    /// <summary>Positions computed per filter: OH·Wp rounded up to a vector.</summary>
    public int Columns { get; }

    /// <summary>The product's depth, C·kh·kw.</summary>
    public int Depth { get; }

    /// <summary>Rows of a panel of packed filters: <see cref="GatheredMicroKernel.TallRows"/>, <see cref="GatheredMicroKernel.Rows"/>, or 1 for the one-row tile.</summary>
    public int PanelRows { get; }

    /// <summary>Panels of packed filters.</summary>
    public int Panels { get; }

    /// <summary>Elements of the padded planes with the slack their last reads need.</summary>
    public int PaddedLength { get; }

    /// <summary>Elements of the workspace: the padded planes.</summary>
    public int WorkspaceLength => PaddedLength;

    /// <summary>Vectors of computed positions.</summary>
    public int Vectors => Columns / Vector512<T>.Count;

    /// <summary>
    /// The most output segments (<see cref="FillSegments"/>): one per vector, plus one more wherever an image's row
    /// begins inside a vector.
    /// </summary>
    public int SegmentCapacity => Vectors + (Math.Max(OutH, 0) * Images);

    /// <summary>
    /// Elements of the filter gradient's workspace: the padded planes, then the upstream gradient spread to padded
    /// rows, with spare rows up to a whole tile of filters.
    /// </summary>
    public int FilterWorkspaceLength => PaddedLength + ((Filters + GatheredMicroKernel.DotFilters - 1) / GatheredMicroKernel.DotFilters * GatheredMicroKernel.DotFilters * Columns);

    /// <summary>Elements of one input image.</summary>
    public int ImageSize => Channels * Height * Width;

    /// <summary>Elements of one output image.</summary>
    public int OutputSize => Filters * OutH * OutW;

    /// <summary>Whether the product runs by Winograd's F(2×2, 3×3) (<see cref="WinogradConvolution"/>) instead of the direct sums.</summary>
    public bool Winograd { get; }

    /// <summary>Elements of the filters packed for the direct kernel (panels of <see cref="PanelRows"/>).</summary>
    public int DirectPackedLength => Panels * PanelRows * Depth;

    /// <summary>
    /// Elements of the packed filters: the direct kernel's panels, then for a <see cref="Winograd"/> plan the
    /// filters' transforms (<see cref="DirectConvolution.PrepareWinograd{T}"/>), which a smaller plan of the same call
    /// that is not Winograd's ignores.
    /// </summary>
    public int PackedFiltersLength => DirectPackedLength + (Winograd ? WinogradConvolution.TransformedLength(Channels, Filters) : 0);

    /// <summary>
    /// Where each vector of computed positions goes in the output (the plan's images, F, OH, OW): its segments, the
    /// runs of lanes that are outputs of one image's row, vector v's being <paramref name="starts"/>[v] up to
    /// <paramref name="starts"/>[v + 1]. A segment is the output offset of the vector's lane 0 (as if the run
    /// extended to it; filter 0's, the filter stride is OH·OW) and a mask of its lanes, so each is one masked store.
    /// Lanes on dropped positions belong to no segment.
    /// </summary>
    public void FillSegments(Span<int> starts, Span<int> offsets, Span<Vector512<T>> masks)
    {
        int lanes = Vector512<T>.Count, count = 0;
        var indices = Vector512<T>.Indices;
        for (var v = 0; v < Vectors; v++)
        {
            starts[v] = count;
            for (var lane = 0; lane < lanes;)
            {
                var q = (v * lanes) + lane;
                int y = q / PaddedW, column = q % PaddedW, image = column / ImageStride, x = column - (image * ImageStride);
                if (y >= OutH || image >= Images || x >= OutW)
                {
                    lane++;
                    continue;
                }

                // The run ends at the image's last output of the row or at the vector's end, whichever comes first.
                var run = Math.Min(OutW - x, lanes - lane);
                offsets[count] = (image * OutputSize) + (y * OutW) + x - lane;
                masks[count] = Vector512.GreaterThanOrEqual(indices, Vector512.Create(T.CreateTruncating(lane)))
                    & Vector512.LessThan(indices, Vector512.Create(T.CreateTruncating(lane + run)));
                count++;
                lane += run;
            }
        }

        starts[Vectors] = count;
    }

    /// <summary>The offset of depth step (c, ky, kx) in the padded planes: c·plane + ky·d·Wp + kx·d.</summary>
    public void FillOffsets(Span<int> offsets)
    {
        var g = Geometry;
        var p = 0;
        for (var c = 0; c < Channels; c++)
        {
            for (var ky = 0; ky < g.KernelH; ky++)
            {
                for (var kx = 0; kx < g.KernelW; kx++)
                {
                    offsets[p++] = (c * PlaneSize) + (ky * g.DilationH * PaddedW) + (kx * g.DilationW);
                }
            }
        }
    }
}
