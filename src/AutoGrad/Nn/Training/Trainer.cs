using System.Diagnostics;

using AutoGrad.Autodiff;
using AutoGrad.Nn.Data;
using AutoGrad.Nn.Optimizers;
using AutoGrad.Nn.Schedules;
using AutoGrad.Operations;
using AutoGrad.Tensors;

namespace AutoGrad.Nn.Training;

/// <summary>How long and how to train.</summary>
public sealed record TrainingOptions
{
    /// <summary>Samples per step.</summary>
    public int BatchSize { get; init; } = 100;

    /// <summary>Total steps. When null, <see cref="Epochs"/> × batches per epoch.</summary>
    public int? Iterations { get; init; }

    /// <summary>Passes over the training set, used when <see cref="Iterations"/> is null.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>The shuffle seed.</summary>
    public int Seed { get; init; }

    /// <summary>The element type of the batches (the model's parameters must match).</summary>
    public DType DType { get; init; } = DType.Float32;

    /// <summary>Measure test accuracy at the end of every epoch (it does not count toward <see cref="TrainingResult.TrainingSeconds"/>).</summary>
    public bool EvaluateEachEpoch { get; init; } = true;

    /// <summary>A schedule, stepped after every batch or every epoch as its <see cref="LearningRateScheduler.Unit"/> says.</summary>
    public LearningRateScheduler? Schedule { get; init; }

    /// <summary>A plateau schedule, stepped at the end of every epoch with the epoch's mean training loss.</summary>
    public ReduceOnPlateau? Plateau { get; init; }
}

/// <summary>The state after a step, for progress reports.</summary>
/// <param name="Iteration">Steps done.</param>
/// <param name="TotalIterations">Steps planned.</param>
/// <param name="Epoch">The current epoch (from 1).</param>
/// <param name="Loss">The mean loss of the epoch so far.</param>
/// <param name="BatchAccuracy">The accuracy on the epoch's training batches so far, measured during the steps.</param>
/// <param name="TestAccuracy">The test accuracy at the last evaluation, if any.</param>
public sealed record TrainingProgress(int Iteration, int TotalIterations, int Epoch, double Loss, double BatchAccuracy, double? TestAccuracy);

/// <summary>The outcome of <see cref="Trainer.Fit(Module, Optimizer, Dataset, Dataset, TrainingOptions, Action{TrainingProgress})"/>.</summary>
/// <param name="TrainAccuracy">Accuracy on the whole training set at the end.</param>
/// <param name="TestAccuracy">Accuracy on the test set at the end.</param>
/// <param name="FinalLoss">The loss of the last step.</param>
/// <param name="Iterations">Steps taken.</param>
/// <param name="TrainingSeconds">Wall time of the loop: batches, steps, the loss and accuracy sums and schedule steps; not evaluations or the progress callback.</param>
/// <param name="TotalSeconds">Wall time including evaluations.</param>
/// <param name="Epochs">One progress record per completed epoch (and one for a final partial epoch).</param>
/// <param name="Losses">The loss of every step, for reproducibility checks and plots.</param>
public sealed record TrainingResult(
    double TrainAccuracy,
    double TestAccuracy,
    double FinalLoss,
    int Iterations,
    double TrainingSeconds,
    double TotalSeconds,
    IReadOnlyList<TrainingProgress> Epochs,
    IReadOnlyList<double> Losses);

/// <summary>The classification training loop: SoftmaxWithLoss, one tape reset every step, an optimizer.</summary>
public static partial class Trainer
{
    /// <summary>Trains <paramref name="model"/> on <paramref name="train"/> and measures it on <paramref name="test"/>.</summary>
    /// <param name="model">The model; its outputs are class scores.</param>
    /// <param name="optimizer">The optimizer over the model's parameters.</param>
    /// <param name="train">The training set.</param>
    /// <param name="test">The test set.</param>
    /// <param name="options">Batch size, length, seed, element type.</param>
    /// <param name="progress">Called after every step (keep it cheap).</param>
    /// <returns>Accuracies, losses and timings.</returns>
    public static TrainingResult Fit(Module model, Optimizer optimizer, Dataset train, Dataset test, TrainingOptions options, Action<TrainingProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(options);
        if (train.FeatureCount != test.FeatureCount || train.ClassCount != test.ClassCount)
        {
            throw new ArgumentException(
                $"Fit: the training set {train.Name} has {train.FeatureCount} features and {train.ClassCount} classes but the test set " +
                $"{test.Name} has {test.FeatureCount} and {test.ClassCount}.", nameof(test));
        }

        var loader = new DataLoader(train, options.BatchSize, shuffle: true, options.Seed, dropLast: false, options.DType);
        var total = options.Iterations ?? (options.Epochs * loader.BatchesPerEpoch);
        if (total <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), total, "Fit: the number of iterations must be positive.");
        }

        var losses = new List<double>(total);
        var epochs = new List<TrainingProgress>();
        var loopClock = new Stopwatch();
        var totalClock = Stopwatch.StartNew();
        double? testAccuracy = null;
        model.Train();
        using var tape = new Tape();
        var steps = new ClassificationSteps(model, optimizer, loader, tape);
        for (var iteration = 1; iteration <= total; iteration++)
        {
            loopClock.Start();
            losses.Add(steps.Take());
            if (options.Schedule is { Unit: ScheduleUnit.Batch } batchSchedule)
            {
                batchSchedule.Step();
            }

            loopClock.Stop();
            var endOfEpoch = iteration % loader.BatchesPerEpoch == 0 || iteration == total;
            if (endOfEpoch && (options.EvaluateEachEpoch || iteration == total))
            {
                testAccuracy = Accuracy(model, test, options.DType);
            }

            // A report is made only where someone reads it, so that a step allocates nothing for it.
            if (progress is null && !endOfEpoch)
            {
                continue;
            }

            var report = steps.Report(iteration, total, testAccuracy);
            progress?.Invoke(report);
            if (endOfEpoch)
            {
                if (options.Schedule is { Unit: ScheduleUnit.Epoch } epochSchedule)
                {
                    epochSchedule.Step();
                }

                options.Plateau?.Step(report.Loss);
                epochs.Add(report);
                steps.StartEpoch();
            }
        }

        var trainAccuracy = Accuracy(model, train, options.DType);
        testAccuracy = Accuracy(model, test, options.DType);
        return new TrainingResult(trainAccuracy, testAccuracy.Value, losses[^1], total, loopClock.Elapsed.TotalSeconds, totalClock.Elapsed.TotalSeconds, epochs, losses);
    }

    /// <summary>
    /// One training step on one batch: reset the tape, forward, SoftmaxWithLoss, zero the gradients, backward, update.
    /// The returned tensors live in the tape's arena until its next reset.
    /// </summary>
    /// <param name="model">The model; its outputs are class scores.</param>
    /// <param name="optimizer">The optimizer over the model's parameters.</param>
    /// <param name="tape">The tape to record on; it is reset first, so one tape serves every step.</param>
    /// <param name="features">The batch's inputs.</param>
    /// <param name="labels">The batch's class labels.</param>
    /// <returns>The loss and the scores.</returns>
    /// <exception cref="TrainingDivergedException">The loss or a gradient is NaN or infinite; nothing was updated.</exception>
    public static (Tensor Loss, Tensor Scores) Step(Module model, Optimizer optimizer, Tape tape, Tensor features, ReadOnlyMemory<int> labels)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(tape);
        tape.Reset();
        var scores = model.Forward(features);
        var loss = Ops.SoftmaxWithLoss(scores, labels);
        var value = loss.ToScalar();
        if (!double.IsFinite(value))
        {
            // Stop before backward: an update from this loss would overwrite every parameter with NaN.
            throw new TrainingDivergedException(
                $"Step: the loss is {value} (learning rate {optimizer.LearningRate}); training diverged. The parameters keep their " +
                "values from the last good step. Lower the learning rate, set MaxGradientNorm, or set DetectAnomalies on the tape to find the op.")
            {
                Loss = value,
            };
        }

        optimizer.ZeroGrad();
        tape.Backward(loss);
        ThrowIfGradientDiverged(model, optimizer, value);
        optimizer.Step();
        return (loss, scores);
    }

    /// <summary>
    /// A finite loss can still have an infinite gradient (√p at p = 0): an update from it would write ±∞ into the
    /// parameter, so every gradient is checked (one vectorized pass each) before the optimizer touches anything.
    /// </summary>
    private static void ThrowIfGradientDiverged(Module model, Optimizer optimizer, double loss)
    {
        // The optimizer's list by index, not the model's named walk or an interface enumerator: both allocate.
        var parameters = optimizer.Parameters;
        for (var i = 0; i < parameters.Count; i++)
        {
            var parameter = parameters[i];
            var grad = parameter.GradBuffer;
            if (grad is null || parameter.GradIsStale)
            {
                continue;
            }

            if (grad.FirstNonFinite() is { } value)
            {
                ThrowGradientDiverged(model, optimizer, parameter, value, loss);
            }
        }
    }

    // Apart from the loop, so that the lambda's closure is not allocated on every step.
    private static void ThrowGradientDiverged(Module model, Optimizer optimizer, Tensor parameter, double value, double loss)
    {
        var name = model.NamedParameters().FirstOrDefault(p => ReferenceEquals(p.Parameter, parameter)).Name ?? "(not in the model)";
        throw new TrainingDivergedException(
            $"Step: the gradient of parameter '{name}' {parameter.Shape} holds {(double.IsNaN(value) ? "NaN" : value > 0 ? "+∞" : "−∞")} though the loss is {loss} " +
            $"(learning rate {optimizer.LearningRate}); training diverged. The parameters keep their values from the last good step. " +
            "Set DetectAnomalies on the tape to find the op.")
        {
            Loss = loss,
        };
    }

    /// <summary>The share of samples whose highest score is their label, computed in evaluation mode without recording.</summary>
    /// <param name="model">The model.</param>
    /// <param name="data">The data set.</param>
    /// <param name="dtype">The element type of the model.</param>
    /// <param name="batchSize">Samples per forward pass.</param>
    /// <returns>The accuracy in [0, 1].</returns>
    public static double Accuracy(Module model, Dataset data, DType dtype, int batchSize = 1000)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        var wasTraining = model.IsTraining;
        model.Eval();
        using var noGrad = Tape.NoGrad();
        var loader = new DataLoader(data, Math.Min(batchSize, data.Count), shuffle: false, dtype: dtype);
        var correct = 0;
        foreach (var batch in loader.NextEpoch())
        {
            correct += CountCorrect(model.Forward(batch.Features), batch.Labels.Span);
        }

        model.Train(wasTraining);
        return (double)correct / data.Count;
    }

    // Read through one typed span: the indexer dispatches on the element type for every score, which cost the book's
    // loop 7 µs a step (a tenth of the step itself) for 1,000 scores.
    internal static int CountCorrect(Tensor scores, ReadOnlySpan<int> labels) =>
        ElementType.Dispatch<CorrectCount, int>(scores.DType, new CorrectCount(scores, labels));

    /// <summary>The rows of a score matrix whose first highest score is at their label.</summary>
    private readonly ref struct CorrectCount(Tensor scores, ReadOnlySpan<int> labels) : IElementFunction<int>
    {
        private readonly ReadOnlySpan<int> _labels = labels;

        public int Run<T>()
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            var classes = scores.Shape[-1];
            var all = scores.AsReadOnlySpan<T>();
            var correct = 0;
            for (var i = 0; i < _labels.Length; i++)
            {
                var row = all.Slice(i * classes, classes);
                var best = 0;
                for (var c = 1; c < row.Length; c++)
                {
                    if (row[c] > row[best])
                    {
                        best = c;
                    }
                }

                correct += best == _labels[i] ? 1 : 0;
            }

            return correct;
        }
    }
}
