using AutoGrad.Kernels;
using AutoGrad.Tensors;

namespace AutoGrad.Nn.Data;

/// <summary>One mini-batch: features (batch, D) and labels. Both buffers are reused by the loader for later batches.</summary>
/// <param name="Features">The features; valid until the loader produces the next batch.</param>
/// <param name="Labels">The labels; valid until the loader produces the next batch.</param>
public readonly record struct Batch(Tensor Features, ReadOnlyMemory<int> Labels)
{
    /// <summary>The number of samples.</summary>
    public int Size => Labels.Length;
}

/// <summary>
/// Mini-batches from a <see cref="Dataset"/>: seeded reshuffling every epoch, optional dropping of the last partial
/// batch, and float32 or float64 features. Batches reuse two buffers, so steady-state iteration allocates nothing.
/// </summary>
public sealed class DataLoader
{
    private readonly Dataset _data;
    private readonly SeededRandom _random;
    private readonly int[] _order;
    private readonly Tensor _full;
    private readonly int[] _labels;
    private Tensor? _partial;
    private int _position;

    /// <summary>Creates the loader.</summary>
    /// <param name="data">The data set.</param>
    /// <param name="batchSize">Samples per batch, positive.</param>
    /// <param name="shuffle">Reshuffle at the start of every epoch.</param>
    /// <param name="seed">The shuffle seed; null draws one from the global generator (<see cref="Tensor.ManualSeed"/>).</param>
    /// <param name="dropLast">Skip a last batch smaller than <paramref name="batchSize"/>.</param>
    /// <param name="dtype">The element type of the feature tensors; <see cref="Tensor.DefaultDType"/> when null.</param>
    public DataLoader(Dataset data, int batchSize, bool shuffle = true, int? seed = null, bool dropLast = false, DType? dtype = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (batchSize <= 0 || batchSize > data.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"DataLoader: the batch size must be in [1, {data.Count}] for {data.Name}.");
        }

        _data = data;
        BatchSize = batchSize;
        Shuffle = shuffle;
        DropLast = dropLast;
        DType = dtype ?? Tensor.DefaultDType;
        _random = new SeededRandom(seed ?? Tensor.NextSeed());
        _order = Enumerable.Range(0, data.Count).ToArray();
        _full = Tensor.Zeros([batchSize, data.FeatureCount], DType);
        _labels = new int[batchSize];
        _position = data.Count; // the first Next() starts an epoch
    }

    /// <summary>Samples per batch.</summary>
    public int BatchSize { get; }

    /// <summary>Whether epochs are reshuffled.</summary>
    public bool Shuffle { get; }

    /// <summary>Whether a last partial batch is skipped.</summary>
    public bool DropLast { get; }

    /// <summary>The element type of the features.</summary>
    public DType DType { get; }

    /// <summary>Batches in one epoch.</summary>
    public int BatchesPerEpoch => DropLast ? _data.Count / BatchSize : (_data.Count + BatchSize - 1) / BatchSize;

    /// <summary>Completed epochs.</summary>
    public int Epoch { get; private set; } = -1;

    /// <summary>The next batch, starting a new (reshuffled) epoch when the current one is exhausted.</summary>
    /// <returns>The batch.</returns>
    public Batch Next()
    {
        var remaining = _data.Count - _position;
        if (remaining == 0 || (DropLast && remaining < BatchSize))
        {
            StartEpoch();
            remaining = _data.Count;
        }

        var size = Math.Min(BatchSize, remaining);
        var features = size == BatchSize ? _full : (_partial is { } p && p.Shape[0] == size ? p : _partial = Tensor.Zeros([size, _data.FeatureCount], DType));
        Fill(features, _order.AsSpan(_position, size));
        _position += size;
        return new Batch(features, _labels.AsMemory(0, size));
    }

    /// <summary>The batches of one full epoch (a fresh shuffle), in order.</summary>
    /// <returns>The batches; each is valid until the next is produced.</returns>
    public IEnumerable<Batch> NextEpoch()
    {
        StartEpoch();
        for (var i = 0; i < BatchesPerEpoch; i++)
        {
            yield return Next();
        }
    }

    private void StartEpoch()
    {
        Epoch++;
        _position = 0;
        if (Shuffle)
        {
            _random.Shuffle<int>(_order);
        }
    }

    private void Fill(Tensor features, ReadOnlySpan<int> indices)
    {
        // An image set still kept as bytes is widened as it is gathered (a quarter of the memory traffic of its floats).
        var pixels = DType == DType.Float32 ? _data.Pixels : default;
        if (pixels.IsEmpty)
        {
            ElementType.Dispatch(DType, new RowsCopy(_data.Features, _data.FeatureCount, indices, features));
        }
        else
        {
            RowGather.Bytes(pixels, _data.FeatureCount, indices, _data.PixelDivisor, features.AsSpan<float>());
        }

        for (var i = 0; i < indices.Length; i++)
        {
            _labels[i] = _data.Labels[indices[i]];
        }
    }

    /// <summary>The float features' rows into the batch, widened exactly for a float64 batch.</summary>
    private readonly ref struct RowsCopy(float[] features, int rowLength, ReadOnlySpan<int> indices, Tensor batch) : IElementAction
    {
        private readonly ReadOnlySpan<int> _indices = indices;

        public void Run<T>()
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> => RowGather.Floats(features, rowLength, _indices, batch.AsSpan<T>());
    }
}
