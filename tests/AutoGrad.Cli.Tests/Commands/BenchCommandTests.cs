using System.Text.Json;

namespace AutoGrad.Cli.Tests.Commands;

[Collection(nameof(ThreadCountCollection))]
public class BenchCommandTests
{
    [Fact]
    public void Json_reports_gemm_tape_and_step_figures()
    {
        var (code, output, error) = CliRunner.Run("bench", "--json", "--quick");
        Assert.True(code == 0, error);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        var gemm = root.GetProperty("gemmGflops");
        Assert.Equal(["1024x1024x1024", "256x256x256", "100x784x50"], gemm.EnumerateObject().Select(p => p.Name));
        foreach (var shape in gemm.EnumerateObject())
        {
            Assert.Contains("1", shape.Value.EnumerateObject().Select(p => p.Name));
            // Positive and finite, not fast: CI runs this beside other test processes on two cores.
            Assert.All(shape.Value.EnumerateObject(), t => Assert.InRange(t.Value.GetDouble(), 0.001, 10_000));
        }

        // The peak is measured in the run, and each GEMM figure is quoted against it (t threads against t cores' peak).
        var peak = root.GetProperty("fmaPeakGflops").GetDouble();
        Assert.InRange(peak, 1, 100_000);
        var percent = root.GetProperty("gemmPercentOfPeak");
        foreach (var shape in gemm.EnumerateObject())
        {
            foreach (var t in shape.Value.EnumerateObject())
            {
                var expected = 100 * t.Value.GetDouble() / (int.Parse(t.Name, System.Globalization.CultureInfo.InvariantCulture) * peak);
                Assert.Equal(expected, percent.GetProperty(shape.Name).GetProperty(t.Name).GetDouble(), 0.2);
            }
        }

        // The float64 products likewise, against the float64 peak, which is half the lanes of the float32 one.
        var peak64 = root.GetProperty("fmaPeakFloat64Gflops").GetDouble();
        Assert.InRange(peak64, peak / 4, peak);
        var gemm64 = root.GetProperty("gemmFloat64Gflops");
        Assert.Equal(["1024x1024x1024", "256x256x256"], gemm64.EnumerateObject().Select(p => p.Name));
        var percent64 = root.GetProperty("gemmFloat64PercentOfPeak");
        foreach (var shape in gemm64.EnumerateObject())
        {
            foreach (var t in shape.Value.EnumerateObject())
            {
                Assert.InRange(t.Value.GetDouble(), 0.001, 10_000);
                var expected = 100 * t.Value.GetDouble() / (int.Parse(t.Name, System.Globalization.CultureInfo.InvariantCulture) * peak64);
                Assert.Equal(expected, percent64.GetProperty(shape.Name).GetProperty(t.Name).GetDouble(), 0.2);
            }
        }

        Assert.InRange(root.GetProperty("tapeNsPerOp").GetDouble(), 1, 100_000);
        // Each step at one thread and at every core, the two figures issue 17 compares.
        var steps = root.GetProperty("stepMicroseconds");
        Assert.Equal(["784-50-10 SGD", "784-100-10 SGD", "784-1000-1000-10 Adam"], steps.EnumerateObject().Select(p => p.Name));
        var threadCounts = new[] { 1, Environment.ProcessorCount }.Distinct().Select(t => t.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var model in steps.EnumerateObject())
        {
            Assert.Equal(threadCounts, model.Value.EnumerateObject().Select(p => p.Name));
            Assert.All(model.Value.EnumerateObject(), t => Assert.InRange(t.Value.GetDouble(), 1, 10_000_000));
        }

        Assert.True(steps.GetProperty("784-1000-1000-10 Adam").GetProperty("1").GetDouble() > steps.GetProperty("784-50-10 SGD").GetProperty("1").GetDouble());
    }
}
