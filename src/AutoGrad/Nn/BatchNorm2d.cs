using AutoGrad.Tensors;

namespace AutoGrad.Nn;

/// <summary>
/// Batch normalization of (N, C, H, W) images per channel, as <c>torch.nn.BatchNorm2d</c>: in training the fused
/// <see cref="Operations.Ops.BatchNorm"/> with the batch's statistics over N·H·W values, which also update the running
/// mean and (unbiased) variance; in evaluation the running statistics instead.
/// </summary>
public sealed class BatchNorm2d : BatchNormalization
{
    /// <summary>Creates the layer with γ = 1, β = 0, running mean 0 and running variance 1.</summary>
    /// <param name="channels">The channels C.</param>
    /// <param name="momentum">The weight of each new batch in the running statistics.</param>
    /// <param name="epsilon">Added to the variance before the square root.</param>
    /// <param name="dtype">The element type; <see cref="Tensor.DefaultDType"/> when null.</param>
    public BatchNorm2d(int channels, double momentum = 0.1, double epsilon = 1e-5, DType? dtype = null)
        : base(nameof(BatchNorm2d), channels, momentum, epsilon, dtype)
    {
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank != 4 || input.Shape[1] != Gamma.Length)
        {
            throw new ShapeMismatchException($"BatchNorm2d: expected (N, {Gamma.Length}, H, W), got {input.Shape}.");
        }

        return Normalize(input);
    }
}
