using System.CommandLine;
using System.Globalization;
using System.Text.Json;

using AutoGrad.Cli.Output;
using AutoGrad.Kernels;
using AutoGrad.Nn.Serialization;
using AutoGrad.Nn.Training;

using Spectre.Console;

namespace AutoGrad.Cli.Commands;

/// <summary><c>autograd train</c>: the main job. With no options, a two-layer net on the embedded digits.</summary>
internal static class TrainCommand
{
    public static Command Create(IAnsiConsole console, TextWriter stdout, TextWriter stderr)
    {
        var dataset = new Option<string>("--dataset") { Description = "The data set: digits (embedded) or fashion-mnist.", DefaultValueFactory = _ => "digits" };
        dataset.AcceptOnlyFromAmong("digits", "fashion-mnist");
        var data = new Option<string?>("--data") { Description = "A folder of MNIST-format IDX files to use instead (train-images-idx3-ubyte[.gz], …)." };
        var model = new Option<string>("--model") { Description = "The architecture: mlp (the --hidden widths), simple-cnn (the book's SimpleConvNet, --hidden its affine width) or deep-cnn (its DeepConvNet).", DefaultValueFactory = _ => "mlp" };
        model.AcceptOnlyFromAmong(TrainSettings.Models);
        var batchNorm = new Option<bool>("--batch-norm") { Description = "For deep-cnn: a batch normalization after each convolution." };
        var hidden = new Option<string>("--hidden") { Description = "Hidden layer widths, comma-separated: 100 or 256,256.", DefaultValueFactory = _ => "100" };
        var optimizer = new Option<string>("--optimizer") { Description = "sgd, momentum, nesterov, adagrad, rmsprop, adam or adamw.", DefaultValueFactory = _ => "adam" };
        optimizer.AcceptOnlyFromAmong(TrainSettings.Optimizers);
        var lr = NumberOptions.PositiveDouble("--lr", "Learning rate (default 0.001 for adam, adamw, rmsprop; 0.1 otherwise).");
        var batch = NumberOptions.PositiveInt("--batch", "Batch size (default 32 for digits, 100 otherwise).");
        var epochs = NumberOptions.PositiveInt("--epochs", "Passes over the training set (default 30 for digits, 10 otherwise).");
        var iterations = NumberOptions.PositiveInt("--iterations", "Training steps, instead of --epochs.");
        var seed = NumberOptions.Int("--seed", "Seed for weights, shuffling and the digits split.", 42);
        var init = new Option<string>("--init") { Description = "Weight initialization: he, xavier, or a standard deviation such as 0.01.", DefaultValueFactory = _ => "he" };
        var useDouble = new Option<bool>("--double") { Description = "Train in float64 instead of float32." };
        var save = new Option<string?>("--save") { Description = "Write the trained parameters to FILE (.safetensors or .npz)." };
        var load = new Option<string?>("--load") { Description = "Start from the parameters in FILE (.safetensors or .npz)." };
        var plot = new Option<string?>("--plot") { Description = "Draw the loss and accuracy curves to FILE (SVG). Default: next to --save, if given; otherwise none." };
        var noPlot = new Option<bool>("--no-plot") { Description = "Draw no curves, not even next to --save." };
        var json = new Option<bool>("--json") { Description = "Print the final metrics as one JSON object instead of the table." };
        var schedule = new Option<string?>("--schedule") { Description = TrainSchedule.Help };
        var threads = NumberOptions.PositiveInt("--threads", $"Threads the kernels may use (default: every core, {Environment.ProcessorCount} here). Results do not depend on it.");

        var command = new Command("train", "Train a classifier and report its accuracy.")
        {
            dataset, data, model, batchNorm, hidden, optimizer, lr, batch, epochs, iterations, seed, init, useDouble, schedule, save, load, plot, noPlot, json, threads,
        };

        command.SetAction(result =>
        {
            var datasetName = result.GetValue(dataset)!;
            var isDigits = datasetName == "digits" && result.GetValue(data) is null;
            var optimizerName = result.GetValue(optimizer)!;
            var savePath = result.GetValue(save);
            if (result.GetValue(epochs) is not null && result.GetValue(iterations) is not null)
            {
                throw new OptionException("--epochs and --iterations cannot be combined; give one.");
            }

            if (result.GetValue(batchNorm) && result.GetValue(model) != "deep-cnn")
            {
                throw new OptionException("--batch-norm applies to --model deep-cnn only.");
            }

            if (result.GetValue(plot) is not null && result.GetValue(noPlot))
            {
                throw new OptionException("--plot and --no-plot cannot be combined; give one.");
            }

            var plotPath = result.GetValue(noPlot) ? null : result.GetValue(plot) ?? (savePath is not null ? Path.ChangeExtension(savePath, ".svg") : null);
            OutputPaths.Check(savePath, plotPath, result.GetValue(load));
            var settings = new TrainSettings
            {
                Dataset = datasetName,
                DataDirectory = result.GetValue(data),
                Model = result.GetValue(model)!,
                BatchNorm = result.GetValue(batchNorm),
                Hidden = TrainSettings.ParseHidden(result.GetValue(hidden)!),
                Optimizer = optimizerName,
                LearningRate = result.GetValue(lr) ?? TrainSettings.DefaultLearningRate(optimizerName),
                BatchSize = result.GetValue(batch) ?? (isDigits ? 32 : 100),
                Epochs = result.GetValue(epochs) ?? (result.GetValue(iterations) is null ? (isDigits ? 30 : 10) : null),
                Iterations = result.GetValue(iterations),
                Seed = result.GetValue(seed),
                Init = ParseInit(result.GetValue(init)!),
                Double = result.GetValue(useDouble),
                Schedule = result.GetValue(schedule) is { } text ? TrainSchedule.Parse(text) : null,
                SavePath = savePath,
                LoadPath = result.GetValue(load),
                PlotPath = plotPath,
                Json = result.GetValue(json),
            };

            // The setting is process-wide: restored afterwards, so a caller that runs commands in-process keeps its own.
            var savedThreads = Parallelism.MaxThreads;
            try
            {
                Parallelism.MaxThreads = result.GetValue(threads) ?? savedThreads;
                return Run(settings, console, stdout, stderr);
            }
            finally
            {
                Parallelism.MaxThreads = savedThreads;
            }
        });
        return command;
    }

    private static int Run(TrainSettings settings, IAnsiConsole console, TextWriter stdout, TextWriter stderr)
    {
        var warmUp = TrainWarmUp.Start(settings);
        var (train, test) = settings.LoadData();
        var model = settings.CreateModel(train);
        if (settings.LoadPath is not null)
        {
            Checkpoint.Load(model, settings.LoadPath);
        }

        var optimizer = settings.CreateOptimizer(model);
        var batchSize = Math.Min(settings.BatchSize, train.Count);
        var totalBatches = settings.Iterations ?? ((settings.Epochs ?? 1) * ((train.Count + batchSize - 1) / batchSize));
        var (schedule, plateau) = settings.Schedule?.Create(optimizer, totalBatches) ?? (null, null);
        var options = new TrainingOptions
        {
            BatchSize = batchSize,
            Epochs = settings.Epochs ?? 1,
            Iterations = settings.Iterations,
            Seed = settings.Seed,
            DType = settings.DType,
            Schedule = schedule,
            Plateau = plateau,
        };

        warmUp.Wait();
        var result = settings.Json ? Trainer.Fit(model, optimizer, train, test, options) : TrainWithProgress(console, model, optimizer, train, test, options);
        if (settings.SavePath is not null)
        {
            // A safetensors checkpoint records the architecture, for 'autograd export'.
            Checkpoint.Save(model, settings.SavePath, settings.SavePath.EndsWith(".npz", StringComparison.OrdinalIgnoreCase) ? null : Architecture.Of(settings, train).ToMetadata());
        }

        // The checkpoint is saved first; a picture that cannot be written costs the run nothing but a warning.
        if (settings.PlotPath is not null)
        {
            try
            {
                File.WriteAllText(settings.PlotPath, TrainingPlot.Render(result, $"{train.Name} {settings.ModelDescription(train)} {settings.Optimizer}"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"warning: the curves could not be written to {settings.PlotPath}: {App.OneLine(e.Message)}");
            }
        }

        if (settings.Json)
        {
            stdout.WriteLine(JsonSerializer.Serialize(new
            {
                dataset = settings.DatasetName,
                model = settings.Model,
                trainAccuracy = result.TrainAccuracy,
                testAccuracy = result.TestAccuracy,
                seconds = result.TrainingSeconds,
                iterations = result.Iterations,
                finalLoss = result.FinalLoss,
                finalLearningRate = optimizer.LearningRate,
            }));
        }
        else
        {
            Report(console, settings, train, result);
        }

        return 0;
    }

    private static TrainingResult TrainWithProgress(IAnsiConsole console, Module model, AutoGrad.Nn.Optimizers.Optimizer optimizer, AutoGrad.Nn.Data.Dataset train, AutoGrad.Nn.Data.Dataset test, TrainingOptions options)
    {
        TrainingResult? result = null;
        console.Progress()
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask("training", maxValue: 1);
                result = Trainer.Fit(model, optimizer, train, test, options, p =>
                {
                    // Redraw at most a few hundred times per run, so the display never slows the loop.
                    if (p.Iteration % Math.Max(1, p.TotalIterations / 200) == 0 || p.Iteration == p.TotalIterations)
                    {
                        var accuracy = p.TestAccuracy is double t ? $" test {t:P1}" : string.Empty;
                        task.Description = string.Create(CultureInfo.InvariantCulture, $"epoch {p.Epoch} loss {p.Loss:F4} acc {p.BatchAccuracy:P1}{accuracy}");
                        task.Value = (double)p.Iteration / p.TotalIterations;
                    }
                });
            });
        return result!;
    }

    private static void Report(IAnsiConsole console, TrainSettings settings, AutoGrad.Nn.Data.Dataset train, TrainingResult result)
    {
        var table = new Table().AddColumns("", "");
        table.HideHeaders();
        table.AddRow("data set", Markup.Escape(settings.DatasetName));
        table.AddRow("model", $"{settings.ModelDescription(train)}, {settings.Init} init, {settings.DType.Name()}");
        table.AddRow("optimizer", string.Create(CultureInfo.InvariantCulture, $"{settings.Optimizer}, lr {settings.LearningRate}, batch {settings.BatchSize}"));
        if (settings.Schedule is { } schedule)
        {
            table.AddRow("schedule", Markup.Escape(string.Join(':', [schedule.Kind, .. schedule.Numbers.Select(n => n.ToString(CultureInfo.InvariantCulture))])));
        }

        table.AddRow("iterations", result.Iterations.ToString(CultureInfo.InvariantCulture));
        table.AddRow("final loss", result.FinalLoss.ToString("F4", CultureInfo.InvariantCulture));
        table.AddRow("train accuracy", result.TrainAccuracy.ToString("P2", CultureInfo.InvariantCulture));
        table.AddRow("test accuracy", result.TestAccuracy.ToString("P2", CultureInfo.InvariantCulture));
        table.AddRow("training time", string.Create(CultureInfo.InvariantCulture, $"{result.TrainingSeconds:F2} s ({result.TotalSeconds:F2} s with evaluation)"));
        table.AddRow("curves", settings.PlotPath is null ? "not drawn (--plot FILE draws them)" : Markup.Escape(settings.PlotPath));
        if (settings.SavePath is not null)
        {
            table.AddRow("parameters", Markup.Escape(settings.SavePath));
        }

        console.Write(table);
    }

    private static WeightInit ParseInit(string text)
    {
        try
        {
            return WeightInit.Parse(text);
        }
        catch (Exception e) when (e is FormatException or ArgumentOutOfRangeException)
        {
            throw new OptionException($"--init: {App.OneLine(e.Message)}");
        }
    }
}
