using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

using AutoGrad.Kernels;
using AutoGrad.Nn.Optimizers;
using AutoGrad.Nn.Training;

using Spectre.Console;

namespace AutoGrad.Cli.Commands;

/// <summary>
/// <c>autograd bench</c>: the headline figures in under a minute, for a user deciding whether AutoGrad is fast on their
/// machine. Stopwatch medians after warm-up; BenchmarkDotNet (benchmarks/) gives the careful numbers.
/// </summary>
internal static class BenchCommand
{
    private static readonly (int M, int K, int N)[] s_gemmShapes = [(1024, 1024, 1024), (256, 256, 256), (100, 784, 50)];
    private static readonly (int M, int K, int N)[] s_gemm64Shapes = [(1024, 1024, 1024), (256, 256, 256)];
    private static readonly string[] s_models = ["784-50-10 SGD", "784-100-10 SGD", "784-1000-1000-10 Adam"];

    public static Command Create(IAnsiConsole console, TextWriter stdout)
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object (fmaPeakGflops, gemmGflops, gemmPercentOfPeak, their float64 twins, tapeNsPerOp, stepMicroseconds by model and thread count) instead of tables." };
        var quick = new Option<bool>("--quick") { Description = "Fewer repetitions (a few seconds, noisier)." };
        var command = new Command("bench", "Measure matrix products, tape overhead and training steps on this machine.") { json, quick };
        command.SetAction(result =>
        {
            var rounds = result.GetValue(quick) ? 3 : 15;
            var report = Measure(rounds);
            if (result.GetValue(json))
            {
                stdout.WriteLine(JsonSerializer.Serialize(report));
            }
            else
            {
                Print(console, report);
            }

            return 0;
        });
        return command;
    }

    private static BenchReport Measure(int rounds)
    {
        var threads = new SortedSet<int> { 1, Environment.ProcessorCount };
        var saved = Parallelism.MaxThreads;
        try
        {
            // The yardsticks first, measured in the same run: a GEMM on t threads is quoted against t times one core's
            // peak in its own precision.
            var peak = FmaPeak.MeasureGflops(rounds);
            var peak64 = FmaPeak.MeasureDoubleGflops(rounds);
            var (gemm, percent) = MeasureGemm(s_gemmShapes, DType.Float32, peak, threads, rounds);
            var (gemm64, percent64) = MeasureGemm(s_gemm64Shapes, DType.Float64, peak64, threads, rounds);
            var steps = MeasureSteps(threads, rounds);
            Parallelism.MaxThreads = saved;
            return new BenchReport(
                Environment.ProcessorCount,
                System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? 512 : 256,
                Math.Round(peak, 1),
                gemm,
                percent,
                Math.Round(peak64, 1),
                gemm64,
                percent64,
                Math.Round(TapeNanosecondsPerOp(rounds), 1),
                steps);
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }
    }

    /// <summary>GFLOP/s and percent of <paramref name="peak"/> for each shape and thread count, keyed "m×k×n" then "t".</summary>
    private static (Dictionary<string, Dictionary<string, double>> Gflops, Dictionary<string, Dictionary<string, double>> Percent) MeasureGemm(
        (int M, int K, int N)[] shapes, DType dtype, double peak, SortedSet<int> threads, int rounds)
    {
        var gemm = new Dictionary<string, Dictionary<string, double>>();
        var percent = new Dictionary<string, Dictionary<string, double>>();
        foreach (var (m, k, n) in shapes)
        {
            var shape = $"{m}x{k}x{n}";
            var byThreads = gemm[shape] = [];
            var ofPeak = percent[shape] = [];
            foreach (var t in threads)
            {
                Parallelism.MaxThreads = t;
                var gflops = MatMulGflops(m, k, n, dtype, rounds);
                byThreads[t.ToString(CultureInfo.InvariantCulture)] = Math.Round(gflops, 1);
                ofPeak[t.ToString(CultureInfo.InvariantCulture)] = Math.Round(100 * gflops / (t * peak), 1);
            }
        }

        return (gemm, percent);
    }

    /// <summary>
    /// Microseconds per training step for each model and thread count, keyed by model then "t": issue 17 asks that no
    /// thread count be slower than one, which only both figures from the same run can show.
    /// </summary>
    private static Dictionary<string, Dictionary<string, double>> MeasureSteps(SortedSet<int> threads, int rounds)
    {
        var steps = new Dictionary<string, Dictionary<string, double>>();
        foreach (var model in s_models)
        {
            var byThreads = steps[model] = [];
            foreach (var t in threads)
            {
                Parallelism.MaxThreads = t;
                byThreads[t.ToString(CultureInfo.InvariantCulture)] = Math.Round(StepMicroseconds(model, rounds), 1);
            }
        }

        return steps;
    }

    private static double MatMulGflops(int m, int k, int n, DType dtype, int rounds)
    {
        var a = Tensor.RandomNormal([m, k], seed: 1, dtype: dtype);
        var b = Tensor.RandomNormal([k, n], seed: 2, dtype: dtype);
        using var tape = new Tape(); // results land in the arena: no allocation per call
        var calls = Math.Max(1, (int)(2e8 / (2.0 * m * n * k)));
        var seconds = Median(rounds, () =>
        {
            for (var i = 0; i < calls; i++)
            {
                tape.Reset();
                _ = Ops.MatMul(a, b);
            }
        }) / calls;
        return 2.0 * m * n * k / seconds / 1e9;
    }

    private static double TapeNanosecondsPerOp(int rounds)
    {
        const int links = 25, ops = (4 * links) + 1, chains = 2000;
        var x = Tensor.RandomNormal([4, 4], seed: 1);
        var w = Tensor.RandomNormal([4, 4], seed: 2);
        var bias = Tensor.RandomNormal([4, 4], seed: 3);
        w.RequiresGrad = bias.RequiresGrad = true;
        using var tape = new Tape();

        // Warmed up for half a second, not two rounds of about 15 ms: the arena and the node list reach their steady
        // size, and the precompiled framework code the chain calls is recompiled at tier 1 (the CLI compiles
        // AutoGrad's own code fully optimized at once).
        var seconds = Median(rounds, Chains, warmUpSeconds: 0.5);
        return seconds / chains / ops * 1e9;

        void Chains()
        {
            for (var c = 0; c < chains; c++)
            {
                tape.Reset();
                var h = x;
                for (var i = 0; i < links; i++)
                {
                    h = Ops.Sigmoid(Ops.Relu((h * w) + bias));
                }

                tape.Backward(Ops.Sum(h));
            }
        }
    }

    private static double StepMicroseconds(string name, int rounds)
    {
        var sizes = name.Split(' ')[0].Split('-').Select(int.Parse).ToArray();
        Module model = sizes.Length == 3 ? new TwoLayerNet(sizes[0], sizes[1], sizes[2], seed: 1) : new MultiLayerNet(sizes[0], sizes[1..^1], sizes[^1], seed: 1);
        Optimizer optimizer = name.EndsWith("Adam", StringComparison.Ordinal) ? new Adam(model.Parameters(), 0.001) : new Sgd(model.Parameters(), 0.1);
        var batch = Tensor.RandomUniform([100, sizes[0]], seed: 2);
        var labels = Enumerable.Range(0, 100).Select(i => i % sizes[^1]).ToArray();
        var steps = sizes.Length == 3 ? 200 : 5;
        using var tape = new Tape();
        var seconds = Median(rounds, () =>
        {
            for (var i = 0; i < steps; i++)
            {
                Trainer.Step(model, optimizer, tape, batch, labels);
            }
        });
        return seconds / steps * 1e6;
    }

    /// <summary>The median wall time of <paramref name="rounds"/> runs, after at least two warm-up runs and <paramref name="warmUpSeconds"/>.</summary>
    private static double Median(int rounds, Action run, double warmUpSeconds = 0)
    {
        var warmUp = Stopwatch.StartNew();
        run();
        run();
        while (warmUp.Elapsed.TotalSeconds < warmUpSeconds)
        {
            run();
        }

        var times = new double[rounds];
        for (var i = 0; i < rounds; i++)
        {
            var clock = Stopwatch.StartNew();
            run();
            times[i] = clock.Elapsed.TotalSeconds;
        }

        Array.Sort(times);
        return times[rounds / 2];
    }

    private static void Print(IAnsiConsole console, BenchReport report)
    {
        console.Write(GemmTable("float32", report.FmaPeakGflops, report.Cores, report.VectorBits, report.GemmGflops, report.GemmPercentOfPeak));
        console.Write(GemmTable("float64", report.FmaPeakFloat64Gflops, report.Cores, report.VectorBits, report.GemmFloat64Gflops, report.GemmFloat64PercentOfPeak));
        var threadCounts = report.StepMicroseconds.First().Value.Keys.ToList();
        var other = new Table().AddColumn("measure");
        foreach (var t in threadCounts)
        {
            other.AddColumn(new TableColumn($"AutoGrad, {t} thread{(t == "1" ? string.Empty : "s")}").RightAligned());
        }

        other.AddColumn(new TableColumn("PyTorch 1.13 on the reference machine, 1 thread").RightAligned());
        var tape = $"{report.TapeNsPerOp.ToString("F1", CultureInfo.InvariantCulture)} ns";
        other.AddRow(["tape: forward + backward per tiny op", tape, .. threadCounts.Skip(1).Select(_ => string.Empty), "4,395 ns"]);
        string[] peer = ["354 µs", "505 µs", "33,468 µs"];
        var row = 0;
        foreach (var (model, byThreads) in report.StepMicroseconds)
        {
            other.AddRow([$"training step {model}, batch 100", .. threadCounts.Select(t => string.Create(CultureInfo.InvariantCulture, $"{byThreads[t]:F1} µs")), peer[row++]]);
        }

        console.Write(other);
    }

    private static Table GemmTable(string precision, double peak, int cores, int vectorBits, Dictionary<string, Dictionary<string, double>> gflops, Dictionary<string, Dictionary<string, double>> percent)
    {
        var title = string.Create(
            CultureInfo.InvariantCulture,
            $"{precision} matrix product, GFLOP/s and % of the {precision} FMA peak ({peak:F1} GFLOP/s a core, measured now; {cores} cores, {vectorBits}-bit vectors)");
        var table = new Table().Title(title).AddColumn("m×k×n");
        var threadCounts = gflops.First().Value.Keys.ToList();
        foreach (var t in threadCounts)
        {
            table.AddColumn(new TableColumn($"{t} thread{(t == "1" ? string.Empty : "s")}").RightAligned());
        }

        foreach (var (shape, byThreads) in gflops)
        {
            table.AddRow([shape, .. threadCounts.Select(t => string.Create(CultureInfo.InvariantCulture, $"{byThreads[t]:F1} ({percent[shape][t]:F0}%)"))]);
        }

        return table;
    }

    /// <summary>The JSON shape of <c>autograd bench --json</c>.</summary>
    internal sealed record BenchReport(
        [property: System.Text.Json.Serialization.JsonPropertyName("cores")] int Cores,
        [property: System.Text.Json.Serialization.JsonPropertyName("vectorBits")] int VectorBits,
        [property: System.Text.Json.Serialization.JsonPropertyName("fmaPeakGflops")] double FmaPeakGflops,
        [property: System.Text.Json.Serialization.JsonPropertyName("gemmGflops")] Dictionary<string, Dictionary<string, double>> GemmGflops,
        [property: System.Text.Json.Serialization.JsonPropertyName("gemmPercentOfPeak")] Dictionary<string, Dictionary<string, double>> GemmPercentOfPeak,
        [property: System.Text.Json.Serialization.JsonPropertyName("fmaPeakFloat64Gflops")] double FmaPeakFloat64Gflops,
        [property: System.Text.Json.Serialization.JsonPropertyName("gemmFloat64Gflops")] Dictionary<string, Dictionary<string, double>> GemmFloat64Gflops,
        [property: System.Text.Json.Serialization.JsonPropertyName("gemmFloat64PercentOfPeak")] Dictionary<string, Dictionary<string, double>> GemmFloat64PercentOfPeak,
        [property: System.Text.Json.Serialization.JsonPropertyName("tapeNsPerOp")] double TapeNsPerOp,
        [property: System.Text.Json.Serialization.JsonPropertyName("stepMicroseconds")] Dictionary<string, Dictionary<string, double>> StepMicroseconds);
}
