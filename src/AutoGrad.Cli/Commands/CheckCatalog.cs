namespace AutoGrad.Cli.Commands;

/// <summary>One verification: an op at some shapes, against finite differences or against its composition of primitives.</summary>
/// <param name="Op">The op's name, as in the README's op table.</param>
/// <param name="Shapes">The input shapes, for the report.</param>
/// <param name="Function">The computation under test.</param>
/// <param name="Inputs">Makes the float64 inputs (fresh each time, so a check cannot disturb another).</param>
/// <param name="Composed">For a fused op: the same computation from primitives, whose gradients must agree.</param>
internal sealed record CheckCase(string Op, string Shapes, Func<Tensor[], Tensor> Function, Func<Tensor[]> Inputs, Func<Tensor[], Tensor>? Composed = null);

/// <summary>The cases <c>autograd check</c> runs: every op of the README's table at several shapes, and every fused op twice.</summary>
internal static class CheckCatalog
{
    private static readonly int[] s_labels = [2, 0, 3];

    public static IReadOnlyList<CheckCase> All { get; } = Build();

    private static List<CheckCase> Build()
    {
        var cases = new List<CheckCase>();
        void Gradient(string op, Func<Tensor[], Tensor> f, params Func<Tensor>[] inputs) =>
            cases.Add(new CheckCase(op, Describe(inputs), f, () => [.. inputs.Select(make => make())]));
        void Fused(string op, Func<Tensor[], Tensor> f, Func<Tensor[], Tensor> composed, params Func<Tensor>[] inputs) =>
            cases.Add(new CheckCase(op, Describe(inputs) + " vs composition", f, () => [.. inputs.Select(make => make())], composed));

        foreach (var (a, b) in new[] { (new[] { 3, 4 }, new[] { 3, 4 }), ([3, 1], [1, 4]), ([], [2, 3]), ([1, 10], [10]), ([2, 3, 4], [3, 1]) })
        {
            Gradient("Add", v => v[0] + v[1], N(1, a), N(2, b));
            Gradient("Subtract", v => v[0] - v[1], N(3, a), N(4, b));
            Gradient("Multiply", v => v[0] * v[1], N(5, a), N(6, b));
            Gradient("Divide", v => v[0] / v[1], N(7, a), U(8, 0.5, 2, b));
        }

        Gradient("ScalarArithmetic", v => (3 / v[0]) + (2 * v[0]) - (v[0] / 4) + (1 - v[0]) - 5, U(9, 0.5, 2, 2, 3));
        foreach (var shape in new[] { Array.Empty<int>(), [5], [2, 3, 4] })
        {
            Gradient("Negate", v => -v[0], N(10, shape));
            Gradient("Exp", v => Ops.Exp(v[0]), N(11, shape));
            Gradient("Log", v => Ops.Log(v[0]), U(12, 0.5, 3, shape));
            Gradient("Pow", v => Ops.Pow(v[0], 3), N(13, shape));
            Gradient("Sqrt", v => Ops.Sqrt(v[0]), U(14, 0.5, 3, shape));
            Gradient("Abs", v => Ops.Abs(v[0]), Away(15, shape));
            Gradient("Sign", v => Ops.Sign(v[0]) * v[0], Away(16, shape));
            Gradient("Relu", v => Ops.Relu(v[0]), Away(17, shape));
            Gradient("Sigmoid", v => Ops.Sigmoid(v[0]), N(18, shape));
            Gradient("Tanh", v => Ops.Tanh(v[0]), N(19, shape));
            Gradient("Sin", v => Ops.Sin(v[0]), N(54, shape));
            Gradient("Cos", v => Ops.Cos(v[0]), N(55, shape));
        }

        foreach (var (shape, axis) in new[] { (new[] { 5 }, 0), ([3, 4], -1), ([3, 4], 0), ([2, 3, 4], 1) })
        {
            Gradient("Softmax", v => Ops.Softmax(v[0], axis), N(20, shape));
            Gradient("LogSoftmax", v => Ops.LogSoftmax(v[0], axis), N(21, shape));
        }

        foreach (var (shape, axis, keep) in new[] { (new[] { 5 }, (int?)null, false), ([3, 4], 1, true), ([3, 4], null, true), ([2, 3, 4], 1, false) })
        {
            Gradient("Sum", v => Ops.Sum(v[0], axis, keep), N(22, shape));
            Gradient("Mean", v => Ops.Mean(v[0], axis, keep), N(23, shape));
            Gradient("Max", v => Ops.Max(v[0], axis, keep), N(24, shape));
        }

        foreach (var (a, b) in new[] { (new[] { 3, 4 }, new[] { 4, 5 }), ([2, 3, 4], [4, 5]), ([2, 1, 3, 4], [5, 4, 2]), ([4], [4, 2]) })
        {
            Gradient("MatMul", v => Ops.MatMul(v[0], v[1]), N(25, a), N(26, b));
        }

        Gradient("Reshape", v => Ops.Reshape(v[0], 4, -1) * 2, N(27, 2, 3, 2));
        Gradient("Transpose", v => Ops.Transpose(v[0]) * 2, N(28, 3, 4));
        Gradient("Transpose", v => Ops.Transpose(v[0], 0, 2) * 2, N(29, 2, 3, 4));
        Gradient("Permute", v => Ops.Permute(v[0], 2, 0, 1) * 2, N(30, 2, 3, 4));
        Gradient("BroadcastTo", v => Ops.BroadcastTo(v[0], 2, 3, 4) * 2, N(31, 3, 1));
        Gradient("SumTo", v => Ops.SumTo(v[0], 3, 1), N(32, 2, 3, 4));
        Gradient("Slice", v => Ops.Slice(v[0], 1, 2) * 2, N(33, 4, 3));
        Gradient("Gather", v => Ops.Gather(v[0], s_labels), N(34, 3, 4));

        Gradient("Affine", v => Ops.Affine(v[0], v[1], v[2]), N(35, 3, 4), N(36, 4, 5), N(37, 5));
        Gradient("SoftmaxWithLoss", v => Ops.SoftmaxWithLoss(v[0], s_labels), N(38, 3, 4));
        Gradient("SigmoidWithLoss", v => Ops.SigmoidWithLoss(v[0], v[1]), N(39, 4, 2), U(40, 0, 1, 4, 2));
        Gradient("MeanSquaredError", v => Ops.MeanSquaredError(v[0], v[1]), N(41, 3, 2), N(42, 3, 2));
        Gradient("CrossEntropyError", v => Ops.CrossEntropyError(v[0], s_labels), U(43, 0.1, 1, 3, 4));

        Fused("Affine", v => Ops.Affine(v[0], v[1], v[2]), v => Ops.MatMul(Ops.Reshape(v[0], 4, -1), v[1]) + v[2], N(44, 4, 2, 3), N(45, 6, 5), N(46, 5));
        Fused("SoftmaxWithLoss", v => Ops.SoftmaxWithLoss(v[0], v[1]), v => -Ops.Sum(v[1] * Ops.LogSoftmax(v[0])) / 3, N(47, 3, 4), OneHot);
        Fused("SoftmaxWithLoss", v => Ops.SoftmaxWithLoss(v[0], v[1]), v => -Ops.Sum(v[1] * Ops.Log(Ops.Softmax(v[0]))) / 3, N(48, 3, 4), OneHot);
        Fused("SigmoidWithLoss", v => Ops.SigmoidWithLoss(v[0], v[1]), v =>
        {
            var y = Ops.Sigmoid(v[0]);
            return -Ops.Sum((v[1] * Ops.Log(y)) + ((1 - v[1]) * Ops.Log(1 - y))) / 4;
        }, N(49, 4, 3), U(50, 0, 1, 4, 3));
        Fused("MeanSquaredError", v => Ops.MeanSquaredError(v[0], v[1]), v => Ops.Sum(Ops.Pow(v[0] - v[1], 2)) * 0.5 / 4, N(51, 4, 3), N(52, 4, 3));
        Fused("CrossEntropyError", v => Ops.CrossEntropyError(v[0], v[1]), v => -Ops.Sum(v[1] * Ops.Log(v[0] + Ops.CrossEntropyDelta)) / 3, U(53, 0.1, 1, 3, 4), OneHot);
        return cases;
    }

    private static Tensor OneHot()
    {
        var t = new double[12];
        for (var i = 0; i < 3; i++)
        {
            t[(i * 4) + s_labels[i]] = 1;
        }

        return Tensor.FromArray(t, 3, 4);
    }

    private static Func<Tensor> N(int seed, params int[] shape) => () => Tensor.RandomNormal(shape, seed, dtype: DType.Float64);

    private static Func<Tensor> U(int seed, double low, double high, params int[] shape) => () => Tensor.RandomUniform(shape, seed, low, high, DType.Float64);

    /// <summary>Normal values at least 0.1 from 0, for ops with a kink there.</summary>
    private static Func<Tensor> Away(int seed, params int[] shape) => () =>
    {
        var t = Tensor.RandomNormal(shape, seed, dtype: DType.Float64);
        var values = t.AsSpan<double>();
        for (var i = 0; i < values.Length; i++)
        {
            values[i] += values[i] >= 0 ? 0.1 : -0.1;
        }

        return t;
    };

    private static string Describe(Func<Tensor>[] inputs) => string.Join(" ", inputs.Select(make => make().Shape.ToString()));
}
