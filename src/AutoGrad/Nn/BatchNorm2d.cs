using AutoGrad.Operations;
using AutoGrad.Tensors;

namespace AutoGrad.Nn;

/// <summary>
/// Batch normalization of (N, C, H, W) images per channel, as <c>torch.nn.BatchNorm2d</c>: in training the fused
/// <see cref="Ops.BatchNorm"/> with the batch's statistics over N·H·W values, which also update the running mean and
/// (unbiased) variance; in evaluation the running statistics instead.
/// </summary>
public sealed class BatchNorm2d : Module
{
    /// <summary>Creates the layer with γ = 1, β = 0, running mean 0 and running variance 1.</summary>
    /// <param name="channels">The channels C.</param>
    /// <param name="momentum">The weight of each new batch in the running statistics.</param>
    /// <param name="epsilon">Added to the variance before the square root.</param>
    /// <param name="dtype">The element type.</param>
    public BatchNorm2d(int channels, double momentum = 0.1, double epsilon = 1e-5, DType dtype = DType.Float32)
    {
        RequireSizes(nameof(BatchNorm2d), channels);
        if (!(momentum is >= 0 and <= 1) || !(epsilon > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), $"BatchNorm2d: momentum {momentum} must be in [0, 1] and epsilon {epsilon} positive.");
        }

        Momentum = momentum;
        Epsilon = epsilon;
        Gamma = RegisterParameter("weight", Tensor.Ones([channels], dtype));
        Beta = RegisterParameter("bias", Tensor.Zeros([channels], dtype));
        RunningMean = RegisterBuffer("running_mean", Tensor.Zeros([channels], dtype));
        RunningVariance = RegisterBuffer("running_var", Tensor.Ones([channels], dtype));
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
        var channels = Gamma.Length;
        if (input.Rank != 4 || input.Shape[1] != channels)
        {
            throw new ShapeMismatchException($"BatchNorm2d: expected (N, {channels}, H, W), got {input.Shape}.");
        }

        if (IsTraining)
        {
            return Ops.BatchNorm(input, Gamma, Beta, Epsilon, RunningMean, RunningVariance, Momentum);
        }

        Tensor PerChannel(Tensor t) => Ops.Reshape(t, 1, channels, 1, 1);
        var scale = Gamma / Ops.Sqrt(RunningVariance + Epsilon);
        return ((input - PerChannel(RunningMean)) * PerChannel(scale)) + PerChannel(Beta);
    }
}
