using AutoGrad.Tensors;

namespace AutoGrad.Autodiff;

/// <summary>A node's third input (Affine's bias, a convolution's, GRU's hidden state) and its node, beside the op's own state.</summary>
internal sealed class ThirdInput
{
    /// <summary>The input.</summary>
    public Tensor Tensor { get; private set; } = null!;

    /// <summary>Its node on the tape, or -1.</summary>
    public int Node { get; private set; }

    /// <summary>The op's own state, if any.</summary>
    public object? State { get; private set; }

    /// <summary>Points the record at an input; only its pool calls it, for records no node of the current generation holds.</summary>
    internal ThirdInput Set(Tensor tensor, int node, object? state)
    {
        Tensor = tensor;
        Node = node;
        State = state;
        return this;
    }
}

/// <summary>
/// Where one tape gets its <see cref="ThirdInput"/> records, so that recording a step of a fixed net allocates none.
/// A record of an owned input (a bias) and no tape memory as state is shared from a small per-thread table: a net
/// records the same biases at the same nodes every step, and such a record may outlive tapes. A record holding tape
/// memory (a GRU's hidden state) comes from this tape's own list, reused after each reset, when no node holds it.
/// </summary>
internal sealed class ThirdInputPool
{
    /// <summary>The last shared records this thread made.</summary>
    [ThreadStatic]
    private static ThirdInput?[]? s_recent;

    [ThreadStatic]
    private static int s_next;

    private readonly List<ThirdInput> _tapeRecords = [];
    private int _nextTapeRecord;

    /// <summary>A record of <paramref name="tensor"/> at <paramref name="node"/> with the op's <paramref name="state"/>.</summary>
    public ThirdInput Of(Tensor tensor, int node, object? state)
    {
        if (tensor.IsTapeOwned || state is Tensor)
        {
            if (_nextTapeRecord == _tapeRecords.Count)
            {
                _tapeRecords.Add(new ThirdInput());
            }

            return _tapeRecords[_nextTapeRecord++].Set(tensor, node, state);
        }

        var recent = s_recent ??= new ThirdInput?[16];
        foreach (var entry in recent)
        {
            if (entry is not null && ReferenceEquals(entry.Tensor, tensor) && entry.Node == node && ReferenceEquals(entry.State, state))
            {
                return entry;
            }
        }

        var created = new ThirdInput().Set(tensor, node, state);
        recent[s_next] = created;
        s_next = (s_next + 1) % recent.Length;
        return created;
    }

    /// <summary>Takes back this tape's records (its nodes are gone), letting go of what they hold.</summary>
    public void Reset()
    {
        for (var i = 0; i < _nextTapeRecord; i++)
        {
            _tapeRecords[i].Set(null!, -1, null);
        }

        _nextTapeRecord = 0;
    }
}
