using System.Text.Json;
using System.Xml.Linq;

namespace AutoGrad.Cli.Tests.Commands;

[Collection(nameof(ThreadCountCollection))]
public sealed class TrainCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("autograd-cli-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void The_default_run_reaches_96_percent_on_the_digits_and_prints_json()
    {
        var plot = Path.Combine(_folder, "curve.svg");
        var (code, output, error) = CliRunner.Run("train", "--json", "--plot", plot);
        Assert.True(code == 0, error);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.Equal("digits", root.GetProperty("dataset").GetString());
        Assert.True(root.GetProperty("testAccuracy").GetDouble() >= 0.96, output);
        Assert.True(root.GetProperty("trainAccuracy").GetDouble() >= 0.98, output);
        Assert.Equal(1350, root.GetProperty("iterations").GetInt32()); // 30 epochs of 45 batches of 32
        Assert.InRange(root.GetProperty("finalLoss").GetDouble(), 0, 0.5);
        Assert.InRange(root.GetProperty("seconds").GetDouble(), 0, 60);

        var svg = XDocument.Load(plot);
        Assert.Equal("svg", svg.Root!.Name.LocalName);
        Assert.Equal(3, svg.Descendants().Count(e => e.Name.LocalName == "polyline"));
    }

    [Theory]
    [InlineData("step:10:0.5", 0.001 * 0.125)] // halved after epochs 10, 20 and 30
    [InlineData("onecycle", 0.001 / 25 / 1e4)] // up to --lr and down to its 1/250,000 at the last of 1,350 batches
    [InlineData("cosine:100", 0.0)]
    public void A_schedule_sets_the_rate_the_run_ends_with_and_the_run_still_learns(string schedule, double finalRate)
    {
        var (code, output, error) = CliRunner.Run("train", "--json", "--no-plot", "--schedule", schedule);
        Assert.True(code == 0, error);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(finalRate, json.RootElement.GetProperty("finalLearningRate").GetDouble(), 1e-15);
        Assert.True(json.RootElement.GetProperty("testAccuracy").GetDouble() >= 0.95, output);
    }

    [Fact]
    public void The_warm_up_on_the_spare_core_leaves_the_run_bit_identical_to_the_library_alone()
    {
        // The CLI compiles the loop's code on a throwaway model while the data loads; nothing it touches may reach
        // the real run. The same run through the library directly, with no warm-up, must give the same losses.
        var (code, output, error) = CliRunner.Run("train", "--iterations", "200", "--optimizer", "momentum", "--json", "--plot", Path.Combine(_folder, "w.svg"));
        Assert.True(code == 0, error);
        using var json = JsonDocument.Parse(output);

        var (train, test) = AutoGrad.Nn.Data.Dataset.Digits().Split(0.8, 42);
        var model = new AutoGrad.Nn.TwoLayerNet(train.FeatureCount, 100, train.ClassCount, AutoGrad.Nn.WeightInit.He, 42);
        var options = new AutoGrad.Nn.Training.TrainingOptions { BatchSize = 32, Iterations = 200, Seed = 42 };
        var alone = AutoGrad.Nn.Training.Trainer.Fit(model, new AutoGrad.Nn.Optimizers.Momentum(model.Parameters(), 0.1), train, test, options);
        Assert.Equal(alone.FinalLoss, json.RootElement.GetProperty("finalLoss").GetDouble());
        Assert.Equal(alone.TestAccuracy, json.RootElement.GetProperty("testAccuracy").GetDouble());
    }

    [Fact]
    public void The_thread_count_changes_no_bit_of_a_run_and_is_restored_afterwards()
    {
        var before = AutoGrad.Kernels.Parallelism.MaxThreads;
        var runs = new[] { "1", "2" }.Select(threads =>
        {
            var (code, output, error) = CliRunner.Run("train", "--model", "simple-cnn", "--iterations", "40", "--threads", threads, "--json", "--no-plot");
            Assert.True(code == 0, error);
            using var json = JsonDocument.Parse(output);
            return (Loss: json.RootElement.GetProperty("finalLoss").GetDouble(), Accuracy: json.RootElement.GetProperty("testAccuracy").GetDouble());
        }).ToArray();

        Assert.Equal(runs[0], runs[1]);
        Assert.Equal(before, AutoGrad.Kernels.Parallelism.MaxThreads);
    }

    [Fact]
    public void The_table_reports_accuracy_and_time()
    {
        var (code, output, error) = CliRunner.Run("train", "--epochs", "2", "--plot", Path.Combine(_folder, "p.svg"));
        Assert.True(code == 0, error);
        Assert.Contains("test accuracy", output);
        Assert.Contains("training time", output);
        Assert.Contains("64-100-10", output);
    }

    [Fact]
    public void Parameters_saved_by_one_run_load_into_the_next()
    {
        var weights = Path.Combine(_folder, "w.safetensors");
        var first = CliRunner.Run("train", "--epochs", "3", "--save", weights, "--json");
        Assert.Equal(0, first.ExitCode);
        Assert.True(File.Exists(weights));
        Assert.True(File.Exists(Path.ChangeExtension(weights, ".svg"))); // the plot goes next to the saved run
        var resumed = CliRunner.Run("train", "--iterations", "1", "--load", weights, "--json", "--plot", Path.Combine(_folder, "q.svg"), "--lr", "1e-9");
        Assert.Equal(0, resumed.ExitCode);
        var before = JsonDocument.Parse(first.Out).RootElement.GetProperty("testAccuracy").GetDouble();
        var after = JsonDocument.Parse(resumed.Out).RootElement.GetProperty("testAccuracy").GetDouble();
        Assert.Equal(before, after, 2); // one tiny step leaves the loaded model as it was
    }

    [Theory]
    [InlineData(2, "--optimizer", "sgdx")]
    [InlineData(2, "--hidden", "10,0")]
    [InlineData(2, "--batch", "-5")]
    [InlineData(2, "--lr", "abc")]
    [InlineData(2, "--epochs", "2", "--iterations", "5")]
    [InlineData(2, "--init", "gauss")]
    [InlineData(2, "--no-such-option")]
    [InlineData(1, "--data", "/nonexistent/folder")]
    [InlineData(1, "--load", "/nonexistent/w.safetensors")]
    public void Bad_input_gets_one_line_and_a_non_zero_exit(int expected, params string[] options)
    {
        var (code, _, error) = CliRunner.Run(["train", "--plot", Path.Combine(_folder, "x.svg"), .. options]);
        Assert.Equal(expected, code);
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("error: ", lines[0]);
        Assert.DoesNotContain("   at ", error);
    }

    [Fact]
    public void A_corrupt_checkpoint_is_reported_in_one_line()
    {
        var bad = Path.Combine(_folder, "bad.npz");
        File.WriteAllBytes(bad, [1, 2, 3, 4]);
        var (code, _, error) = CliRunner.Run("train", "--load", bad, "--plot", Path.Combine(_folder, "x.svg"));
        Assert.Equal(1, code);
        Assert.Contains("npz", error);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void A_folder_of_corrupt_idx_files_is_reported_in_one_line()
    {
        foreach (var name in new[] { "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" })
        {
            File.WriteAllBytes(Path.Combine(_folder, name), [0, 0, 8, 1, 0, 0, 0, 9, 1]);
        }

        var (code, _, error) = CliRunner.Run("train", "--data", _folder, "--plot", Path.Combine(_folder, "x.svg"));
        Assert.Equal(1, code);
        Assert.Contains("IDX", error);
    }

    [Fact]
    public void A_diverging_run_stops_with_one_line()
    {
        var (code, _, error) = CliRunner.Run("train", "--optimizer", "sgd", "--lr", "1e38", "--iterations", "30", "--plot", Path.Combine(_folder, "x.svg"));
        Assert.Equal(1, code);
        Assert.Contains("diverged", error);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData("model.pt", "--save", ".safetensors or .npz")]
    [InlineData("nodir/m.safetensors", "--save", "does not exist")]
    [InlineData("curve.png", "--plot", ".svg")]
    [InlineData("nodir/curve.svg", "--plot", "does not exist")]
    public void Output_paths_are_checked_before_any_data_is_read(string file, string option, string reason)
    {
        // Before, --save model.pt failed after training, losing it, with a message naming the hidden temporary. The
        // data folder given here does not exist: a check that ran after loading would report that instead.
        var path = Path.Combine(_folder, file);
        var (code, output, error) = CliRunner.Run("train", option, path, "--data", Path.Combine(_folder, "no-data"));

        Assert.Equal(2, code);
        Assert.Equal(string.Empty, output);
        Assert.StartsWith($"error: {option}", error);
        Assert.Contains(reason, error);
        Assert.DoesNotContain(".tmp", error);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void A_read_only_folder_and_one_file_for_both_outputs_are_refused_up_front()
    {
        // /proc takes no new files, even from root (CI runs as root, which file permissions do not stop).
        var (code, _, error) = CliRunner.Run("train", "--plot", "/proc/curves.svg");
        Assert.Equal(2, code);
        Assert.Contains("not writable", error);

        var same = Path.Combine(_folder, "same.svg");
        (code, _, error) = CliRunner.Run("train", "--save", Path.ChangeExtension(same, ".npz"), "--plot", Path.ChangeExtension(same, ".npz"));
        Assert.Equal(2, code);
        Assert.Contains(".svg", error);
    }

    [Fact]
    public void Without_plot_or_save_nothing_is_written_to_the_working_folder()
    {
        // Before, every run wrote ./autograd-digits.svg, and in a read-only folder a successful run exited 1 without
        // its JSON. Now the picture is drawn only where --plot (or --save) says.
        var before = Directory.GetFiles(Environment.CurrentDirectory);
        var (code, output, error) = CliRunner.Run("train", "--iterations", "20", "--json");

        Assert.True(code == 0, error);
        Assert.Equal(string.Empty, error);
        Assert.Equal(20, JsonDocument.Parse(output).RootElement.GetProperty("iterations").GetInt32());
        Assert.Equal(before, Directory.GetFiles(Environment.CurrentDirectory));
        Assert.Equal(0, CliRunner.Run("train", "--iterations", "5", "--save", Path.Combine(_folder, "n.npz"), "--no-plot", "--json").ExitCode);
        Assert.False(File.Exists(Path.Combine(_folder, "n.svg")));
    }

    [Fact]
    public void A_data_folder_names_the_data_set_everywhere()
    {
        var set = Path.Combine(_folder, "my-scans");
        Directory.CreateDirectory(set);
        foreach (var (prefix, count) in new[] { ("train", 20), ("t10k", 10) })
        {
            File.WriteAllBytes(Path.Combine(set, $"{prefix}-images-idx3-ubyte"), [0, 0, 8, 3, 0, 0, 0, (byte)count, 0, 0, 0, 2, 0, 0, 0, 2, .. Enumerable.Range(0, 4 * count).Select(i => (byte)(i * 7))]);
            File.WriteAllBytes(Path.Combine(set, $"{prefix}-labels-idx1-ubyte"), [0, 0, 8, 1, 0, 0, 0, (byte)count, .. Enumerable.Range(0, count).Select(i => (byte)(i % 3))]);
        }

        var plot = Path.Combine(_folder, "scan.svg");
        var (code, output, error) = CliRunner.Run("train", "--data", set, "--iterations", "5", "--batch", "4", "--json", "--plot", plot);
        Assert.True(code == 0, error);
        Assert.Equal("my-scans", JsonDocument.Parse(output).RootElement.GetProperty("dataset").GetString());
        Assert.Contains("my-scans", File.ReadAllText(plot));
        Assert.DoesNotContain("digits", File.ReadAllText(plot));

        var table = CliRunner.Run("train", "--data", set, "--iterations", "5", "--batch", "4", "--plot", plot);
        Assert.Contains("my-scans", table.Out);

        var missing = CliRunner.Run("train", "--data", Path.Combine(_folder, "gone"));
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("gone", missing.Error);
        Assert.DoesNotContain("digits", missing.Error);
    }

    [Theory]
    [InlineData("--init -1", "--init")]
    [InlineData("--init 0", "--init")]
    [InlineData("--lr abc", "'abc' is not a finite number")]
    [InlineData("--lr inf", "'inf' is not a finite number")]
    [InlineData("--lr 1e400", "'1e400' is not a finite number")]
    [InlineData("--lr -2", "-2 must be positive")]
    [InlineData("--batch 2.5", "'2.5' is not a whole number")]
    [InlineData("--hidden 10,,10", "--hidden")]
    [InlineData("--seed x", "--seed")]
    [InlineData("--threads 0", "0 must be positive")]
    [InlineData("--schedule warp", "'warp' is not a schedule")]
    [InlineData("--schedule step", "step takes 1 to 2 numbers after it, got 0")]
    [InlineData("--schedule step:2.5", "step needs a whole number, not 2.5")]
    [InlineData("--schedule exponential:1.5", "gamma must be in (0, 1], got 1.5")]
    [InlineData("--schedule cosine:x", "'x' in 'cosine:x' is not a finite number")]
    public void Every_bad_value_gets_one_plain_line(string arguments, string expected)
    {
        var (code, _, error) = CliRunner.Run(["train", .. arguments.Split(' ')]);
        Assert.Equal(2, code);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(expected, error);
        Assert.DoesNotContain("System.", error);
        Assert.DoesNotContain("Actual value", error);
        Assert.DoesNotContain("Infinity", error);
    }

    [Theory]
    [InlineData("trian", "did you mean 'train'?")]
    [InlineData("chekc", "did you mean 'check'?")]
    [InlineData("frobnicate", "the commands are")]
    public void A_mistyped_command_suggests_the_nearest(string command, string expected)
    {
        var (code, _, error) = CliRunner.Run(command);
        Assert.Equal(2, code);
        Assert.Contains(expected, error);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Output_that_is_not_a_terminal_carries_no_escape_codes()
    {
        // The console the real program makes (not the test runner's): piped output gets plain text.
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        Assert.Equal(0, App.Run(["train", "--iterations", "30", "--plot", Path.Combine(_folder, "e.svg")], stdout, stderr));
        Assert.Equal(0, App.Run(["check", "--op", "Exp"], stdout, stderr));

        Assert.DoesNotContain('\u001b', stdout.ToString());
        Assert.Contains("test accuracy", stdout.ToString());
        Assert.Contains("pass", stdout.ToString());
    }
}
