using AutoGrad.Kernels;

using BenchmarkDotNet.Attributes;

namespace AutoGrad.Benchmarks;

/// <summary>
/// Issue 18: gradient checkpointing's price in time. A 24-layer MLP (width 1024, ReLU, float32) on a batch of 256,
/// forward and backward (gradients into the parameters' Grad), plain and with a checkpoint every 4 layers, one thread.
/// Its memory (a third of the plain arena or less) is asserted by CheckpointTests.
/// </summary>
public class CheckpointBenchmarks
{
    private const int Layers = 24;
    private const int Width = 1024;
    private const int Every = 4;

    private Tensor[] _parameters = [];
    private Tensor _x = null!;
    private Tape _tape = null!;

    [GlobalSetup]
    public void Setup()
    {
        Parallelism.MaxThreads = 1;
        _parameters = [.. Enumerable.Range(0, Layers).SelectMany(i => new[]
        {
            Tensor.RandomNormal([Width, Width], seed: i, std: Math.Sqrt(2.0 / Width)),
            Tensor.Zeros([Width]),
        })];
        foreach (var p in _parameters)
        {
            p.RequiresGrad = true;
        }

        _x = Tensor.RandomNormal([256, Width], seed: 99);
        _tape = Tape.Detached();
    }

    [GlobalCleanup]
    public void Cleanup() => _tape.Dispose();

    /// <summary>Every intermediate kept for the backward sweep.</summary>
    [Benchmark(Baseline = true)]
    public void Plain() => Step(checkpointed: false);

    /// <summary>Only every fourth layer's output kept; each segment runs again in the backward sweep.</summary>
    [Benchmark]
    public void Checkpointed() => Step(checkpointed: true);

    private static Tensor Segment(Tensor[] v)
    {
        var h = v[0];
        for (var i = 1; i < v.Length; i += 2)
        {
            h = Ops.Relu(Ops.Affine(h, v[i], v[i + 1]));
        }

        return h;
    }

    private void Step(bool checkpointed)
    {
        _tape.Reset();
        using (_tape.Enter(record: true))
        {
            foreach (var p in _parameters)
            {
                p.ZeroGrad();
            }

            var h = _x;
            for (var start = 0; start < Layers; start += Every)
            {
                Tensor[] inputs = [h, .. _parameters.Skip(2 * start).Take(2 * Every)];
                h = checkpointed ? Functional.Checkpoint(Segment, inputs) : Segment(inputs);
            }

            _tape.Backward(Ops.Mean(Ops.Square(h)));
        }
    }
}
