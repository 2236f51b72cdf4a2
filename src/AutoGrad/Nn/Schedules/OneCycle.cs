using AutoGrad.Nn.Optimizers;

namespace AutoGrad.Nn.Schedules;

/// <summary>
/// Smith's one-cycle policy, as PyTorch's <c>OneCycleLR</c> computes it with its defaults (cosine annealing, two
/// phases): from max/divFactor up to max over the first <see cref="PercentStart"/> of the steps, then down to
/// max/(divFactor·finalDivFactor) at the last step. The optimizer's rate when the schedule is made is not used; its
/// momentum is left alone (PyTorch also cycles it).
/// </summary>
public sealed class OneCycle : LearningRateScheduler
{
    /// <summary>Binds the schedule and sets the rate for step 0.</summary>
    /// <param name="optimizer">The optimizer.</param>
    /// <param name="maxRate">The peak rate.</param>
    /// <param name="totalSteps">Steps in the cycle, at least 2.</param>
    /// <param name="percentStart">The share of the steps spent rising, in (0, 1).</param>
    /// <param name="divFactor">The start rate is maxRate / divFactor.</param>
    /// <param name="finalDivFactor">The last rate is the start rate / finalDivFactor.</param>
    public OneCycle(Optimizer optimizer, double maxRate, int totalSteps, double percentStart = 0.3, double divFactor = 25, double finalDivFactor = 1e4)
        : base(optimizer, ScheduleUnit.Batch)
    {
        MaxRate = RequireFactor(maxRate, nameof(maxRate), upToOne: false);
        TotalSteps = RequireAtLeast(totalSteps, nameof(totalSteps), 2);
        PercentStart = percentStart > 0 && percentStart < 1
            ? percentStart
            : throw new ArgumentOutOfRangeException(nameof(percentStart), percentStart, $"OneCycle: percentStart must be in (0, 1), got {percentStart}.");
        InitialRate = MaxRate / RequireFactor(divFactor, nameof(divFactor), upToOne: false);
        FinalRate = InitialRate / RequireFactor(finalDivFactor, nameof(finalDivFactor), upToOne: false);
        Apply();
    }

    /// <summary>The peak rate.</summary>
    public double MaxRate { get; }

    /// <summary>The rate at step 0.</summary>
    public double InitialRate { get; }

    /// <summary>The rate at the last step.</summary>
    public double FinalRate { get; }

    /// <summary>Steps in the cycle.</summary>
    public int TotalSteps { get; }

    /// <summary>The share of the steps spent rising.</summary>
    public double PercentStart { get; }

    /// <inheritdoc/>
    public override double RateAt(int step)
    {
        // PyTorch's phase ends: the peak at step pct·T − 1, the end at T − 1; past the end the last rate stays.
        var peak = (PercentStart * TotalSteps) - 1;
        var last = TotalSteps - 1.0;
        var t = Math.Min(step, last);
        return t <= peak
            ? Anneal(InitialRate, MaxRate, peak <= 0 ? 1 : t / peak)
            : Anneal(MaxRate, FinalRate, (t - peak) / (last - peak));
    }

    private static double Anneal(double start, double end, double fraction) => end + ((start - end) / 2 * (1 + Math.Cos(Math.PI * fraction)));
}
