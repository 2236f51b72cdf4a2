using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;

using AutoGrad.Tensors;

namespace AutoGrad.Nn.Data;

/// <summary>Where data sets come from: the embedded digits, and IDX folders such as Fashion-MNIST.</summary>
public sealed partial class Dataset
{
    /// <summary>Debian's <c>dataset-fashion-mnist</c> package installs the files here.</summary>
    public const string FashionMnistDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>The SHA-256 of the embedded <c>digits.csv.gz</c>, checked on every load.</summary>
    public const string DigitsSha256 = "46abec6b12486ad9e51943373abcf22bbea1b5a51a1619b361570d8893f1464a";

    /// <summary>
    /// The 8x8 handwritten digits (1,797 samples, 64 features scaled from 0..16 to [0, 1], 10 classes), embedded in
    /// the assembly. Origin: the test set of the UCI "Optical Recognition of Handwritten Digits" data set
    /// (E. Alpaydin, C. Kaynak, 1998; UCI Machine Learning Repository, CC BY 4.0), in scikit-learn's CSV form.
    /// </summary>
    /// <returns>The whole set; <see cref="Split"/> it for training and testing.</returns>
    /// <exception cref="InvalidDataException">The embedded file does not match its SHA-256.</exception>
    public static Dataset Digits()
    {
        using var resource = typeof(Dataset).Assembly.GetManifestResourceStream("AutoGrad.Data.digits.csv.gz")
            ?? throw new InvalidOperationException("Digits: the embedded data set is missing from the assembly.");
        using var copy = new MemoryStream();
        resource.CopyTo(copy);
        var hash = Convert.ToHexStringLower(SHA256.HashData(copy.GetBuffer().AsSpan(0, (int)copy.Length)));
        if (hash != DigitsSha256)
        {
            throw new InvalidDataException($"Digits: the embedded file's SHA-256 is {hash}, expected {DigitsSha256}.");
        }

        copy.Position = 0;
        using var reader = new StreamReader(new GZipStream(copy, CompressionMode.Decompress));
        var features = new List<float>();
        var labels = new List<int>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }

            var fields = line.Split(',');
            if (fields.Length != 65)
            {
                throw new InvalidDataException($"Digits: line {labels.Count + 1} has {fields.Length} fields, expected 65.");
            }

            for (var i = 0; i < 64; i++)
            {
                features.Add(int.Parse(fields[i], CultureInfo.InvariantCulture) / 16f);
            }

            labels.Add(int.Parse(fields[64], CultureInfo.InvariantCulture));
        }

        return new Dataset("digits", [.. features], [.. labels], 64, 10) { ImageShape = (1, 8, 8) };
    }

    /// <summary>Fashion-MNIST's training (60,000) and test (10,000) sets, pixels scaled to [0, 1].</summary>
    /// <param name="directory">The folder of IDX files; null for <see cref="FashionMnistDirectory"/>.</param>
    /// <returns>The two sets.</returns>
    public static (Dataset Train, Dataset Test) FashionMnist(string? directory = null) =>
        FromIdxDirectory(directory ?? FashionMnistDirectory, "fashion-mnist");

    /// <summary>
    /// Reads an MNIST-style folder: <c>train-images-idx3-ubyte</c>, <c>train-labels-idx1-ubyte</c>,
    /// <c>t10k-images-idx3-ubyte</c>, <c>t10k-labels-idx1-ubyte</c>, each optionally ending in <c>.gz</c>.
    /// Pixels are scaled from 0..255 to [0, 1]; there are 10 classes.
    /// </summary>
    /// <param name="directory">The folder.</param>
    /// <param name="name">The data set's name.</param>
    /// <returns>The training and test sets.</returns>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    /// <exception cref="IdxFormatException">A file is corrupt, or images and labels disagree.</exception>
    public static (Dataset Train, Dataset Test) FromIdxDirectory(string directory, string name)
    {
        if (!Directory.Exists(directory))
        {
            var hint = name == "fashion-mnist" || Path.GetFullPath(directory) == FashionMnistDirectory ? " (Debian: apt-get install dataset-fashion-mnist)" : string.Empty;
            throw new DirectoryNotFoundException($"{name}: the folder {directory} does not exist{hint}.");
        }

        return (LoadIdxPair(directory, "train", name + "-train"), LoadIdxPair(directory, "t10k", name + "-test"));
    }

    private static Dataset LoadIdxPair(string directory, string prefix, string name)
    {
        // Both headers first: a file that declares 2.7 million images is found not to match its 5 labels before
        // gigabytes are read for it.
        using var images = IdxReader.Open(FindFile(directory, $"{prefix}-images-idx3-ubyte"));
        using var labels = IdxReader.Open(FindFile(directory, $"{prefix}-labels-idx1-ubyte"));
        if (images.Dims.Length != 3 || labels.Dims.Length != 1 || images.Dims[0] != labels.Dims[0])
        {
            throw new IdxFormatException(
                $"{name}: images {Shape.Format(images.Dims)} in {images.Name} and labels {Shape.Format(labels.Dims)} in {labels.Name} do not pair up as (N, rows, cols) and (N,).");
        }

        if (images.Dims.Contains(0))
        {
            throw new IdxFormatException(
                $"{name}: {images.Name} declares {Shape.Format(images.Dims)}: a data set needs at least one image of at least one row and one column.");
        }

        var classes = labels.ReadData().Select(l => (int)l).ToArray();
        if (classes.Any(c => c >= 10))
        {
            throw new IdxFormatException($"{name}: a label in {labels.Name} is {classes.Max()}, but MNIST-style sets have 10 classes.");
        }

        // Kept as bytes (pixel / 255 is formed per batch): a shuffled batch then reads 784 bytes a row, not 3 KB.
        return new Dataset(name, images.ReadData(), 255f, classes, images.Dims[1] * images.Dims[2], 10) { ImageShape = (1, images.Dims[1], images.Dims[2]) };
    }

    private static string FindFile(string directory, string stem)
    {
        foreach (var candidate in new[] { stem + ".gz", stem })
        {
            var path = Path.Combine(directory, candidate);
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new FileNotFoundException($"IDX: neither {stem}.gz nor {stem} is in {directory}.", Path.Combine(directory, stem));
    }
}
