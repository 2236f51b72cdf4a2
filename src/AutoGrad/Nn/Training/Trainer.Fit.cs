using System.Diagnostics;

using AutoGrad.Autodiff;
using AutoGrad.Nn.Data;
using AutoGrad.Nn.Optimizers;
using AutoGrad.Nn.Schedules;
using AutoGrad.Tensors;

namespace AutoGrad.Nn.Training;

/// <summary>The general training loop: any model, any loss, any metric, schedules, early stopping, a callback per epoch.</summary>
public static partial class Trainer
{
    /// <summary>Samples per forward pass when the validation set is measured.</summary>
    private const int EvaluationBatch = 1000;

    /// <summary>
    /// Trains <paramref name="model"/> on <paramref name="train"/> for <see cref="FitOptions.Epochs"/> epochs of shuffled
    /// batches (one tape, reset every step), minimizing <paramref name="loss"/>; after each epoch it measures the loss
    /// and <see cref="FitOptions.Metric"/> on <paramref name="validation"/> (in evaluation mode, without recording),
    /// steps the schedules, reports, and stops early when told. Classification, regression and binary targets alike:
    /// the data set holds labels or targets, and the loss says what to do with them.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="optimizer">The optimizer over the model's parameters.</param>
    /// <param name="train">The training set.</param>
    /// <param name="validation">The validation set, or null.</param>
    /// <param name="loss">The loss (<see cref="Loss.CrossEntropy"/>, <see cref="Loss.MeanSquaredError"/>, …, or your own).</param>
    /// <param name="options">Batch size, epochs, metric, schedules, early stopping, callback; defaults when null.</param>
    /// <returns>The epochs' reports and the best epoch.</returns>
    /// <exception cref="TrainingDivergedException">A loss is NaN or infinite; the step's update was not made.</exception>
    public static FitResult Fit(Module model, Optimizer optimizer, TensorDataset train, TensorDataset? validation, Loss loss, FitOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(loss);
        options ??= new FitOptions();
        CheckOptions(options, train, validation);

        var goal = options.Metric?.Goal ?? MetricGoal.Minimize;
        var best = goal == MetricGoal.Minimize ? double.PositiveInfinity : double.NegativeInfinity;
        var (bestEpoch, badEpochs, stoppedEarly) = (0, 0, false);
        var parameters = model.Parameters().ToArray();
        Tensor[]? bestParameters = null;
        var history = new List<EpochReport>();
        var random = new SeededRandom(options.Seed ?? Tensor.NextSeed());
        var order = Enumerable.Range(0, train.Count).ToArray();
        var clock = Stopwatch.StartNew();
        model.Train();
        using (var tape = new Tape())
        {
            for (var epoch = 1; epoch <= options.Epochs; epoch++)
            {
                if (options.Shuffle)
                {
                    random.Shuffle<int>(order);
                }

                var (trainLoss, trainMetric) = TrainEpoch(model, optimizer, tape, train, order, loss, options);
                if (options.Schedule is { Unit: ScheduleUnit.Epoch } schedule)
                {
                    schedule.Step();
                }

                var (validationLoss, validationMetric) = validation is null ? (null, null) : Evaluate(model, validation, loss, options.Metric);
                var report = new EpochReport
                {
                    Epoch = epoch,
                    TrainLoss = trainLoss,
                    ValidationLoss = validationLoss,
                    Metric = validation is null ? trainMetric : validationMetric,
                    Monitored = (validation is null ? trainMetric : validationMetric) ?? validationLoss ?? trainLoss,
                    LearningRate = optimizer.LearningRate,
                    Seconds = clock.Elapsed.TotalSeconds,
                };
                options.Plateau?.Step(report.Monitored);

                var minDelta = options.EarlyStopping?.MinDelta ?? 0;
                if (goal == MetricGoal.Minimize ? report.Monitored < best - minDelta : report.Monitored > best + minDelta)
                {
                    (best, bestEpoch, badEpochs) = (report.Monitored, epoch, 0);
                    if (options.EarlyStopping?.RestoreBest == true)
                    {
                        bestParameters = Snapshot(parameters, bestParameters);
                    }
                }
                else
                {
                    badEpochs++;
                }

                options.OnEpochEnd?.Invoke(report);
                history.Add(report);
                if (report.StopTraining || badEpochs >= (options.EarlyStopping?.Patience ?? int.MaxValue))
                {
                    stoppedEarly = epoch < options.Epochs;
                    break;
                }
            }
        }

        if (bestParameters is not null)
        {
            for (var i = 0; i < parameters.Length; i++)
            {
                bestParameters[i].CopyTo(parameters[i]);
            }
        }

        return new FitResult(history, bestEpoch, stoppedEarly);
    }

    /// <summary>One pass over the shuffled training set; the mean loss, and the metric on the batches when there is one.</summary>
    private static (double Loss, double? Metric) TrainEpoch(Module model, Optimizer optimizer, Tape tape, TensorDataset train, int[] order, Loss loss, FitOptions options)
    {
        double lossSum = 0, metricSum = 0;
        for (var start = 0; start < order.Length; start += options.BatchSize)
        {
            var batch = train.Gather(order.AsSpan(start, Math.Min(options.BatchSize, order.Length - start)));
            tape.Reset();
            var output = model.Forward(batch.Features);
            var value = loss.Compute(output, batch);
            var scalar = value.Length == 1 ? value.ToScalar() : throw new ShapeMismatchException($"Fit: the {loss.Name} loss returned shape {value.Shape}, not one element.");
            if (!double.IsFinite(scalar))
            {
                throw new TrainingDivergedException(
                    $"Fit: the {loss.Name} loss is {scalar} (learning rate {optimizer.LearningRate}); training diverged. The parameters keep their values from " +
                    "the last good step. Lower the learning rate or set MaxGradientNorm.")
                {
                    Loss = scalar,
                };
            }

            optimizer.ZeroGrad();
            tape.Backward(value);
            optimizer.Step();
            lossSum += scalar * batch.Size;
            if (options.Metric is { } metric)
            {
                using var noGrad = Tape.NoGrad();
                metricSum += metric.BatchMean(output, batch) * batch.Size;
            }

            if (options.Schedule is { Unit: ScheduleUnit.Batch } schedule)
            {
                schedule.Step();
            }
        }

        return (lossSum / order.Length, options.Metric is null ? null : metricSum / order.Length);
    }

    /// <summary>The mean loss and metric over a data set, in evaluation mode and without recording.</summary>
    private static (double? Loss, double? Metric) Evaluate(Module model, TensorDataset data, Loss loss, Metric? metric)
    {
        var wasTraining = model.IsTraining;
        model.Eval();
        using var noGrad = Tape.NoGrad();
        double lossSum = 0, metricSum = 0;
        var indices = Enumerable.Range(0, data.Count).ToArray();
        for (var start = 0; start < data.Count; start += EvaluationBatch)
        {
            var batch = data.Gather(indices.AsSpan(start, Math.Min(EvaluationBatch, data.Count - start)));
            var output = model.Forward(batch.Features);
            lossSum += loss.Compute(output, batch).ToScalar() * batch.Size;
            metricSum += metric is null ? 0 : metric.BatchMean(output, batch) * batch.Size;
        }

        model.Train(wasTraining);
        return (lossSum / data.Count, metric is null ? null : metricSum / data.Count);
    }

    private static Tensor[] Snapshot(Tensor[] parameters, Tensor[]? into)
    {
        if (into is null)
        {
            return [.. parameters.Select(p => p.Clone())];
        }

        for (var i = 0; i < parameters.Length; i++)
        {
            parameters[i].CopyTo(into[i]);
        }

        return into;
    }

    private static void CheckOptions(FitOptions options, TensorDataset train, TensorDataset? validation)
    {
        if (options.BatchSize < 1 || options.Epochs < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"Fit: BatchSize ({options.BatchSize}) and Epochs ({options.Epochs}) must be at least 1.");
        }

        if (options.EarlyStopping is { } stopping && (stopping.Patience < 1 || !(stopping.MinDelta >= 0) || !double.IsFinite(stopping.MinDelta)))
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"Fit: early stopping needs Patience ≥ 1 and a finite MinDelta ≥ 0, got {stopping.Patience} and {stopping.MinDelta}.");
        }

        if (validation is not null && ((validation.Targets is null) != (train.Targets is null) || validation.Features.Shape.Dims[1..].SequenceEqual(train.Features.Shape.Dims[1..]) is false))
        {
            throw new ArgumentException(
                $"Fit: the validation set (features {validation.Features.Shape}, {(validation.Targets is null ? "labels" : "targets")}) does not match the training set " +
                $"(features {train.Features.Shape}, {(train.Targets is null ? "labels" : "targets")}).", nameof(validation));
        }
    }
}
