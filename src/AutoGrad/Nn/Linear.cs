using AutoGrad.Operations;
using AutoGrad.Tensors;

namespace AutoGrad.Nn;

/// <summary>A fully connected layer, y = x·W + b, computed by the fused <see cref="Ops.Affine"/>.</summary>
public sealed class Linear : Module
{
    /// <summary>Creates the layer with weights drawn from <paramref name="init"/> and zero bias.</summary>
    /// <param name="inFeatures">Inputs per sample (the fan-in).</param>
    /// <param name="outFeatures">Outputs per sample.</param>
    /// <param name="init">The weight initialization; null for the book's σ = 0.01.</param>
    /// <param name="seed">The seed for the weights; null draws one from the global generator (<see cref="Tensor.ManualSeed"/>).</param>
    /// <param name="dtype">The element type of the parameters; <see cref="Tensor.DefaultDType"/> when null.</param>
    public Linear(int inFeatures, int outFeatures, WeightInit? init = null, int? seed = null, DType? dtype = null)
    {
        RequireSizes(nameof(Linear), inFeatures, outFeatures);
        var std = (init ?? WeightInit.Default).StdFor(inFeatures);
        Weight = RegisterParameter("weight", Tensor.RandomNormal([inFeatures, outFeatures], seed, std: std, dtype: dtype));
        Bias = RegisterParameter("bias", Tensor.Zeros([outFeatures], dtype));
    }

    /// <summary>The weights, (in, out) as in the book (PyTorch stores the transpose).</summary>
    public Tensor Weight { get; }

    /// <summary>The bias, (out,).</summary>
    public Tensor Bias { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Ops.Affine(input, Weight, Bias);

    /// <summary>PyTorch's <c>nn.Linear</c> keeps the weight as (out, in).</summary>
    private protected override IEnumerable<TorchTensor> OwnTorchTensors() =>
        [TorchTensor.Transposed("weight", Weight), TorchTensor.AsIs("bias", Bias)];
}
