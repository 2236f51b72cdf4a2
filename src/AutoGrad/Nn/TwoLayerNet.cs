using AutoGrad.Operations;
using AutoGrad.Tensors;

namespace AutoGrad.Nn;

/// <summary>The book's two-layer net: Affine → ReLU → Affine, trained with SoftmaxWithLoss.</summary>
public sealed class TwoLayerNet : Module
{
    /// <summary>Creates the net with the book's σ = 0.01 weights unless told otherwise.</summary>
    /// <param name="inputSize">Inputs per sample.</param>
    /// <param name="hiddenSize">Hidden units.</param>
    /// <param name="outputSize">Classes.</param>
    /// <param name="init">The weight initialization; null for σ = 0.01.</param>
    /// <param name="seed">The seed for the weights (the two layers use seed and seed + 1); null draws one from the global generator (<see cref="Tensor.ManualSeed"/>).</param>
    /// <param name="dtype">The element type; <see cref="Tensor.DefaultDType"/> when null.</param>
    public TwoLayerNet(int inputSize, int hiddenSize, int outputSize, WeightInit? init = null, int? seed = null, DType? dtype = null)
    {
        RequireSizes(nameof(TwoLayerNet), inputSize, hiddenSize, outputSize);
        Affine1 = RegisterModule("affine1", new Linear(inputSize, hiddenSize, init, seed, dtype));
        Affine2 = RegisterModule("affine2", new Linear(hiddenSize, outputSize, init, seed + 1, dtype));
    }

    /// <summary>The first layer.</summary>
    public Linear Affine1 { get; }

    /// <summary>The second layer.</summary>
    public Linear Affine2 { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Affine2.Forward(Ops.Relu(Affine1.Forward(input)));
}
