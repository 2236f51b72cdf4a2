using static AutoGrad.Tests.TestData;

namespace AutoGrad.Tests.Operations;

/// <summary>Pooling at the points PyTorch documents: ties, NaN, padding in the divisor, overlapping adaptive bins.</summary>
public class PoolingTests
{
    [Fact]
    public void Max_pooling_sends_a_tie_to_its_first_position_and_propagates_NaN_to_where_it_was()
    {
        var x = Tensor.FromArray([5.0, 5, 1, double.NaN, 2, 0, 9, 3], 1, 1, 2, 4);
        using var tape = new Tape();
        tape.Watch(x);
        var y = Ops.MaxPool2d(x, 2);
        Assert.Equal(5, y[0, 0, 0, 0]);
        Assert.True(double.IsNaN(y[0, 0, 0, 1]));

        var dx = tape.Gradient(y, [x], Tensor.FromArray([10.0, 20], 1, 1, 1, 2))[0];
        Assert.Equal([10.0, 0, 0, 20, 0, 0, 0, 0], dx.ToDoubleArray()); // the 5s tie: the first gets it; the NaN takes its window's
    }

    [Theory]
    [InlineData(6, 8, false)]
    [InlineData(6, 8, true)]
    [InlineData(4, 38, false)]
    [InlineData(4, 38, true)]
    [InlineData(7, 9, false)]
    [InlineData(4, 28, true)] // 14 windows a row: 8, 4, and the last 4 again
    [InlineData(6, 12, true)] // 6: 4 and the last 4 again
    [InlineData(4, 6, true)] // 3: fewer than 4, one by one
    public void Max_pooling_2x2_routes_each_window_to_its_first_maximum_or_NaN_among_many_ties(int height, int width, bool float32)
    {
        // Values from {0, 1, 2} make ties common; a few NaNs take their windows. Even sides take the tiling path,
        // odd ones the general path: both must match the definition, element by element.
        var random = new Random(5);
        var values = Enumerable.Range(0, 2 * 3 * height * width).Select(_ => random.Next(40) == 0 ? double.NaN : random.Next(3)).ToArray();
        var x = Tensor.FromArray(values, 2, 3, height, width);
        if (float32)
        {
            x = x.ToType(DType.Float32);
        }

        using var tape = new Tape();
        tape.Watch(x);
        var y = Ops.MaxPool2d(x, 2);
        int outH = height / 2, outW = width / 2;
        var upstream = Enumerable.Range(1, 6 * outH * outW).Select(i => (double)i).ToArray();
        var g = Tensor.FromArray(upstream, 2, 3, outH, outW);
        var dx = tape.Gradient(y, [x], float32 ? g.ToType(DType.Float32) : g)[0].ToDoubleArray();

        var expected = new double[values.Length];
        for (var plane = 0; plane < 6; plane++)
        {
            for (var i = 0; i < outH; i++)
            {
                for (var j = 0; j < outW; j++)
                {
                    int[] window = [.. from r in new[] { 2 * i, (2 * i) + 1 } from c in new[] { 2 * j, (2 * j) + 1 } select (plane * height * width) + (r * width) + c];
                    var nan = window.FirstOrDefault(e => double.IsNaN(values[e]), -1);
                    var best = nan >= 0 ? nan : window.Aggregate((a, b) => values[b] > values[a] ? b : a);
                    expected[best] += upstream[(((plane * outH) + i) * outW) + j];
                    Assert.Equal(values[best], y[plane / 3, plane % 3, i, j]);
                }
            }
        }

        Assert.Equal(expected, dx);
    }

    [Fact]
    public void A_recorded_float32_max_pool_keeps_its_choices_and_every_rule_agrees_with_the_unrecorded_pass()
    {
        // Recorded, the float32 2×2 pooling keeps each window's choice for its backward pass; unrecorded, it does not.
        // Both give the same maxima, and the fast rule, the rule in ops (createGraph) and the JVP route alike.
        var random = new Random(9);
        var values = Enumerable.Range(0, 3 * 2 * 10 * 28).Select(_ => random.Next(60) == 0 ? double.NaN : random.Next(4) - 1.5).ToArray();
        var x = Tensor.FromArray(values, 3, 2, 10, 28).ToType(DType.Float32);
        var unrecorded = Ops.MaxPool2d(x, 2).ToDoubleArray();
        var g = Tensor.FromArray([.. Enumerable.Range(0, 3 * 2 * 5 * 14).Select(i => (double)(i % 17) - 8)], 3, 2, 5, 14).ToType(DType.Float32);

        using var tape = new Tape();
        tape.Watch(x);
        var y = Ops.MaxPool2d(x, 2);
        Assert.Equal(unrecorded, y.ToDoubleArray());
        var fast = tape.Gradient(y, [x], g, retainGraph: true)[0].ToDoubleArray();
        var inOps = tape.Gradient(y, [x], g, createGraph: true)[0].ToDoubleArray();
        Assert.Equal(fast, inOps);

        using var doubles = new Tape();
        var x64 = Tensor.FromArray(values, 3, 2, 10, 28);
        doubles.Watch(x64);
        var expected = doubles.Gradient(Ops.MaxPool2d(x64, 2), [x64], g.ToType(DType.Float64))[0].ToDoubleArray();
        Assert.Equal(expected, fast);

        var tangent = Tensor.FromArray([.. Enumerable.Range(0, values.Length).Select(i => (double)(i % 7))], 3, 2, 10, 28).ToType(DType.Float32);
        var (_, jvp) = Functional.Jvp(v => Ops.MaxPool2d(v, 2), x, tangent);

        // ⟨J t, g⟩ = ⟨t, Jᵀ g⟩: each window's tangent is taken from the element its gradient goes to.
        var tangents = tangent.ToDoubleArray();
        Assert.Equal(jvp.ToDoubleArray().Zip(g.ToDoubleArray()).Sum(p => p.First * p.Second), tangents.Zip(fast).Sum(p => p.First * p.Second));
    }

    [Fact]
    public void Padding_never_wins_a_max_pool_even_against_negative_values()
    {
        var x = Tensor.FromArray([-4.0, -3, -2, -1], 1, 1, 2, 2);
        var y = Ops.MaxPool2d(x, 2, stride: 1, padding: 1);
        Assert.Equal([-4.0, -3, -3, -2, -1, -1, -2, -1, -1], y.ToDoubleArray());
    }

    [Fact]
    public void Average_pooling_divides_by_the_whole_window_or_by_the_real_pixels()
    {
        var x = Tensor.FromArray([1.0, 2, 3, 4], 1, 1, 2, 2);
        var included = Ops.AvgPool2d(x, 2, stride: 1, padding: 1);
        var excluded = Ops.AvgPool2d(x, 2, stride: 1, padding: 1, countIncludePad: false);

        // The corner window covers only the pixel 1: 1/4 with the padding counted, 1/1 without.
        Assert.Equal(0.25, included[0, 0, 0, 0]);
        Assert.Equal(1.0, excluded[0, 0, 0, 0]);
        Assert.Equal(2.5, included[0, 0, 1, 1]);
        Assert.Equal(2.5, excluded[0, 0, 1, 1]);
        Assert.Equal(1.5, excluded[0, 0, 0, 1]);
    }

    [Fact]
    public void Adaptive_pooling_to_one_pixel_is_the_mean_and_its_bins_overlap_as_PyTorchs()
    {
        var x = Normal(1, 2, 3, 5, 7);
        var global = Ops.AdaptiveAvgPool2d(x, 1);
        var mean = Ops.Mean(Ops.Reshape(x, 2, 3, 35), 2);
        AssertClose(mean.ToDoubleArray(), global.ToDoubleArray(), 1e-14, 1e-15);

        // Three rows into two bins: rows 0–1 and rows 1–2 (⌊0·3/2⌋ … ⌈3/2⌉, then ⌊3/2⌋ … ⌈6/2⌉).
        var rows = Tensor.FromArray([1.0, 2, 4], 1, 1, 3, 1);
        Assert.Equal([1.5, 3.0], Ops.AdaptiveAvgPool2d(rows, (2, 1)).ToDoubleArray());
    }
}
