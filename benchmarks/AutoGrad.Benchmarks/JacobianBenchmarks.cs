using AutoGrad.Kernels;

using BenchmarkDotNet.Attributes;

namespace AutoGrad.Benchmarks;

/// <summary>
/// Issue 18: a reverse-mode Jacobian with batched cotangents (PyTorch's <c>is_grads_batched</c>) against one reverse
/// sweep per row, the way it was computed before, in float64 on one thread. The function is elementwise-heavy: one
/// 256 → 256 affine layer, then six elementwise ops (tanh, sigmoid, sine, products, a sum), so the Jacobian is 256 × 256
/// and its rows cost 256 sweeps one at a time or two batched sweeps of 128. benchmarks/peers/jacobian.py times
/// <c>torch.autograd.functional.jacobian</c> on the same function.
/// </summary>
[MemoryDiagnoser]
public class JacobianBenchmarks
{
    private const int Width = 256;

    private Tensor _x = null!;
    private Tensor _w = null!;
    private Tensor _b = null!;
    private Tensor[] _units = [];

    [GlobalSetup]
    public void Setup()
    {
        Parallelism.MaxThreads = 1;
        _x = Tensor.RandomNormal([1, Width], seed: 1, dtype: DType.Float64);
        _w = Tensor.RandomNormal([Width, Width], seed: 2, std: 1.0 / 16, dtype: DType.Float64);
        _b = Tensor.RandomNormal([Width], seed: 3, std: 0.1, dtype: DType.Float64);
        _units = [.. Enumerable.Range(0, Width).Select(Unit)];
    }

    /// <summary>Rows by reverse sweeps, each carrying 128 cotangents: products as one GEMM, other ops' kernels per cotangent.</summary>
    [Benchmark]
    public Tensor RowsBatched() => Functional.Jacobian(F, _x, JacobianMode.Reverse);

    /// <summary>Rows by one reverse sweep each, over one recording (what <c>Jacobian(Reverse)</c> did before batching).</summary>
    [Benchmark(Baseline = true)]
    public Tensor RowsOneSweepEach()
    {
        var tape = Tape.Detached();
        var rows = new Tensor[Width];
        using (tape.Enter(record: true))
        {
            var x = tape.Watch(_x);
            var y = F(x);
            for (var i = 0; i < Width; i++)
            {
                rows[i] = tape.Gradient(y, [x], _units[i], retainGraph: true)[0];
            }
        }

        tape.Dispose();
        return Ops.Stack(rows, 0);
    }

    /// <summary>Columns by forward sweeps, each carrying 128 directions, for comparison (the same square Jacobian).</summary>
    [Benchmark]
    public Tensor ColumnsBatched() => Functional.Jacobian(F, _x, JacobianMode.Forward);

    private Tensor F(Tensor x)
    {
        var h = Ops.Tanh(Ops.Affine(x, _w, _b));
        return (Ops.Sigmoid(h) * h) + Ops.Sin(h * 2);
    }

    private static Tensor Unit(int index)
    {
        var values = new double[Width];
        values[index] = 1;
        return Tensor.FromArray(values, DType.Float64, 1, Width);
    }
}
