using static AutoGrad.Tests.TestData;

namespace AutoGrad.Tests.Operations;

public class ShapeOpsTests
{
    [Fact]
    public void Reshape_infers_one_dimension_and_shares_memory()
    {
        var x = Tensor.Arange(0, 24, dtype: DType.Float64);
        var y = Ops.Reshape(x, 2, -1, 4);
        Assert.Equal(Shape.Create([2, 3, 4]), y.Shape);
        Assert.Equal(23.0, y[1, 2, 3]);
        Assert.Equal(Shape.Scalar, Ops.Reshape(Tensor.FromArray([5.0]), []).Shape);
        AssertGradientsMatch(v => Ops.Reshape(v[0], 4, 6) * v[1], Normal(1, 2, 3, 4), Normal(2, 4, 6));
    }

    [Fact]
    public void Transpose_and_permute_move_elements_and_gradients()
    {
        var x = Tensor.FromArray([1.0, 2, 3, 4, 5, 6], 2, 3);
        var t = Ops.Transpose(x);
        Assert.Equal(Shape.Create([3, 2]), t.Shape);
        Assert.Equal([1.0, 4, 2, 5, 3, 6], t.ToDoubleArray());
        var p = Ops.Permute(Normal(1, 2, 3, 4), 2, 0, 1);
        Assert.Equal(Shape.Create([4, 2, 3]), p.Shape);

        var w = Normal(3, 4, 2, 3);
        AssertGradientsMatch(v => Ops.Permute(v[0], 2, 0, 1) * w, Normal(4, 2, 3, 4));
        AssertGradientsMatch(v => Ops.Transpose(v[0]) * Normal(5, 4, 3), Normal(6, 3, 4));
        AssertGradientsMatch(v => Ops.Transpose(v[0], 0, 2) * Normal(7, 4, 3, 2), Normal(8, 2, 3, 4));
    }

    [Fact]
    public void BroadcastTo_and_SumTo_are_adjoint_and_differentiable()
    {
        var x = Tensor.FromArray([1.0, 2.0], 2, 1);
        var b = Ops.BroadcastTo(x, 3, 2, 4);
        Assert.Equal(Shape.Create([3, 2, 4]), b.Shape);
        Assert.Equal(2.0, b[2, 1, 3]);
        var s = Ops.SumTo(b, 2, 1);
        Assert.Equal([12.0, 24.0], s.ToDoubleArray());

        AssertGradientsMatch(v => Ops.BroadcastTo(v[0], 3, 2, 4) * Normal(1, 3, 2, 4), Normal(2, 2, 1));
        AssertGradientsMatch(v => Ops.SumTo(v[0], 1, 4) * Normal(3, 1, 4), Normal(4, 3, 2, 4));
        AssertGradientsMatch(v => Ops.SumTo(v[0]), Normal(5, 3, 2));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Many_slices_and_crops_of_one_tensor_add_their_regions_into_its_gradient(bool viaIntermediate)
    {
        // Each step of a recurrent layer reads one slice of the same projected input: the slices' gradients land in
        // one slot, the first clearing it, the others adding their regions in place, whether the sliced tensor is a
        // watched leaf (its claimed gradient buffer) or an op's result. Narrow on axis 1 crops; on axis 0 it slices.
        var x = Normal(31, 3, 5, 2);
        using var tape = new Tape();
        tape.Watch(x);
        var source = viaIntermediate ? x * 2.0 : x;
        var total = Ops.Sum(Ops.Narrow(source, 1, 0, 2) * 1.0) + Ops.Sum(Ops.Narrow(source, 1, 1, 3) * 2.0) + Ops.Sum(Ops.Narrow(source, 0, 1, 2) * 3.0) + Ops.Sum(Ops.Narrow(source, 1, 4, 1) * 4.0);
        var gradient = tape.Gradient(total, [x], retainGraph: true)[0].ToDoubleArray();

        // And through Backward into the parameter's own buffer, which the first slice's gradient claims.
        x.RequiresGrad = true;
        tape.Backward(total);
        Assert.Equal(gradient, x.Grad!.ToDoubleArray());
        for (var n = 0; n < 3; n++)
        {
            for (var t = 0; t < 5; t++)
            {
                var expected = (t < 2 ? 1.0 : 0) + (t is >= 1 and < 4 ? 2.0 : 0) + (n >= 1 ? 3.0 : 0) + (t == 4 ? 4.0 : 0);
                expected *= viaIntermediate ? 2.0 : 1.0;
                Assert.Equal(expected, gradient[(n * 10) + (t * 2)]);
                Assert.Equal(expected, gradient[(n * 10) + (t * 2) + 1]);
            }
        }
    }

    [Fact]
    public void Permute_keeping_the_last_axis_moves_whole_rows_to_the_right_places()
    {
        // Attention's (N, T, H, D) → (N, H, T, D): the rows of D move as blocks.
        var x = Normal(41, 2, 3, 4, 5);
        var y = Ops.Permute(x, 0, 2, 1, 3);
        Assert.Equal(new[] { 2, 4, 3, 5 }, y.Shape.Dims.ToArray());
        for (var n = 0; n < 2; n++)
        {
            for (var t = 0; t < 3; t++)
            {
                for (var h = 0; h < 4; h++)
                {
                    for (var d = 0; d < 5; d++)
                    {
                        Assert.Equal(x[n, t, h, d], y[n, h, t, d]);
                    }
                }
            }
        }

        var w = Normal(42, 2, 4, 3, 5);
        AssertGradientsMatch(v => Ops.Permute(v[0], 0, 2, 1, 3) * w, Normal(43, 2, 3, 4, 5));
    }

    [Fact]
    public void Slicing_the_leading_axis()
    {
        var x = Tensor.Arange(0, 12, dtype: DType.Float64);
        var m = Ops.Reshape(x, 4, 3);
        var rows = m[1..3];
        Assert.Equal(Shape.Create([2, 3]), rows.Shape);
        Assert.Equal([3.0, 4, 5, 6, 7, 8], rows.ToDoubleArray());
        Assert.Equal([9.0, 10, 11], m[^1..].ToDoubleArray());
        AssertGradientsMatch(v => v[0][1..3] * Normal(1, 2, 3), Normal(2, 4, 3));
        AssertGradientsMatch(v => Ops.Slice(v[0], 0, 1), Normal(3, 2, 2, 2));
    }

    [Fact]
    public void Pad_takes_pairs_from_the_last_dimension_back_as_PyTorch_and_Flatten_merges_from_axis_one()
    {
        // F.pad(x, (1, 0, 0, 1), value=9) on [[1, 2], [3, 4]]: one column on the left, one row at the bottom.
        var x = Tensor.FromArray([1.0, 2, 3, 4], 2, 2);
        var y = Ops.Pad(x, [1, 0, 0, 1], 9);
        Assert.Equal(new[] { 3, 3 }, y.Shape.Dims.ToArray());
        Assert.Equal([9.0, 1, 2, 9, 3, 4, 9, 9, 9], y.ToDoubleArray());

        var images = Tensor.Zeros([4, 3, 5, 2]);
        Assert.Equal(new[] { 4, 30 }, Ops.Flatten(images).Shape.Dims.ToArray());
        Assert.Equal(new[] { 4, 15, 2 }, Ops.Flatten(images, 1, 2).Shape.Dims.ToArray());
    }
}
