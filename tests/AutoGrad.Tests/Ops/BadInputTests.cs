using System.Reflection;

namespace AutoGrad.Tests.OpFamilies;

/// <summary>Bad input throws an exception whose message names the op and the offending shapes or values.</summary>
public class BadInputTests
{
    private static readonly Tensor s_m23 = Tensor.Zeros([2, 3], DType.Float64);
    private static readonly Tensor s_m32 = Tensor.Zeros([3, 2], DType.Float64);
    private static readonly Tensor s_v3 = Tensor.Zeros([3], DType.Float64);
    private static readonly Tensor s_v2 = Tensor.Zeros([2], DType.Float64);
    private static readonly Tensor s_f23 = Tensor.Zeros([2, 3]);
    private static readonly Tensor s_empty = Tensor.Zeros([0, 3], DType.Float64);

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

        // Every other public op, so that the walk covers them all (see Every_public_op_has_a_case).
        { "abs null", typeof(ArgumentNullException), () => Ops.Abs(null!), ["Abs", "'x'"] },
        { "cos null", typeof(ArgumentNullException), () => Ops.Cos(null!), ["Cos", "'x'"] },
        { "log null", typeof(ArgumentNullException), () => Ops.Log(null!), ["Log", "'x'"] },
        { "relu null", typeof(ArgumentNullException), () => Ops.Relu(null!), ["Relu", "'x'"] },
        { "sigmoid null", typeof(ArgumentNullException), () => Ops.Sigmoid(null!), ["Sigmoid", "'x'"] },
        { "sign null", typeof(ArgumentNullException), () => Ops.Sign(null!), ["Sign", "'x'"] },
        { "sin null", typeof(ArgumentNullException), () => Ops.Sin(null!), ["Sin", "'x'"] },
        { "sqrt null", typeof(ArgumentNullException), () => Ops.Sqrt(null!), ["Sqrt", "'x'"] },
        { "tanh null", typeof(ArgumentNullException), () => Ops.Tanh(null!), ["Tanh", "'x'"] },
        { "negate null", typeof(ArgumentNullException), () => Ops.Negate(null!), ["Negate", "'x'"] },
        { "add scalar nan", typeof(ArgumentOutOfRangeException), () => s_m23 + double.NaN, ["Add", "NaN"] },
        { "subtract types", typeof(DTypeMismatchException), () => s_f23 - s_m23, ["Subtract", "float32", "float64"] },
        { "divide shapes", typeof(ShapeMismatchException), () => s_m32 / s_v3, ["Divide", "(3, 2)", "(3,)"] },
        { "divide scalar infinite", typeof(ArgumentOutOfRangeException), () => double.NegativeInfinity / s_m23, ["Divide", "-Infinity"] },
        { "pow nan", typeof(ArgumentOutOfRangeException), () => Ops.Pow(s_m23, double.NaN), ["Pow", "NaN"] },
        { "mean axis", typeof(ArgumentOutOfRangeException), () => Ops.Mean(s_m23, -3), ["Mean", "axis -3", "(2, 3)"] },
        { "mean empty", typeof(ArgumentException), () => Ops.Mean(s_empty), ["Mean", "empty", "(0, 3)"] },
        { "max empty", typeof(ArgumentException), () => Ops.Max(s_empty, 0), ["Max", "empty", "(0, 3)"] },
        { "transpose axes", typeof(ArgumentOutOfRangeException), () => Ops.Transpose(s_m23, 0, 2), ["Transpose", "2", "(2, 3)"] },
        { "permute length", typeof(ArgumentException), () => Ops.Permute(s_m23, 0), ["Permute", "(0,)", "(2, 3)"] },
        { "gather label count", typeof(ShapeMismatchException), () => Ops.Gather(s_m23, new[] { 0 }), ["Gather", "1 labels", "2 rows"] },
        { "cross entropy target", typeof(ShapeMismatchException), () => Ops.CrossEntropyError(s_m23, s_m32), ["CrossEntropyError", "(3, 2)", "(2, 3)"] },
        { "softmax loss empty", typeof(ShapeMismatchException), () => Ops.SoftmaxWithLoss(s_empty, Array.Empty<int>()), ["SoftmaxWithLoss", "empty", "(0, 3)"] },
        { "cross entropy empty", typeof(ShapeMismatchException), () => Ops.CrossEntropyError(s_empty, Array.Empty<int>()), ["CrossEntropyError", "empty", "(0, 3)"] },
        { "mse empty", typeof(ShapeMismatchException), () => Ops.MeanSquaredError(s_empty, s_empty), ["MeanSquaredError", "empty", "(0, 3)"] },
        { "sigmoid loss empty", typeof(ShapeMismatchException), () => Ops.SigmoidWithLoss(s_empty, s_empty), ["SigmoidWithLoss", "empty", "(0, 3)"] },

        // Tensors.
        { "negative dimension", typeof(ArgumentException), () => Tensor.Zeros([2, -1]), ["(2, -1)", "negative"] },
        { "random std", typeof(ArgumentException), () => Tensor.RandomNormal([2], 1, std: double.NaN), ["RandomNormal", "std NaN"] },
        { "random range", typeof(ArgumentException), () => Tensor.RandomUniform([2], 1, low: 1, high: 1), ["RandomUniform", "1"] },
        { "arange step", typeof(ArgumentException), () => Tensor.Arange(0, 1, 0), ["Arange", "step 0"] },
        { "scalar of matrix", typeof(InvalidOperationException), () => s_m23.ToScalar(), ["ToScalar", "(2, 3)"] },
        { "span type", typeof(InvalidOperationException), () => s_m23.ToFloatArray().Length + s_m23.AsSpan<float>().Length, ["float64", "float32"] },

        // The tape (the README's "How the tape behaves" documents each of these).
        { "watch null", typeof(ArgumentNullException), () => TapeCall(static (tape, _) => tape.Watch(null!)), ["Watch", "null"] },
        { "gradient of a vector", typeof(ShapeMismatchException), () => TapeCall(static (tape, x) => tape.Gradient(Ops.Exp(x), x)), ["Gradient", "(2,)", "outputGradient"] },
        { "gradient seed shape", typeof(ShapeMismatchException), () => TapeCall(static (tape, x) => tape.Gradient(Ops.Exp(x), [x], Tensor.Zeros([3], DType.Float64))), ["Gradient", "(3,)", "(2,)"] },
        { "gradient seed nan", typeof(ArgumentException), () => TapeCall(static (tape, x) => tape.Gradient(Ops.Exp(x), [x], Tensor.FromArray([1, double.NaN]))), ["Gradient", "outputGradient", "NaN"] },
        { "gradient of untracked input", typeof(InvalidOperationException), () => TapeCall(static (tape, x) => tape.Gradient(Ops.Sum(Ops.Exp(x)), s_v2)), ["Gradient", "not tracked", "Watch"] },
        { "gradient twice", typeof(InvalidOperationException), () => TapeCall(static (tape, x) => { var y = Ops.Sum(x); tape.Gradient(y, x); return tape.Gradient(y, x); }), ["Gradient", "already", "retainGraph"] },
        { "backward twice", typeof(InvalidOperationException), () => TapeCall(static (tape, x) => { var y = Ops.Sum(x); tape.Backward(y); tape.Backward(y); return y; }), ["Backward", "already", "retainGraph"] },
        { "two tapes", typeof(InvalidOperationException), () => TwoTapes(), ["Add", "tape"] },
        { "after reset", typeof(InvalidOperationException), () => TapeCall(static (tape, x) => { var y = Ops.Exp(x); tape.Reset(); return Ops.Log(y); }), ["Log", "reset"] },
    };

    /// <summary>The public op names of <see cref="Ops"/> (operators excluded: they forward to named ops).</summary>
    public static TheoryData<string> PublicOps => [.. typeof(Ops).GetMethods(BindingFlags.Public | BindingFlags.Static).Select(m => m.Name).Distinct().Order()];

    [Theory]
    [MemberData(nameof(PublicOps))]
    public void Every_public_op_has_a_case(string op)
    {
        var named = Cases.Select(row => ((string[])row[3])[0]).ToHashSet();
        Assert.Contains(op, named);
    }

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

    private static object TapeCall(Func<Tape, Tensor, object> body)
    {
        using var tape = new Tape();
        return body(tape, tape.Watch(Tensor.FromArray([1.0, 2.0])));
    }

    private static object TwoTapes()
    {
        using var outer = new Tape();
        var a = outer.Watch(Tensor.FromArray([1.0, 2.0]));
        var fromOuter = Ops.Exp(a);
        using var inner = new Tape();
        var b = inner.Watch(Tensor.FromArray([1.0, 2.0]));
        return fromOuter + Ops.Exp(b);
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
