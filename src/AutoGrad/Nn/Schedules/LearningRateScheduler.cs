using AutoGrad.Nn.Optimizers;

namespace AutoGrad.Nn.Schedules;

/// <summary>What one <see cref="LearningRateScheduler.Step"/> of a schedule stands for, so a training loop knows when to call it.</summary>
public enum ScheduleUnit
{
    /// <summary>One pass over the training set (PyTorch's StepLR and ExponentialLR are written in epochs).</summary>
    Epoch,

    /// <summary>One optimizer step (warm-ups, cosine and one-cycle schedules are written in batches).</summary>
    Batch,
}

/// <summary>
/// A learning-rate schedule that is a function of the number of steps taken, PyTorch's <c>LRScheduler</c>: it sets
/// the optimizer's rate for step 0 when made, and each <see cref="Step"/> (after an epoch or a batch, as
/// <see cref="Unit"/> says) sets the next one.
/// </summary>
public abstract class LearningRateScheduler
{
    /// <summary>Binds the schedule to <paramref name="optimizer"/>, whose current rate is the base rate.</summary>
    /// <param name="optimizer">The optimizer whose rate the schedule sets.</param>
    /// <param name="unit">What one step stands for.</param>
    protected LearningRateScheduler(Optimizer optimizer, ScheduleUnit unit)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (!Enum.IsDefined(unit))
        {
            throw new ArgumentOutOfRangeException(nameof(unit), unit, $"{GetType().Name}: {unit} is not a schedule unit.");
        }

        Optimizer = optimizer;
        BaseRate = optimizer.LearningRate;
        Unit = unit;
    }

    /// <summary>The optimizer whose rate is set.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>The optimizer's rate when the schedule was made.</summary>
    public double BaseRate { get; }

    /// <summary>What one step stands for.</summary>
    public ScheduleUnit Unit { get; }

    /// <summary>Steps taken.</summary>
    public int StepCount { get; private set; }

    /// <summary>Moves to the next step and sets the optimizer's rate for it.</summary>
    public void Step()
    {
        StepCount++;
        Apply();
    }

    /// <summary>The rate at <paramref name="step"/> (0 when made).</summary>
    /// <param name="step">Steps taken.</param>
    /// <returns>The rate, finite and not negative.</returns>
    public abstract double RateAt(int step);

    /// <summary>Sets the optimizer's rate for the current step; a derived constructor calls it last, for step 0.</summary>
    protected void Apply() => Optimizer.SetScheduledRate(RateAt(StepCount), GetType().Name);

    /// <summary>Checks a count the schedule is given.</summary>
    /// <param name="value">The value.</param>
    /// <param name="name">Its parameter's name.</param>
    /// <param name="minimum">The smallest allowed.</param>
    /// <returns>The value.</returns>
    protected int RequireAtLeast(int value, string name, int minimum) => value >= minimum
        ? value
        : throw new ArgumentOutOfRangeException(name, value, $"{GetType().Name}: {name} must be at least {minimum}, got {value}.");

    /// <summary>Checks a factor the schedule is given: finite and in (0, 1] (or above 0 when <paramref name="upToOne"/> is false).</summary>
    /// <param name="value">The value.</param>
    /// <param name="name">Its parameter's name.</param>
    /// <param name="upToOne">Whether 1 is the largest allowed.</param>
    /// <returns>The value.</returns>
    protected double RequireFactor(double value, string name, bool upToOne = true) => value > 0 && double.IsFinite(value) && (!upToOne || value <= 1)
        ? value
        : throw new ArgumentOutOfRangeException(name, value, $"{GetType().Name}: {name} must be {(upToOne ? "in (0, 1]" : "positive and finite")}, got {value}.");
}
