using AutoGrad.Tensors;

namespace AutoGrad.Nn.Serialization;

/// <summary>Saves and loads a module's parameters and buffers, choosing the format by extension (.safetensors or .npz).</summary>
public static class Checkpoint
{
    /// <summary>Writes the module's state dict atomically: a crash mid-save leaves the previous file intact.</summary>
    /// <param name="model">The module.</param>
    /// <param name="path">A <c>.safetensors</c> or <c>.npz</c> file.</param>
    public static void Save(Module model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        var state = model.StateDict().ToList();
        switch (Format(path))
        {
            case ".npz":
                Npz.Save(path, state);
                break;
            default:
                // Not "pt": that tells PyTorch tools the layout is theirs, and a Linear's weight here is (in, out), not
                // PyTorch's (out, in); transformers' loader refuses a format it does not know instead of misreading it.
                SafeTensors.Save(path, state, new Dictionary<string, string> { ["format"] = "autograd", ["producer"] = "AutoGrad" });
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
            ElementType.Dispatch(tensor.DType, new Restore(loaded[name], tensor));
        }
    }

    private readonly struct Restore(Tensor source, Tensor destination) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> => source.AsReadOnlySpan<T>().CopyTo(destination.AsSpan<T>());
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
