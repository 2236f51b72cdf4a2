using System.Diagnostics;
using System.Text.Json;

using AutoGrad.Nn.Data;
using AutoGrad.Nn.Serialization;

using Microsoft.ML.OnnxRuntime;

using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;
using Tensor = AutoGrad.Tensors.Tensor;

namespace AutoGrad.Cli.Tests.Commands;

/// <summary>
/// <c>autograd train --save</c> then <c>autograd export</c>: the checkpoint records its architecture, the ONNX model
/// gives in ONNX Runtime the outputs the trained model gives, and the PyTorch-layout weights load back to the same
/// outputs.
/// </summary>
[Collection(nameof(ThreadCountCollection))]
public sealed class ExportCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("autograd-export-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData("mlp", "--hidden", "20")]
    [InlineData("mlp", "--hidden", "16,12")]
    [InlineData("simple-cnn", "--hidden", "16")]
    [InlineData("deep-cnn", "--batch-norm")]
    public void A_trained_model_exports_to_onnx_and_pytorch_with_the_same_outputs(string model, params string[] options)
    {
        var checkpoint = Path.Combine(_folder, "model.safetensors");
        var (code, output, error) = CliRunner.Run(["train", "--model", model, .. options, "--iterations", "20", "--save", checkpoint, "--json"]);
        Assert.True(code == 0, error + output);

        var onnxPath = Path.Combine(_folder, "model.onnx");
        var pytorchPath = Path.Combine(_folder, "pytorch.safetensors");
        (code, output, error) = CliRunner.Run("export", checkpoint, "--onnx", onnxPath, "--pytorch", pytorchPath);
        Assert.True(code == 0, error + output);
        Assert.Contains("wrote " + onnxPath, output, StringComparison.Ordinal);

        // The model as the checkpoint describes it, trained weights loaded, on digits images.
        var metadata = SafeTensors.LoadMetadata(checkpoint);
        Assert.Equal(model, metadata["autograd.model"]);
        Module trained = model switch
        {
            "simple-cnn" => new SimpleConvNet(1, 8, 8, 10, hidden: 16, seed: 0),
            "deep-cnn" => new DeepConvNet(1, 8, 8, 10, batchNorm: true, seed: 0),
            _ => options[1] == "20" ? new TwoLayerNet(64, 20, 10, seed: 0) : new MultiLayerNet(64, [16, 12], 10, seed: 0),
        };
        Checkpoint.Load(trained, checkpoint);
        trained.Eval();
        var digits = Dataset.Digits();
        int[] sample = model == "mlp" ? [64] : [1, 8, 8];
        using var session = new InferenceSession(onnxPath);
        foreach (var batch in new[] { 1, 7 })
        {
            var x = Tensor.FromArray(digits.Features.AsSpan(0, batch * 64).ToArray(), [batch, .. sample]);
            var expected = trained.Forward(x).ToFloatArray();
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor(x.ToFloatArray(), [batch, .. sample]))]);
            var actual = results.Single().AsTensor<float>().ToArray();
            Assert.Equal(expected.Length, actual.Length);
            for (var i = 0; i < expected.Length; i++)
            {
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 + (1e-5 * Math.Abs(expected[i])), $"batch {batch}, element {i}: {expected[i]} vs {actual[i]}");
            }

            // The PyTorch-layout weights, loaded back, give the same outputs bit for bit (layouts only moved numbers).
            var copy = model switch
            {
                "simple-cnn" => (Module)new SimpleConvNet(1, 8, 8, 10, hidden: 16, seed: 5),
                "deep-cnn" => new DeepConvNet(1, 8, 8, 10, batchNorm: true, seed: 5),
                _ => options[1] == "20" ? new TwoLayerNet(64, 20, 10, seed: 5) : new MultiLayerNet(64, [16, 12], 10, seed: 5),
            };
            Checkpoint.LoadFromPyTorch(copy, pytorchPath);
            copy.Eval();
            Assert.Equal(expected, copy.Forward(x).ToFloatArray());
        }
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void Weights_trained_by_the_cli_load_into_the_same_net_written_in_pytorch()
    {
        // Issue 19's round trip: 'autograd train', 'autograd export --pytorch', then PyTorch 1.13 (CI installs
        // python3-torch) loads the file into its MultiLayerNet twin with load_state_dict(strict=True).
        var checkpoint = Path.Combine(_folder, "digits.safetensors");
        var (code, output, error) = CliRunner.Run("train", "--hidden", "16,12", "--iterations", "50", "--save", checkpoint, "--json");
        Assert.True(code == 0, error + output);
        var weights = Path.Combine(_folder, "pytorch.safetensors");
        (code, output, error) = CliRunner.Run("export", checkpoint, "--pytorch", weights);
        Assert.True(code == 0, error + output);

        var model = new MultiLayerNet(64, [16, 12], 10, seed: 0);
        Checkpoint.Load(model, checkpoint);
        model.Eval();
        var x = Tensor.FromArray(Dataset.Digits().Features.AsSpan(0, 9 * 64).ToArray(), 9, 64);
        var inputs = Path.Combine(_folder, "inputs.npz");
        Npz.Save(inputs, [("input", x)]);
        var script = Path.Combine(RepositoryRoot(), "tests/AutoGrad.Tests/Nn/Serialization/Fixtures/pytorch_models.py");
        using var python = Process.Start(new ProcessStartInfo("/usr/bin/python3", [script, "run", "digits-mlp", weights, inputs]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var printed = python.StandardOutput.ReadToEnd();
        var failure = python.StandardError.ReadToEnd();
        python.WaitForExit();
        Assert.True(python.ExitCode == 0, failure);
        using var json = JsonDocument.Parse(printed);
        var theirs = json.RootElement.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var ours = model.Forward(x).ToDoubleArray();
        Assert.Equal(ours.Length, theirs.Length);
        for (var i = 0; i < ours.Length; i++)
        {
            Assert.True(Math.Abs(ours[i] - theirs[i]) <= 1e-5 + (1e-5 * Math.Abs(ours[i])), $"element {i}: {ours[i]} here, {theirs[i]} in PyTorch");
        }
    }

    private static string RepositoryRoot()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "AutoGrad.sln")))
        {
            folder = folder.Parent;
        }

        return folder?.FullName ?? throw new InvalidOperationException("The repository root (AutoGrad.sln) is not above the test binaries.");
    }

    [Fact]
    public void Export_refuses_what_it_cannot_do_in_one_line()
    {
        var (code, _, error) = CliRunner.Run("export", Path.Combine(_folder, "none.safetensors"));
        Assert.Equal(2, code);
        Assert.Contains("--onnx", error, StringComparison.Ordinal);

        (code, _, error) = CliRunner.Run("export", Path.Combine(_folder, "none.safetensors"), "--onnx", Path.Combine(_folder, "m.txt"));
        Assert.Equal(2, code);
        Assert.Contains(".onnx", error, StringComparison.Ordinal);

        (code, _, error) = CliRunner.Run("export", Path.Combine(_folder, "none.safetensors"), "--onnx", Path.Combine(_folder, "m.onnx"));
        Assert.Equal(1, code);
        Assert.Contains("does not exist", error, StringComparison.Ordinal);

        // Weights with no recorded architecture (saved by Checkpoint.Save without metadata).
        var bare = Path.Combine(_folder, "bare.safetensors");
        Checkpoint.Save(new TwoLayerNet(4, 3, 2, seed: 1), bare);
        (code, _, error) = CliRunner.Run("export", bare, "--onnx", Path.Combine(_folder, "m.onnx"));
        Assert.Equal(1, code);
        Assert.Contains("autograd.model", error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
    }
}
