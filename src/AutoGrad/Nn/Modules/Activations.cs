namespace AutoGrad.Nn;

/// <summary>max(x, 0) as a layer.</summary>
public sealed class Relu : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Ops.Relu(input);
}

/// <summary>The logistic sigmoid as a layer.</summary>
public sealed class Sigmoid : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Ops.Sigmoid(input);
}

/// <summary>tanh as a layer.</summary>
public sealed class Tanh : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Ops.Tanh(input);
}

/// <summary>Softmax along an axis as a layer.</summary>
/// <param name="axis">The axis that sums to 1.</param>
public sealed class Softmax(int axis = -1) : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Ops.Softmax(input, axis);
}
