// Issue 17's GEMM peer: torch.mm (MKL inside LibTorch) on float32 squares of side 256 … 4096 in the four transpose
// combinations, as op(A)·op(B) with op a transposed view (MKL takes the flag, nothing is copied), then float64 squares
// of side 256 and 1024 (dgemm), then the float32 shapes of the MLP's training steps and two batch-128 layers 1,024 wide
// (GemmBenchmarks' shapes, read m×k×n). One JSON line per product: the median GFLOP/s. With "quick", only what
// `autograd bench` measures (256³ and 1024³ NN in both precisions, 100x784x50), for compare.py.
using System.Text.Json;


using TorchSharp;

internal static class GemmWorkloads
{
    public static void Run(int threads, bool quick)
    {
        (bool, bool)[] combinations = quick ? [(false, false)] : [(false, false), (false, true), (true, false), (true, true)];
        Run(threads, quick ? [256, 1024] : [256, 512, 1024, 2048, 4096], combinations, torch.ScalarType.Float32, "sgemm");
        Run(threads, [256, 1024], combinations, torch.ScalarType.Float64, "dgemm");
        string[] shapes = quick ? ["100x784x50"] : ["100x784x50", "784x100x50 TN", "100x50x784 NT", "100x784x1000", "100x1000x1000", "100x1000x1000 NT", "128x1024x1024", "128x4096x1024"];
        foreach (var shape in shapes)
        {
            RunShape(threads, shape);
        }
    }

    private static void RunShape(int threads, string shape)
    {
        var dims = shape.Split(' ')[0].Split('x').Select(int.Parse).ToArray();
        var (m, k, n) = (dims[0], dims[1], dims[2]);
        var (ta, tb) = (shape.EndsWith("TN", StringComparison.Ordinal), shape.EndsWith("NT", StringComparison.Ordinal));

        // A transposed operand is stored the other way round and multiplied through a transposed view.
        var left = ta ? torch.rand(k, m).t() : torch.rand(m, k);
        var right = tb ? torch.rand(n, k).t() : torch.rand(k, n);
        TimeProduct($"sgemm {shape}", threads, left, right, 2.0 * m * n * k);
    }

    private static void Run(int threads, int[] sides, (bool, bool)[] combinations, torch.ScalarType type, string name)
    {
        foreach (var n in sides)
        {
            var a = torch.rand(n, n, dtype: type);
            var b = torch.rand(n, n, dtype: type);
            foreach (var (ta, tb) in combinations)
            {
                var left = ta ? a.t() : a;
                var right = tb ? b.t() : b;
                TimeProduct($"{name} {n}³ {(ta ? 'T' : 'N')}{(tb ? 'T' : 'N')}", threads, left, right, 2.0 * n * n * n);
            }
        }
    }

    /// <summary>Times torch.mm(left, right) (median of up to 200 runs, about 40 GFLOP in all) and prints one JSON line.</summary>
    private static void TimeProduct(string workload, int threads, torch.Tensor left, torch.Tensor right, double flops)
    {
        var ms = Timing.MedianMs(
            () =>
            {
                using var product = torch.mm(left, right);
            },
            Math.Clamp((int)(4e10 / flops), 5, 200));
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            workload,
            threads,
            torchsharp = "0.107.0",
            gflops = Math.Round(flops / (ms / 1e3) / 1e9, 1),
        }));
    }
}
