using AutoGrad.Kernels;

namespace AutoGrad.Tests.Kernels;

/// <summary>The pooling that keeps its choices as bytes, against windows worked out one by one.</summary>
public class PoolChoicesTests
{
    [Theory]
    [InlineData(3, 8, 32, 2, 2)] // the 2×2 vectors: 16 windows a row
    [InlineData(2, 7, 13, 2, 2)] // odd sides: a last row and column left out, 6 windows a row (vectors of four, then one)
    [InlineData(2, 9, 10, 3, 2)] // rectangular windows: the scalar choices
    [InlineData(1, 5, 5, 1, 1)]
    public void Float32_pools_and_scatters_as_the_windows_one_by_one(int planes, int height, int width, int poolH, int poolW) =>
        Check<float>(planes, height, width, poolH, poolW);

    [Theory]
    [InlineData(3, 8, 32, 2, 2)]
    [InlineData(2, 9, 10, 3, 2)]
    public void Float64_pools_and_scatters_as_the_windows_one_by_one(int planes, int height, int width, int poolH, int poolW) =>
        Check<double>(planes, height, width, poolH, poolW);

    [Fact]
    public void Spans_too_short_for_the_windows_are_refused()
    {
        Assert.Throws<ArgumentException>(() => PoolChoices.Forward<float>(new float[15], 1, 4, 4, 2, 2, new float[4], new byte[4]));
        Assert.Throws<ArgumentException>(() => PoolChoices.Scatter<float>(new byte[3], new float[4], 1, 4, 4, 2, 2, new float[16]));
        Assert.Throws<ArgumentException>(() => PoolChoices.Forward<float>(new float[400], 1, 20, 20, 17, 17, new float[1], new byte[1]));
    }

    private static void Check<T>(int planes, int height, int width, int poolH, int poolW)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        // Values from a few levels, so that windows tie often, and a NaN here and there.
        var random = new Random(planes + (height * 31) + width);
        var source = new T[planes * height * width];
        for (var i = 0; i < source.Length; i++)
        {
            source[i] = i % 37 == 5 ? T.NaN : T.CreateTruncating(random.Next(4));
        }

        int outH = height / poolH, outW = width / poolW, windows = planes * outH * outW;
        var pooled = new T[windows];
        var choices = new byte[windows];
        PoolChoices.Forward<T>(source, planes, height, width, poolH, poolW, pooled, choices);

        var upstream = new T[windows];
        for (var i = 0; i < windows; i++)
        {
            upstream[i] = T.CreateTruncating(i + 1);
        }

        var gradient = new T[source.Length];
        Array.Fill(gradient, T.NaN);
        PoolChoices.Scatter<T>(choices, upstream, planes, height, width, poolH, poolW, gradient);

        var expectedGradient = new T[source.Length];
        for (var p = 0; p < planes; p++)
        {
            for (var i = 0; i < outH; i++)
            {
                for (var j = 0; j < outW; j++)
                {
                    var o = (((p * outH) + i) * outW) + j;
                    var (maximum, first) = Window(source, p, height, width, i * poolH, j * poolW, poolH, poolW);
                    Assert.Equal(T.IsNaN(maximum), T.IsNaN(pooled[o]));
                    Assert.True(T.IsNaN(maximum) || maximum == pooled[o], $"window {o}: {pooled[o]} for {maximum}");
                    Assert.Equal(first, choices[o]);
                    var at = (((p * height) + (i * poolH) + (first / poolW)) * width) + (j * poolW) + (first % poolW);
                    expectedGradient[at] = upstream[o];
                }
            }
        }

        // Every element written: g at each choice, 0 elsewhere, also where no window reaches.
        Assert.Equal(expectedGradient, gradient);
    }

    /// <summary>A window's maximum (NaN if it holds one) and the row-major index of its first maximum or first NaN.</summary>
    private static (T Maximum, int First) Window<T>(T[] source, int plane, int height, int width, int top, int left, int poolH, int poolW)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var values = new List<T>();
        for (var r = 0; r < poolH; r++)
        {
            for (var c = 0; c < poolW; c++)
            {
                values.Add(source[(((plane * height) + top + r) * width) + left + c]);
            }
        }

        var firstNaN = values.FindIndex(T.IsNaN);
        if (firstNaN >= 0)
        {
            return (T.NaN, firstNaN);
        }

        var maximum = values.Max()!;
        return (maximum, values.IndexOf(maximum));
    }
}
