using BenchmarkDotNet.Attributes;

namespace AutoGrad.Benchmarks;

/// <summary>
/// Float32 matrix products through the public op (no tape), at a square size and at the shapes of the
/// 784-50-10 training step. GFLOP/s = 2·m·n·k / mean time.
/// </summary>
[MemoryDiagnoser]
public class MatMulBenchmarks
{
    private Tensor _a = null!;
    private Tensor _b = null!;

    [Params("256x256x256", "100x784x50", "1024x1024x1024")]
    public string Shape { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        var dims = Shape.Split('x').Select(int.Parse).ToArray();
        _a = Tensor.RandomNormal([dims[0], dims[1]], seed: 1);
        _b = Tensor.RandomNormal([dims[1], dims[2]], seed: 2);
    }

    [Benchmark]
    public Tensor MatMul() => Ops.MatMul(_a, _b);
}
