using AutoGrad.Nn.Optimizers;

namespace AutoGrad.Nn.Schedules;

/// <summary>Whether a smaller or a larger metric is better.</summary>
public enum MetricGoal
{
    /// <summary>A loss or an error: smaller is better.</summary>
    Minimize,

    /// <summary>An accuracy: larger is better.</summary>
    Maximize,
}

/// <summary>
/// Lowers the rate when a metric stops improving, PyTorch's <c>ReduceLROnPlateau</c> with its defaults (relative
/// threshold): after more than <see cref="Patience"/> epochs without a metric better than the best by
/// <see cref="Threshold"/> of it, the rate is multiplied by <see cref="Factor"/> (not below <see cref="MinRate"/>).
/// </summary>
public sealed class ReduceOnPlateau
{
    private double _best;
    private int _badEpochs;

    /// <summary>Binds the schedule to <paramref name="optimizer"/>; the rate is left as it is until the first reduction.</summary>
    /// <param name="optimizer">The optimizer.</param>
    /// <param name="goal">Whether the metric should go down (a loss) or up (an accuracy).</param>
    /// <param name="factor">The factor per reduction, in (0, 1).</param>
    /// <param name="patience">Epochs without improvement tolerated, at least 0.</param>
    /// <param name="threshold">The relative improvement that counts, at least 0.</param>
    /// <param name="minRate">The rate is never set below this.</param>
    public ReduceOnPlateau(Optimizer optimizer, MetricGoal goal = MetricGoal.Minimize, double factor = 0.1, int patience = 10, double threshold = 1e-4, double minRate = 0)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        Optimizer = optimizer;
        Goal = Enum.IsDefined(goal) ? goal : throw new ArgumentOutOfRangeException(nameof(goal), goal, $"ReduceOnPlateau: {goal} is not a goal.");
        Factor = factor > 0 && factor < 1 ? factor : throw new ArgumentOutOfRangeException(nameof(factor), factor, $"ReduceOnPlateau: factor must be in (0, 1), got {factor}.");
        Patience = patience >= 0 ? patience : throw new ArgumentOutOfRangeException(nameof(patience), patience, $"ReduceOnPlateau: patience must be at least 0, got {patience}.");
        Threshold = threshold >= 0 && double.IsFinite(threshold)
            ? threshold
            : throw new ArgumentOutOfRangeException(nameof(threshold), threshold, $"ReduceOnPlateau: threshold must be finite and at least 0, got {threshold}.");
        MinRate = minRate >= 0 && double.IsFinite(minRate)
            ? minRate
            : throw new ArgumentOutOfRangeException(nameof(minRate), minRate, $"ReduceOnPlateau: minRate must be finite and at least 0, got {minRate}.");
        _best = goal == MetricGoal.Minimize ? double.PositiveInfinity : double.NegativeInfinity;
    }

    /// <summary>The optimizer whose rate is lowered.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>Whether the metric should go down or up.</summary>
    public MetricGoal Goal { get; }

    /// <summary>The factor per reduction.</summary>
    public double Factor { get; }

    /// <summary>Epochs without improvement tolerated.</summary>
    public int Patience { get; }

    /// <summary>The relative improvement that counts.</summary>
    public double Threshold { get; }

    /// <summary>The floor of the rate.</summary>
    public double MinRate { get; }

    /// <summary>The best metric seen.</summary>
    public double Best => _best;

    /// <summary>Takes an epoch's metric and lowers the rate when it has not improved for too long.</summary>
    /// <param name="metric">The metric, finite.</param>
    /// <returns>True when the rate was lowered.</returns>
    public bool Step(double metric)
    {
        if (!double.IsFinite(metric))
        {
            throw new ArgumentOutOfRangeException(nameof(metric), metric, "ReduceOnPlateau: the metric must be finite.");
        }

        // PyTorch's relative test as it is written (the first metric always beats the infinite start).
        var better = Goal == MetricGoal.Minimize ? metric < _best * (1 - Threshold) : metric > _best * (1 + Threshold);
        if (better)
        {
            _best = metric;
            _badEpochs = 0;
            return false;
        }

        if (++_badEpochs <= Patience)
        {
            return false;
        }

        _badEpochs = 0;
        var lowered = Math.Max(Optimizer.LearningRate * Factor, MinRate);
        if (Optimizer.LearningRate - lowered <= 1e-8)
        {
            return false;
        }

        Optimizer.SetScheduledRate(lowered, nameof(ReduceOnPlateau));
        return true;
    }
}
