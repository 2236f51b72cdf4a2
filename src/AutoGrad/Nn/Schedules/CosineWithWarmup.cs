using AutoGrad.Nn.Optimizers;

namespace AutoGrad.Nn.Schedules;

/// <summary>
/// A linear warm-up, then a half cosine down to <see cref="MinRate"/> (the transformers' schedule; PyTorch's
/// <c>LinearLR</c> chained with <c>CosineAnnealingLR</c>): for t &lt; w, η·(t + 1)/w; then
/// m + (η − m)·(1 + cos(π·(t − w)/(T − w)))/2, and m from step T on.
/// </summary>
public sealed class CosineWithWarmup : LearningRateScheduler
{
    /// <summary>Binds the schedule and sets the rate for step 0.</summary>
    /// <param name="optimizer">The optimizer; its rate is the peak.</param>
    /// <param name="warmupSteps">Steps of the linear warm-up (0 for none); fewer than <paramref name="totalSteps"/>.</param>
    /// <param name="totalSteps">Steps until the rate reaches <paramref name="minRate"/>.</param>
    /// <param name="minRate">The final rate, at least 0 and below the peak.</param>
    /// <param name="unit">What a step stands for (batches unless told).</param>
    public CosineWithWarmup(Optimizer optimizer, int warmupSteps, int totalSteps, double minRate = 0, ScheduleUnit unit = ScheduleUnit.Batch)
        : base(optimizer, unit)
    {
        TotalSteps = RequireAtLeast(totalSteps, nameof(totalSteps), 1);
        WarmupSteps = warmupSteps >= 0 && warmupSteps < totalSteps
            ? warmupSteps
            : throw new ArgumentOutOfRangeException(nameof(warmupSteps), warmupSteps, $"CosineWithWarmup: warmupSteps must be in [0, {totalSteps}), below totalSteps.");
        MinRate = minRate >= 0 && minRate < BaseRate
            ? minRate
            : throw new ArgumentOutOfRangeException(nameof(minRate), minRate, $"CosineWithWarmup: minRate must be in [0, {BaseRate}), below the optimizer's rate.");
        Apply();
    }

    /// <summary>Steps of the warm-up.</summary>
    public int WarmupSteps { get; }

    /// <summary>Steps until the end of the cosine.</summary>
    public int TotalSteps { get; }

    /// <summary>The final rate.</summary>
    public double MinRate { get; }

    /// <inheritdoc/>
    public override double RateAt(int step)
    {
        if (step < WarmupSteps)
        {
            return BaseRate * (step + 1) / WarmupSteps;
        }

        var progress = Math.Min(1.0, (double)(step - WarmupSteps) / (TotalSteps - WarmupSteps));
        return MinRate + ((BaseRate - MinRate) * (1 + Math.Cos(Math.PI * progress)) / 2);
    }
}
