using AutoGrad.Nn.Data;
using AutoGrad.Nn.Training;

namespace AutoGrad.Cli.Commands;

/// <summary>
/// Compiles the training loop's code on the spare core while the data set loads. The CLI compiles each method fully
/// optimized at its first call (see the project file), and the first step of a run calls about 170 of them: 0.14 s of
/// compilation that would otherwise land inside the timed loop, on the critical path. Two steps of a throwaway copy of
/// the model, on random data of the expected width, run the same code while the main thread reads and decodes the
/// files, so the whole run finishes sooner, not only the loop's clock.
/// </summary>
internal static class TrainWarmUp
{
    /// <summary>Starts the warm-up on a pool thread; a machine with one core skips it, since nothing would overlap.</summary>
    /// <param name="settings">The run's settings: the model, optimizer, batch size and element type to exercise.</param>
    /// <returns>The warm-up; wait for it before training so the two never share a core's time.</returns>
    public static Task Start(TrainSettings settings) => Environment.ProcessorCount < 2 ? Task.CompletedTask : Task.Run(() => Run(settings));

    private static void Run(TrainSettings settings)
    {
        try
        {
            // The real width is known only once the files are read; the built-in sets' widths cover the usual runs,
            // and a wrong guess only leaves some shape-specific code to compile in the loop.
            var side = settings.Dataset == "digits" ? 8 : 28;
            var inputs = side * side;
            const int classes = 10;
            var samples = Math.Max(2, Math.Min(settings.BatchSize, 256));
            var random = new SeededRandom(settings.Seed);
            var features = new float[samples * inputs];
            for (var i = 0; i < features.Length; i++)
            {
                features[i] = (float)random.NextDouble();
            }

            var labels = Enumerable.Range(0, samples).Select(i => i % classes).ToArray();
            var data = new Dataset("warm-up", features, labels, inputs, classes) { ImageShape = (1, side, side) };
            var model = settings.CreateModel(data);
            var options = new TrainingOptions { BatchSize = samples, Iterations = 2, Seed = settings.Seed, DType = settings.DType, EvaluateEachEpoch = false };
            Trainer.Fit(model, settings.CreateOptimizer(model), data, data, options);
        }
#pragma warning disable CA1031 // The warm-up only saves time: the real run reports any problem with these settings itself.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }
}
