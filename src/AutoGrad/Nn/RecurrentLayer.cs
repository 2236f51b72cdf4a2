using AutoGrad.Operations;
using AutoGrad.Tensors;

namespace AutoGrad.Nn;

/// <summary>
/// What the recurrent layers over (N, T, D) batches share: the input's projection for every time step at once (one
/// matrix product), the states between calls for truncated backpropagation through time (the book's TimeLSTM's
/// <c>stateful</c>), and the checks. The weights are drawn from U(−1/√H, 1/√H), as PyTorch does.
/// </summary>
public abstract class RecurrentLayer : Module
{
    private readonly string _name;

    /// <summary>Creates the layer's weights for <paramref name="gates"/> gates of <paramref name="hiddenSize"/> each.</summary>
    /// <param name="name">The layer's name, for messages.</param>
    /// <param name="inputSize">D.</param>
    /// <param name="hiddenSize">H.</param>
    /// <param name="gates">The gates per step (4 for an LSTM, 3 for a GRU, 1 for a plain RNN).</param>
    /// <param name="stateful">Whether each call starts from the last call's final states.</param>
    /// <param name="seed">The seed for the weights.</param>
    /// <param name="dtype">The element type.</param>
    private protected RecurrentLayer(string name, int inputSize, int hiddenSize, int gates, bool stateful, int seed, DType dtype)
    {
        RequireSizes(name, inputSize, hiddenSize);
        _name = name;
        var bound = 1 / Math.Sqrt(hiddenSize);
        InputWeight = RegisterParameter("weight_ih", Tensor.RandomUniform([inputSize, gates * hiddenSize], seed, -bound, bound, dtype));
        HiddenWeight = RegisterParameter("weight_hh", Tensor.RandomUniform([hiddenSize, gates * hiddenSize], seed + 1, -bound, bound, dtype));
        InputBias = RegisterParameter("bias_ih", Tensor.RandomUniform([gates * hiddenSize], seed + 2, -bound, bound, dtype));
        Stateful = stateful;
    }

    /// <summary>Wx, (D, gates·H).</summary>
    public Tensor InputWeight { get; }

    /// <summary>Wh, (H, gates·H).</summary>
    public Tensor HiddenWeight { get; }

    /// <summary>The input projection's bias, (gates·H,).</summary>
    public Tensor InputBias { get; }

    /// <summary>D.</summary>
    public int InputSize => InputWeight.Shape[0];

    /// <summary>H.</summary>
    public int HiddenSize => HiddenWeight.Shape[0];

    /// <summary>Whether each call starts from the last call's final states (truncated backpropagation through time).</summary>
    public bool Stateful { get; }

    /// <summary>The last call's final hidden state, (N, H): an owned copy that no tape tracks, or null before any call.</summary>
    public Tensor? FinalHidden { get; private protected set; }

    /// <summary>Forgets the carried states: the next call of a stateful layer starts from zeros.</summary>
    public virtual void ResetState() => FinalHidden = null;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Forward(input, null);

    /// <summary>The hidden states of every time step, (N, T, H), from <paramref name="initialHidden"/> (zeros when null, or the carried state of a stateful layer).</summary>
    /// <param name="input">The sequence batch, (N, T, D).</param>
    /// <param name="initialHidden">h₀, (N, H), or null.</param>
    /// <returns>The hidden states.</returns>
    public abstract Tensor Forward(Tensor input, Tensor? initialHidden);

    /// <summary>Checks the input and gives its projection for all steps, (N, T, gates·H), and N and T.</summary>
    private protected (Tensor Projected, int Batch, int Steps) Project(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank != 3 || input.Shape[2] != InputSize || input.Shape[1] == 0)
        {
            throw new ShapeMismatchException($"{_name}: expected (N, T, {InputSize}) with T ≥ 1, got {input.Shape}.");
        }

        int batch = input.Shape[0], steps = input.Shape[1], width = InputWeight.Shape[1];
        var projected = Ops.Reshape(Ops.Affine(Ops.Reshape(input, batch * steps, InputSize), InputWeight, InputBias), batch, steps, width);
        return (projected, batch, steps);
    }

    /// <summary>The state to start from: the given one, the carried one, or zeros; checked against the batch.</summary>
    private protected Tensor StartState(Tensor? given, Tensor? carried, int batch, string what)
    {
        var state = given ?? (Stateful ? carried : null) ?? Tensor.Zeros([batch, HiddenSize], InputWeight.DType);
        if (state.Rank != 2 || state.Shape[0] != batch || state.Shape[1] != HiddenSize)
        {
            throw new ShapeMismatchException($"{_name}: the {what} {state.Shape} must be ({batch}, {HiddenSize}) for this batch.");
        }

        return state;
    }

    /// <summary>Step t's projected gates, (N, gates·H).</summary>
    private protected static Tensor Step(Tensor projected, int t) =>
        Ops.Reshape(Ops.Narrow(projected, 1, t, 1), projected.Shape[0], projected.Shape[2]);
}
