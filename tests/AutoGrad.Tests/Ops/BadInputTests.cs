namespace AutoGrad.Tests.OpFamilies;

/// <summary>Bad input throws an exception whose message names the op and the offending shapes or values.</summary>
public class BadInputTests
{
    private static readonly Tensor s_m23 = Tensor.Zeros([2, 3], DType.Float64);
    private static readonly Tensor s_m32 = Tensor.Zeros([3, 2], DType.Float64);
    private static readonly Tensor s_v3 = Tensor.Zeros([3], DType.Float64);
    private static readonly Tensor s_v2 = Tensor.Zeros([2], DType.Float64);
    private static readonly Tensor s_f23 = Tensor.Zeros([2, 3]);

    public static TheoryData<string, Type, Func<object>, string[]> Cases => new()
    {
        { "add shapes", typeof(ShapeMismatchException), () => s_m32 + s_v3, ["Add", "(3, 2)", "(3,)"] },
        { "multiply shapes", typeof(ShapeMismatchException), () => s_m23 * s_m32, ["Multiply", "(2, 3)", "(3, 2)"] },
        { "matmul inner", typeof(ShapeMismatchException), () => Ops.MatMul(s_m23, s_m23), ["MatMul", "(2, 3)", "3 ≠ 2"] },
        { "matmul scalar", typeof(ShapeMismatchException), () => Ops.MatMul(Tensor.Scalar(1, DType.Float64), s_m23), ["MatMul", "()"] },
        { "affine weight", typeof(ShapeMismatchException), () => Ops.Affine(s_m23, s_m23, s_v3), ["Affine", "(2, 3)", "(3,)"] },
        { "affine bias", typeof(ShapeMismatchException), () => Ops.Affine(s_m23, s_m32, s_v3), ["Affine", "b (3,)"] },
        { "reshape count", typeof(ShapeMismatchException), () => Ops.Reshape(s_m23, 4, 2), ["Reshape", "(2, 3)", "(4, 2)"] },
        { "reshape two -1", typeof(ShapeMismatchException), () => Ops.Reshape(s_m23, -1, -1), ["Reshape", "(-1, -1)"] },
        { "broadcast_to", typeof(ShapeMismatchException), () => Ops.BroadcastTo(s_m23, 3, 3), ["BroadcastTo", "(2, 3)", "(3, 3)"] },
        { "sum_to", typeof(ShapeMismatchException), () => Ops.SumTo(s_m23, 4), ["SumTo", "(2, 3)", "(4,)"] },
        { "transpose vector", typeof(ShapeMismatchException), () => Ops.Transpose(s_v3), ["Transpose", "(3,)"] },
        { "permute", typeof(ArgumentException), () => Ops.Permute(s_m23, 0, 0), ["Permute", "(0, 0)", "(2, 3)"] },
        { "softmax axis", typeof(ArgumentOutOfRangeException), () => Ops.Softmax(s_m23, 2), ["Softmax", "axis 2", "(2, 3)"] },
        { "log_softmax axis", typeof(ArgumentOutOfRangeException), () => Ops.LogSoftmax(s_m23, -3), ["LogSoftmax", "axis -3"] },
        { "sum axis", typeof(ArgumentOutOfRangeException), () => Ops.Sum(s_m23, 5), ["Sum", "axis 5", "(2, 3)"] },
        { "max axis", typeof(ArgumentOutOfRangeException), () => Ops.Max(s_v3, 1), ["Max", "axis 1", "(3,)"] },
        { "slice range", typeof(ArgumentOutOfRangeException), () => Ops.Slice(s_m23, 1, 2), ["Slice", "[1, 3)", "(2, 3)"] },
        { "label too big", typeof(ArgumentOutOfRangeException), () => Ops.SoftmaxWithLoss(s_m23, new[] { 0, 3 }), ["SoftmaxWithLoss", "label 3", "row 1", "3 classes"] },
        { "label negative", typeof(ArgumentOutOfRangeException), () => Ops.CrossEntropyError(s_m23, new[] { -1, 0 }), ["CrossEntropyError", "label -1", "row 0"] },
        { "label count", typeof(ShapeMismatchException), () => Ops.SoftmaxWithLoss(s_m23, new[] { 0 }), ["SoftmaxWithLoss", "1 labels", "2 rows"] },
        { "gather label", typeof(ArgumentOutOfRangeException), () => Ops.Gather(s_m23, new[] { 0, 7 }), ["Gather", "label 7"] },
        { "one-hot shape", typeof(ShapeMismatchException), () => Ops.SoftmaxWithLoss(s_m23, s_m32), ["SoftmaxWithLoss", "(3, 2)", "(2, 3)"] },
        { "mse shape", typeof(ShapeMismatchException), () => Ops.MeanSquaredError(s_v3, s_v2), ["MeanSquaredError", "(2,)", "(3,)"] },
        { "sigmoid loss shape", typeof(ShapeMismatchException), () => Ops.SigmoidWithLoss(s_v3, s_m23), ["SigmoidWithLoss", "(2, 3)", "(3,)"] },
        { "scores rank", typeof(ShapeMismatchException), () => Ops.SoftmaxWithLoss(Tensor.Zeros([2, 2, 2], DType.Float64), new[] { 0, 1 }), ["SoftmaxWithLoss", "(2, 2, 2)"] },
        { "mix add", typeof(DTypeMismatchException), () => s_f23 + s_m23, ["Add", "float32", "float64"] },
        { "mix matmul", typeof(DTypeMismatchException), () => Ops.MatMul(s_f23, s_m32), ["MatMul", "float32", "float64"] },
        { "mix affine", typeof(DTypeMismatchException), () => Ops.Affine(s_f23, s_m32, s_v2), ["Affine", "float32", "float64"] },
        { "mix loss", typeof(DTypeMismatchException), () => Ops.SoftmaxWithLoss(s_f23, s_m23), ["SoftmaxWithLoss", "float32", "float64"] },
        { "scalar nan", typeof(ArgumentOutOfRangeException), () => s_m23 * double.NaN, ["Multiply", "NaN"] },
        { "pow infinite", typeof(ArgumentOutOfRangeException), () => Ops.Pow(s_m23, double.PositiveInfinity), ["Pow", "exponent"] },
        { "null", typeof(ArgumentNullException), () => Ops.Exp(null!), ["Exp", "'x'"] },
        { "from array", typeof(ArgumentException), () => Tensor.FromArray([1f, 2f, 3f], 2, 2), ["FromArray", "3 values", "(2, 2)"] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Throws_a_specific_exception_naming_op_and_shapes(string name, Type type, Func<object> call, string[] fragments)
    {
        var e = Assert.Throws(type, () => call());
        foreach (var fragment in fragments)
        {
            Assert.True(e.Message.Contains(fragment, StringComparison.Ordinal), $"{name}: '{fragment}' missing from: {e.Message}");
        }
    }

    [Fact]
    public void Using_tensors_of_a_disposed_tape_names_the_op()
    {
        Tensor y;
        using (var tape = new Tape())
        {
            y = Ops.Exp(Tensor.FromArray([1.0]));
        }

        var e = Assert.Throws<InvalidOperationException>(() => Ops.Log(y));
        Assert.Contains("Log", e.Message);
        Assert.Contains("disposed", e.Message);
    }
}
