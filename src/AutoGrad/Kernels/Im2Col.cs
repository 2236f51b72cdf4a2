namespace AutoGrad.Kernels;

/// <summary>
/// The geometry of a 2-D sliding window (a convolution's or a pooling's): kernel, stride, zero padding and dilation,
/// each as (height, width).
/// </summary>
internal readonly record struct WindowGeometry(int KernelH, int KernelW, int StrideH, int StrideW, int PadH, int PadW, int DilationH, int DilationW)
{
    /// <summary>The output's height for an input of height <paramref name="height"/>: ⌊(H + 2p − d(k − 1) − 1) / s⌋ + 1.</summary>
    public int OutputHeight(int height) => ((height + (2 * PadH) - (DilationH * (KernelH - 1)) - 1) / StrideH) + 1;

    /// <summary>The output's width for an input of width <paramref name="width"/>.</summary>
    public int OutputWidth(int width) => ((width + (2 * PadW) - (DilationW * (KernelW - 1)) - 1) / StrideW) + 1;

    /// <summary>The number of kernel positions, kh·kw.</summary>
    public int KernelSize => KernelH * KernelW;
}

/// <summary>
/// im2col and col2im for one image (C, H, W): the columns are (C·kh·kw, OH·OW), row (c, i, j) holding the input
/// element under kernel position (i, j) of channel c for every output position, or 0 where that falls in the padding
/// (the layout of PyTorch's <c>unfold</c>, so the convolution is W (F, C·kh·kw) times the columns, already NCHW).
/// </summary>
internal static class Im2Col
{
    /// <summary>Writes the columns of one image.</summary>
    public static void Unfold<T>(ReadOnlySpan<T> image, int channels, int height, int width, in WindowGeometry g, Span<T> columns)
        where T : struct
    {
        int outH = g.OutputHeight(height), outW = g.OutputWidth(width), positions = outH * outW;
        var row = 0;
        for (var c = 0; c < channels; c++)
        {
            var plane = image.Slice(c * height * width, height * width);
            for (var ki = 0; ki < g.KernelH; ki++)
            {
                for (var kj = 0; kj < g.KernelW; kj++, row++)
                {
                    var destination = columns.Slice(row * positions, positions);
                    var (first, last) = ValidColumns(outW, width, kj * g.DilationW - g.PadW, g.StrideW);
                    for (var oh = 0; oh < outH; oh++)
                    {
                        var line = destination.Slice(oh * outW, outW);
                        var ih = (oh * g.StrideH) - g.PadH + (ki * g.DilationH);
                        if ((uint)ih >= (uint)height || first >= last)
                        {
                            line.Clear();
                            continue;
                        }

                        line[..first].Clear();
                        line[last..].Clear();
                        var source = plane.Slice(ih * width, width);
                        var iw = (first * g.StrideW) + (kj * g.DilationW) - g.PadW;
                        if (g.StrideW == 1)
                        {
                            source.Slice(iw, last - first).CopyTo(line[first..last]);
                        }
                        else
                        {
                            for (var ow = first; ow < last; ow++, iw += g.StrideW)
                            {
                                line[ow] = source[iw];
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>Adds the columns back onto one image (the adjoint of <see cref="Unfold{T}"/>): overlapping windows sum.</summary>
    public static void Fold<T>(ReadOnlySpan<T> columns, int channels, int height, int width, in WindowGeometry g, Span<T> image)
        where T : struct, System.Numerics.IAdditionOperators<T, T, T>
    {
        int outH = g.OutputHeight(height), outW = g.OutputWidth(width), positions = outH * outW;
        var row = 0;
        for (var c = 0; c < channels; c++)
        {
            var plane = image.Slice(c * height * width, height * width);
            for (var ki = 0; ki < g.KernelH; ki++)
            {
                for (var kj = 0; kj < g.KernelW; kj++, row++)
                {
                    var source = columns.Slice(row * positions, positions);
                    var (first, last) = ValidColumns(outW, width, kj * g.DilationW - g.PadW, g.StrideW);
                    for (var oh = 0; oh < outH; oh++)
                    {
                        var ih = (oh * g.StrideH) - g.PadH + (ki * g.DilationH);
                        if ((uint)ih >= (uint)height || first >= last)
                        {
                            continue;
                        }

                        var line = source.Slice(oh * outW, outW);
                        var destination = plane.Slice(ih * width, width);
                        var iw = (first * g.StrideW) + (kj * g.DilationW) - g.PadW;
                        for (var ow = first; ow < last; ow++, iw += g.StrideW)
                        {
                            destination[iw] += line[ow];
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// The output columns [first, last) whose input column ow·stride + offset lies inside [0, width): the rest read
    /// padding. Computed once per kernel column rather than tested per element.
    /// </summary>
    private static (int First, int Last) ValidColumns(int outW, int width, int offset, int stride)
    {
        // ow·s + offset ≥ 0  ⇔  ow ≥ ⌈−offset / s⌉;  ow·s + offset < width  ⇔  ow < ⌈(width − offset) / s⌉.
        var first = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
        var last = width - offset <= 0 ? 0 : Math.Min(outW, (width - offset + stride - 1) / stride);
        return (Math.Min(first, outW), last);
    }
}
