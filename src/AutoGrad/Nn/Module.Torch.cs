using AutoGrad.Nn.Serialization;
using AutoGrad.Tensors;

namespace AutoGrad.Nn;

/// <summary>
/// State dicts in PyTorch's names and layouts, so that weights move between a module here and the same architecture
/// written in PyTorch: modules already use PyTorch's names (<c>weight</c>, <c>bias</c>, <c>running_mean</c>, a
/// <see cref="Sequential"/>'s <c>0.weight</c>); what differs is layout (a <see cref="Linear"/>'s weight is (in, out)
/// here and (out, in) there) and what PyTorch keeps besides (BatchNorm's <c>num_batches_tracked</c>). Each module
/// says what its tensors are in PyTorch (<see cref="OwnTorchTensors"/>); a module whose PyTorch form is not written
/// yet says so instead of giving tensors PyTorch would misread.
/// </summary>
public abstract partial class Module
{
    /// <summary>
    /// The module's state dict as the equivalent PyTorch module's <c>state_dict()</c> would have it: PyTorch's names,
    /// shapes and layouts, each tensor an owned copy (PyTorch's own order: a module's parameters, then its buffers,
    /// then its children's).
    /// </summary>
    /// <returns>The named tensors.</returns>
    /// <exception cref="NotSupportedException">A module in the tree has no PyTorch form yet (it is named).</exception>
    public IEnumerable<(string Name, Tensor Tensor)> TorchStateDict()
    {
        using (Autodiff.Tape.NoGrad())
        {
            return [.. TorchTensors(prefix: "").Select(entry => (entry.Name, entry.Export()))];
        }
    }

    /// <summary>
    /// Loads a state dict in PyTorch's names and layouts (from <see cref="TorchFile"/>, or a safetensors file PyTorch
    /// wrote) into this module's tensors, in place, as PyTorch's <c>load_state_dict</c>: every shape must match, and
    /// values are converted to the module's element type. Strict by default: a key the module needs and the state
    /// lacks, or one the state has and the module does not, fails the load before anything is written; with
    /// <paramref name="strict"/> false the matching tensors are loaded and the others reported.
    /// </summary>
    /// <param name="state">The named tensors.</param>
    /// <param name="strict">Whether missing and unexpected keys are errors.</param>
    /// <returns>The keys that were missing and unexpected (both empty after a strict load).</returns>
    /// <exception cref="CheckpointFormatException">A shape differs, or (strict) a key is missing or unexpected.</exception>
    /// <exception cref="NotSupportedException">A module in the tree has no PyTorch form yet.</exception>
    public TorchLoadReport LoadTorchStateDict(IEnumerable<(string Name, Tensor Tensor)> state, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(state);
        var given = new Dictionary<string, Tensor>();
        foreach (var (name, tensor) in state)
        {
            ArgumentNullException.ThrowIfNull(tensor, name);
            if (!given.TryAdd(name, tensor))
            {
                throw new CheckpointFormatException($"LoadTorchStateDict: the state names '{name}' twice.");
            }
        }

        var entries = TorchTensors(prefix: "").ToList();
        var missing = entries.Where(entry => !given.ContainsKey(entry.Name)).Select(entry => entry.Name).ToList();
        var expected = entries.Select(entry => entry.Name).ToHashSet();
        var unexpected = given.Keys.Where(name => !expected.Contains(name)).ToList();
        if (strict && (missing.Count > 0 || unexpected.Count > 0))
        {
            throw new CheckpointFormatException(
                $"LoadTorchStateDict: the state does not fit {GetType().Name}: missing keys [{string.Join(", ", missing)}], unexpected keys " +
                $"[{string.Join(", ", unexpected)}]. Pass strict: false to load the tensors that match.");
        }

        var loads = new List<(TorchTensor Entry, Tensor Value)>();
        foreach (var entry in entries)
        {
            if (given.TryGetValue(entry.Name, out var value))
            {
                if (!value.Shape.Dims.SequenceEqual(entry.Shape))
                {
                    throw new CheckpointFormatException(
                        $"LoadTorchStateDict: '{entry.Name}' has shape {value.Shape} in the state but {Shape.Format(entry.Shape)} in PyTorch's layout of {GetType().Name}.");
                }

                loads.Add((entry, value));
            }
        }

        using (Autodiff.Tape.NoGrad())
        {
            foreach (var (entry, value) in loads)
            {
                entry.Import(value);
            }
        }

        return new TorchLoadReport(missing, unexpected);
    }

    /// <summary>Every tensor of the tree in PyTorch's form, names prefixed with <paramref name="prefix"/>.</summary>
    internal IEnumerable<TorchTensor> TorchTensors(string prefix)
    {
        foreach (var entry in OwnTorchTensors())
        {
            yield return entry with { Name = prefix + entry.Name };
        }

        if (!TorchCoversChildren)
        {
            foreach (var (childName, child) in _children)
            {
                foreach (var entry in child.TorchTensors($"{prefix}{TorchChildName(childName)}."))
                {
                    yield return entry;
                }
            }
        }
    }

    /// <summary>
    /// This module's own tensors in PyTorch's form. By default its parameters and then its buffers, as they are: the
    /// names here are PyTorch's, and so is the layout wherever a module does not override this.
    /// </summary>
    private protected virtual IEnumerable<TorchTensor> OwnTorchTensors()
    {
        foreach (var (name, tensor) in _parameters.Concat(_buffers))
        {
            yield return TorchTensor.AsIs(name, tensor);
        }
    }

    /// <summary>A child's name in PyTorch's equivalent module (the same by default).</summary>
    private protected virtual string TorchChildName(string name) => name;

    /// <summary>Whether <see cref="OwnTorchTensors"/> already gives the children's tensors (PyTorch names them otherwise).</summary>
    private protected virtual bool TorchCoversChildren => false;
}

/// <summary>What <see cref="Module.LoadTorchStateDict"/> did not load: PyTorch's <c>_IncompatibleKeys</c>.</summary>
/// <param name="MissingKeys">Keys the module needs that the state lacks.</param>
/// <param name="UnexpectedKeys">Keys in the state that the module does not have.</param>
public sealed record TorchLoadReport(IReadOnlyList<string> MissingKeys, IReadOnlyList<string> UnexpectedKeys);

/// <summary>One tensor in PyTorch's form: its name, its shape there, and how to write it out and read it back in.</summary>
/// <param name="Name">The name in PyTorch's state dict.</param>
/// <param name="Shape">The shape in PyTorch's layout.</param>
/// <param name="Export">An owned copy in PyTorch's layout.</param>
/// <param name="Import">Writes a tensor of <paramref name="Shape"/> (any element type) into the module, in place.</param>
internal sealed record TorchTensor(string Name, int[] Shape, Func<Tensor> Export, Action<Tensor> Import)
{
    /// <summary>A tensor whose layout is PyTorch's already.</summary>
    public static TorchTensor AsIs(string name, Tensor tensor) =>
        new(name, tensor.Shape.Dims.ToArray(), tensor.Clone, value => Overwrite(tensor, value));

    /// <summary>A matrix stored transposed here ((in, out) for a Linear's (out, in)).</summary>
    public static TorchTensor Transposed(string name, Tensor matrix) =>
        new(name, [matrix.Shape[1], matrix.Shape[0]], () => Operations.Ops.Transpose(matrix), value => Overwrite(matrix, Operations.Ops.Transpose(value)));

    /// <summary>Copies <paramref name="value"/>'s elements into <paramref name="target"/> (which owns its memory), converted to its type.</summary>
    public static void Overwrite(Tensor target, Tensor value)
    {
        var converted = value.DType == target.DType ? value : value.ToType(target.DType);
        ElementType.Dispatch(target.DType, new Copy(converted, target));
    }

    private readonly struct Copy(Tensor source, Tensor destination) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> => source.Data<T>().CopyTo(destination.AsSpan<T>());
    }
}
