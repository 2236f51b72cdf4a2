using AutoGrad.Kernels;

using BenchmarkDotNet.Attributes;

using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace AutoGrad.Benchmarks;

/// <summary>
/// Elementwise ops and a reduction on 4M floats (16 MB, beyond the caches) through AutoGrad's ops on a reused tape,
/// against the plain TensorPrimitives call on the same spans: the op layer should add nothing measurable.
/// </summary>
public class ElementwiseBenchmarks
{
    private const int Length = 1 << 22;
    private readonly Tape _tape = new();
    private Tensor _a = null!;
    private Tensor _b = null!;
    private float[] _x = [];
    private float[] _y = [];
    private float[] _z = [];

    [GlobalSetup]
    public void Setup()
    {
        // Both sides on one thread: large unary ops otherwise split across the worker threads (Chunks), and this
        // benchmark measures what the op layer adds, not the split.
        Parallelism.MaxThreads = 1;
        _a = Tensor.RandomNormal([Length], seed: 1);
        _b = Tensor.RandomNormal([Length], seed: 2);
        _x = _a.ToFloatArray();
        _y = _b.ToFloatArray();
        _z = new float[Length];
    }

    [GlobalCleanup]
    public void Cleanup() => _tape.Dispose();

    [Benchmark]
    public void AddOp()
    {
        _tape.Reset();
        _ = _a + _b;
    }

    [Benchmark]
    public void AddPrimitive() => TensorPrimitives.Add(_x, _y, _z);

    [Benchmark]
    public void ExpOp()
    {
        _tape.Reset();
        _ = Ops.Exp(_a);
    }

    [Benchmark]
    public void ExpPrimitive() => TensorPrimitives.Exp(_x, _z);

    [Benchmark]
    public float SumOp()
    {
        _tape.Reset();
        return (float)Ops.Sum(_a).ToScalar();
    }

    [Benchmark]
    public float SumPrimitive() => TensorPrimitives.Sum(_x);
}
