using AutoGrad.Operations;
using AutoGrad.Tensors;

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

/// <summary>Gelu as a layer: exact (erf) by default, or the tanh approximation (GPT-2, BERT).</summary>
/// <param name="tanhApproximation">Use the tanh approximation.</param>
public sealed class Gelu(bool tanhApproximation = false) : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Ops.Gelu(input, tanhApproximation);
}

/// <summary>LeakyRelu as a layer.</summary>
/// <param name="slope">The slope for negative inputs (PyTorch's default 0.01).</param>
public sealed class LeakyRelu(double slope = 0.01) : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Ops.LeakyRelu(input, slope);
}

/// <summary>Elu as a layer.</summary>
/// <param name="alpha">α (PyTorch's default 1).</param>
public sealed class Elu(double alpha = 1) : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Ops.Elu(input, alpha);
}

/// <summary>Selu as a layer.</summary>
public sealed class Selu : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Ops.Selu(input);
}

/// <summary>Silu (swish) as a layer.</summary>
public sealed class Silu : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Ops.Silu(input);
}

/// <summary>Softplus as a layer.</summary>
public sealed class Softplus : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Ops.Softplus(input);
}

/// <summary>Mish as a layer.</summary>
public sealed class Mish : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Ops.Mish(input);
}

/// <summary>Softsign as a layer.</summary>
public sealed class Softsign : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Ops.Softsign(input);
}

/// <summary>HardTanh as a layer: x limited to [min, max].</summary>
/// <param name="min">The lower bound (PyTorch's default −1).</param>
/// <param name="max">The upper bound (PyTorch's default 1).</param>
public sealed class HardTanh(double min = -1, double max = 1) : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Ops.HardTanh(input, min, max);
}
