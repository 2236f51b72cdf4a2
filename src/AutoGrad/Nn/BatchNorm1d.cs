using AutoGrad.Tensors;

namespace AutoGrad.Nn;

/// <summary>
/// Batch normalization over the batch axis of (N, features) inputs, as <c>torch.nn.BatchNorm1d</c>: in training
/// y = γ·(x − μ_B)/√(σ²_B + ε) + β with the batch's statistics, which also update the running mean and (unbiased)
/// variance with the given momentum; in evaluation the running statistics are used instead.
/// </summary>
public sealed class BatchNorm1d : BatchNormalization
{
    /// <summary>Creates the layer with γ = 1, β = 0, running mean 0 and running variance 1.</summary>
    /// <param name="features">The size of the feature axis.</param>
    /// <param name="momentum">The weight of the new batch in the running statistics.</param>
    /// <param name="epsilon">Added to the variance before the square root.</param>
    /// <param name="dtype">The element type; <see cref="Tensor.DefaultDType"/> when null.</param>
    public BatchNorm1d(int features, double momentum = 0.1, double epsilon = 1e-5, DType? dtype = null)
        : base(nameof(BatchNorm1d), features, momentum, epsilon, dtype)
    {
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank != 2 || input.Shape[1] != Gamma.Length)
        {
            throw new ShapeMismatchException($"BatchNorm1d: expected (N, {Gamma.Length}), got {input.Shape}.");
        }

        if (IsTraining && input.Shape[0] < 2)
        {
            throw new ArgumentException($"BatchNorm1d: training needs at least 2 samples per batch to estimate a variance, got {input.Shape}.", nameof(input));
        }

        return Normalize(input);
    }
}
