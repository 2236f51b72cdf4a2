using AutoGrad.Tensors;

using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace AutoGrad.Nn.Optimizers;

/// <summary>Plain stochastic gradient descent: p ← p − η·g.</summary>
/// <param name="parameters">The parameters.</param>
/// <param name="learningRate">η.</param>
/// <param name="weightDecay">L2 penalty λ (g ← g + λ·p).</param>
public sealed class Sgd(IEnumerable<Tensor> parameters, double learningRate = 0.01, double weightDecay = 0)
    : Optimizer(parameters, learningRate, weightDecay, stateSlots: 0)
{
    /// <inheritdoc/>
    protected override void Update<T>(int index, int start, Span<T> parameter, Span<T> gradient)
    {
        ApplyWeightDecay<T>(parameter, gradient);
        TensorPrimitives.MultiplyAdd(gradient, T.CreateTruncating(-LearningRate), parameter, parameter);
    }
}

/// <summary>The book's momentum SGD: v ← μ·v − η·g; p ← p + v.</summary>
/// <param name="parameters">The parameters.</param>
/// <param name="learningRate">η.</param>
/// <param name="momentum">μ.</param>
/// <param name="weightDecay">L2 penalty λ.</param>
public sealed class Momentum(IEnumerable<Tensor> parameters, double learningRate = 0.01, double momentum = 0.9, double weightDecay = 0)
    : Optimizer(parameters, learningRate, weightDecay, stateSlots: 1)
{
    private readonly double _momentum = RequireFraction(momentum, nameof(Momentum), nameof(momentum));

    /// <inheritdoc/>
    protected override void Update<T>(int index, int start, Span<T> parameter, Span<T> gradient)
    {
        ApplyWeightDecay<T>(parameter, gradient);
        var v = State<T>(0, index, start, parameter.Length);
        TensorPrimitives.Multiply(v, T.CreateTruncating(_momentum), v);
        TensorPrimitives.MultiplyAdd(gradient, T.CreateTruncating(-LearningRate), v, v);
        TensorPrimitives.Add(parameter, v, parameter);
    }
}

/// <summary>
/// The book's Nesterov accelerated gradient: v ← μ·v − η·g; p ← p + μ²·v − (1 + μ)·η·g
/// (the form that needs no look-ahead evaluation).
/// </summary>
/// <param name="parameters">The parameters.</param>
/// <param name="learningRate">η.</param>
/// <param name="momentum">μ.</param>
/// <param name="weightDecay">L2 penalty λ.</param>
public sealed class Nesterov(IEnumerable<Tensor> parameters, double learningRate = 0.01, double momentum = 0.9, double weightDecay = 0)
    : Optimizer(parameters, learningRate, weightDecay, stateSlots: 1)
{
    private readonly double _momentum = RequireFraction(momentum, nameof(Nesterov), nameof(momentum));

    /// <inheritdoc/>
    protected override void Update<T>(int index, int start, Span<T> parameter, Span<T> gradient)
    {
        ApplyWeightDecay<T>(parameter, gradient);
        var v = State<T>(0, index, start, parameter.Length);
        var mu = T.CreateTruncating(_momentum);
        var lr = T.CreateTruncating(LearningRate);
        TensorPrimitives.Multiply(v, mu, v);
        TensorPrimitives.MultiplyAdd(gradient, -lr, v, v);
        TensorPrimitives.MultiplyAdd(v, mu * mu, parameter, parameter);
        TensorPrimitives.MultiplyAdd(gradient, -(T.One + mu) * lr, parameter, parameter);
    }
}
