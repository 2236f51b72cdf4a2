// A user-defined op: softplus(x) = log(1 + eˣ), with its backward rule σ(x)·g, recorded on the tape as one node and
// verified by the gradient checker; then its second derivative, which works because the backward is made of ops.

var softplus = new Softplus();
var x = Tensor.RandomNormal([3, 4], seed: 1, dtype: DType.Float64);
var check = GradientChecker.Check(v => softplus.Apply(v[0]), [x]);
Console.Write($"gradient check of Softplus:\n{check}");
Console.WriteLine(check.Passed ? "passed" : "FAILED");

var point = Tensor.FromArray([0.5]);
using var tape = new Tape();
tape.Watch(point);
var first = tape.Gradient(Ops.Sum(softplus.Apply(point)), [point], createGraph: true)[0];
var second = tape.Gradient(Ops.Sum(first), point)[0];
var s = 1 / (1 + Math.Exp(-0.5));
Console.WriteLine($"softplus'(0.5) = {first[0]:F12} (σ = {s:F12})");
Console.WriteLine($"softplus''(0.5) = {second[0]:F12} (σ(1 − σ) = {s * (1 - s):F12})");

/// <summary>softplus(x) = log(1 + eˣ); its derivative is the logistic sigmoid.</summary>
internal sealed class Softplus() : CustomOp("Softplus")
{
    public override Tensor Forward(IReadOnlyList<Tensor> inputs) => Ops.Log(Ops.Exp(inputs[0]) + 1);

    public override IReadOnlyList<Tensor?> Backward(IReadOnlyList<Tensor> inputs, Tensor output, Tensor outputGradient) =>
        [outputGradient * Ops.Sigmoid(inputs[0])];
}
