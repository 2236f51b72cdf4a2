namespace AutoGrad.Tests.Tensors;

/// <summary>The per-thread table of recent shapes' dimension arrays: equal dimensions share one array, others never do.</summary>
public class RecentShapesTests
{
    [Fact]
    public void Equal_dimensions_share_one_array_and_different_ones_get_their_own()
    {
        // Forty shapes, more than a set holds, interned twice: the second pass finds most of them, and every array
        // holds exactly the dimensions asked for.
        var shapes = Enumerable.Range(1, 40).Select(i => new[] { 100, i, 28, 28 }).ToArray();
        var first = shapes.Select(d => RecentShapes.Intern(d)).ToArray();
        var second = shapes.Select(d => RecentShapes.Intern(d)).ToArray();
        for (var i = 0; i < shapes.Length; i++)
        {
            Assert.Equal(shapes[i], first[i]);
            Assert.Equal(shapes[i], second[i]);
            Assert.NotSame(shapes[i], first[i]); // the caller's dimensions are copied, never kept
        }

        Assert.True(first.Zip(second).Count(p => ReferenceEquals(p.First, p.Second)) >= 30);
        Assert.Same(RecentShapes.Intern([100, 16, 28, 28]), RecentShapes.Intern([100, 16, 28, 28]));
        Assert.NotSame(RecentShapes.Intern([100, 16, 28, 28]), RecentShapes.Intern([100, 16, 28]));
    }

    [Fact]
    public void Shapes_made_from_the_stack_report_their_dimensions_and_refuse_overflow()
    {
        var shape = Shape.FromDims([3, 4, 5], "Test");
        Assert.Equal(60, shape.ElementCount);
        Assert.Equal([3, 4, 5], shape.Dims.ToArray());
        Assert.Equal(Shape.Scalar, Shape.FromDims([], "Test"));
        var error = Assert.Throws<ShapeMismatchException>(() => Shape.FromDims([1 << 16, 1 << 16], "Test"));
        Assert.Contains("Test", error.Message);
    }
}
