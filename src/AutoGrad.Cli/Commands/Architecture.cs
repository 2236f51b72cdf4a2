using System.Globalization;

using AutoGrad.Nn.Data;

namespace AutoGrad.Cli.Commands;

/// <summary>
/// What a model trained by <c>autograd train</c> is, written into its safetensors checkpoint's metadata so that
/// <c>autograd export</c> can build the same model again: the kind, one sample's shape, the hidden widths, the classes,
/// batch norm and the element type.
/// </summary>
internal sealed record Architecture(string Model, int[] Sample, IReadOnlyList<int> Hidden, int Classes, bool BatchNorm, DType DType)
{
    private const string Prefix = "autograd.";

    /// <summary>The architecture of a run's model on its data.</summary>
    public static Architecture Of(TrainSettings settings, Dataset data) => new(
        settings.Model,
        settings.Model == "mlp" ? [data.FeatureCount] : data.ImageShape is var (c, h, w) ? [c, h, w] : [data.FeatureCount],
        settings.Hidden,
        data.ClassCount,
        settings.BatchNorm,
        settings.DType);

    /// <summary>Reads an architecture back from a checkpoint's metadata.</summary>
    /// <exception cref="InvalidOperationException">The metadata does not describe one (the file was not written by <c>autograd train</c>).</exception>
    public static Architecture Parse(IReadOnlyDictionary<string, string> metadata, string file)
    {
        string Get(string key) => metadata.TryGetValue(Prefix + key, out var value)
            ? value
            : throw new InvalidOperationException($"{file} does not record its architecture ({Prefix}{key} is missing): only checkpoints saved by 'autograd train --save' do.");

        try
        {
            var model = Get("model");
            if (!TrainSettings.Models.Contains(model))
            {
                throw new InvalidOperationException($"{file} records the model '{model}'; known: {string.Join(", ", TrainSettings.Models)}.");
            }

            return new Architecture(
                model,
                Integers(Get("sample")),
                Integers(Get("hidden")),
                int.Parse(Get("classes"), CultureInfo.InvariantCulture),
                bool.Parse(Get("batchNorm")),
                Get("dtype") == "float64" ? DType.Float64 : DType.Float32);
        }
        catch (FormatException e)
        {
            throw new InvalidOperationException($"{file} records an architecture that cannot be read: {e.Message}", e);
        }
    }

    /// <summary>The metadata entries.</summary>
    public Dictionary<string, string> ToMetadata() => new()
    {
        [Prefix + "model"] = Model,
        [Prefix + "sample"] = string.Join(',', Sample),
        [Prefix + "hidden"] = string.Join(',', Hidden),
        [Prefix + "classes"] = Classes.ToString(CultureInfo.InvariantCulture),
        [Prefix + "batchNorm"] = BatchNorm ? "true" : "false",
        [Prefix + "dtype"] = DType.Name(),
    };

    /// <summary>The model, freshly initialized (its weights come from a checkpoint or from training).</summary>
    public Module Create(WeightInit? init, int seed) => Model switch
    {
        "simple-cnn" => new SimpleConvNet(Sample[0], Sample[1], Sample[2], Classes, hidden: Hidden[0], init: init, seed: seed, dtype: DType),
        "deep-cnn" => new DeepConvNet(Sample[0], Sample[1], Sample[2], Classes, BatchNorm, seed: seed, dtype: DType),
        _ when Hidden.Count == 1 => new TwoLayerNet(Sample[0], Hidden[0], Classes, init, seed, DType),
        _ => new MultiLayerNet(Sample[0], Hidden, Classes, init: init, seed: seed, dtype: DType),
    };

    private static int[] Integers(string text) =>
        [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(part => int.Parse(part, NumberStyles.None, CultureInfo.InvariantCulture))];
}
