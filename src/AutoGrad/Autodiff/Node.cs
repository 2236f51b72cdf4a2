namespace AutoGrad;

/// <summary>
/// One entry of the tape (a Wengert list): which op ran, its output, up to three inputs, and what its backward
/// rule needs. A plain struct stored in an array, so recording allocates nothing per op.
/// </summary>
internal struct Node
{
    /// <summary>The op; its <see cref="Op.Backward"/> turns the output's gradient into the inputs' gradients.</summary>
    public Op Op;

    /// <summary>The value the op produced.</summary>
    public Tensor Output;

    /// <summary>The inputs, as the forward pass saw them.</summary>
    public Tensor? A, B, C;

    /// <summary>The nodes of the inputs that need a gradient, or -1 for inputs that need none (nothing is computed for them).</summary>
    public int InA, InB, InC;

    /// <summary>Op-specific values: an axis, a scalar, a saved tensor, labels.</summary>
    public NodeArgs Args;
}

/// <summary>The op-specific part of a <see cref="Node"/>; each op documents which fields it uses.</summary>
internal struct NodeArgs
{
    /// <summary>A tensor the forward pass computed for the backward pass (softmax probabilities, for example).</summary>
    public Tensor? Saved;

    /// <summary>Class indices, for ops that take labels.</summary>
    public ReadOnlyMemory<int> Labels;

    /// <summary>An axis or another integer parameter.</summary>
    public int Axis;

    /// <summary>A second integer parameter (a slice's start, for example).</summary>
    public int Index;

    /// <summary>Whether a reduction kept the reduced axis.</summary>
    public bool KeepDims;

    /// <summary>A scalar parameter (an exponent, a divisor).</summary>
    public double Scalar;

    /// <summary>An integer list (a permutation).</summary>
    public int[]? Ints;

    /// <summary>All inputs of an op with any number of them (a <see cref="CustomOp"/>); A, B, C stay unused.</summary>
    public Tensor[]? Inputs;

    /// <summary>The nodes of <see cref="Inputs"/> (−1 for inputs that need no gradient).</summary>
    public int[]? InputNodes;
}
