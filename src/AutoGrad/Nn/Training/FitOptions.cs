using AutoGrad.Nn.Schedules;

namespace AutoGrad.Nn.Training;

/// <summary>How <see cref="Trainer.Fit(Module, Optimizers.Optimizer, Data.TensorDataset, Data.TensorDataset?, Loss, FitOptions?)"/> trains.</summary>
public sealed record FitOptions
{
    /// <summary>Samples per step.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Passes over the training set (fewer when stopped early).</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Shuffle the training set each epoch.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>The shuffle seed; null draws one from the global generator (<see cref="Tensors.Tensor.ManualSeed"/>).</summary>
    public int? Seed { get; init; }

    /// <summary>A metric to report each epoch on the validation set (the training batches when there is none).</summary>
    public Metric? Metric { get; init; }

    /// <summary>A schedule, stepped after every batch or every epoch as its <see cref="LearningRateScheduler.Unit"/> says.</summary>
    public LearningRateScheduler? Schedule { get; init; }

    /// <summary>A plateau schedule, stepped after every epoch with the monitored value (see <see cref="EarlyStopping"/>).</summary>
    public ReduceOnPlateau? Plateau { get; init; }

    /// <summary>Stop when the monitored value stops improving.</summary>
    public EarlyStopping? EarlyStopping { get; init; }

    /// <summary>Called after every epoch with its report; setting <see cref="EpochReport.StopTraining"/> ends training there.</summary>
    public Action<EpochReport>? OnEpochEnd { get; init; }
}

/// <summary>
/// Stop training after <paramref name="Patience"/> epochs in which the monitored value (the metric when one is set,
/// else the loss; on the validation set when there is one) did not beat its best by more than <paramref name="MinDelta"/>.
/// </summary>
/// <param name="Patience">Epochs in a row without improvement that end training, at least 1.</param>
/// <param name="MinDelta">The improvement that counts, at least 0.</param>
/// <param name="RestoreBest">Put back the parameters of the best epoch when training ends.</param>
public sealed record EarlyStopping(int Patience, double MinDelta = 0, bool RestoreBest = true);

/// <summary>One epoch's figures, passed to <see cref="FitOptions.OnEpochEnd"/> and kept in <see cref="FitResult.History"/>.</summary>
public sealed class EpochReport
{
    /// <summary>The epoch, from 1.</summary>
    public required int Epoch { get; init; }

    /// <summary>The mean training loss over the epoch's batches.</summary>
    public required double TrainLoss { get; init; }

    /// <summary>The validation loss, or null without a validation set.</summary>
    public double? ValidationLoss { get; init; }

    /// <summary>The metric (on the validation set when there is one), or null when none is set.</summary>
    public double? Metric { get; init; }

    /// <summary>The value early stopping and the plateau schedule watch: the metric, else the validation loss, else the training loss.</summary>
    public required double Monitored { get; init; }

    /// <summary>The learning rate the epoch ended with.</summary>
    public required double LearningRate { get; init; }

    /// <summary>Seconds since training began.</summary>
    public required double Seconds { get; init; }

    /// <summary>Set by a callback to end training after this epoch.</summary>
    public bool StopTraining { get; set; }
}

/// <summary>The outcome of a general fit.</summary>
/// <param name="History">One report per epoch run.</param>
/// <param name="BestEpoch">The epoch with the best monitored value.</param>
/// <param name="StoppedEarly">True when early stopping or a callback ended training before the last epoch.</param>
public sealed record FitResult(IReadOnlyList<EpochReport> History, int BestEpoch, bool StoppedEarly);
