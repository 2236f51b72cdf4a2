using System.Text.Json;

namespace AutoGrad.Cli.Tests.Commands;

[Collection(nameof(ThreadCountCollection))]
public class TrainModelTests
{
    [Fact]
    public void Simple_cnn_trains_on_the_digits_to_98_percent()
    {
        var (code, output, error) = CliRunner.Run("train", "--model", "simple-cnn", "--json");
        Assert.True(code == 0, error + output);
        using var json = JsonDocument.Parse(output);
        Assert.Equal("simple-cnn", json.RootElement.GetProperty("model").GetString());
        Assert.True(json.RootElement.GetProperty("testAccuracy").GetDouble() >= 0.98, output);
    }

    [Fact]
    public void An_unknown_model_is_a_usage_error()
    {
        var (code, _, error) = CliRunner.Run("train", "--model", "resnet");
        Assert.Equal(2, code);
        Assert.Contains("resnet", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Batch_norm_belongs_to_the_deep_cnn_only()
    {
        var (code, _, error) = CliRunner.Run("train", "--batch-norm");
        Assert.Equal(2, code);
        Assert.Contains("--batch-norm", error, StringComparison.Ordinal);
        Assert.Contains("deep-cnn", error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_graph_of_the_simple_cnn_shows_its_convolution_and_pooling()
    {
        var dot = Path.Combine(Path.GetTempPath(), $"cnn-{Guid.NewGuid():N}.dot");
        try
        {
            var (code, output, error) = CliRunner.Run("graph", "--model", "simple-cnn", "--dot", dot, "--svg", Path.ChangeExtension(dot, ".svg"));
            Assert.True(code == 0, error + output);
            var text = File.ReadAllText(dot);
            Assert.Contains("Conv2d", text, StringComparison.Ordinal);
            Assert.Contains("MaxPool2d", text, StringComparison.Ordinal);
            Assert.Contains("conv1.weight", text, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(dot);
            File.Delete(Path.ChangeExtension(dot, ".svg"));
        }
    }
}
