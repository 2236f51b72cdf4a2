using System.Text.Json;

namespace AutoGrad.Cli.Tests.Commands;

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
}
