namespace AutoGrad.Tests.Operations;

/// <summary>Issue 16: PyTorch's indexing, <c>x[0, 1:3]</c>, as <c>x[0, 1..3]</c>: read as an op, written in place.</summary>
public class TensorIndexingTests
{
    /// <summary>A 3 × 4 matrix holding 0 … 11 row by row.</summary>
    private static Tensor Matrix() => Tensor.FromArray([.. Enumerable.Range(0, 12).Select(i => (double)i)], 3, 4);

    [Fact]
    public void Positions_remove_their_axis_and_ranges_keep_theirs()
    {
        var x = Matrix();
        var columns = x[.., 1..3];
        Assert.Equal(new[] { 3, 2 }, columns.Shape.Dims.ToArray());
        Assert.Equal([1.0, 2, 5, 6, 9, 10], columns.ToDoubleArray());

        Assert.Equal([0.0, 1, 2, 3], x[0, ..].ToDoubleArray());
        Assert.Equal([8.0, 9, 10, 11], x[-1, ..].ToDoubleArray());
        Assert.Equal([8.0, 9, 10, 11], x[^1].ToDoubleArray());
        Assert.Equal([10.0, 11], x[^1, 2..].ToDoubleArray());
        Assert.Equal([3.0, 7, 11], x[.., ^1].ToDoubleArray());
        Assert.Equal(Shape.Scalar, x[1, ^2].Shape);
        Assert.Equal(6.0, x[1, ^2].Item());

        var cube = Tensor.FromArray([.. Enumerable.Range(0, 24).Select(i => (double)i)], 2, 3, 4);
        Assert.Equal([13.0, 14, 15], cube[1, 0, 1..].ToDoubleArray());
        Assert.Equal(new[] { 2, 4 }, cube[.., 2].Shape.Dims.ToArray());
        Assert.Equal([8.0, 9, 10, 11, 20, 21, 22, 23], cube[.., 2].ToDoubleArray());
    }

    [Fact]
    public void The_gradient_of_a_part_is_the_upstream_gradient_in_place_and_zeros_elsewhere()
    {
        var w = Matrix();
        w.RequiresGrad = true;
        (w[.., 1..3] * w[.., 1..3]).Sum().Backward();
        var expected = new double[12];
        foreach (var i in new[] { 1, 2, 5, 6, 9, 10 })
        {
            expected[i] = 2 * i;
        }

        Assert.Equal(expected, w.Grad!.ToDoubleArray());

        using var tape = new Tape();
        var g = tape.Gradient(w[^1, 2..].Sum(), w)[0].ToDoubleArray();
        Assert.Equal([0.0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1], g);
    }

    [Fact]
    public void Writing_a_part_copies_a_broadcast_value_in_place_and_counts_as_a_write()
    {
        var x = Matrix();
        var version = x.Version;
        x[.., 1..3] = Tensor.Scalar(-1, DType.Float64);
        Assert.Equal([0.0, -1, -1, 3, 4, -1, -1, 7, 8, -1, -1, 11], x.ToDoubleArray());
        Assert.Equal(version + 1, x.Version);

        x[0, ..] = Tensor.FromArray([10.0, 20, 30, 40]);
        x[1..3, 0] = Tensor.FromArray([50.0, 60]);
        x[2, 3] = 99;
        Assert.Equal([10.0, 20, 30, 40, 50, -1, -1, 7, 60, -1, -1, 99], x.ToDoubleArray());
        Assert.Equal(version + 4, x.Version);
    }

    [Fact]
    public void A_parameter_written_after_an_op_read_it_makes_that_ops_backward_refuse()
    {
        var w = Matrix();
        w.RequiresGrad = true;
        var loss = Ops.Sum(w * w);
        w[0, 0] = 5;
        var error = Assert.Throws<InvalidOperationException>(() => loss.Backward());
        Assert.Contains("written after it was recorded", error.Message);
    }

    [Fact]
    public void Bad_indices_and_values_get_the_indexers_exceptions()
    {
        var x = Matrix();
        Assert.Contains("3 indices given for a tensor of shape (3, 4)", Assert.Throws<ArgumentException>(() => x[0, 1.., ..]).Message);
        Assert.Contains("position 3 is out of range for axis 0 of shape (3, 4)", Assert.Throws<ArgumentOutOfRangeException>(() => x[3, ..]).Message);
        Assert.Contains("range 2..5 is out of range for axis 1", Assert.Throws<ArgumentOutOfRangeException>(() => x[.., 2..5]).Message);
        Assert.Contains("x[0, ..] is row 0", Assert.Throws<ArgumentException>(() => x[0]).Message);
        Assert.Throws<DTypeMismatchException>(() => x[0, ..] = Tensor.Zeros([4], DType.Float32));
        Assert.Throws<ShapeMismatchException>(() => x[0, ..] = Tensor.Zeros([3], DType.Float64));

        using var tape = new Tape();
        var result = x * 2;
        var error = Assert.Throws<InvalidOperationException>(() => result[0, 0] = 1);
        Assert.StartsWith("Indexer: ", error.Message);
        Assert.Throws<InvalidOperationException>(() => result[0, ..] = Tensor.Zeros([4], DType.Float64));
    }
}
