namespace AutoGrad.Nn.Training;

/// <summary>
/// Thrown by <see cref="Trainer.Step"/> when a batch's loss, or a parameter's gradient, is NaN or infinite. The step
/// stops before the update, so the parameters keep their values from the last good step and a checkpoint of them is
/// still usable.
/// </summary>
public sealed class TrainingDivergedException : ArithmeticException
{
    /// <summary>Creates the exception.</summary>
    public TrainingDivergedException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What diverged and what to try.</param>
    public TrainingDivergedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">What diverged and what to try.</param>
    /// <param name="innerException">The cause.</param>
    public TrainingDivergedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The non-finite loss.</summary>
    public double Loss { get; init; } = double.NaN;
}
