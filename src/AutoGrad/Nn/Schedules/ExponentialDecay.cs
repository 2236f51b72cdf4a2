using AutoGrad.Nn.Optimizers;

namespace AutoGrad.Nn.Schedules;

/// <summary>The rate times γ at every step, PyTorch's <c>ExponentialLR</c>: η·γ^t.</summary>
public sealed class ExponentialDecay : LearningRateScheduler
{
    /// <summary>Binds the schedule and sets the rate for step 0.</summary>
    /// <param name="optimizer">The optimizer.</param>
    /// <param name="gamma">The factor per step, in (0, 1].</param>
    /// <param name="unit">What a step stands for (epochs, as in PyTorch, unless told).</param>
    public ExponentialDecay(Optimizer optimizer, double gamma, ScheduleUnit unit = ScheduleUnit.Epoch)
        : base(optimizer, unit)
    {
        Gamma = RequireFactor(gamma, nameof(gamma));
        Apply();
    }

    /// <summary>The factor per step.</summary>
    public double Gamma { get; }

    /// <inheritdoc/>
    public override double RateAt(int step) => BaseRate * Math.Pow(Gamma, step);
}
