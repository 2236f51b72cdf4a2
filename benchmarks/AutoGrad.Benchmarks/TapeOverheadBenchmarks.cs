using BenchmarkDotNet.Attributes;

namespace AutoGrad.Benchmarks;

/// <summary>
/// The cost of the tape itself: a chain of ops on 4x4 tensors, where the arithmetic is negligible, recorded and
/// differentiated. The figure to compare is nanoseconds per op (the mean divided by <see cref="OpsPerChain"/>);
/// PyTorch 1.13 needs about 4.7 µs per op for the same chain on this machine.
/// </summary>
[MemoryDiagnoser]
public class TapeOverheadBenchmarks
{
    /// <summary>Each link is multiply, add, relu, sigmoid: four ops.</summary>
    private const int Links = 25;

    /// <summary>Ops per invocation: four per link plus the final sum.</summary>
    public const int OpsPerChain = (4 * Links) + 1;

    private Tape _tape = null!;
    private Tensor _x = null!;
    private Tensor _w = null!;
    private Tensor _b = null!;

    /// <summary>Anomaly mode checks every output and gradient; off, it must cost nothing measurable.</summary>
    [Params(false, true)]
    public bool DetectAnomalies { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _tape = new Tape { DetectAnomalies = DetectAnomalies };
        _x = Tensor.RandomNormal([4, 4], seed: 1);
        _w = Tensor.RandomNormal([4, 4], seed: 2);
        _b = Tensor.RandomNormal([4, 4], seed: 3);
        _w.RequiresGrad = true;
        _b.RequiresGrad = true;
    }

    [GlobalCleanup]
    public void Cleanup() => _tape.Dispose();

    [Benchmark(OperationsPerInvoke = OpsPerChain)]
    public void ForwardAndBackward()
    {
        _tape.Reset();
        var h = _x;
        for (var i = 0; i < Links; i++)
        {
            h = Ops.Sigmoid(Ops.Relu((h * _w) + _b));
        }

        _tape.Backward(Ops.Sum(h));
    }

    [Benchmark(OperationsPerInvoke = OpsPerChain)]
    public void ForwardOnly()
    {
        _tape.Reset();
        var h = _x;
        for (var i = 0; i < Links; i++)
        {
            h = Ops.Sigmoid(Ops.Relu((h * _w) + _b));
        }

        _ = Ops.Sum(h);
    }
}
