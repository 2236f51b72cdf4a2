namespace AutoGrad.Transforms;

/// <summary>How <see cref="Functional.Jacobian"/> builds the Jacobian.</summary>
public enum JacobianMode
{
    /// <summary>Forward when the input has fewer elements than the output, reverse otherwise (the fewer sweeps).</summary>
    Auto,

    /// <summary>One reverse sweep per output element (JAX's <c>jacrev</c>): the rows.</summary>
    Reverse,

    /// <summary>Forward sweeps over the recorded graph, a batch of input directions each (JAX's <c>jacfwd</c>): the columns.</summary>
    Forward,
}
