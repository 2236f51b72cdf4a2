using AutoGrad.Nn.Optimizers;

namespace AutoGrad.Nn.Schedules;

/// <summary>
/// The rate times γ every <see cref="StepSize"/> steps, PyTorch's <c>StepLR</c>:
/// η·γ^⌊t / stepSize⌋.
/// </summary>
public sealed class StepDecay : LearningRateScheduler
{
    /// <summary>Binds the schedule and sets the rate for step 0.</summary>
    /// <param name="optimizer">The optimizer.</param>
    /// <param name="stepSize">Steps between decays, at least 1.</param>
    /// <param name="gamma">The factor, in (0, 1].</param>
    /// <param name="unit">What a step stands for (epochs, as in PyTorch, unless told).</param>
    public StepDecay(Optimizer optimizer, int stepSize, double gamma = 0.1, ScheduleUnit unit = ScheduleUnit.Epoch)
        : base(optimizer, unit)
    {
        StepSize = RequireAtLeast(stepSize, nameof(stepSize), 1);
        Gamma = RequireFactor(gamma, nameof(gamma));
        Apply();
    }

    /// <summary>Steps between decays.</summary>
    public int StepSize { get; }

    /// <summary>The factor per decay.</summary>
    public double Gamma { get; }

    /// <inheritdoc/>
    public override double RateAt(int step) => BaseRate * Math.Pow(Gamma, step / StepSize);
}
