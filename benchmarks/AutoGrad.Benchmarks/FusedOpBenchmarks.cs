using BenchmarkDotNet.Attributes;

namespace AutoGrad.Benchmarks;

/// <summary>
/// Fused ops against their compositions of primitives, forward and backward on a reused tape: SoftmaxWithLoss
/// against −Σ t ⊙ log_softmax(x) / N, and Affine against MatMul plus a broadcast add.
/// </summary>
[MemoryDiagnoser]
public class FusedOpBenchmarks
{
    private readonly Tape _tape = new();
    private Tensor _scores = null!;
    private Tensor _oneHot = null!;
    private int[] _labels = [];
    private Tensor _x = null!;
    private Tensor _w = null!;
    private Tensor _b = null!;

    [Params(10, 1000)]
    public int Classes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _scores = Tensor.RandomNormal([100, Classes], seed: 1);
        _labels = Enumerable.Range(0, 100).Select(i => i % Classes).ToArray();
        var oneHot = new float[100 * Classes];
        for (var i = 0; i < 100; i++)
        {
            oneHot[(i * Classes) + _labels[i]] = 1;
        }

        _oneHot = Tensor.FromArray(oneHot, 100, Classes);
        _x = Tensor.RandomNormal([100, 784], seed: 2);
        _w = Tensor.RandomNormal([784, Classes], seed: 3, std: 0.01);
        _b = Tensor.Zeros([Classes]);
        _scores.RequiresGrad = _w.RequiresGrad = _b.RequiresGrad = true;
    }

    [GlobalCleanup]
    public void Cleanup() => _tape.Dispose();

    [Benchmark]
    public void SoftmaxWithLossFused()
    {
        _tape.Reset();
        _tape.Backward(Ops.SoftmaxWithLoss(_scores, _labels));
    }

    [Benchmark]
    public void SoftmaxWithLossComposed()
    {
        _tape.Reset();
        _tape.Backward(-Ops.Sum(_oneHot * Ops.LogSoftmax(_scores)) / 100);
    }

    [Benchmark]
    public void AffineFused()
    {
        _tape.Reset();
        _tape.Backward(Ops.Sum(Ops.Affine(_x, _w, _b)));
    }

    [Benchmark]
    public void AffineComposed()
    {
        _tape.Reset();
        _tape.Backward(Ops.Sum(Ops.MatMul(_x, _w) + _b));
    }
}
