namespace AutoGrad.Tests.Operations;

/// <summary>
/// Every op whose result can hold more elements than its inputs (broadcasting, products, reshapes) counts them in
/// 64 bits and throws the library's shape exception, naming the op and the shapes, past <see cref="Array.MaxLength"/>.
/// Before, (65537, 1) + (1, 65537) made a tensor whose length had wrapped around to 131073, and MatMul of the same
/// shapes wrote past its buffer and killed the process. The calls live in the ops' descriptors, so a new op declares
/// its own (or why it cannot grow) beside its code.
/// </summary>
public class ShapeOverflowTests
{
    private static readonly Tensor s_row = Tensor.Ones([1, 65537]);

    /// <summary>Every descriptor's overflowing calls (<see cref="OpInfo.Overflows"/>), and the factories'.</summary>
    public static TheoryData<string, string, Func<object>, string[]> Growing
    {
        get
        {
            var data = new TheoryData<string, string, Func<object>, string[]>();
            foreach (var row in OpCatalog.All)
            {
                foreach (var overflow in row.Overflows)
                {
                    data.Add(row.Names.Count > 0 ? row.Names[0] : row.Call, overflow.Description, overflow.Call, [.. overflow.MessageFragments]);
                }
            }

            data.Add("Zeros", "a huge shape", () => Tensor.Zeros([65537, 65537]), ["(65537, 65537)"]);
            return data;
        }
    }

    public static TheoryData<string> Rows => [.. OpCatalog.All.Select(row => row.Call)];

    [Theory]
    [MemberData(nameof(Rows))]
    public void Every_op_either_has_an_overflow_case_or_says_why_it_cannot_grow(string call)
    {
        var row = OpCatalog.All.Single(r => r.Call == call);
        Assert.True(row.Overflows.Count > 0 != (row.CannotGrowBecause is not null), $"{call}: give Overflows, or CannotGrowBecause, in its descriptor (one of the two).");
    }

    [Theory]
    [MemberData(nameof(Growing))]
    public void Throws_the_shape_exception_naming_the_op_and_shapes(string op, string description, Func<object> call, string[] fragments)
    {
        var e = Assert.Throws<ShapeMismatchException>(() => call());
        Assert.StartsWith(op + ":", e.Message, StringComparison.Ordinal);
        Assert.Contains(Array.MaxLength.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);
        foreach (var fragment in fragments)
        {
            Assert.True(e.Message.Contains(fragment, StringComparison.Ordinal), $"{description}: '{fragment}' missing from: {e.Message}");
        }
    }

    [Fact]
    public void Overflow_is_caught_on_a_tape_too_and_leaves_it_usable()
    {
        using var tape = new Tape();
        var x = tape.Watch(Tensor.Ones([65537, 1]));
        Assert.Throws<ShapeMismatchException>(() => Ops.MatMul(x, s_row));
        var y = Ops.Sum(x * 2);
        Assert.Equal(2.0, tape.Gradient(y, x)[0].ToDoubleArray()[0]);
    }

    [Fact]
    public void The_largest_shapes_that_fit_are_accepted()
    {
        // A zero dimension makes any shape empty, however large the others; 65537 × 4 is far below the limit.
        var empty = Tensor.Zeros([65536, 0]);
        Assert.Equal(0, Ops.Add(empty, Tensor.Zeros([1, 0])).Length);
        Assert.Equal(0, Ops.Reshape(Tensor.Zeros([0]), -1, 65537, 65537).Length);
        Assert.Equal(65537 * 4, Ops.Add(Tensor.Ones([65537, 1]), Tensor.Ones([1, 4])).Length);
    }
}
