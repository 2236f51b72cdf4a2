using System.CommandLine;

using AutoGrad.Nn.Serialization;

namespace AutoGrad.Cli.Commands;

/// <summary>
/// <c>autograd export MODEL.safetensors --onnx MODEL.onnx --pytorch WEIGHTS.safetensors</c>: rebuilds the model a
/// checkpoint of <c>autograd train</c> records (its architecture is in the file's metadata), loads the weights, and
/// writes it as ONNX (for ONNX Runtime and other engines) and as a PyTorch state dict (PyTorch's names and layouts).
/// </summary>
internal static class ExportCommand
{
    public static Command Create(TextWriter stdout)
    {
        var checkpoint = new Argument<string>("checkpoint") { Description = "A .safetensors checkpoint written by 'autograd train --save'." };
        var onnx = new Option<string?>("--onnx") { Description = "Where to write the ONNX model (.onnx)." };
        var pytorch = new Option<string?>("--pytorch") { Description = "Where to write the weights in PyTorch's names and layouts (.safetensors)." };
        var opset = new Option<int>("--opset") { Description = "The ONNX opset, 17 to 21.", DefaultValueFactory = _ => 17 };
        var command = new Command("export", "Export a trained checkpoint as ONNX and/or as a PyTorch state dict.") { checkpoint, onnx, pytorch, opset };
        command.SetAction(result =>
        {
            var source = result.GetValue(checkpoint)!;
            var onnxPath = result.GetValue(onnx);
            var pytorchPath = result.GetValue(pytorch);
            if (onnxPath is null && pytorchPath is null)
            {
                throw new OptionException("export: give --onnx FILE, --pytorch FILE, or both.");
            }

            if (onnxPath is not null && !Path.GetExtension(onnxPath).Equals(".onnx", StringComparison.OrdinalIgnoreCase))
            {
                throw new OptionException($"--onnx: '{onnxPath}' must end in .onnx.");
            }

            if (pytorchPath is not null && !Path.GetExtension(pytorchPath).Equals(".safetensors", StringComparison.OrdinalIgnoreCase))
            {
                throw new OptionException($"--pytorch: '{pytorchPath}' must end in .safetensors.");
            }

            foreach (var (path, option) in new[] { (onnxPath, "--onnx"), (pytorchPath, "--pytorch") })
            {
                if (path is not null)
                {
                    OutputPaths.CheckFolder(path, option);
                }
            }

            if (!File.Exists(source))
            {
                throw new FileNotFoundException($"export: {source} does not exist.", source);
            }

            if (!Path.GetExtension(source).Equals(".safetensors", StringComparison.OrdinalIgnoreCase))
            {
                throw new OptionException($"export: '{source}' must be a .safetensors checkpoint (an .npz keeps no architecture).");
            }

            var architecture = Architecture.Parse(SafeTensors.LoadMetadata(source), source);
            var model = architecture.Create(init: null, seed: 0);
            Checkpoint.Load(model, source);
            if (onnxPath is not null)
            {
                Onnx.Export(model, Tensor.Zeros([1, .. architecture.Sample], architecture.DType), onnxPath, result.GetValue(opset));
                stdout.WriteLine($"wrote {onnxPath} (ONNX opset {result.GetValue(opset)}: input (batch, {string.Join(", ", architecture.Sample)}), output (batch, {architecture.Classes}))");
            }

            if (pytorchPath is not null)
            {
                Checkpoint.SaveForPyTorch(model, pytorchPath);
                stdout.WriteLine($"wrote {pytorchPath} (PyTorch state dict)");
            }

            return 0;
        });
        return command;
    }
}
