using AutoGrad.Kernels;
using AutoGrad.Nn.Data;
using AutoGrad.Nn.Optimizers;
using AutoGrad.Nn.Training;

using BenchmarkDotNet.Attributes;

namespace AutoGrad.Benchmarks;

/// <summary>
/// The book's Fashion-MNIST loop (784-50-10, σ = 0.01 weights, SGD 0.1, batches of 100 from a fresh shuffle every
/// epoch) against its own steps on one fixed batch, in the same run: <c>Loop</c> is what
/// <see cref="Trainer.Fit(Module, Optimizer, Dataset, Dataset, TrainingOptions, Action{TrainingProgress})"/> times
/// (<see cref="ClassificationSteps"/>: the loader's next batch, the step, the running loss and accuracy), and the
/// Ratio column is issue 17's "loop at most 1.1× its steps' fixed-batch time". One epoch (600 steps) per operation;
/// figures are per step. Needs Debian's dataset-fashion-mnist.
/// </summary>
public class BookLoopBenchmarks
{
    private const int Steps = 600;
    private readonly Tape _tape = new();
    private ClassificationSteps _loop = null!;
    private Module _model = null!;
    private Optimizer _optimizer = null!;
    private Tensor _fixedBatch = null!;
    private int[] _fixedLabels = [];

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Parallelism.MaxThreads = Threads;
        var (train, _) = Dataset.FashionMnist();
        _model = new TwoLayerNet(784, 50, 10, WeightInit.Parse("0.01"), seed: 42);
        _optimizer = new Sgd(_model.Parameters(), 0.1);
        var loader = new DataLoader(train, 100, shuffle: true, seed: 42);
        var first = loader.Next();
        _fixedBatch = first.Features.Clone();
        _fixedLabels = first.Labels.ToArray();
        _loop = new ClassificationSteps(_model, _optimizer, loader, _tape);
    }

    [GlobalCleanup]
    public void Cleanup() => _tape.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Steps)]
    public void FixedBatch()
    {
        for (var i = 0; i < Steps; i++)
        {
            Trainer.Step(_model, _optimizer, _tape, _fixedBatch, _fixedLabels);
        }
    }

    [Benchmark(OperationsPerInvoke = Steps)]
    public double Loop()
    {
        var loss = 0.0;
        for (var i = 0; i < Steps; i++)
        {
            loss = _loop.Take();
        }

        return loss;
    }
}
