namespace AutoGrad.Autodiff;

/// <summary>
/// Thrown in anomaly mode (<see cref="Tape.DetectAnomalies"/>) when an op produces a NaN or an infinity, in its output
/// during forward or in an input's gradient during backward; the message names the op and its position on the tape.
/// </summary>
public sealed class AnomalyException : ArithmeticException
{
    /// <summary>Creates the exception.</summary>
    public AnomalyException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">Which op, where on the tape, what it produced.</param>
    public AnomalyException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">Which op, where on the tape, what it produced.</param>
    /// <param name="innerException">The cause.</param>
    public AnomalyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The op that produced the value.</summary>
    public string? Op { get; init; }

    /// <summary>The op's node index on the tape.</summary>
    public int Node { get; init; } = -1;
}
