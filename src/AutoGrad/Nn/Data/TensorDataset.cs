using AutoGrad.Autodiff;
using AutoGrad.Operations;
using AutoGrad.Tensors;

namespace AutoGrad.Nn.Data;

/// <summary>
/// A supervised data set of any kind, PyTorch's <c>TensorDataset</c>: features with N samples along the first axis,
/// and per sample either a target tensor (regression, binary targets: N along its first axis too) or a class label.
/// </summary>
public sealed class TensorDataset
{
    /// <summary>Samples with target values (regression, binary or soft targets).</summary>
    /// <param name="features">(N, …) features; copied.</param>
    /// <param name="targets">(N, …) targets of the same element type; copied.</param>
    public TensorDataset(Tensor features, Tensor targets)
        : this(features, targets ?? throw new ArgumentNullException(nameof(targets)), null)
    {
    }

    /// <summary>Samples with class labels.</summary>
    /// <param name="features">(N, …) features; copied.</param>
    /// <param name="labels">N labels, at least 0; copied.</param>
    public TensorDataset(Tensor features, int[] labels)
        : this(features, null, labels ?? throw new ArgumentNullException(nameof(labels)))
    {
    }

    private TensorDataset(Tensor features, Tensor? targets, int[]? labels)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.Rank == 0 || features.Shape[0] == 0)
        {
            throw new ShapeMismatchException($"TensorDataset: the features {features.Shape} need samples along a first axis.");
        }

        var count = features.Shape[0];
        if (targets is not null && (targets.Rank == 0 || targets.Shape[0] != count || targets.DType != features.DType))
        {
            throw new ShapeMismatchException(
                $"TensorDataset: the targets ({targets.DType.Name()} {targets.Shape}) must hold {count} samples along their first axis, of the features' type ({features.DType.Name()} {features.Shape}).");
        }

        if (labels is not null)
        {
            if (labels.Length != count)
            {
                throw new ShapeMismatchException($"TensorDataset: {labels.Length} labels for {count} samples (features {features.Shape}).");
            }

            var negative = Array.FindIndex(labels, l => l < 0);
            if (negative >= 0)
            {
                throw new ArgumentOutOfRangeException(nameof(labels), labels[negative], $"TensorDataset: label {labels[negative]} of sample {negative} is negative.");
            }
        }

        Features = features.Clone();
        Targets = targets?.Clone();
        Labels = (int[]?)labels?.Clone();
    }

    /// <summary>The features, (N, …), owned.</summary>
    public Tensor Features { get; }

    /// <summary>The targets, (N, …), or null for a labelled set.</summary>
    public Tensor? Targets { get; }

    /// <summary>The class labels, or null for a set with targets.</summary>
    public int[]? Labels { get; }

    /// <summary>N.</summary>
    public int Count => Features.Shape[0];

    /// <summary>Samples from a plain array of feature rows and one target per sample (regression in a few lines).</summary>
    /// <param name="features">N rows of D features.</param>
    /// <param name="targets">N targets.</param>
    /// <param name="dtype">The element type; <see cref="Tensor.DefaultDType"/> when null.</param>
    /// <returns>The data set, targets of shape (N, 1).</returns>
    public static TensorDataset FromArrays(double[,] features, double[] targets, DType? dtype = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(targets);
        var type = dtype ?? Tensor.DefaultDType;
        return new TensorDataset(Tensor.FromArray(features).ToType(type), Tensor.FromArray(targets, type, targets.Length, 1));
    }

    /// <summary>Samples from a plain array of feature rows and a class label per sample.</summary>
    /// <param name="features">N rows of D features.</param>
    /// <param name="labels">N labels.</param>
    /// <param name="dtype">The element type; <see cref="Tensor.DefaultDType"/> when null.</param>
    /// <returns>The data set.</returns>
    public static TensorDataset FromArrays(double[,] features, int[] labels, DType? dtype = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        return new TensorDataset(Tensor.FromArray(features).ToType(dtype ?? Tensor.DefaultDType), labels);
    }

    /// <summary>A seeded shuffle split into two parts.</summary>
    /// <param name="firstFraction">The first part's share, in (0, 1).</param>
    /// <param name="seed">The shuffle seed; null draws one from the global generator.</param>
    /// <returns>The two parts.</returns>
    public (TensorDataset First, TensorDataset Second) Split(double firstFraction, int? seed = null)
    {
        if (!(firstFraction > 0 && firstFraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(firstFraction), firstFraction, "TensorDataset.Split: the fraction must be in (0, 1).");
        }

        if (Count < 2)
        {
            throw new InvalidOperationException("TensorDataset.Split: one sample cannot be split in two.");
        }

        var order = Enumerable.Range(0, Count).ToArray();
        new SeededRandom(seed ?? Tensor.NextSeed()).Shuffle<int>(order);
        var first = Math.Clamp((int)Math.Round(Count * firstFraction), 1, Count - 1);

        return (Subset(order.AsSpan(0, first)), Subset(order.AsSpan(first)));
    }

    /// <summary>
    /// One epoch of batches, PyTorch's <c>DataLoader(dataset, batch_size, shuffle)</c>: every sample once, in a seeded
    /// random order or in order, the last batch smaller when the size does not divide.
    /// </summary>
    /// <param name="batchSize">Samples per batch, at least 1.</param>
    /// <param name="shuffle">Draw a new order.</param>
    /// <param name="seed">The shuffle seed; null draws one from the global generator.</param>
    /// <returns>The batches, gathered as they are enumerated.</returns>
    public IEnumerable<SupervisedBatch> Batches(int batchSize, bool shuffle = true, int? seed = null)
    {
        if (batchSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"TensorDataset.Batches: the batch size must be at least 1, got {batchSize}.");
        }

        var order = Enumerable.Range(0, Count).ToArray();
        if (shuffle)
        {
            new SeededRandom(seed ?? Tensor.NextSeed()).Shuffle<int>(order);
        }

        return Enumerate(order, batchSize);
    }

    private IEnumerable<SupervisedBatch> Enumerate(int[] order, int batchSize)
    {
        for (var start = 0; start < order.Length; start += batchSize)
        {
            yield return Gather(order.AsSpan(start, Math.Min(batchSize, order.Length - start)));
        }
    }

    /// <summary>The samples at <paramref name="indices"/>, in that order, as one batch (owned copies).</summary>
    /// <param name="indices">Sample indices.</param>
    /// <returns>The batch.</returns>
    public SupervisedBatch Gather(ReadOnlySpan<int> indices)
    {
        foreach (var index in indices)
        {
            if ((uint)index >= (uint)Count)
            {
                throw new ArgumentOutOfRangeException(nameof(indices), index, $"TensorDataset.Gather: index {index} is outside the {Count} samples.");
            }
        }

        using var noGrad = Tape.NoGrad();
        var rows = IntTensor.FromArray(indices.ToArray(), indices.Length);
        var features = Ops.IndexSelect(Features, 0, rows);
        var targets = Targets is null ? null : Ops.IndexSelect(Targets, 0, rows);
        var labels = Labels is null ? [] : indices.ToArray().Select(i => Labels[i]).ToArray();
        return new SupervisedBatch(features, targets, labels);
    }

    private TensorDataset Subset(ReadOnlySpan<int> indices)
    {
        var batch = Gather(indices);
        return batch.Targets is { } targets ? new TensorDataset(batch.Features, targets) : new TensorDataset(batch.Features, batch.Labels.ToArray());
    }
}

/// <summary>One batch of a <see cref="TensorDataset"/>: features, and targets or labels.</summary>
/// <param name="Features">(B, …) features.</param>
/// <param name="Targets">(B, …) targets, or null for labels.</param>
/// <param name="Labels">B class labels, or empty for targets.</param>
public sealed record SupervisedBatch(Tensor Features, Tensor? Targets, ReadOnlyMemory<int> Labels)
{
    /// <summary>B.</summary>
    public int Size => Features.Shape[0];
}
