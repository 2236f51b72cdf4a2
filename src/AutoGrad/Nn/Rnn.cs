using AutoGrad.Operations;
using AutoGrad.Tensors;

namespace AutoGrad.Nn;

/// <summary>An Elman RNN over (N, T, D) batches, the book's TimeRNN: hₜ = tanh(xₜ·Wx + hₜ₋₁·Wh + b).</summary>
public sealed class Rnn : RecurrentLayer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="inputSize">D.</param>
    /// <param name="hiddenSize">H.</param>
    /// <param name="stateful">Whether each call starts from the last call's final state.</param>
    /// <param name="seed">The seed for the weights; null draws one from the global generator (<see cref="Tensor.ManualSeed"/>).</param>
    /// <param name="dtype">The element type; <see cref="Tensor.DefaultDType"/> when null.</param>
    public Rnn(int inputSize, int hiddenSize, bool stateful = false, int? seed = null, DType? dtype = null)
        : base(nameof(Rnn), inputSize, hiddenSize, 1, stateful, seed, dtype)
    {
    }

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
                h = Ops.Tanh(Step(projected, t, batch) + Ops.MatMul(h, HiddenWeight));
                outputs[t] = h;
            }

            CarriedHidden.Keep(h);
            states = Join(outputs);
        }

        return BatchMajor(states);
    }
}
