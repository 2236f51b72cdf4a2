using AutoGrad.Kernels;

using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace AutoGrad.Benchmarks;

/// <summary>
/// The float32 GEMM kernel that MatMul, Affine and their backward rules call, at the square size OpenBLAS is quoted at
/// and at the shapes of the MLP's training steps (and two batch-128 layers 1,024 wide, whose B rows lie 4 KB apart), on
/// 1 and 2 threads. TN is dW = xᵀ·g and NT is dx = g·Wᵀ as backward computes them, reading the stored operand in
/// place. The kernel is called directly: a transposed tensor is a copy, so a MatMul on one would time a plain product,
/// and backward on a retained tape keeps each sweep's scratch until the tape is reset. The GFLOP/s column is
/// 2·m·n·k / mean.
/// </summary>
[Config(typeof(GflopsConfig))]
public class GemmBenchmarks
{
    private Memory<float> _a;
    private Memory<float> _b;
    private Memory<float> _c;
    private int _m, _n, _k;

    /// <summary>m×k×n, then TN or NT for a transposed operand.</summary>
    [Params("1024x1024x1024", "1024x1024x1024 TN", "1024x1024x1024 NT", "4096x4096x4096", "4096x4096x4096 TN", "4096x4096x4096 NT", "100x784x50", "784x100x50 TN", "100x50x784 NT", "100x784x1000", "100x1000x1000", "100x1000x1000 NT", "128x1024x1024", "128x4096x1024")]
    public virtual string Shape { get; set; } = "";

    [Params(1, 2)]
    public int Threads { get; set; }

    private bool TransposeA => Shape.EndsWith("TN", StringComparison.Ordinal);

    private bool TransposeB => Shape.EndsWith("NT", StringComparison.Ordinal);

    public long FlopsPerCall => 2L * _m * _n * _k;

    [GlobalSetup]
    public void Setup()
    {
        // Shapes read m×k×n: C (m×n) = op(A) (m×k) · op(B) (k×n); a transposed operand is stored the other way round.
        var dims = Shape.Split(' ')[0].Split('x').Select(int.Parse).ToArray();
        (_m, _k, _n) = (dims[0], dims[1], dims[2]);
        Parallelism.MaxThreads = Threads;
        _a = OnCacheLine(Tensor.RandomNormal([_m * _k], seed: 1).ToFloatArray());
        _b = OnCacheLine(Tensor.RandomNormal([_k * _n], seed: 2).ToFloatArray());
        _c = OnCacheLine(new float[_m * _n]);
    }

    [Benchmark]
    public void Sgemm() => Gemm.Multiply<float>(TransposeA, TransposeB, _m, _n, _k, _a.Span, _b.Span, _c.Span, accumulate: false);

    /// <summary>
    /// The values in a pinned buffer from a cache line on, as a tape's results and the convolution's workspaces lie (and
    /// as peers allocate): a product into a C off a line stores each row's vectors across two lines (4096³, 3% slower).
    /// </summary>
    internal static Memory<T> OnCacheLine<T>(T[] values)
        where T : unmanaged
    {
        var buffer = GC.AllocateArray<T>(CacheLines.RentLength<T>(values.Length), pinned: true);
        var start = CacheLines.Skip(buffer);
        values.CopyTo(buffer, start);
        return buffer.AsMemory(start, values.Length);
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
