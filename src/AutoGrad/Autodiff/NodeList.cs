namespace AutoGrad.Autodiff;

/// <summary>
/// The tape's nodes in chunks of 4,096: growing never copies what is recorded (a single array doubled, holding old
/// and new copies at once and up to half of it unused), and a node is found with a shift and a mask.
/// </summary>
internal sealed class NodeList
{
    private const int ChunkBits = 12;
    private const int ChunkSize = 1 << ChunkBits;
    private const int FirstChunk = 64;

    private Node[][] _chunks = [new Node[FirstChunk]];

    /// <summary>How many nodes fit before the next allocation.</summary>
    public int Capacity { get; private set; } = FirstChunk;

    /// <summary>The node at <paramref name="index"/>.</summary>
    public ref Node this[int index] => ref _chunks[index >> ChunkBits][index & (ChunkSize - 1)];

    /// <summary>Makes room for node <paramref name="index"/> (the next one) and returns it.</summary>
    public ref Node Add(int index)
    {
        if (index == Capacity)
        {
            Grow();
        }

        return ref this[index];
    }

    /// <summary>Drops the references of the first <paramref name="count"/> nodes, so their tensors can be collected.</summary>
    public void Clear(int count)
    {
        for (var c = 0; count > 0; c++)
        {
            var n = Math.Min(count, _chunks[c].Length);
            Array.Clear(_chunks[c], 0, n);
            count -= n;
        }
    }

    private void Grow()
    {
        // The first chunk doubles up to the chunk size (small tapes stay small); after that whole chunks are added.
        if (Capacity < ChunkSize)
        {
            Array.Resize(ref _chunks[0], Math.Min(ChunkSize, Capacity * 2));
            Capacity = _chunks[0].Length;
            return;
        }

        var chunk = Capacity >> ChunkBits;
        if (chunk == _chunks.Length)
        {
            Array.Resize(ref _chunks, _chunks.Length * 2);
        }

        _chunks[chunk] = new Node[ChunkSize];
        Capacity += ChunkSize;
    }
}
