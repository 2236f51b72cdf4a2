using AutoGrad.Tensors;

namespace AutoGrad.Autodiff;

/// <summary>The inputs of a node whose op takes any number of them (Concat, a custom op), and their nodes on the tape.</summary>
internal sealed class ManyInputs
{
    /// <summary>A record of <paramref name="count"/> empty slots, for the op to fill.</summary>
    /// <param name="count">The number of inputs.</param>
    public ManyInputs(int count)
        : this(new Tensor[count])
    {
    }

    /// <summary>A record of the given inputs, kept by reference.</summary>
    /// <param name="inputs">The inputs.</param>
    public ManyInputs(Tensor[] inputs)
    {
        Inputs = inputs;
        Nodes = new int[inputs.Length];
    }

    /// <summary>The inputs, as the forward pass saw them.</summary>
    public Tensor[] Inputs { get; }

    /// <summary>Their nodes (−1 for inputs that need no gradient), set when the op is recorded.</summary>
    public int[] Nodes { get; }
}

/// <summary>
/// The <see cref="ManyInputs"/> records one tape hands out to ops it records, handed out again after the tape's reset
/// (when no node refers to them any more), so a training step that stacks or concatenates tensors allocates none.
/// </summary>
internal sealed class ManyInputsPool
{
    private readonly List<ManyInputs> _inUse = [];
    private readonly Dictionary<int, Stack<ManyInputs>> _free = [];

    /// <summary>A record of <paramref name="count"/> slots, valid until the next <see cref="Reset"/>.</summary>
    /// <param name="count">The number of inputs.</param>
    /// <returns>The record, its slots empty.</returns>
    public ManyInputs Rent(int count)
    {
        var record = _free.TryGetValue(count, out var free) && free.TryPop(out var reused) ? reused : new ManyInputs(count);
        _inUse.Add(record);
        return record;
    }

    /// <summary>Takes back every record handed out, letting go of the tensors they hold.</summary>
    public void Reset()
    {
        foreach (var record in _inUse)
        {
            Array.Clear(record.Inputs);
            if (!_free.TryGetValue(record.Inputs.Length, out var free))
            {
                free = new Stack<ManyInputs>();
                _free.Add(record.Inputs.Length, free);
            }

            free.Push(record);
        }

        _inUse.Clear();
    }
}
