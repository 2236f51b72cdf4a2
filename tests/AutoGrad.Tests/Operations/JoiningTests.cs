using static AutoGrad.Tests.TestData;

namespace AutoGrad.Tests.Operations;

/// <summary>What the Joining descriptors do not state: the values worked out by hand, and that the pieces round-trip.</summary>
public class JoiningTests
{
    private static Tensor Counting(double from, params int[] shape) =>
        Ops.Reshape(Tensor.Arange(from, from + shape.Aggregate(1, (a, b) => a * b), dtype: DType.Float64), shape);

    [Fact]
    public void Concat_places_each_tensor_after_the_ones_before_it_along_the_axis()
    {
        var last = Ops.Concat([Counting(1, 2, 2), Counting(5, 2, 1)], 1);
        Assert.Equal(new[] { 2, 3 }, last.Shape.Dims.ToArray());
        Assert.Equal(new double[] { 1, 2, 5, 3, 4, 6 }, last.ToDoubleArray());

        var first = Ops.Concat([Counting(1, 1, 2), Counting(3, 2, 2)]);
        Assert.Equal(new double[] { 1, 2, 3, 4, 5, 6 }, first.ToDoubleArray());

        var middle = Ops.Concat([Counting(1, 2, 1, 2), Counting(10, 2, 2, 2)], -2);
        Assert.Equal(new[] { 2, 3, 2 }, middle.Shape.Dims.ToArray());
        Assert.Equal(new double[] { 1, 2, 10, 11, 12, 13, 3, 4, 14, 15, 16, 17 }, middle.ToDoubleArray());
    }

    [Fact]
    public void Stack_makes_each_tensor_one_index_of_the_new_axis()
    {
        var a = Counting(1, 2, 2);
        var b = Counting(5, 2, 2);
        Assert.Equal(new double[] { 1, 2, 3, 4, 5, 6, 7, 8 }, Ops.Stack([a, b]).ToDoubleArray());
        Assert.Equal(new double[] { 1, 2, 5, 6, 3, 4, 7, 8 }, Ops.Stack([a, b], 1).ToDoubleArray());
        var lastAxis = Ops.Stack([a, b], -1);
        Assert.Equal(new[] { 2, 2, 2 }, lastAxis.Shape.Dims.ToArray());
        Assert.Equal(new double[] { 1, 5, 2, 6, 3, 7, 4, 8 }, lastAxis.ToDoubleArray());
    }

    [Fact]
    public void Narrow_Split_and_Chunk_cut_ranges_that_Concat_joins_back()
    {
        var x = Counting(0, 2, 3);
        Assert.Equal(new double[] { 1, 2, 4, 5 }, Ops.Narrow(x, 1, 1, 2).ToDoubleArray());
        Assert.Equal(new double[] { 3, 4, 5 }, Ops.Narrow(x, 0, 1, 1).ToDoubleArray());

        var pieces = Ops.Split(x, [2, 0, 1], -1);
        Assert.Equal(["(2, 2)", "(2, 0)", "(2, 1)"], pieces.Select(p => p.Shape.ToString()));
        Assert.Equal(new double[] { 0, 1, 3, 4 }, pieces[0].ToDoubleArray());
        Assert.Equal(new double[] { 2, 5 }, pieces[2].ToDoubleArray());
        Assert.Equal(x.ToDoubleArray(), Ops.Concat(pieces, 1).ToDoubleArray());

        // PyTorch's chunk: pieces of ⌈size / chunks⌉, so 5 in 3 is 2, 2, 1 and 6 in 4 is three pieces of 2.
        Assert.Equal(["(2,)", "(2,)", "(1,)"], Ops.Chunk(Tensor.Arange(0, 5), 3).Select(p => p.Shape.ToString()));
        Assert.Equal(["(2,)", "(2,)", "(2,)"], Ops.Chunk(Tensor.Arange(0, 6), 4).Select(p => p.Shape.ToString()));
        Assert.Single(Ops.Chunk(Tensor.Zeros([0, 2]), 3));
    }

    [Fact]
    public void Concat_routes_each_pieces_gradient_to_its_input_and_adds_them_for_a_repeated_one()
    {
        // y = Concat(a, b, a) along 1, summed against weights: a receives its two pieces' weights added.
        var a = Counting(1, 2, 1);
        var b = Counting(3, 2, 2);
        using var tape = new Tape();
        tape.Watch(a);
        tape.Watch(b);
        var y = Ops.Concat([a, b, a], 1);
        var upstream = Counting(10, 2, 4);
        var gradients = tape.Gradient(y, [a, b], upstream, retainGraph: true);
        Assert.Equal(new double[] { 10 + 13, 14 + 17 }, gradients[0].ToDoubleArray());
        Assert.Equal(new double[] { 11, 12, 15, 16 }, gradients[1].ToDoubleArray());
        AssertClose(gradients[1].ToDoubleArray(), tape.Gradient(y, [b], upstream, createGraph: true)[0].ToDoubleArray(), 0, 0);
    }

    [Fact]
    public void Repeat_tiles_as_PyTorch_does_and_sums_the_tiles_gradients()
    {
        var x = Counting(1, 1, 2);
        var tiled = Ops.Repeat(x, 2, 2);
        Assert.Equal(new[] { 2, 4 }, tiled.Shape.Dims.ToArray());
        Assert.Equal(new double[] { 1, 2, 1, 2, 1, 2, 1, 2 }, tiled.ToDoubleArray());
        Assert.Equal(new[] { 3, 1, 2 }, Ops.Repeat(x, 3, 1, 1).Shape.Dims.ToArray());

        using var tape = new Tape();
        tape.Watch(x);
        var gradient = tape.Gradient(Ops.Repeat(x, 2, 2), [x], Counting(1, 2, 4))[0];
        Assert.Equal(new double[] { 1 + 3 + 5 + 7, 2 + 4 + 6 + 8 }, gradient.ToDoubleArray());
    }
}
