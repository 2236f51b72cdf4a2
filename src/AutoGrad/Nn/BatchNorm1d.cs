using AutoGrad.Operations;
using AutoGrad.Tensors;

namespace AutoGrad.Nn;

/// <summary>
/// Batch normalization over the batch axis of (N, features) inputs, as <c>torch.nn.BatchNorm1d</c>: in training
/// y = γ·(x − μ_B)/√(σ²_B + ε) + β with the batch's statistics, which also update the running mean and (unbiased)
/// variance with the given momentum; in evaluation the running statistics are used instead.
/// </summary>
public sealed class BatchNorm1d : Module
{
    /// <summary>Creates the layer with γ = 1, β = 0, running mean 0 and running variance 1.</summary>
    /// <param name="features">The size of the feature axis.</param>
    /// <param name="momentum">The weight of the new batch in the running statistics.</param>
    /// <param name="epsilon">Added to the variance before the square root.</param>
    /// <param name="dtype">The element type.</param>
    public BatchNorm1d(int features, double momentum = 0.1, double epsilon = 1e-5, DType dtype = DType.Float32)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(features);
        if (!(momentum is >= 0 and <= 1) || !(epsilon > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), $"BatchNorm1d: momentum {momentum} must be in [0, 1] and epsilon {epsilon} positive.");
        }

        Momentum = momentum;
        Epsilon = epsilon;
        Gamma = RegisterParameter("weight", Tensor.Ones([features], dtype));
        Beta = RegisterParameter("bias", Tensor.Zeros([features], dtype));
        RunningMean = RegisterBuffer("running_mean", Tensor.Zeros([features], dtype));
        RunningVariance = RegisterBuffer("running_var", Tensor.Ones([features], dtype));
    }

    /// <summary>The scale γ.</summary>
    public Tensor Gamma { get; }

    /// <summary>The shift β.</summary>
    public Tensor Beta { get; }

    /// <summary>The running mean used in evaluation.</summary>
    public Tensor RunningMean { get; }

    /// <summary>The running unbiased variance used in evaluation.</summary>
    public Tensor RunningVariance { get; }

    /// <summary>The weight of each new batch in the running statistics.</summary>
    public double Momentum { get; }

    /// <summary>Added to the variance for stability.</summary>
    public double Epsilon { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank != 2 || input.Shape[1] != Gamma.Length)
        {
            throw new ShapeMismatchException($"BatchNorm1d: expected (N, {Gamma.Length}), got {input.Shape}.");
        }

        if (!IsTraining)
        {
            return (Gamma * ((input - RunningMean) / Ops.Sqrt(RunningVariance + Epsilon))) + Beta;
        }

        var n = input.Shape[0];
        if (n < 2)
        {
            throw new ArgumentException($"BatchNorm1d: training needs at least 2 samples per batch to estimate a variance, got {input.Shape}.", nameof(input));
        }

        var mean = Ops.Mean(input, 0, keepDims: true);
        var centered = input - mean;
        var variance = Ops.Mean(centered * centered, 0, keepDims: true);
        UpdateRunning(RunningMean, mean, 1.0);
        UpdateRunning(RunningVariance, variance, n / (n - 1.0));
        return (Gamma * (centered / Ops.Sqrt(variance + Epsilon))) + Beta;
    }

    private void UpdateRunning(Tensor running, Tensor batch, double correction)
    {
        // Read the batch statistics in place (no copy), so a training step with batch norm allocates nothing extra.
        ElementType.Dispatch(running.DType, new RunningUpdate(running, batch, Momentum, correction));
    }

    /// <summary>running ← (1 − momentum)·running + momentum·correction·batch, in float64 arithmetic.</summary>
    private readonly struct RunningUpdate(Tensor running, Tensor batch, double momentum, double correction) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            var r = running.AsSpan<T>();
            var values = batch.AsReadOnlySpan<T>();
            for (var i = 0; i < r.Length; i++)
            {
                var updated = ((1 - momentum) * double.CreateTruncating(r[i])) + (momentum * correction * double.CreateTruncating(values[i]));
                r[i] = T.CreateTruncating(updated);
            }
        }
    }
}
