using static AutoGrad.Tests.TestData;

namespace AutoGrad.Tests.Autodiff;

public class CustomOpTests
{
    [Fact]
    public void A_softplus_op_passes_the_gradient_checker_and_records_one_node()
    {
        var softplus = new Softplus();
        var x = Normal(1, 3, 4);
        AssertGradientsMatch(v => softplus.Apply(v[0]), x);

        using var tape = new Tape();
        tape.Watch(x);
        var y = softplus.Apply(x);
        Assert.Equal(2, tape.NodeCount); // the watched input and Softplus: its inner Exp, Add, Log are not recorded
        Assert.Equal(Math.Log(1 + Math.Exp(x[1, 2])), y[1, 2], 12);
    }

    [Fact]
    public void Custom_ops_differentiate_twice_because_their_backward_is_made_of_ops()
    {
        // softplus'' = σ(x)(1 − σ(x)).
        var softplus = new Softplus();
        var x = Tensor.FromArray([-1.0, 0.5, 2.0]);
        using var tape = new Tape();
        tape.Watch(x);
        var d1 = tape.Gradient(Ops.Sum(softplus.Apply(x)), [x], createGraph: true)[0];
        var d2 = tape.Gradient(Ops.Sum(d1), x)[0];
        for (var i = 0; i < 3; i++)
        {
            var s = 1 / (1 + Math.Exp(-x[i]));
            Assert.Equal(s, d1[i], 12);
            Assert.Equal(s * (1 - s), d2[i], 12);
        }
    }

    [Fact]
    public void A_fused_affine_relu_with_three_inputs_matches_its_composition()
    {
        var op = new AffineRelu();
        Tensor[] inputs = [AwayFromZero(2, 4, 3), Normal(3, 3, 5), Normal(4, 5)];
        AssertGradientsMatch(v => op.Apply(v[0], v[1], v[2]), inputs);
        using var tape = new Tape();
        foreach (var t in inputs)
        {
            tape.Watch(t);
        }

        var fused = tape.Gradient(Ops.Sum(op.Apply(inputs) * 3), inputs, retainGraph: true);
        var composed = tape.Gradient(Ops.Sum(Ops.Relu(Ops.Affine(inputs[0], inputs[1], inputs[2])) * 3), inputs);
        for (var i = 0; i < 3; i++)
        {
            AssertClose(composed[i].ToDoubleArray(), fused[i].ToDoubleArray(), 1e-14);
        }
    }

    [Fact]
    public void Ops_with_more_than_three_inputs_get_every_gradient()
    {
        var op = new WeightedSum();
        Tensor[] inputs = [Normal(5, 3), Normal(6, 3), Normal(7, 3), Normal(8, 3)];
        AssertGradientsMatch(v => op.Apply(v), inputs);
    }

    [Fact]
    public void A_backward_that_returns_the_wrong_shape_is_reported_with_the_op_name()
    {
        var x = Normal(9, 2, 2);
        using var tape = new Tape();
        tape.Watch(x);
        var y = Ops.Sum(new BrokenOp().Apply(x));
        var e = Assert.Throws<ShapeMismatchException>(() => tape.Gradient(y, x));
        Assert.Contains("Broken", e.Message);
        Assert.Contains("(3,)", e.Message);
        Assert.Contains("(2, 2)", e.Message);
    }

    private sealed class Softplus() : CustomOp("Softplus")
    {
        public override Tensor Forward(IReadOnlyList<Tensor> inputs) => Ops.Log(Ops.Exp(inputs[0]) + 1);

        public override IReadOnlyList<Tensor?> Backward(IReadOnlyList<Tensor> inputs, Tensor output, Tensor outputGradient) =>
            [outputGradient * Ops.Sigmoid(inputs[0])];
    }

    private sealed class AffineRelu() : CustomOp("AffineRelu")
    {
        public override Tensor Forward(IReadOnlyList<Tensor> inputs) => Ops.Relu(Ops.Affine(inputs[0], inputs[1], inputs[2]));

        public override IReadOnlyList<Tensor?> Backward(IReadOnlyList<Tensor> inputs, Tensor output, Tensor outputGradient)
        {
            // The ReLU's gradient passes where the output is positive; then Affine's rules.
            var g = outputGradient * Ops.Sign(output);
            return [Ops.MatMul(g, Ops.Transpose(inputs[1])), Ops.MatMul(Ops.Transpose(inputs[0]), g), Ops.Sum(g, 0)];
        }
    }

    private sealed class WeightedSum() : CustomOp("WeightedSum")
    {
        public override Tensor Forward(IReadOnlyList<Tensor> inputs) => (inputs[0] * inputs[1]) + (inputs[2] * inputs[3]);

        public override IReadOnlyList<Tensor?> Backward(IReadOnlyList<Tensor> inputs, Tensor output, Tensor outputGradient) =>
            [outputGradient * inputs[1], outputGradient * inputs[0], outputGradient * inputs[3], outputGradient * inputs[2]];
    }

    private sealed class BrokenOp() : CustomOp("Broken")
    {
        public override Tensor Forward(IReadOnlyList<Tensor> inputs) => inputs[0] * 2;

        public override IReadOnlyList<Tensor?> Backward(IReadOnlyList<Tensor> inputs, Tensor output, Tensor outputGradient) =>
            [Tensor.Zeros([3], DType.Float64)];
    }
}
