using AutoGrad.Operations;
using AutoGrad.Tensors;

namespace AutoGrad.Nn;

/// <summary>
/// Layer normalization over the last axis, as <c>torch.nn.LayerNorm(features)</c>: each row of
/// <see cref="Features"/> values is normalized by its own mean and variance, then scaled by γ and shifted by β
/// (<see cref="Ops.LayerNorm"/>). Unlike batch normalization it keeps no running statistics, so training and
/// evaluation compute the same thing.
/// </summary>
public sealed class LayerNorm : Module
{
    /// <summary>Creates the layer with γ = 1 and β = 0.</summary>
    /// <param name="features">The size of the last axis.</param>
    /// <param name="epsilon">Added to the variance (positive).</param>
    /// <param name="dtype">The element type of the parameters; <see cref="Tensor.DefaultDType"/> when null.</param>
    public LayerNorm(int features, double epsilon = 1e-5, DType? dtype = null)
    {
        RequireSizes(nameof(LayerNorm), features);
        if (!(epsilon > 0) || !double.IsFinite(epsilon))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, $"LayerNorm: epsilon {epsilon} must be positive and finite.");
        }

        Epsilon = epsilon;
        Weight = RegisterParameter("weight", Tensor.Ones([features], dtype));
        Bias = RegisterParameter("bias", Tensor.Zeros([features], dtype));
    }

    /// <summary>The size of the normalized axis.</summary>
    public int Features => Weight.Length;

    /// <summary>The value added to each row's variance.</summary>
    public double Epsilon { get; }

    /// <summary>γ, (features,).</summary>
    public Tensor Weight { get; }

    /// <summary>β, (features,).</summary>
    public Tensor Bias { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank == 0 || input.Shape[input.Rank - 1] != Features)
        {
            throw new ShapeMismatchException($"LayerNorm: expected a last axis of {Features}, got {input.Shape}.");
        }

        return Ops.LayerNorm(input, Weight, Bias, Epsilon);
    }
}
