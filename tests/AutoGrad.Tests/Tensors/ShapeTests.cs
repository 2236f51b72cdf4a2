namespace AutoGrad.Tests.Tensors;

public class ShapeTests
{
    [Fact]
    public void Formats_like_numpy()
    {
        Assert.Equal("()", Shape.Scalar.ToString());
        Assert.Equal("(5,)", (Shape.Create([5])).ToString());
        Assert.Equal("(2, 3, 4)", (Shape.Create([2, 3, 4])).ToString());
    }

    [Fact]
    public void Counts_elements_and_compares_by_value()
    {
        Shape a = [2, 3, 4];
        Assert.Equal(24, a.ElementCount);
        Assert.Equal(3, a.Rank);
        Assert.Equal(4, a[-1]);
        Assert.Equal(a, Shape.Create([2, 3, 4]));
        Assert.NotEqual(a, Shape.Create([2, 12]));
        Assert.Equal(1, Shape.Scalar.ElementCount);
    }

    [Fact]
    public void Rejects_negative_dimensions_and_overflow()
    {
        Assert.Contains("negative", Assert.Throws<ArgumentException>(() => Shape.Create([2, -1])).Message);
        Assert.Contains("more than", Assert.Throws<ShapeMismatchException>(() => Shape.Create([1 << 20, 1 << 20])).Message);
    }

    [Fact]
    public void Bad_axis_names_the_op_and_shape()
    {
        Shape s = [2, 3];
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => s.NormalizeAxis(2, "Softmax"));
        Assert.Contains("Softmax", e.Message);
        Assert.Contains("(2, 3)", e.Message);
    }
}
