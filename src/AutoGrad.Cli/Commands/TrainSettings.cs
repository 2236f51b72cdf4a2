using System.Globalization;

using AutoGrad.Nn.Data;
using AutoGrad.Nn.Optimizers;

namespace AutoGrad.Cli.Commands;

/// <summary>The validated settings of one <c>autograd train</c> run, and the objects they describe.</summary>
internal sealed record TrainSettings
{
    public static readonly string[] Optimizers = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"];

    public static readonly string[] Models = ["mlp", "simple-cnn", "deep-cnn"];

    /// <summary>The architecture: <c>mlp</c> (the widths of <see cref="Hidden"/>), <c>simple-cnn</c> or <c>deep-cnn</c> (the book's nets).</summary>
    public string Model { get; init; } = "mlp";

    /// <summary>For deep-cnn: a batch normalization after each convolution.</summary>
    public bool BatchNorm { get; init; }

    public required string Dataset { get; init; }

    public string? DataDirectory { get; init; }

    public required IReadOnlyList<int> Hidden { get; init; }

    public required string Optimizer { get; init; }

    public required double LearningRate { get; init; }

    public required int BatchSize { get; init; }

    public int? Epochs { get; init; }

    public int? Iterations { get; init; }

    public required int Seed { get; init; }

    public required WeightInit Init { get; init; }

    public bool Double { get; init; }

    /// <summary>The <c>--schedule</c>, or null for a constant rate.</summary>
    public TrainSchedule? Schedule { get; init; }

    public string? SavePath { get; init; }

    public string? LoadPath { get; init; }

    public string? PlotPath { get; init; }

    public bool Json { get; init; }

    public DType DType => Double ? DType.Float64 : DType.Float32;

    /// <summary>What the run calls its data: the folder's name for <c>--data</c>, else the <c>--dataset</c> name.</summary>
    public string DatasetName => DataDirectory is null
        ? Dataset
        : Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(DataDirectory)));

    /// <summary>The learning rate each optimizer starts from when none is given.</summary>
    public static double DefaultLearningRate(string optimizer) => optimizer switch
    {
        "adam" or "adamw" => 0.001,
        "rmsprop" => 0.001,
        _ => 0.1,
    };

    public static IReadOnlyList<int> ParseHidden(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var sizes = new List<int>();
        foreach (var part in parts)
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var size) || size <= 0)
            {
                throw new OptionException($"--hidden: '{text}' is not a comma-separated list of positive layer widths (for example 100 or 256,256).");
            }

            sizes.Add(size);
        }

        return sizes;
    }

    public (Dataset Train, Dataset Test) LoadData()
    {
        if (DataDirectory is not null)
        {
            return AutoGrad.Nn.Data.Dataset.FromIdxDirectory(DataDirectory, DatasetName);
        }

        return Dataset switch
        {
            "digits" => AutoGrad.Nn.Data.Dataset.Digits().Split(0.8, Seed),
            _ => AutoGrad.Nn.Data.Dataset.FashionMnist(),
        };
    }

    /// <summary>The model for the data: an MLP of the hidden widths, or SimpleConvNet over the data's images.</summary>
    public Module CreateModel(Dataset data)
    {
        if (Model != "mlp" && data.ImageShape is null)
        {
            throw new OptionException($"--model {Model}: {data.Name} has no image shape; its {data.FeatureCount} features are not known to be an image.");
        }

        return Architecture.Of(this, data).Create(Init, Seed);
    }

    public Optimizer CreateOptimizer(Module model) => Optimizer switch
    {
        "sgd" => new Sgd(model.Parameters(), LearningRate),
        "momentum" => new Momentum(model.Parameters(), LearningRate),
        "nesterov" => new Nesterov(model.Parameters(), LearningRate),
        "adagrad" => new AdaGrad(model.Parameters(), LearningRate),
        "rmsprop" => new RmsProp(model.Parameters(), LearningRate),
        "adam" => new Adam(model.Parameters(), LearningRate),
        _ => new AdamW(model.Parameters(), LearningRate),
    };

    public string ModelDescription(Dataset data) => (Model, data.ImageShape) switch
    {
        ("simple-cnn", { } image) => $"simple-cnn {image.Channels}×{image.Height}×{image.Width} conv 30·5×5, pool 2, {Hidden[0]}-{data.ClassCount}",
        ("deep-cnn", { } image) => $"deep-cnn {image.Channels}×{image.Height}×{image.Width} conv 16-16-32-32-64-64{(BatchNorm ? " with batch norm" : string.Empty)}, 50-{data.ClassCount}",
        _ => $"{data.FeatureCount}-{string.Join('-', Hidden)}-{data.ClassCount}",
    };
}
