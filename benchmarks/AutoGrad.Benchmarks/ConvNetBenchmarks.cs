using AutoGrad.Kernels;
using AutoGrad.Nn.Optimizers;
using AutoGrad.Nn.Training;

using BenchmarkDotNet.Attributes;

namespace AutoGrad.Benchmarks;

/// <summary>
/// The convolutional nets of issue 14 on a fixed batch of 100 Fashion-MNIST-sized images (1×28×28), float32, as
/// benchmarks/peers/convnet_step.py measures them in PyTorch: a full training step (tape reset, forward,
/// SoftmaxWithLoss, backward, Adam).
/// </summary>
[MemoryDiagnoser]
public class ConvNetBenchmarks
{
    private readonly Tape _tape = new();
    private Module _model = null!;
    private Optimizer _optimizer = null!;
    private Tensor _batch = null!;
    private int[] _labels = [];

    [Params("SimpleConvNet", "DeepConvNet")]
    public string Model { get; set; } = "";

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Parallelism.MaxThreads = Threads;
        _model = Model == "SimpleConvNet" ? new SimpleConvNet(seed: 1) : new DeepConvNet(seed: 1);
        _optimizer = new Adam(_model.Parameters(), 0.001);
        _batch = Tensor.RandomUniform([100, 1, 28, 28], seed: 2);
        var random = new SeededRandom(3);
        _labels = Enumerable.Range(0, 100).Select(_ => random.NextInt(10)).ToArray();
    }

    [GlobalCleanup]
    public void Cleanup() => _tape.Dispose();

    /// <summary>One training step.</summary>
    [Benchmark]
    public void Step() => Trainer.Step(_model, _optimizer, _tape, _batch, _labels);
}

/// <summary>
/// DeepConvNet's six convolutions alone at batch 100, each on an input of the shape it meets in the net, forward and
/// backward to both the input and the filters: <see cref="Flops"/> (5.2 GFLOP) of work, for docs/benchmarks.md's rates.
/// </summary>
[MemoryDiagnoser]
public class ConvLayerBenchmarks
{
    /// <summary>(in, out, padding, input side) of each convolution, as DeepConvNet's forward pass meets them.</summary>
    private static readonly (int In, int Out, int Padding, int Side)[] s_layers =
        [(1, 16, 1, 28), (16, 16, 1, 28), (16, 32, 1, 14), (32, 32, 2, 14), (32, 64, 1, 8), (64, 64, 1, 8)];

    private readonly Tape _tape = new();
    private (Conv2d Layer, Tensor Input)[] _convolutions = [];

    /// <summary>The floating-point operations of one run: each layer's forward, and its dx and dW, which cost one forward each.</summary>
    public static double Flops => 3 * s_layers.Sum(l =>
    {
        var side = l.Side + (2 * l.Padding) - 2;
        return 2.0 * 100 * l.Out * side * side * l.In * 9;
    });

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Parallelism.MaxThreads = Threads;
        _convolutions = [.. s_layers.Select((l, i) => (new Conv2d(l.In, l.Out, 3, padding: l.Padding, seed: i), Tensor.RandomUniform([100, l.In, l.Side, l.Side], seed: 10 + i)))];
    }

    [GlobalCleanup]
    public void Cleanup() => _tape.Dispose();

    /// <summary>The six convolutions, forward and backward.</summary>
    [Benchmark]
    public void Convolutions()
    {
        _tape.Reset();
        Tensor? total = null;
        foreach (var (layer, input) in _convolutions)
        {
            _tape.Watch(input);
            var mean = Ops.Mean(layer.Forward(input));
            total = total is null ? mean : total + mean;
        }

        _tape.Backward(total!);
    }
}
