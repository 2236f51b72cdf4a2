using AutoGrad.Operations;
using AutoGrad.Tensors;

namespace AutoGrad.Nn;

/// <summary>
/// An LSTM over (N, T, D) batches, the book's TimeLSTM and PyTorch's one-layer <c>nn.LSTM(batch_first=True)</c> with
/// the book's gate order f, g, i, o: per step, A = xₜ·Wx + h·Wh + b (the input's part for all steps in one product),
/// then the fused <see cref="Ops.LstmGates"/>.
/// </summary>
public sealed class Lstm : RecurrentLayer
{
    private readonly CarriedState _carriedCell = new();

    /// <summary>Creates the layer.</summary>
    /// <param name="inputSize">D.</param>
    /// <param name="hiddenSize">H.</param>
    /// <param name="stateful">Whether each call starts from the last call's final states.</param>
    /// <param name="seed">The seed for the weights; null draws one from the global generator (<see cref="Tensor.ManualSeed"/>).</param>
    /// <param name="dtype">The element type; <see cref="Tensor.DefaultDType"/> when null.</param>
    public Lstm(int inputSize, int hiddenSize, bool stateful = false, int? seed = null, DType? dtype = null)
        : base(nameof(Lstm), inputSize, hiddenSize, 4, stateful, seed, dtype)
    {
    }

    /// <summary>The last call's final cell state, (N, H): an owned copy like <see cref="RecurrentLayer.FinalHidden"/>, or null before any call.</summary>
    public Tensor? FinalCell => _carriedCell.Snapshot;

    /// <inheritdoc/>
    public override void ResetState()
    {
        base.ResetState();
        _carriedCell.Forget();
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor? initialHidden) => Forward(input, initialHidden, null);

    /// <summary>PyTorch's gates i, f, g, o are this layer's blocks 2, 0, 1, 3 (the book's f, g, i, o).</summary>
    private protected override int[] TorchGateOrder => [2, 0, 1, 3];

    /// <summary>The hidden states of every step, (N, T, H), from h₀ and c₀ (zeros when null, or the carried states of a stateful layer).</summary>
    /// <param name="input">The sequence batch, (N, T, D).</param>
    /// <param name="initialHidden">h₀, (N, H), or null.</param>
    /// <param name="initialCell">c₀, (N, H), or null.</param>
    /// <returns>The hidden states.</returns>
    public Tensor Forward(Tensor input, Tensor? initialHidden, Tensor? initialCell)
    {
        Tensor states;
        using (ResultRecycling.Begin())
        {
            // Every result below stays inside this call (the states handed out are copies), so a training step
            // reuses the last step's tensor objects; the result is made outside.
            var (projected, batch, steps) = Project(input);
            var h = StartState(initialHidden, CarriedHidden, batch, "initial hidden state");
            var c = StartState(initialCell, _carriedCell, batch, "initial cell state");
            var outputs = StepResults(steps);
            for (var t = 0; t < steps; t++)
            {
                var both = Ops.LstmGates(Step(projected, t, batch) + Ops.MatMul(h, HiddenWeight), c);
                h = Ops.Reshape(Ops.Slice(both, 0, 1), batch, HiddenSize);
                c = Ops.Reshape(Ops.Slice(both, 1, 1), batch, HiddenSize);
                outputs[t] = h;
            }

            CarriedHidden.Keep(h);
            _carriedCell.Keep(c);
            states = Join(outputs);
        }

        return BatchMajor(states);
    }
}
