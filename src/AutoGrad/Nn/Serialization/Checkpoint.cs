using AutoGrad.Tensors;

namespace AutoGrad.Nn.Serialization;

/// <summary>Saves and loads a module's parameters and buffers, choosing the format by extension (.safetensors or .npz).</summary>
public static class Checkpoint
{
    /// <summary>Writes the module's state dict atomically: a crash mid-save leaves the previous file intact.</summary>
    /// <param name="model">The module.</param>
    /// <param name="path">A <c>.safetensors</c> or <c>.npz</c> file.</param>
    /// <param name="metadata">Strings to keep in a safetensors header (what architecture the weights belong to, say); an
    /// <c>.npz</c> file has no place for them.</param>
    public static void Save(Module model, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var state = model.StateDict().ToList();
        switch (Format(path))
        {
            case ".npz" when metadata is { Count: > 0 }:
                throw new ArgumentException($"checkpoint: '{path}' is an .npz archive, which keeps no metadata; save a .safetensors file.", nameof(path));
            case ".npz":
                Npz.Save(path, state);
                break;
            default:
                // Not "pt": that tells PyTorch tools the layout is theirs, and a Linear's weight here is (in, out), not
                // PyTorch's (out, in); transformers' loader refuses a format it does not know instead of misreading it.
                var header = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>()) { ["format"] = "autograd", ["producer"] = "AutoGrad" };
                SafeTensors.Save(path, state, header);
                break;
        }
    }

    /// <summary>
    /// Reads a checkpoint into the module's parameters and buffers (in place), after checking that it holds exactly
    /// the module's tensors with the same shapes and element types; the first mismatch is named.
    /// </summary>
    /// <param name="model">The module.</param>
    /// <param name="path">A <c>.safetensors</c> or <c>.npz</c> file.</param>
    /// <exception cref="CheckpointFormatException">The file is corrupt or does not fit the model.</exception>
    public static void Load(Module model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        var loaded = (Format(path) == ".npz" ? Npz.Load(path) : SafeTensors.Load(path)).ToDictionary(t => t.Name, t => t.Tensor);
        var state = model.StateDict().ToList();
        foreach (var (name, tensor) in state)
        {
            if (!loaded.TryGetValue(name, out var stored))
            {
                throw new CheckpointFormatException($"checkpoint: {path} has no tensor '{name}' ({tensor.DType.Name()} {tensor.Shape}) that the model needs.");
            }

            if (stored.Shape != tensor.Shape || stored.DType != tensor.DType)
            {
                throw new CheckpointFormatException(
                    $"checkpoint: '{name}' is {stored.DType.Name()} {stored.Shape} in {path} but {tensor.DType.Name()} {tensor.Shape} in the model.");
            }
        }

        var unexpected = loaded.Keys.Except(state.Select(s => s.Name)).FirstOrDefault();
        if (unexpected is not null)
        {
            throw new CheckpointFormatException($"checkpoint: {path} has a tensor '{unexpected}' that the model does not have.");
        }

        foreach (var (name, tensor) in state)
        {
            TorchTensor.Overwrite(tensor, loaded[name]);
        }
    }

    /// <summary>
    /// Writes the module's state dict in PyTorch's names and layouts (<see cref="Module.TorchStateDict"/>) as a
    /// safetensors file marked <c>"format": "pt"</c>, atomically: <c>model.load_state_dict(safetensors.torch.load_file(path))</c>
    /// loads it into the same architecture written in PyTorch.
    /// </summary>
    /// <param name="model">The module.</param>
    /// <param name="path">A <c>.safetensors</c> file.</param>
    /// <exception cref="NotSupportedException">A module in the tree has no PyTorch form yet.</exception>
    public static void SaveForPyTorch(Module model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (Format(path) != ".safetensors")
        {
            throw new ArgumentException($"checkpoint: '{path}' should end in .safetensors for PyTorch.", nameof(path));
        }

        SafeTensors.Save(path, model.TorchStateDict(), new Dictionary<string, string> { ["format"] = "pt", ["producer"] = "AutoGrad" });
    }

    /// <summary>
    /// Loads a PyTorch state dict into the module (<see cref="Module.LoadTorchStateDict"/>): a <c>.safetensors</c> file
    /// (from <c>safetensors.torch.save_file(model.state_dict(), path)</c> or <see cref="SaveForPyTorch"/>) or a
    /// <c>.pt</c>/<c>.pth</c> file from <c>torch.save(model.state_dict(), path)</c>, read without executing anything.
    /// </summary>
    /// <param name="model">The module.</param>
    /// <param name="path">The file.</param>
    /// <param name="strict">Whether missing and unexpected keys are errors (PyTorch's default, true).</param>
    /// <returns>The keys that were missing and unexpected.</returns>
    /// <exception cref="CheckpointFormatException">The file is corrupt, or does not fit the model.</exception>
    public static TorchLoadReport LoadFromPyTorch(Module model, string path, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var state = Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".safetensors" => SafeTensors.Load(path),
            ".pt" or ".pth" => TorchFile.Load(path),
            _ => throw new ArgumentException($"checkpoint: '{path}' should end in .safetensors, .pt or .pth.", nameof(path)),
        };
        return model.LoadTorchStateDict(state, strict);
    }

    private static string Format(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var extension = Path.GetExtension(path).ToLowerInvariant();
        return extension is ".npz" or ".safetensors"
            ? extension
            : throw new ArgumentException($"checkpoint: '{path}' should end in .safetensors or .npz.", nameof(path));
    }
}
