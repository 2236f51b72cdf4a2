using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AutoGrad.Kernels;

/// <summary>
/// Max pooling over windows that tile a plane without overlapping (ph × pw at stride (ph, pw), no padding; rows and
/// columns past the last whole window are left out, as PyTorch's <c>ceil_mode=False</c>), keeping each window's
/// choice as one byte: the row-major index inside the window of its first element equal to the maximum, or of its
/// first NaN. The gradient is then scattered from those bytes alone, without the pooled planes: what a fused
/// convolution and pooling needs, whose planes exist only one image at a time. The choices are
/// <see cref="MaxPool2x2Choices"/>' (and for 2×2 windows in float32 its vectors do the work), so the gradients are
/// those of <c>MaxPool2d</c> bit for bit.
/// </summary>
internal static class PoolChoices
{
    /// <summary>The most positions a window may have: its index must fit in a byte.</summary>
    public const int MaxWindow = 256;

    /// <summary>
    /// Pools <paramref name="planes"/> planes of <paramref name="height"/> × <paramref name="width"/> into
    /// <paramref name="pooled"/> (⌊height / ph⌋ × ⌊width / pw⌋ each) and writes each window's choice to
    /// <paramref name="choices"/>, in the same order.
    /// </summary>
    public static void Forward<T>(ReadOnlySpan<T> source, int planes, int height, int width, int poolH, int poolW, Span<T> pooled, Span<byte> choices)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int outH = height / poolH, outW = width / poolW, windows = planes * outH * outW;
        Require(source.Length, planes * height * width, pooled.Length, choices.Length, windows, poolH, poolW);
        if (typeof(T) == typeof(float) && poolH == 2 && poolW == 2 && MaxPool2x2Choices.IsSupported)
        {
            // Planes of even height are one run of row pairs; an odd one's last row is no window's.
            var input = MemoryMarshal.Cast<T, float>(source);
            var output = MemoryMarshal.Cast<T, float>(pooled);
            if (height % 2 == 0)
            {
                MaxPool2x2Choices.PoolRows(input, planes * outH, width, output, choices);
                return;
            }

            for (var p = 0; p < planes; p++)
            {
                MaxPool2x2Choices.PoolRows(input.Slice(p * height * width, height * width), outH, width, output.Slice(p * outH * outW, outH * outW), choices.Slice(p * outH * outW, outH * outW));
            }

            return;
        }

        ref var origin = ref MemoryMarshal.GetReference(source);
        var o = 0;
        for (var p = 0; p < planes; p++)
        {
            for (var i = 0; i < outH; i++)
            {
                for (var j = 0; j < outW; j++, o++)
                {
                    ref var corner = ref Unsafe.Add(ref origin, (((p * height) + (i * poolH)) * width) + (j * poolW));
                    var best = T.NegativeInfinity;
                    for (var r = 0; r < poolH; r++)
                    {
                        for (var c = 0; c < poolW; c++)
                        {
                            // IEEE 754 maximum: a NaN wins.
                            best = T.Max(best, Unsafe.Add(ref corner, (r * width) + c));
                        }
                    }

                    pooled[o] = best;
                    choices[o] = (byte)FirstMatch(ref corner, width, poolH, poolW, best);
                }
            }
        }
    }

    /// <summary>
    /// The gradient of <see cref="Forward{T}"/>: every element of <paramref name="gradient"/> (the planes' layout) is
    /// written, the window's g at its choice and 0 elsewhere, including the rows and columns no window covers.
    /// </summary>
    public static void Scatter<T>(ReadOnlySpan<byte> choices, ReadOnlySpan<T> upstream, int planes, int height, int width, int poolH, int poolW, Span<T> gradient)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int outH = height / poolH, outW = width / poolW, windows = planes * outH * outW;
        Require(gradient.Length, planes * height * width, upstream.Length, choices.Length, windows, poolH, poolW);
        if (typeof(T) == typeof(float) && poolH == 2 && poolW == 2 && MaxPool2x2Choices.IsSupported)
        {
            var g = MemoryMarshal.Cast<T, float>(upstream);
            var target = MemoryMarshal.Cast<T, float>(gradient)[..(planes * height * width)];
            if (height % 2 == 0)
            {
                MaxPool2x2Choices.RouteRows(choices, g, planes * outH, width, target);
            }
            else
            {
                for (var p = 0; p < planes; p++)
                {
                    var plane = target.Slice(p * height * width, height * width);
                    MaxPool2x2Choices.RouteRows(choices.Slice(p * outH * outW, outH * outW), g.Slice(p * outH * outW, outH * outW), outH, width, plane);
                    plane[((height - 1) * width)..].Clear();
                }
            }

            if (width % 2 != 0)
            {
                // The last column, which no window covers.
                for (var row = width - 1; row < target.Length; row += width)
                {
                    target[row] = 0;
                }
            }

            return;
        }

        gradient.Clear();
        var o = 0;
        for (var p = 0; p < planes; p++)
        {
            for (var i = 0; i < outH; i++)
            {
                for (var j = 0; j < outW; j++, o++)
                {
                    int choice = choices[o], row = (i * poolH) + (choice / poolW), column = (j * poolW) + (choice % poolW);
                    gradient[(((p * height) + row) * width) + column] = upstream[o];
                }
            }
        }
    }

    /// <summary>The row-major index of the window's first element equal to <paramref name="maximum"/>, or of its first NaN when that is NaN.</summary>
    private static int FirstMatch<T>(ref T corner, int width, int poolH, int poolW, T maximum)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var nan = T.IsNaN(maximum);
        for (var r = 0; r < poolH; r++)
        {
            for (var c = 0; c < poolW; c++)
            {
                var v = Unsafe.Add(ref corner, (r * width) + c);
                if (nan ? T.IsNaN(v) : v == maximum)
                {
                    return (r * poolW) + c;
                }
            }
        }

        return 0;
    }

    private static void Require(int planeElements, int expectedPlaneElements, int pooledElements, int choiceBytes, int windows, int poolH, int poolW)
    {
        if (poolH < 1 || poolW < 1 || poolH * poolW > MaxWindow || planeElements < expectedPlaneElements || pooledElements < windows || choiceBytes < windows)
        {
            throw new ArgumentException($"The spans do not fit {windows} windows of {poolH}×{poolW} over {expectedPlaneElements} elements.");
        }
    }
}
