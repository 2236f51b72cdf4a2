namespace AutoGrad.Tests.Operations;

/// <summary>
/// Inputs at the edges: logits of ±1000, probabilities of exactly 0 and 1, batches of one row and of 100,000 rows,
/// rank-0 and empty tensors. Every expected value is derived by hand in the comment above it.
/// </summary>
public class ExtremeInputTests
{
    public static TheoryData<DType> Types => [DType.Float32, DType.Float64];

    [Theory]
    [MemberData(nameof(Types))]
    public void SoftmaxWithLoss_of_logits_at_plus_minus_1000_is_finite_and_exact(DType dtype)
    {
        // Row 0: label 1 has logit −1000 against a maximum of 1000, so its log-probability is −2000 (e⁻¹⁰⁰⁰ vanishes).
        // Row 1: label 1 has the maximum; the others are e⁻¹⁰⁰⁰ and e⁻²⁰⁰⁰ behind, so its loss is 0.
        // Loss = (2000 + 0) / 2; dx = (softmax − onehot) / 2 = [[½, −½, 0], [0, 0, 0]].
        var x = Tensor.FromArray(new double[,] { { 1000, -1000, 0 }, { -1000, 1000, 0 } }).ToType(dtype);
        using var tape = new Tape();
        tape.Watch(x);
        var loss = Ops.SoftmaxWithLoss(x, new[] { 1, 1 });
        var dx = tape.Gradient(loss, x)[0];

        Assert.Equal(1000, loss.ToScalar());
        Assert.Equal([0.5, -0.5, 0, 0, 0, 0], dx.ToType(DType.Float64).ToDoubleArray());
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void LogSoftmax_Sigmoid_and_Tanh_saturate_without_NaN(DType dtype)
    {
        var x = Tensor.FromArray([1000.0, -1000, 0]).ToType(dtype);
        using var tape = new Tape();
        tape.Watch(x);

        // log softmax = x − 1000 − log(1 + e⁻²⁰⁰⁰ + e⁻¹⁰⁰⁰) = [0, −2000, −1000]; with g = 1 its gradient is 1 − 3·softmax.
        var logSoftmax = Ops.LogSoftmax(x);
        Assert.Equal([0, -2000, -1000], logSoftmax.ToType(DType.Float64).ToDoubleArray());
        Assert.Equal([-2, 1, 1], tape.Gradient(Ops.Sum(logSoftmax), [x], retainGraph: true)[0].ToType(DType.Float64).ToDoubleArray());

        // σ = [1, 0, ½] with σ' = σ(1 − σ) = [0, 0, ¼]; tanh = [1, −1, 0] with 1 − tanh² = [0, 0, 1].
        var sigmoid = Ops.Sigmoid(x);
        var tanh = Ops.Tanh(x);
        Assert.Equal([1, 0, 0.5], sigmoid.ToType(DType.Float64).ToDoubleArray());
        Assert.Equal([1, -1, 0], tanh.ToType(DType.Float64).ToDoubleArray());
        Assert.Equal([0, 0, 1.25], tape.Gradient(Ops.Sum(sigmoid + tanh), [x], retainGraph: true)[0].ToType(DType.Float64).ToDoubleArray());
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void SigmoidWithLoss_at_plus_minus_1000_is_exact(DType dtype)
    {
        // Per element max(x, 0) − x·t + log(1 + e^−|x|): 1000 − 1000 + 0, 0 − 0 + 0, and log 2; N = 3 elements.
        // dx = (σ(x) − t) / 3 = [0, 0, (½ − 1)/3].
        var x = Tensor.FromArray([1000.0, -1000, 0]).ToType(dtype);
        var t = Tensor.FromArray([1.0, 0, 1]).ToType(dtype);
        using var tape = new Tape();
        tape.Watch(x);
        var loss = Ops.SigmoidWithLoss(x, t);
        var dx = tape.Gradient(loss, x)[0].ToType(DType.Float64).ToDoubleArray();

        var tolerance = dtype == DType.Float32 ? 1e-7 : 1e-16;
        Assert.Equal(Math.Log(2) / 3, loss.ToScalar(), tolerance);
        TestData.AssertClose([0, 0, -1.0 / 6], dx, relative: tolerance);
    }

    [Fact]
    public void CrossEntropyError_of_probabilities_exactly_0_and_1_stays_finite()
    {
        // The book's δ = 1e-7 keeps log(0) finite: loss = −(log(1 + δ) + log(δ)) / 2, dy = −t / (2(y + δ)).
        var y = Tensor.FromArray(new double[,] { { 0, 1, 0 }, { 1, 0, 0 } });
        using var tape = new Tape();
        tape.Watch(y);
        var loss = Ops.CrossEntropyError(y, new[] { 1, 2 });
        var dy = tape.Gradient(loss, y)[0].ToDoubleArray();

        Assert.Equal(-(Math.Log(1 + 1e-7) + Math.Log(1e-7)) / 2, loss.ToScalar(), 1e-14);
        TestData.AssertClose([0, -1 / (2 * (1 + 1e-7)), 0, 0, 0, -1 / 2e-7], dy, relative: 1e-14);
    }

    [Fact]
    public void SoftmaxWithLoss_of_one_hot_targets_equal_to_the_softmax_has_zero_gradient()
    {
        // t = softmax(x) exactly (rows of probabilities 0 and 1 come from logits ±1000): y − t = 0.
        var x = Tensor.FromArray(new double[,] { { 1000, -1000 }, { -1000, 1000 } });
        var t = Tensor.FromArray(new double[,] { { 1, 0 }, { 0, 1 } });
        using var tape = new Tape();
        tape.Watch(x);
        var loss = Ops.SoftmaxWithLoss(x, t);
        Assert.Equal(0, loss.ToScalar());
        Assert.Equal([0.0, 0, 0, 0], tape.Gradient(loss, x)[0].ToDoubleArray());
    }

    [Fact]
    public void A_batch_of_one_row_gets_the_undivided_gradient()
    {
        // N = 1: dx = softmax(x) − onehot, with softmax([0, ln 3]) = [¼, ¾].
        var x = Tensor.FromArray(new double[,] { { 0, Math.Log(3) } });
        using var tape = new Tape();
        tape.Watch(x);
        var dx = tape.Gradient(Ops.SoftmaxWithLoss(x, new[] { 0 }), x)[0].ToDoubleArray();
        TestData.AssertClose([-0.75, 0.75], dx, relative: 1e-15);
    }

    [Fact]
    public void A_batch_of_100000_rows_in_float32_matches_float64()
    {
        const int Rows = 100_000, Classes = 10, Features = 20;
        var x64 = Tensor.RandomNormal([Rows, Features], seed: 3, std: 3, dtype: DType.Float64);
        var w64 = Tensor.RandomNormal([Features, Classes], seed: 4, dtype: DType.Float64);
        var b64 = Tensor.RandomNormal([Classes], seed: 5, dtype: DType.Float64);
        var labels = Enumerable.Range(0, Rows).Select(i => (i * 7) % Classes).ToArray();

        (double Loss, double[] DW, double[] DB) Run(DType dtype)
        {
            var (w, b) = (w64.ToType(dtype), b64.ToType(dtype));
            using var tape = new Tape();
            tape.Watch(w);
            tape.Watch(b);
            var loss = Ops.SoftmaxWithLoss(Ops.Affine(x64.ToType(dtype), w, b), labels);
            var grads = tape.Gradient(loss, w, b);
            return (loss.ToScalar(), grads[0].ToType(DType.Float64).ToDoubleArray(), grads[1].ToType(DType.Float64).ToDoubleArray());
        }

        var exact = Run(DType.Float64);
        var fast = Run(DType.Float32);

        // A mean over 100,000 rows summed naively in float32 would drift by ~1e-4 relative; the kernels must not.
        Assert.Equal(exact.Loss, fast.Loss, exact.Loss * 1e-5);
        TestData.AssertClose(exact.DW, fast.DW, relative: 1e-3, absolute: 1e-5);
        TestData.AssertClose(exact.DB, fast.DB, relative: 1e-3, absolute: 1e-5);

        // db is the column sums of (softmax − onehot)/N, so its entries sum to 0.
        Assert.Equal(0, exact.DB.Sum(), 1e-12);
    }

    [Fact]
    public void Rank_0_tensors_are_first_class()
    {
        // y = 3s² + Σ(s ⊙ M) broadcasts the scalar over M: y = 12 + 2·10, dy/ds = 6s + ΣM = 12 + 10, dy/dM = s.
        var s = Tensor.Scalar(2, DType.Float64);
        var m = Tensor.FromArray(new double[,] { { 1, 2 }, { 3, 4 } });
        using var tape = new Tape();
        tape.Watch(s);
        tape.Watch(m);
        var y = (Ops.Pow(s, 2) * 3) + Ops.Sum(s * m);
        var grads = tape.Gradient(y, s, m);

        Assert.Equal(0, y.Rank);
        Assert.Equal(12 + 20, y.ToScalar());
        Assert.Equal(0, grads[0].Rank);
        Assert.Equal(22, grads[0].ToScalar());
        Assert.Equal([2.0, 2, 2, 2], grads[1].ToDoubleArray());
        Assert.Equal(2, Ops.Sum(s).ToScalar());
        Assert.Equal(2, Ops.Max(s).ToScalar());
    }

    [Fact]
    public void Empty_tensors_flow_through_forward_and_backward()
    {
        // (0, 3) + (3,) broadcasts to (0, 3); Σ over no elements is 0 and b's gradient sums no rows, so it is 0.
        var empty = Tensor.Zeros([0, 3], DType.Float64);
        var b = Tensor.FromArray([1.0, 2, 3]);
        using var tape = new Tape();
        tape.Watch(empty);
        tape.Watch(b);
        var y = Ops.Sum(Ops.Exp(empty + b));
        var grads = tape.Gradient(y, empty, b);

        Assert.Equal(0, y.ToScalar());
        Assert.Equal([0, 3], grads[0].Shape.Dims.ToArray());
        Assert.Equal([0.0, 0, 0], grads[1].ToDoubleArray());
    }

    [Fact]
    public void A_product_over_an_empty_inner_dimension_is_zero_with_empty_gradients()
    {
        // (2, 0)·(0, 2) sums no terms: a (2, 2) zero matrix; the gradients have the inputs' empty shapes.
        var a = Tensor.Zeros([2, 0], DType.Float64);
        var b = Tensor.Zeros([0, 2], DType.Float64);
        using var tape = new Tape();
        tape.Watch(a);
        tape.Watch(b);
        var c = Ops.MatMul(a, b);
        var grads = tape.Gradient(Ops.Sum(c), a, b);

        Assert.Equal([0.0, 0, 0, 0], c.ToDoubleArray());
        Assert.Equal([2, 0], grads[0].Shape.Dims.ToArray());
        Assert.Equal([0, 2], grads[1].Shape.Dims.ToArray());
    }

    public static TheoryData<DType, double> HugeLogits => new()
    {
        { DType.Float32, 1e6 }, { DType.Float32, 1e7 }, { DType.Float32, 1e17 }, { DType.Float32, 1e30 },
        { DType.Float64, 1e6 }, { DType.Float64, 1e7 }, { DType.Float64, 1e17 }, { DType.Float64, 1e30 },
    };

    [Theory]
    [MemberData(nameof(HugeLogits))]
    public void Log_softmax_of_equal_huge_logits_is_minus_log_2_with_a_zero_gradient(DType dtype, double logit)
    {
        // Two equal logits: log softmax = (x − max) − log(e⁰ + e⁰) = −log 2 whatever their size. x − (max + log 2)
        // rounds max + log 2 to max at 1e17 (f64) or 1e7 (f32), giving 0 or −0.6875. With g = 1 the gradient is
        // 1 − 2·softmax = 1 − 2·½ = 0.
        var x = Tensor.FromArray([logit, logit]).ToType(dtype);
        using var tape = new Tape();
        tape.Watch(x);
        var y = Ops.LogSoftmax(x);
        var dx = tape.Gradient(Ops.Sum(y), x)[0];

        var tolerance = dtype == DType.Float32 ? 1e-7 : 1e-15;
        Assert.All(y.ToType(DType.Float64).ToDoubleArray(), v => Assert.Equal(-Math.Log(2), v, tolerance));
        Assert.Equal([0.0, 0], dx.ToType(DType.Float64).ToDoubleArray());
    }

    [Theory]
    [MemberData(nameof(HugeLogits))]
    public void SoftmaxWithLoss_of_equal_huge_logits_is_log_2(DType dtype, double logit)
    {
        // −log softmax([L, L])[0] = log 2 (PyTorch's cross_entropy gives 0.6931 at 1e30); by labels and by one-hot rows.
        var x = Tensor.FromArray(new[,] { { logit, logit } }).ToType(dtype);
        var oneHot = Tensor.FromArray(new[,] { { 1.0, 0 } }).ToType(dtype);
        var tolerance = dtype == DType.Float32 ? 1e-7 : 1e-15;

        Assert.Equal(Math.Log(2), Ops.SoftmaxWithLoss(x, new[] { 0 }).ToScalar(), tolerance);
        Assert.Equal(Math.Log(2), Ops.SoftmaxWithLoss(x, oneHot).ToScalar(), tolerance);

        // ∂/∂t = −log softmax(x)/N = [log 2, log 2], recomputed by the same shifted form.
        using var tape = new Tape();
        tape.Watch(oneHot);
        var dt = tape.Gradient(Ops.SoftmaxWithLoss(x, oneHot), oneHot)[0].ToType(DType.Float64).ToDoubleArray();
        Assert.All(dt, v => Assert.Equal(Math.Log(2), v, tolerance));
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Pow_to_the_zero_has_a_zero_gradient_at_zero(DType dtype)
    {
        // x⁰ = 1 is a constant: its derivative is 0 everywhere, also at x = 0 where p·xᵖ⁻¹ = 0·∞ (PyTorch: 0).
        var x = Tensor.FromArray([0.0, 2, -3]).ToType(dtype);
        using var tape = new Tape();
        tape.Watch(x);
        var y = Ops.Pow(x, 0);
        var dx = tape.Gradient(Ops.Sum(y), [x], createGraph: true)[0];

        Assert.Equal([1.0, 1, 1], y.ToType(DType.Float64).ToDoubleArray());
        Assert.Equal([0.0, 0, 0], dx.ToType(DType.Float64).ToDoubleArray());
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Max_over_data_with_NaN_is_NaN_and_sends_the_gradient_to_the_NaN(DType dtype)
    {
        // PyTorch: max([1, NaN, 3]) = NaN and the gradient goes to the NaN's position, along an axis or over all.
        var x = Tensor.FromArray(new[,] { { 1.0, double.NaN, 3 }, { 4, 5, 6 } }).ToType(dtype);
        using var tape = new Tape();
        tape.Watch(x);
        var rows = Ops.Max(x, axis: 1);
        var all = Ops.Max(x);
        var byRow = tape.Gradient(rows, [x], retainGraph: true, outputGradient: Tensor.FromArray([10.0, 20]).ToType(dtype))[0];
        var whole = tape.Gradient(all, [x], createGraph: true)[0];

        Assert.True(double.IsNaN(rows.ToType(DType.Float64).ToDoubleArray()[0]));
        Assert.True(double.IsNaN(all.ToScalar()));
        Assert.Equal([0.0, 10, 0, 0, 0, 20], byRow.ToType(DType.Float64).ToDoubleArray());
        Assert.Equal([0.0, 1, 0, 0, 0, 0], whole.ToType(DType.Float64).ToDoubleArray());
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void SigmoidWithLoss_of_plus_infinity_against_zero_is_plus_infinity(DType dtype)
    {
        // Per element max(x, 0) − x·t + log(1 + e^−|x|) = ∞ − ∞·0 + 0 read literally; PyTorch's BCEWithLogits gives +∞.
        // dx = (σ(∞) − 0)/1 = 1.
        var x = Tensor.FromArray([double.PositiveInfinity]).ToType(dtype);
        var t = Tensor.FromArray([0.0]).ToType(dtype);
        using var tape = new Tape();
        tape.Watch(x);
        var loss = Ops.SigmoidWithLoss(x, t);
        var dx = tape.Gradient(loss, x)[0];

        Assert.Equal(double.PositiveInfinity, loss.ToScalar());
        Assert.Equal([1.0], dx.ToType(DType.Float64).ToDoubleArray());
    }

    public static TheoryData<string> UnaryOps => ["Exp", "Log", "Sqrt", "Abs", "Relu", "Sigmoid", "Tanh", "Sin", "Cos", "Sign"];

    [Theory]
    [MemberData(nameof(UnaryOps))]
    public void Every_elementwise_op_maps_an_empty_tensor_to_an_empty_one(string name)
    {
        // TensorPrimitives.Sigmoid rejects an empty span with its own ArgumentException; no op may pass that on.
        var op = typeof(Ops).GetMethod(name, [typeof(Tensor)])!;
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            var x = Tensor.Zeros([0, 4], dtype);
            using var tape = new Tape();
            tape.Watch(x);
            var y = (Tensor)op.Invoke(null, [x])!;
            var dx = tape.Gradient(Ops.Sum(y), x)[0];
            Assert.Equal([0, 4], y.Shape.Dims.ToArray());
            Assert.Equal([0, 4], dx.Shape.Dims.ToArray());
        }
    }

    [Fact]
    public void SoftmaxWithLoss_with_every_row_ignored_is_0_with_a_0_gradient_not_NaN()
    {
        var x = Tensor.FromArray([1.0, 2, 3, 4, 5, 6], 1, 2, 3);
        using var tape = new Tape();
        tape.Watch(x);
        var loss = Ops.SoftmaxWithLoss(x, new[] { -1, -1 }, -1);
        Assert.Equal(0.0, loss.ToDoubleArray()[0]);
        Assert.All(tape.Gradient(loss, x)[0].ToDoubleArray(), g => Assert.Equal(0.0, g));

        // One row counted: the mean is that row's loss alone, −log softmax(4, 5, 6)[2].
        var one = Ops.SoftmaxWithLoss(x, new[] { -1, 2 }, -1).ToDoubleArray()[0];
        Assert.Equal(Math.Log(Math.Exp(-2) + Math.Exp(-1) + 1), one, 1e-15);
    }
}
