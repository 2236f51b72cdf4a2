using AutoGrad.Operations;
using AutoGrad.Tensors;

namespace AutoGrad.Nn;

/// <summary>
/// A GRU over (N, T, D) batches, PyTorch's one-layer <c>nn.GRU(batch_first=True)</c> (gates r, z, n): per step,
/// <see cref="Ops.GruGates"/> of xₜ·Wx + bx (for all steps in one product) and h·Wh + bh.
/// </summary>
public sealed class Gru : RecurrentLayer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="inputSize">D.</param>
    /// <param name="hiddenSize">H.</param>
    /// <param name="stateful">Whether each call starts from the last call's final state.</param>
    /// <param name="seed">The seed for the weights; null draws one from the global generator (<see cref="Tensor.ManualSeed"/>).</param>
    /// <param name="dtype">The element type; <see cref="Tensor.DefaultDType"/> when null.</param>
    public Gru(int inputSize, int hiddenSize, bool stateful = false, int? seed = null, DType? dtype = null)
        : base(nameof(Gru), inputSize, hiddenSize, 3, stateful, seed, dtype)
    {
        var bound = 1 / Math.Sqrt(hiddenSize);
        HiddenBias = RegisterParameter("bias_hh", Tensor.RandomUniform([3 * hiddenSize], seed + 3, -bound, bound, dtype));
    }

    /// <summary>bh, (3H,): GRU's hidden projection keeps its own bias, since r multiplies it.</summary>
    public Tensor HiddenBias { get; }

    /// <summary>PyTorch's GRU keeps b_hn inside the reset gate, as this one does: its own bias_hh_l0.</summary>
    private protected override Tensor? TorchHiddenBias => HiddenBias;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor? initialHidden)
    {
        Tensor states;
        using (ResultRecycling.Begin())
        {
            // As in Lstm: the results stay inside this call, so a training step reuses their objects.
            var (projected, batch, steps) = Project(input);
            var h = StartState(initialHidden, CarriedHidden, batch, "initial hidden state");
            var outputs = StepResults(steps);
            for (var t = 0; t < steps; t++)
            {
                h = Ops.GruGates(Step(projected, t, batch), Ops.Affine(h, HiddenWeight, HiddenBias), h);
                outputs[t] = h;
            }

            CarriedHidden.Keep(h);
            states = Join(outputs);
        }

        return BatchMajor(states);
    }
}
