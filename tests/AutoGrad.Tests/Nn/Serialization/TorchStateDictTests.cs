using System.Diagnostics;
using System.Text.Json;

using AutoGrad.Nn.Optimizers;
using AutoGrad.Nn.Serialization;

using static AutoGrad.Tests.TestData;

namespace AutoGrad.Tests.Nn.Serialization;

/// <summary>
/// State dicts in PyTorch's names and layouts (<see cref="Module.TorchStateDict"/>, <see cref="Module.LoadTorchStateDict"/>):
/// weights trained by PyTorch 1.13 (Fixtures/pytorch_models.py) load into MultiLayerNet and SimpleConvNet from .pt and
/// from safetensors with PyTorch's outputs; weights saved here load into the PyTorch twins with
/// <c>load_state_dict(strict=True)</c> and give this library's outputs.
/// </summary>
public sealed class TorchStateDictTests : IDisposable
{
    private static readonly string s_fixtures = Path.Combine(RepositoryFiles.Root, "tests/AutoGrad.Tests/Nn/Serialization/Fixtures");

    private readonly string _folder = Directory.CreateTempSubdirectory("autograd-torch-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static Module Twin(string kind) => kind switch
    {
        "mlp" => new MultiLayerNet(6, [5, 4], 3, seed: 7, dtype: DType.Float32, batchNorm: true),
        "cnn" => new SimpleConvNet(channels: 1, height: 11, width: 11, classes: 3, filters: 4, kernel: 3, hidden: 8, seed: 7, dtype: DType.Float32),
        "lstm" => new Lstm(3, 6, seed: 7, dtype: DType.Float32),
        "gru" => new Gru(3, 6, seed: 7, dtype: DType.Float32),
        "rnn" => new Rnn(3, 6, seed: 7, dtype: DType.Float32),
        _ => new TransformerBlock(8, 2, hidden: 12, seed: 7, dtype: DType.Float32),
    };

    private static int[] Sample(string kind) => kind switch
    {
        "mlp" => [6],
        "cnn" => [1, 11, 11],
        "transformer" => [4, 8],
        _ => [5, 3],
    };

    [Theory]
    [InlineData("mlp", ".pt")]
    [InlineData("mlp", ".safetensors")]
    [InlineData("cnn", ".pt")]
    [InlineData("cnn", ".safetensors")]
    [InlineData("lstm", ".pt")]
    [InlineData("gru", ".pt")]
    [InlineData("rnn", ".safetensors")]
    [InlineData("transformer", ".pt")]
    [InlineData("transformer", ".safetensors")]
    public void Weights_trained_by_pytorch_give_pytorch_s_outputs(string kind, string extension)
    {
        var model = Twin(kind);
        var report = Checkpoint.LoadFromPyTorch(model, Path.Combine(s_fixtures, $"pytorch-{kind}{extension}"));
        Assert.Empty(report.MissingKeys);
        Assert.Empty(report.UnexpectedKeys);
        var recorded = Npz.Load(Path.Combine(s_fixtures, "pytorch-outputs.npz")).ToDictionary(t => t.Name, t => t.Tensor);
        model.Eval();
        var output = model.Forward(recorded[$"{kind}_input"]);
        Assert.Equal(recorded[$"{kind}_output"].Shape, output.Shape);
        AssertClose(recorded[$"{kind}_output"].ToDoubleArray(), output.ToDoubleArray(), 1e-5, 1e-6);
        if (model is MultiLayerNet net)
        {
            // PyTorch's five training steps counted in both BatchNorm layers.
            Assert.Equal(5, ((BatchNorm1d)net.Layers[1]).BatchesTracked);
        }
    }

    [Fact]
    public void The_state_dict_has_pytorch_s_names_shapes_and_order()
    {
        var pytorch = TorchFile.Load(Path.Combine(s_fixtures, "pytorch-mlp.pt"));
        var ours = Twin("mlp").TorchStateDict().ToList();
        Assert.Equal(pytorch.Select(t => t.Name), ours.Select(t => t.Name));
        Assert.Equal(pytorch.Select(t => t.Tensor.Shape), ours.Select(t => t.Tensor.Shape));

        // A Linear's weight is (in, out) here and its transpose there.
        var model = Twin("mlp");
        var linear = (Linear)((MultiLayerNet)model).Layers[0];
        var exported = model.TorchStateDict().First().Tensor;
        Assert.Equal(Shape.Create([5, 6]), exported.Shape);
        Assert.Equal(linear.Weight[4, 2], exported[2, 4]);
    }

    [Fact]
    public void Strict_loading_names_what_is_missing_and_unexpected_and_non_strict_reports_it()
    {
        var state = TorchFile.Load(Path.Combine(s_fixtures, "pytorch-mlp.pt")).ToList();
        var renamed = state.Select(t => t.Name == "layers.6.bias" ? ("layers.6.offset", t.Tensor) : t).ToList();
        var model = Twin("mlp");
        var before = model.StateDict().Select(t => t.Tensor.ToDoubleArray()).ToList();
        var refused = Assert.Throws<CheckpointFormatException>(() => model.LoadTorchStateDict(renamed));
        Assert.Contains("missing keys [layers.6.bias]", refused.Message, StringComparison.Ordinal);
        Assert.Contains("unexpected keys [layers.6.offset]", refused.Message, StringComparison.Ordinal);
        Assert.Equal(before, model.StateDict().Select(t => t.Tensor.ToDoubleArray()).ToList());

        var report = model.LoadTorchStateDict(renamed, strict: false);
        Assert.Equal(["layers.6.bias"], report.MissingKeys);
        Assert.Equal(["layers.6.offset"], report.UnexpectedKeys);
        Assert.Equal(state[0].Tensor.ToDoubleArray(), Transposed((Linear)((MultiLayerNet)model).Layers[0]));

        // A shape that differs is an error even when not strict, as in PyTorch.
        var wrong = state.Select(t => t.Name == "layers.0.weight" ? (t.Name, Tensor.Zeros([6, 5])) : t);
        var shape = Assert.Throws<CheckpointFormatException>(() => Twin("mlp").LoadTorchStateDict(wrong, strict: false));
        Assert.Contains("(6, 5)", shape.Message, StringComparison.Ordinal);
        Assert.Contains("(5, 6)", shape.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Recurrent_and_attention_layers_have_pytorch_s_names_and_shapes()
    {
        foreach (var kind in new[] { "lstm", "gru", "rnn", "transformer" })
        {
            var pytorch = TorchFile.Load(Path.Combine(s_fixtures, $"pytorch-{kind}.pt")).ToDictionary(t => t.Name, t => t.Tensor.Shape);
            var ours = Twin(kind).TorchStateDict().ToDictionary(t => t.Name, t => t.Tensor.Shape);
            Assert.Equal(pytorch.Keys.Order(), ours.Keys.Order());
            Assert.All(pytorch, entry => Assert.Equal(entry.Value, ours[entry.Key]));
        }

        // The LSTM's one bias goes out as bias_ih_l0 with a zero bias_hh_l0, and comes back as their sum.
        var lstm = new Lstm(3, 6, seed: 1);
        var state = lstm.TorchStateDict().ToDictionary(t => t.Name, t => t.Tensor);
        Assert.All(state["bias_hh_l0"].ToDoubleArray(), v => Assert.Equal(0, v));
        var copy = new Lstm(3, 6, seed: 2);
        copy.LoadTorchStateDict(state.Select(kv => (kv.Key, kv.Value)));
        Assert.Equal(lstm.InputBias.ToDoubleArray(), copy.InputBias.ToDoubleArray());
        Assert.Equal(lstm.InputWeight.ToDoubleArray(), copy.InputWeight.ToDoubleArray());
    }

    [Theory]
    [Trait("Category", "Slow")]
    [InlineData("mlp")]
    [InlineData("cnn")]
    [InlineData("lstm")]
    [InlineData("gru")]
    [InlineData("transformer")]
    public void Weights_saved_here_load_into_the_pytorch_twin_and_give_the_same_outputs(string kind)
    {
        // Trained a few steps here (BatchNorm's statistics and counters move), saved in PyTorch's layout, loaded by
        // PyTorch 1.13 with load_state_dict(strict=True), run there in eval mode.
        var model = Twin(kind);
        var optimizer = new Sgd(model.Parameters(), 0.1);
        using (var tape = new Tape())
        {
            for (var step = 0; step < 3; step++)
            {
                tape.Reset();
                var x = Tensor.RandomNormal([16, .. Sample(kind)], seed: 10 + step);
                model.ZeroGrad();
                var y = model.Forward(x);
                tape.Backward(y.Rank == 2 ? Ops.SoftmaxWithLoss(y, Enumerable.Range(0, 16).Select(i => i % 3).ToArray()) : Ops.Mean(Ops.Square(y - 0.5)));
                optimizer.Step();
            }
        }

        var weights = Path.Combine(_folder, $"{kind}.safetensors");
        Checkpoint.SaveForPyTorch(model, weights);
        var input = Tensor.RandomNormal([9, .. Sample(kind)], seed: 99);
        var inputs = Path.Combine(_folder, "inputs.npz");
        Npz.Save(inputs, [("input", input)]);
        model.Eval();
        var ours = model.Forward(input).ToDoubleArray();

        var start = new ProcessStartInfo("/usr/bin/python3", [Path.Combine(s_fixtures, "pytorch_models.py"), "run", kind, weights, inputs])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var python = Process.Start(start)!;
        var output = python.StandardOutput.ReadToEnd();
        var errors = python.StandardError.ReadToEnd();
        python.WaitForExit();
        Assert.True(python.ExitCode == 0, $"PyTorch failed (CI installs python3-torch): {errors}");
        using var result = JsonDocument.Parse(output);
        var theirs = result.RootElement.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        AssertClose(ours, theirs, 1e-5, 1e-6);
        if (kind == "mlp")
        {
            Assert.Equal([3, 3], result.RootElement.GetProperty("batches").EnumerateArray().Select(v => v.GetInt32()));
        }
    }

    private static double[] Transposed(Linear linear) => Ops.Transpose(linear.Weight).ToDoubleArray();
}
