// y = Σ tanh(x·W + b), and its gradients with respect to W and b.
var x = Tensor.FromArray(new double[,] { { 1, 2 }, { 3, 4 } });
var w = Tensor.FromArray(new double[,] { { 0.5, -0.5 }, { 0.25, 0.1 } });
var b = Tensor.FromArray([0.1, -0.2]);

using var tape = new Tape();
tape.Watch(w);
tape.Watch(b);
var y = Ops.Sum(Ops.Tanh(Ops.MatMul(x, w) + b));
var gradients = tape.Gradient(y, w, b);

Console.WriteLine($"y     = {y.ToScalar():F6}");
Console.WriteLine($"dy/dW = {gradients[0]}");
Console.WriteLine($"dy/db = {gradients[1]}");
