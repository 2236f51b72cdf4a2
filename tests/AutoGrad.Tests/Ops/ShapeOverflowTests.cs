using System.Reflection;

namespace AutoGrad.Tests.OpFamilies;

/// <summary>
/// Every op whose result can hold more elements than its inputs (broadcasting, products, reshapes) counts them in
/// 64 bits and throws the library's shape exception, naming the op and the shapes, past <see cref="Array.MaxLength"/>.
/// Before, (65537, 1) + (1, 65537) made a tensor whose length had wrapped around to 131073, and MatMul of the same
/// shapes wrote past its buffer and killed the process.
/// </summary>
public class ShapeOverflowTests
{
    private static readonly Tensor s_column = Tensor.Ones([65537, 1]);
    private static readonly Tensor s_row = Tensor.Ones([1, 65537]);
    private static readonly Tensor s_bias = Tensor.Ones([65537]);

    /// <summary>Ops that can grow a shape, each with a call whose result would pass Array.MaxLength.</summary>
    public static TheoryData<string, Func<object>, string[]> Growing => new()
    {
        { "Add", () => Ops.Add(s_column, s_row), ["(65537, 1)", "(1, 65537)", "(65537, 65537)"] },
        { "Subtract", () => s_column - s_row, ["(65537, 1)", "(1, 65537)"] },
        { "Multiply", () => s_column * s_row, ["(65537, 1)", "(1, 65537)"] },
        { "Divide", () => Ops.Divide(s_column, s_row), ["(65537, 1)", "(1, 65537)"] },
        { "MatMul", () => Ops.MatMul(s_column, s_row), ["(65537, 1)", "(1, 65537)", "(65537, 65537)"] },
        { "MatMul", () => Ops.MatMul(Ops.Reshape(s_column, 65537, 1, 1), Ops.Reshape(s_row, 1, 1, 65537)), ["(65537, 1, 1)", "(1, 1, 65537)"] },
        { "Affine", () => Ops.Affine(s_column, s_row, s_bias), ["(65537, 1)", "(1, 65537)"] },
        { "Reshape", () => Ops.Reshape(Tensor.Arange(0, 114), 650274866, 232521397, 61), ["(114,)", "(650274866, 232521397, 61)"] },
        { "Reshape", () => Ops.Reshape(Tensor.Arange(0, 114), -1, 65537, 65537), ["(114,)"] },
        { "BroadcastTo", () => Ops.BroadcastTo(Tensor.Ones([1]), 65537, 65537), ["(65537, 65537)"] },
        { "Zeros", () => Tensor.Zeros([65537, 65537]), ["(65537, 65537)"] },
    };

    /// <summary>Ops whose result never has more elements than one of their inputs, so no input can make it overflow.</summary>
    private static readonly Dictionary<string, string> s_cannotGrow = new()
    {
        ["Abs"] = "elementwise",
        ["Cos"] = "elementwise",
        ["Exp"] = "elementwise",
        ["Log"] = "elementwise",
        ["Negate"] = "elementwise",
        ["Pow"] = "elementwise",
        ["Relu"] = "elementwise",
        ["Sigmoid"] = "elementwise",
        ["Sign"] = "elementwise",
        ["Sin"] = "elementwise",
        ["Sqrt"] = "elementwise",
        ["Tanh"] = "elementwise",
        ["Softmax"] = "elementwise along an axis",
        ["LogSoftmax"] = "elementwise along an axis",
        ["Sum"] = "a reduction",
        ["Mean"] = "a reduction",
        ["Max"] = "a reduction",
        ["SumTo"] = "a reduction",
        ["Transpose"] = "a permutation",
        ["Permute"] = "a permutation",
        ["Slice"] = "a part of its input",
        ["Gather"] = "one element per row",
        ["SoftmaxWithLoss"] = "a scalar",
        ["SigmoidWithLoss"] = "a scalar",
        ["CrossEntropyError"] = "a scalar",
        ["MeanSquaredError"] = "a scalar",
    };

    public static TheoryData<string> PublicOps => [.. typeof(Ops).GetMethods(BindingFlags.Public | BindingFlags.Static)
        .Where(m => !m.IsSpecialName).Select(m => m.Name).Distinct().Order()];

    [Theory]
    [MemberData(nameof(PublicOps))]
    public void Every_public_op_either_has_an_overflow_case_or_cannot_grow(string op)
    {
        var growing = Growing.Select(row => (string)row[0]).ToHashSet();
        Assert.True(growing.Contains(op) || s_cannotGrow.ContainsKey(op), $"{op}: add an overflowing call to Growing, or say why it cannot grow.");
    }

    [Theory]
    [MemberData(nameof(Growing))]
    public void Throws_the_shape_exception_naming_the_op_and_shapes(string op, Func<object> call, string[] fragments)
    {
        var e = Assert.Throws<ShapeMismatchException>(() => call());
        Assert.StartsWith(op + ":", e.Message, StringComparison.Ordinal);
        Assert.Contains(Array.MaxLength.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);
        foreach (var fragment in fragments)
        {
            Assert.True(e.Message.Contains(fragment, StringComparison.Ordinal), $"'{fragment}' missing from: {e.Message}");
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
