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
    /// <summary>Creates the layer.</summary>
    /// <param name="inputSize">D.</param>
    /// <param name="hiddenSize">H.</param>
    /// <param name="stateful">Whether each call starts from the last call's final states.</param>
    /// <param name="seed">The seed for the weights.</param>
    /// <param name="dtype">The element type.</param>
    public Lstm(int inputSize, int hiddenSize, bool stateful = false, int seed = 0, DType dtype = DType.Float32)
        : base(nameof(Lstm), inputSize, hiddenSize, 4, stateful, seed, dtype)
    {
    }

    /// <summary>The last call's final cell state, (N, H), owned, or null before any call.</summary>
    public Tensor? FinalCell { get; private set; }

    /// <inheritdoc/>
    public override void ResetState()
    {
        base.ResetState();
        FinalCell = null;
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor? initialHidden) => Forward(input, initialHidden, null);

    /// <summary>The hidden states of every step, (N, T, H), from h₀ and c₀ (zeros when null, or the carried states of a stateful layer).</summary>
    /// <param name="input">The sequence batch, (N, T, D).</param>
    /// <param name="initialHidden">h₀, (N, H), or null.</param>
    /// <param name="initialCell">c₀, (N, H), or null.</param>
    /// <returns>The hidden states.</returns>
    public Tensor Forward(Tensor input, Tensor? initialHidden, Tensor? initialCell)
    {
        var (projected, batch, steps) = Project(input);
        var h = StartState(initialHidden, FinalHidden, batch, "initial hidden state");
        var c = StartState(initialCell, FinalCell, batch, "initial cell state");
        var outputs = new Tensor[steps];
        for (var t = 0; t < steps; t++)
        {
            var both = Ops.LstmGates(Step(projected, t) + Ops.MatMul(h, HiddenWeight), c);
            h = Ops.Reshape(Ops.Slice(both, 0, 1), batch, HiddenSize);
            c = Ops.Reshape(Ops.Slice(both, 1, 1), batch, HiddenSize);
            outputs[t] = h;
        }

        FinalHidden = h.Clone();
        FinalCell = c.Clone();
        return Ops.Stack(outputs, 1);
    }
}
