using AutoGrad.Tensors;

namespace AutoGrad.Nn.Data;

/// <summary>
/// A labelled classification data set held in memory: N samples of D features (float32, row-major) and N class
/// labels in [0, classes).
/// </summary>
public sealed partial class Dataset
{
    private readonly byte[]? _pixels;
    private readonly float _divisor = 1;
    private float[]? _features;

    /// <summary>Creates a data set, checking that sizes and labels agree.</summary>
    /// <param name="name">A name for messages and reports.</param>
    /// <param name="features">N × D values, row-major; not copied.</param>
    /// <param name="labels">N labels; not copied.</param>
    /// <param name="featureCount">D.</param>
    /// <param name="classCount">The number of classes.</param>
    public Dataset(string name, float[] features, int[] labels, int featureCount, int classCount)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        if (featureCount <= 0 || classCount <= 0)
        {
            throw new ArgumentOutOfRangeException(
                featureCount <= 0 ? nameof(featureCount) : nameof(classCount),
                $"Dataset {name}: needs at least one feature and one class, got {featureCount} features and {classCount} classes.");
        }

        if ((long)labels.Length * featureCount != features.Length)
        {
            throw new ArgumentException($"Dataset {name}: {features.Length} feature values do not make {labels.Length} samples of {featureCount}.", nameof(features));
        }

        for (var i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classCount)
            {
                throw new ArgumentException($"Dataset {name}: label {labels[i]} of sample {i} is outside [0, {classCount}).", nameof(labels));
            }
        }

        // One vectorized pass: the largest magnitude is finite only if every value is.
        if (features.Length > 0 && !float.IsFinite(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(features)))
        {
            var at = Array.FindIndex(features, static v => !float.IsFinite(v));
            throw new ArgumentException(
                $"Dataset {name}: feature {at % featureCount} of sample {at / featureCount} is {features[at]}; features must be finite.", nameof(features));
        }

        Name = name;
        _features = features;
        Labels = labels;
        FeatureCount = featureCount;
        ClassCount = classCount;
    }

    /// <summary>
    /// Creates an image data set kept as its bytes: feature i is pixels[i] / <paramref name="divisor"/>, formed when
    /// a batch is gathered, so a shuffled batch reads a quarter of the memory. <see cref="Features"/> is built on
    /// first use; from then on the floats are the data (the caller may change them) and loaders read those.
    /// </summary>
    internal Dataset(string name, byte[] pixels, float divisor, int[] labels, int featureCount, int classCount)
    {
        if ((long)labels.Length * featureCount != pixels.Length || labels.Any(l => (uint)l >= (uint)classCount))
        {
            throw new ArgumentException($"Dataset {name}: {pixels.Length} pixels and {labels.Length} labels do not make samples of {featureCount} in {classCount} classes.");
        }

        Name = name;
        _pixels = pixels;
        _divisor = divisor;
        Labels = labels;
        FeatureCount = featureCount;
        ClassCount = classCount;
    }

    /// <summary>The name.</summary>
    public string Name { get; }

    /// <summary>N × D feature values, row-major.</summary>
    public float[] Features
    {
        get
        {
            if (_features is null)
            {
                var features = new float[_pixels!.Length];
                Kernels.ByteScaling.Divide(_pixels, _divisor, features);
                Interlocked.CompareExchange(ref _features, features, null);
            }

            return _features;
        }
    }

    /// <summary>
    /// The pixels a batch can be gathered from instead of <see cref="Features"/>, as long as nobody has asked for the
    /// floats (which may since have been changed); empty otherwise.
    /// </summary>
    internal ReadOnlySpan<byte> Pixels => _features is null ? _pixels : default;

    /// <summary>What <see cref="Pixels"/> are divided by.</summary>
    internal float PixelDivisor => _divisor;

    /// <summary>The N labels.</summary>
    public int[] Labels { get; }

    /// <summary>N.</summary>
    public int Count => Labels.Length;

    /// <summary>D.</summary>
    public int FeatureCount { get; }

    /// <summary>The number of classes.</summary>
    public int ClassCount { get; }

    /// <summary>
    /// The layout of each sample's D features as an image, (channels, height, width), when they are one: (1, 8, 8)
    /// for the digits, (1, 28, 28) for Fashion-MNIST. A convolutional model views a flat batch (N, D) as
    /// (N, C, H, W) with it, without copying. Null for features that are no image.
    /// </summary>
    public (int Channels, int Height, int Width)? ImageShape
    {
        get;
        init
        {
            if (value is { } shape && ((long)shape.Channels * shape.Height * shape.Width != FeatureCount || shape.Channels < 1 || shape.Height < 1 || shape.Width < 1))
            {
                throw new ArgumentException($"Dataset: image shape {shape} does not hold the {FeatureCount} features of {Name}.", nameof(value));
            }

            field = value;
        }
    }

    /// <summary>The samples at <paramref name="indices"/>, copied, in that order.</summary>
    /// <param name="indices">Sample indices.</param>
    /// <param name="name">The subset's name.</param>
    /// <returns>The subset.</returns>
    public Dataset Subset(ReadOnlySpan<int> indices, string? name = null)
    {
        var labels = new int[indices.Length];
        for (var i = 0; i < indices.Length; i++)
        {
            if ((uint)indices[i] >= (uint)Count)
            {
                throw new ArgumentOutOfRangeException(nameof(indices), indices[i], $"Subset: index {indices[i]} at position {i} is outside the {Count} samples of {Name}.");
            }

            labels[i] = Labels[indices[i]];
        }

        // A set still kept as bytes gives a subset of bytes: asking for Features here would widen all of it (188 MB of
        // floats for Fashion-MNIST's training set) to copy a few rows.
        return _features is null && _pixels is { } pixels
            ? new Dataset(name ?? Name, PickRows(pixels, indices, FeatureCount), _divisor, labels, FeatureCount, ClassCount) { ImageShape = ImageShape }
            : new Dataset(name ?? Name, PickRows(Features, indices, FeatureCount), labels, FeatureCount, ClassCount) { ImageShape = ImageShape };
    }

    /// <summary>The rows <paramref name="indices"/> (checked by the caller) of <paramref name="source"/>, <paramref name="width"/> values each, one after another.</summary>
    private static T[] PickRows<T>(T[] source, ReadOnlySpan<int> indices, int width)
    {
        var rows = new T[indices.Length * width];
        for (var i = 0; i < indices.Length; i++)
        {
            source.AsSpan(indices[i] * width, width).CopyTo(rows.AsSpan(i * width));
        }

        return rows;
    }

    /// <summary>
    /// The samples as a <see cref="TensorDataset"/> with their labels, for <see cref="Training.Trainer.Fit(Module, Optimizers.Optimizer, TensorDataset, TensorDataset?, Training.Loss, Training.FitOptions?)"/>:
    /// features (N, C, H, W) when the set has an image shape, else (N, D).
    /// </summary>
    /// <param name="dtype">The element type; <see cref="Tensor.DefaultDType"/> when null.</param>
    /// <returns>The data set.</returns>
    public TensorDataset ToTensorDataset(DType? dtype = null)
    {
        var features = ImageShape is var (c, h, w) ? Tensor.FromArray(Features, Count, c, h, w) : Tensor.FromArray(Features, Count, FeatureCount);
        return new TensorDataset(features.ToType(dtype ?? Tensor.DefaultDType), Labels);
    }

    /// <summary>A seeded shuffle split into a training part and a test part.</summary>
    /// <param name="trainFraction">The training share, in (0, 1).</param>
    /// <param name="seed">The shuffle seed.</param>
    /// <returns>The two parts.</returns>
    public (Dataset Train, Dataset Test) Split(double trainFraction, int seed)
    {
        if (!(trainFraction > 0 && trainFraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(trainFraction), trainFraction, "Split: the training fraction must be in (0, 1).");
        }

        var order = Enumerable.Range(0, Count).ToArray();
        new SeededRandom(seed).Shuffle<int>(order);
        var trainCount = (int)Math.Round(Count * trainFraction);
        return (Subset(order.AsSpan(0, trainCount), Name + "-train"), Subset(order.AsSpan(trainCount), Name + "-test"));
    }

    /// <summary>
    /// Per-feature standardization, (x − mean) / std, with statistics from <paramref name="statistics"/> (this set
    /// when null: pass the training set when standardizing a test set). Constant features keep std 1.
    /// </summary>
    /// <param name="statistics">The set to compute mean and std from.</param>
    /// <returns>A standardized copy.</returns>
    public Dataset Standardize(Dataset? statistics = null)
    {
        var source = statistics ?? this;
        if (source.FeatureCount != FeatureCount)
        {
            throw new ArgumentException($"Standardize: statistics from {source.FeatureCount} features cannot apply to {FeatureCount}.", nameof(statistics));
        }

        var mean = new double[FeatureCount];
        var square = new double[FeatureCount];
        for (var i = 0; i < source.Count; i++)
        {
            for (var j = 0; j < FeatureCount; j++)
            {
                double v = source.Features[(i * FeatureCount) + j];
                mean[j] += v;
                square[j] += v * v;
            }
        }

        var features = new float[Features.Length];
        for (var j = 0; j < FeatureCount; j++)
        {
            mean[j] /= source.Count;
            var std = Math.Sqrt(Math.Max(0, (square[j] / source.Count) - (mean[j] * mean[j])));
            square[j] = std < 1e-8 ? 1 : std;
        }

        for (var i = 0; i < Features.Length; i++)
        {
            var j = i % FeatureCount;
            features[i] = (float)((Features[i] - mean[j]) / square[j]);
        }

        return new Dataset(Name, features, (int[])Labels.Clone(), FeatureCount, ClassCount) { ImageShape = ImageShape };
    }
}
