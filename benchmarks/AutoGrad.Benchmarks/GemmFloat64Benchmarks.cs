using AutoGrad.Kernels;

using BenchmarkDotNet.Attributes;

namespace AutoGrad.Benchmarks;

/// <summary>
/// The float64 GEMM kernel behind MatMul and Affine in float64, all four transpose combinations at 256³ and 1024³, on
/// 1 and 2 threads; quoted against <see cref="FmaPeakBenchmarks.PeakFloat64"/> from the same run (issue 17: ≥ 90% of
/// the float64 peak). Float64 is the precision of the library's exact checks, so its speed bounds how long they take.
/// </summary>
public class GemmFloat64Benchmarks
{
    private Memory<double> _a;
    private Memory<double> _b;
    private Memory<double> _c;
    private int _n;

    [Params("256 NN", "256 NT", "256 TN", "256 TT", "1024 NN", "1024 NT", "1024 TN", "1024 TT")]
    public string Shape { get; set; } = "";

    [Params(1, 2)]
    public int Threads { get; set; }

    private bool TransposeA => Shape[^2] == 'T';

    private bool TransposeB => Shape[^1] == 'T';

    [GlobalSetup]
    public void Setup()
    {
        _n = int.Parse(Shape.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Parallelism.MaxThreads = Threads;
        _a = GemmBenchmarks.OnCacheLine(Tensor.RandomNormal([_n * _n], seed: 1, dtype: DType.Float64).ToDoubleArray());
        _b = GemmBenchmarks.OnCacheLine(Tensor.RandomNormal([_n * _n], seed: 2, dtype: DType.Float64).ToDoubleArray());
        _c = GemmBenchmarks.OnCacheLine(new double[_n * _n]);
    }

    /// <summary>C = op(A)·op(B), n×n×n; GFLOP/s = 2n³ / mean.</summary>
    [Benchmark]
    public void Dgemm() => Gemm.Multiply<double>(TransposeA, TransposeB, _n, _n, _n, _a.Span, _b.Span, _c.Span, accumulate: false);
}
