// The book's two-layer net, layer by layer (Affine → Relu → Affine → SoftmaxWithLoss), written with the tape,
// checked against numerical gradients as in chapter 5 ("gradient check"), then trained on the embedded digits.
using AutoGrad.Nn.Data;

var (train, test) = Dataset.Digits().Split(0.8, seed: 1);
var net = new BookTwoLayerNet(inputSize: 64, hiddenSize: 50, outputSize: 10, seed: 1);

// Gradient check on three samples, in float64: backprop through the tape against central differences.
var checkNet = new BookTwoLayerNet(64, 50, 10, seed: 1, DType.Float64);
var sample = Tensor.FromArray(train.Features.AsSpan(0, 3 * 64).ToArray().Select(v => (double)v).ToArray(), 3, 64);
var labels = train.Labels[..3];
var backprop = checkNet.Gradient(sample, labels);
var numerical = checkNet.NumericalGradient(sample, labels);
foreach (var name in backprop.Keys)
{
    var a = backprop[name].ToDoubleArray();
    var n = numerical[name].ToDoubleArray();
    Console.WriteLine($"{name}: mean |backprop − numerical| = {a.Zip(n, (x, y) => Math.Abs(x - y)).Average():E2}");
}

// Training: SGD, learning rate 0.5, batch 32, 20 epochs; the book's loop with a tape reset each step.
var loader = new DataLoader(train, 32, seed: 1);
using var tape = new Tape();
for (var epoch = 1; epoch <= 20; epoch++)
{
    foreach (var batch in loader.NextEpoch())
    {
        tape.Reset();
        var gradients = net.Gradient(batch.Features, batch.Labels, tape);
        net.Update(gradients, learningRate: 0.5);
    }

    if (epoch % 5 == 0)
    {
        Console.WriteLine($"epoch {epoch}: train accuracy {net.Accuracy(train):P2}, test accuracy {net.Accuracy(test):P2}");
    }
}

/// <summary>The book's TwoLayerNet: parameters in a dictionary, predict, loss, gradient, numerical gradient.</summary>
internal sealed class BookTwoLayerNet
{
    public BookTwoLayerNet(int inputSize, int hiddenSize, int outputSize, int seed, DType dtype = DType.Float32)
    {
        Params["W1"] = Tensor.RandomNormal([inputSize, hiddenSize], seed, std: 0.01, dtype: dtype);
        Params["b1"] = Tensor.Zeros([hiddenSize], dtype);
        Params["W2"] = Tensor.RandomNormal([hiddenSize, outputSize], seed + 1, std: 0.01, dtype: dtype);
        Params["b2"] = Tensor.Zeros([outputSize], dtype);
    }

    public Dictionary<string, Tensor> Params { get; } = [];

    public Tensor Predict(Tensor x)
    {
        var h = Ops.Relu(Ops.Affine(x, Params["W1"], Params["b1"]));
        return Ops.Affine(h, Params["W2"], Params["b2"]);
    }

    public Tensor Loss(Tensor x, ReadOnlyMemory<int> t) => Ops.SoftmaxWithLoss(Predict(x), t);

    /// <summary>Backprop: record the loss on a tape and take the gradient with respect to every parameter.</summary>
    public Dictionary<string, Tensor> Gradient(Tensor x, ReadOnlyMemory<int> t, Tape? tape = null)
    {
        var own = tape is null ? new Tape() : null;
        var recorder = tape ?? own!;
        try
        {
            var names = Params.Keys.ToArray();
            foreach (var name in names)
            {
                recorder.Watch(Params[name]);
            }

            var grads = recorder.Gradient(Loss(x, t), names.Select(n => Params[n]).ToArray());
            return names.Zip(grads).ToDictionary(p => p.First, p => p.Second);
        }
        finally
        {
            own?.Dispose();
        }
    }

    /// <summary>
    /// The book's numerical_gradient: central differences, one parameter element at a time. The book's h = 1e-4
    /// straddles ReLU's kink whenever a hidden pre-activation is within 1e-4 of 0 (with σ = 0.01 weights some are),
    /// which shows up as a 1e-5 disagreement; in float64 h = 1e-6 keeps clear of it.
    /// </summary>
    public Dictionary<string, Tensor> NumericalGradient(Tensor x, ReadOnlyMemory<int> t, double h = 1e-6)
    {
        var result = new Dictionary<string, Tensor>();
        foreach (var (name, p) in Params)
        {
            var values = p.AsSpan<double>();
            var grad = new double[values.Length];
            for (var i = 0; i < values.Length; i++)
            {
                var original = values[i];
                values[i] = original + h;
                var plus = Loss(x, t).ToScalar();
                values[i] = original - h;
                var minus = Loss(x, t).ToScalar();
                values[i] = original;
                grad[i] = (plus - minus) / (2 * h);
            }

            result[name] = Tensor.FromArray(grad, p.Shape.Dims);
        }

        return result;
    }

    public void Update(Dictionary<string, Tensor> gradients, double learningRate)
    {
        foreach (var (name, p) in Params)
        {
            var values = p.AsSpan<float>();
            var g = gradients[name].AsReadOnlySpan<float>();
            for (var i = 0; i < values.Length; i++)
            {
                values[i] -= (float)(learningRate * g[i]);
            }
        }
    }

    public double Accuracy(Dataset data)
    {
        using var noGrad = Tape.NoGrad();
        var scores = Predict(Tensor.FromArray(data.Features, data.Count, data.FeatureCount));
        var correct = 0;
        for (var i = 0; i < data.Count; i++)
        {
            var best = 0;
            for (var c = 1; c < data.ClassCount; c++)
            {
                best = scores[i, c] > scores[i, best] ? c : best;
            }

            correct += best == data.Labels[i] ? 1 : 0;
        }

        return (double)correct / data.Count;
    }
}
