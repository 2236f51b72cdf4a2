namespace AutoGrad.Tensors;

/// <summary>Thrown when an operation's input shapes do not fit together; the message names the op and the shapes.</summary>
public sealed class ShapeMismatchException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    public ShapeMismatchException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What does not fit, naming the op and the shapes.</param>
    public ShapeMismatchException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception behind it.</summary>
    /// <param name="message">What does not fit.</param>
    /// <param name="innerException">The cause.</param>
    public ShapeMismatchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Thrown when an operation mixes float32 and float64 tensors; convert one with <see cref="Tensor.ToType(DType)"/>.</summary>
public sealed class DTypeMismatchException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    public DTypeMismatchException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">Which op and which element types.</param>
    public DTypeMismatchException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception behind it.</summary>
    /// <param name="message">Which op and which element types.</param>
    /// <param name="innerException">The cause.</param>
    public DTypeMismatchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
