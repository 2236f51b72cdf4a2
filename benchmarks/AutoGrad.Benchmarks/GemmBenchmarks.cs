using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace AutoGrad.Benchmarks;

/// <summary>
/// The float32 GEMM through the public <see cref="Ops.MatMul"/> on a reused tape (the product lands in the tape's
/// arena, so nothing is allocated), at the square size OpenBLAS is quoted at and at the shapes of the MLP's training
/// step, on 1 and 2 threads. Transposed operands are transposed views, read in place as backward reads them. The
/// GFLOP/s column is 2·m·n·k / mean.
/// </summary>
[Config(typeof(GflopsConfig))]
public class GemmBenchmarks
{
    private Tensor _a = Tensor.Scalar(0);
    private Tensor _b = Tensor.Scalar(0);
    private Tape? _tape;
    private int _m, _n, _k;

    /// <summary>m×k·k×n, with T marking a transposed operand as the backward pass uses it.</summary>
    [Params("1024x1024x1024", "100x784x50", "784x100x50 TN", "100x50x784 NT", "100x784x1000", "100x1000x1000")]
    public string Shape { get; set; } = "";

    [Params(1, 2)]
    public int Threads { get; set; }

    private bool TransposeA => Shape.EndsWith("TN", StringComparison.Ordinal);

    private bool TransposeB => Shape.EndsWith("NT", StringComparison.Ordinal);

    public long FlopsPerCall => 2L * _m * _n * _k;

    [GlobalSetup]
    public void Setup()
    {
        var dims = Shape.Split(' ')[0].Split('x').Select(int.Parse).ToArray();
        (_m, _k, _n) = (dims[0], dims[1], dims[2]);
        _a = TransposeA ? Ops.Transpose(Tensor.RandomNormal([_k, _m], seed: 1)) : Tensor.RandomNormal([_m, _k], seed: 1);
        _b = TransposeB ? Ops.Transpose(Tensor.RandomNormal([_n, _k], seed: 2)) : Tensor.RandomNormal([_k, _n], seed: 2);
        Parallelism.MaxThreads = Threads;
        _tape = new Tape();
    }

    [GlobalCleanup]
    public void Cleanup() => _tape?.Dispose();

    [Benchmark]
    public Tensor Sgemm()
    {
        _tape!.Reset();
        return Ops.MatMul(_a, _b);
    }

    private sealed class GflopsConfig : ManualConfig
    {
        public GflopsConfig() => AddColumn(new GflopsColumn());
    }

    private sealed class GflopsColumn : IColumn
    {
        public string Id => "GFLOPS";

        public string ColumnName => "GFLOP/s";

        public bool AlwaysShow => true;

        public ColumnCategory Category => ColumnCategory.Custom;

        public int PriorityInCategory => 0;

        public bool IsNumeric => true;

        public UnitType UnitType => UnitType.Dimensionless;

        public string Legend => "Billions of floating-point operations per second (2·m·n·k / mean)";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
        {
            var report = summary[benchmarkCase];
            if (report?.ResultStatistics is null)
            {
                return "-";
            }

            var shape = (string)benchmarkCase.Parameters["Shape"];
            var dims = shape.Split(' ')[0].Split('x').Select(long.Parse).ToArray();
            var flops = 2.0 * dims[0] * dims[1] * dims[2];
            return (flops / report.ResultStatistics.Mean).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
        }

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

        public bool IsAvailable(Summary summary) => true;

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    }
}
