using AutoGrad.Kernels;

using BenchmarkDotNet.Attributes;

namespace AutoGrad.Benchmarks;

/// <summary>
/// Issue 18: forward mode's cost per tiny op against the reverse tape's, in one run, on <see cref="TapeOverheadBenchmarks"/>'s
/// chain of 101 ops on 4×4 float32 tensors (the figure is per op). Reverse: record on a tape reset each time, then one
/// sweep for the gradient of the sum with respect to x. Forward: x made dual at a level, every op carrying its tangent,
/// then the tangent of the sum read off. Each computes one directional derivative's worth of the chain.
/// </summary>
[MemoryDiagnoser]
public class ForwardModeBenchmarks
{
    private const int Links = 25;

    private Tensor _x = null!;
    private Tensor _v = null!;
    private Tensor _w = null!;
    private Tensor _b = null!;
    private Tape _tape = null!;

    [GlobalSetup]
    public void Setup()
    {
        Parallelism.MaxThreads = 1;
        _x = Tensor.RandomNormal([4, 4], seed: 1);
        _v = Tensor.RandomNormal([4, 4], seed: 4);
        _w = Tensor.RandomNormal([4, 4], seed: 2);
        _b = Tensor.RandomNormal([4, 4], seed: 3);

        // A tape is current from its creation until disposed; outside ReverseTape none may be, or the other methods'
        // results would pile up in its arena. So ReverseTape makes it current only while it runs.
        _tape = Tape.Detached();
    }

    [GlobalCleanup]
    public void Cleanup() => _tape.Dispose();

    /// <summary>The tape: forward, then the reverse sweep, per op.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = (4 * Links) + 1)]
    public Tensor ReverseTape()
    {
        _tape.Reset();
        using (_tape.Enter(record: true))
        {
            var x = _tape.Watch(_x);
            return _tape.Gradient(Ops.Sum(Chain(x)), x)[0];
        }
    }

    /// <summary>Forward mode: values and tangents in one pass, per op.</summary>
    [Benchmark(OperationsPerInvoke = (4 * Links) + 1)]
    public Tensor? ForwardMode()
    {
        using var level = new DualLevel();
        return level.TangentOf(Ops.Sum(Chain(level.MakeDual(_x, _v))));
    }

    /// <summary>The chain's values alone, no tape and no level (owned results), per op.</summary>
    [Benchmark(OperationsPerInvoke = (4 * Links) + 1)]
    public Tensor ValuesOnly() => Ops.Sum(Chain(_x));

    private Tensor Chain(Tensor h)
    {
        for (var i = 0; i < Links; i++)
        {
            h = Ops.Sigmoid(Ops.Relu((h * _w) + _b));
        }

        return h;
    }
}
