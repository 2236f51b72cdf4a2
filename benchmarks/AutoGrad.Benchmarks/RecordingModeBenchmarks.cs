using AutoGrad.Kernels;
using AutoGrad.Nn.Optimizers;

using BenchmarkDotNet.Attributes;

namespace AutoGrad.Benchmarks;

/// <summary>
/// Issue 16: the two recording modes side by side, in one run. Explicit: a <see cref="Tape"/> reset every step, results
/// in its arena. Implicit: no tape, ops on parameters record a graph of their own, <c>loss.Backward()</c> replays it
/// and frees it, results own their memory. The workloads are <see cref="TapeOverheadBenchmarks"/>'s chain of 101 tiny
/// ops (the figure is per op) and the book's 784-50-10 SGD step on a fixed batch of 100, one thread.
/// </summary>
[MemoryDiagnoser]
public class RecordingModeBenchmarks
{
    private const int Links = 25;

    private Tensor _x = null!;
    private Tensor _w = null!;
    private Tensor _b = null!;
    private TwoLayerNet _model = null!;
    private Sgd _optimizer = null!;
    private Tensor _batch = null!;
    private int[] _labels = [];
    private Tape? _tape;

    [Params("explicit", "implicit")]
    public string Mode { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        Parallelism.MaxThreads = 1;
        _x = Tensor.RandomNormal([4, 4], seed: 1);
        _w = Tensor.RandomNormal([4, 4], seed: 2);
        _b = Tensor.RandomNormal([4, 4], seed: 3);
        _w.RequiresGrad = true;
        _b.RequiresGrad = true;
        _model = new TwoLayerNet(784, 50, 10, seed: 1);
        _optimizer = new Sgd(_model.Parameters(), 0.1);
        _batch = Tensor.RandomUniform([100, 784], seed: 2);
        var random = new SeededRandom(3);
        _labels = [.. Enumerable.Range(0, 100).Select(_ => random.NextInt(10))];
        _tape = Mode == "explicit" ? new Tape() : null;
    }

    [GlobalCleanup]
    public void Cleanup() => _tape?.Dispose();

    /// <summary>Forward and backward through 101 ops on 4x4 tensors, per op.</summary>
    [Benchmark(OperationsPerInvoke = (4 * Links) + 1)]
    public void TinyOps()
    {
        _tape?.Reset();
        var h = _x;
        for (var i = 0; i < Links; i++)
        {
            h = Ops.Sigmoid(Ops.Relu((h * _w) + _b));
        }

        Ops.Sum(h).Backward();
    }

    /// <summary>One 784-50-10 SGD step, written as PyTorch users write it (the explicit mode resets its tape first).</summary>
    [Benchmark]
    public void Step()
    {
        _tape?.Reset();
        var loss = Ops.SoftmaxWithLoss(_model.Forward(_batch), _labels);
        _optimizer.ZeroGrad();
        loss.Backward();
        _optimizer.Step();
    }
}
