using AutoGrad.Kernels;

using BenchmarkDotNet.Attributes;

namespace AutoGrad.Benchmarks;

/// <summary>
/// Issue 18: the Hessian of the 784-50-10 net's loss (Affine, ReLU, Affine, SoftmaxWithLoss on a fixed float32 batch
/// of 100) with respect to W2 (50 × 10, so 500 × 500), one thread; benchmarks/peers/hessian.py times
/// <c>torch.autograd.functional.hessian</c> on the same workload. Forward over reverse (the library's
/// <see cref="Functional.Hessian"/>), reverse over reverse (a Jacobian of the gradient by rows) for comparison, and
/// one Hessian-vector product.
/// </summary>
[MemoryDiagnoser]
public class TransformBenchmarks
{
    private Tensor _x = null!;
    private Tensor _w1 = null!;
    private Tensor _b1 = null!;
    private Tensor _w2 = null!;
    private Tensor _b2 = null!;
    private int[] _labels = [];

    [GlobalSetup]
    public void Setup()
    {
        Parallelism.MaxThreads = 1;
        _x = Tensor.RandomUniform([100, 784], seed: 1);
        _w1 = Tensor.RandomNormal([784, 50], seed: 2, std: 0.05);
        _b1 = Tensor.Zeros([50]);
        _w2 = Tensor.RandomNormal([50, 10], seed: 3, std: 0.2);
        _b2 = Tensor.Zeros([10]);
        var random = new SeededRandom(3);
        _labels = [.. Enumerable.Range(0, 100).Select(_ => random.NextInt(10))];
    }

    /// <summary>Forward over reverse: the gradient recorded once, then batched forward sweeps over it.</summary>
    [Benchmark(Baseline = true)]
    public Tensor Hessian() => Functional.Hessian(Loss, _w2);

    /// <summary>Reverse over reverse: the gradient recorded once, then one reverse sweep per row.</summary>
    [Benchmark]
    public Tensor HessianByRows() => Functional.Jacobian(Functional.Grad(Loss), _w2, JacobianMode.Reverse);

    /// <summary>One Hessian-vector product, forward over reverse.</summary>
    [Benchmark]
    public Tensor Hvp() => Functional.Hvp(Loss, _w2, _w2);

    private Tensor Loss(Tensor w2) => Ops.SoftmaxWithLoss(Ops.Affine(Ops.Relu(Ops.Affine(_x, _w1, _b1)), w2, _b2), _labels);
}
