using AutoGrad.Kernels;
using AutoGrad.Nn.Optimizers;
using AutoGrad.Nn.Training;

using BenchmarkDotNet.Attributes;

namespace AutoGrad.Benchmarks;

/// <summary>
/// One training step on a fixed batch of 100 (tape reset, forward, SoftmaxWithLoss, backward, optimizer update),
/// float32, as the PyTorch figures in benchmarks/peers/training_step.py measure it. The allocation column is the
/// managed memory one steady-state step allocates.
/// </summary>
[MemoryDiagnoser]
public class TrainingStepBenchmarks
{
    private readonly Tape _tape = new();
    private Module _model = null!;
    private Optimizer _optimizer = null!;
    private Tensor _batch = null!;
    private int[] _labels = [];

    [Params("784-50-10 SGD", "784-100-10 SGD", "784-1000-1000-10 Adam")]
    public string Model { get; set; } = "";

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Parallelism.MaxThreads = Threads;
        var sizes = Model.Split(' ')[0].Split('-').Select(int.Parse).ToArray();
        _model = sizes.Length == 3
            ? new TwoLayerNet(sizes[0], sizes[1], sizes[2], seed: 1)
            : new MultiLayerNet(sizes[0], sizes[1..^1], sizes[^1], seed: 1);
        _optimizer = Model.EndsWith("Adam", StringComparison.Ordinal) ? new Adam(_model.Parameters(), 0.001) : new Sgd(_model.Parameters(), 0.1);
        _batch = Tensor.RandomUniform([100, sizes[0]], seed: 2);
        var random = new SeededRandom(3);
        _labels = Enumerable.Range(0, 100).Select(_ => random.NextInt(sizes[^1])).ToArray();
    }

    [GlobalCleanup]
    public void Cleanup() => _tape.Dispose();

    [Benchmark]
    public void Step() => Trainer.Step(_model, _optimizer, _tape, _batch, _labels);
}
