using AutoGrad.Kernels;

using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace AutoGrad.Benchmarks;

/// <summary>
/// The float32 GEMM kernel on preallocated buffers (no tensor allocation), at the square size OpenBLAS is quoted at
/// and at the shapes of the MLP's training step, on 1 and 2 threads. The GFLOP/s column is 2·m·n·k / mean.
/// </summary>
[Config(typeof(GflopsConfig))]
public class GemmBenchmarks
{
    private float[] _a = [];
    private float[] _b = [];
    private float[] _c = [];
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
        var random = new SeededRandom(1);
        _a = Enumerable.Range(0, _m * _k).Select(_ => (float)random.NextNormal()).ToArray();
        _b = Enumerable.Range(0, _k * _n).Select(_ => (float)random.NextNormal()).ToArray();
        _c = new float[_m * _n];
        Parallelism.MaxThreads = Threads;
    }

    [Benchmark]
    public void Sgemm() => Gemm.Multiply<float>(TransposeA, TransposeB, _m, _n, _k, _a, _b, _c, accumulate: false);

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
