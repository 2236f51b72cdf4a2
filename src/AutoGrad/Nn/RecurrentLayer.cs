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
    private Tensor[] _stepResults = [];
    private Tensor? _zeros;

    /// <summary>Creates the layer's weights for <paramref name="gates"/> gates of <paramref name="hiddenSize"/> each.</summary>
    /// <param name="name">The layer's name, for messages.</param>
    /// <param name="inputSize">D.</param>
    /// <param name="hiddenSize">H.</param>
    /// <param name="gates">The gates per step (4 for an LSTM, 3 for a GRU, 1 for a plain RNN).</param>
    /// <param name="stateful">Whether each call starts from the last call's final states.</param>
    /// <param name="seed">The seed for the weights.</param>
    /// <param name="dtype">The element type.</param>
    private protected RecurrentLayer(string name, int inputSize, int hiddenSize, int gates, bool stateful, int? seed, DType? dtype)
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

    /// <summary>
    /// The last call's final hidden state, (N, H): an owned copy that no tape tracks and no later call changes, or null
    /// before any call (made when first read after a call, so a training loop that never reads it copies nothing).
    /// </summary>
    public Tensor? FinalHidden => CarriedHidden.Snapshot;

    /// <summary>The final hidden state between calls.</summary>
    private protected CarriedState CarriedHidden { get; } = new();

    /// <summary>Forgets the carried states: the next call of a stateful layer starts from zeros.</summary>
    public virtual void ResetState() => CarriedHidden.Forget();

    /// <summary>
    /// For each of PyTorch's gate blocks in order, the block here that holds it (PyTorch's LSTM orders its gates i, f,
    /// g, o where this library follows the book's f, g, i, o); the identity by default.
    /// </summary>
    private protected virtual int[] TorchGateOrder => [.. Enumerable.Range(0, InputBias.Length / HiddenSize)];

    /// <summary>The hidden projection's own bias where the layer has one (a GRU's, inside its reset gate); null where
    /// PyTorch's two biases simply add up to this layer's one.</summary>
    private protected virtual Tensor? TorchHiddenBias => null;

    /// <summary>
    /// PyTorch's one-layer <c>nn.LSTM</c>/<c>nn.GRU</c>/<c>nn.RNN</c> (<c>batch_first=True</c>): <c>weight_ih_l0</c>
    /// (gates·H, D) and <c>weight_hh_l0</c> (gates·H, H), the transposes of this layer's, gate blocks in PyTorch's order;
    /// <c>bias_ih_l0</c> and <c>bias_hh_l0</c>. Where this layer has one bias, it is written as <c>bias_ih_l0</c> with a
    /// zero <c>bias_hh_l0</c>, and read back as their sum.
    /// </summary>
    private protected override IEnumerable<TorchTensor> OwnTorchTensors()
    {
        var order = TorchGateOrder;
        var inverse = new int[order.Length];
        for (var k = 0; k < order.Length; k++)
        {
            inverse[order[k]] = k;
        }

        int hidden = HiddenSize, rows = order.Length * hidden;
        Tensor ToTorch(Tensor ours) => Blocks(ours.Rank == 2 ? Ops.Transpose(ours) : ours, hidden, order);
        Tensor FromTorch(Tensor theirs)
        {
            var ours = Blocks(theirs, hidden, inverse);
            return ours.Rank == 2 ? Ops.Transpose(ours) : ours;
        }

        yield return new TorchTensor("weight_ih_l0", [rows, InputSize], () => ToTorch(InputWeight), v => TorchTensor.Overwrite(InputWeight, FromTorch(v)));
        yield return new TorchTensor("weight_hh_l0", [rows, hidden], () => ToTorch(HiddenWeight), v => TorchTensor.Overwrite(HiddenWeight, FromTorch(v)));
        yield return new TorchTensor("bias_ih_l0", [rows], () => ToTorch(InputBias), v => TorchTensor.Overwrite(InputBias, FromTorch(v)));
        if (TorchHiddenBias is { } hiddenBias)
        {
            yield return new TorchTensor("bias_hh_l0", [rows], () => ToTorch(hiddenBias), v => TorchTensor.Overwrite(hiddenBias, FromTorch(v)));
        }
        else
        {
            // Read after bias_ih_l0 (entries load in this order), so it adds to what that wrote.
            yield return new TorchTensor("bias_hh_l0", [rows], () => Tensor.Zeros([rows], InputBias.DType), v => TorchTensor.Overwrite(InputBias, InputBias + FromTorch(v)));
        }
    }

    /// <summary>The blocks of <paramref name="size"/> rows of <paramref name="t"/> in the order given.</summary>
    private static Tensor Blocks(Tensor t, int size, int[] order) => Ops.Concat([.. order.Select(k => Ops.Narrow(t, 0, k * size, size))], 0);

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Forward(input, null);

    /// <summary>The hidden states of every time step, (N, T, H), from <paramref name="initialHidden"/> (zeros when null, or the carried state of a stateful layer).</summary>
    /// <param name="input">The sequence batch, (N, T, D).</param>
    /// <param name="initialHidden">h₀, (N, H), or null.</param>
    /// <returns>The hidden states.</returns>
    public abstract Tensor Forward(Tensor input, Tensor? initialHidden);

    /// <summary>
    /// Checks the input and gives its projection for all steps in time-major order, (T·N, gates·H), so that step t's
    /// rows are one block (a view, see <see cref="Step"/>), and N and T.
    /// </summary>
    private protected (Tensor Projected, int Batch, int Steps) Project(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank != 3 || input.Shape[2] != InputSize || input.Shape[1] == 0)
        {
            throw new ShapeMismatchException($"{_name}: expected (N, T, {InputSize}) with T ≥ 1, got {input.Shape}.");
        }

        int batch = input.Shape[0], steps = input.Shape[1];
        var timeMajor = Ops.Reshape(Ops.Permute(input, 1, 0, 2), steps * batch, InputSize);
        return (Ops.Affine(timeMajor, InputWeight, InputBias), batch, steps);
    }

    /// <summary>
    /// The state to start from: the given one, the carried one (copied, so that the tape never reads the buffer the
    /// call overwrites), or zeros; checked against the batch.
    /// </summary>
    private protected Tensor StartState(Tensor? given, CarriedState carried, int batch, string what)
    {
        var state = given ?? (Stateful ? carried.Start() : null) ?? Zeros(batch);
        if (state.Rank != 2 || state.Shape[0] != batch || state.Shape[1] != HiddenSize)
        {
            throw new ShapeMismatchException($"{_name}: the {what} {state.Shape} must be ({batch}, {HiddenSize}) for this batch.");
        }

        return state;
    }

    /// <summary>Step t's projected gates, (N, gates·H): rows t·N … t·N + N − 1 of the time-major projection.</summary>
    private protected static Tensor Step(Tensor projected, int t, int batch) => Ops.Slice(projected, t * batch, batch);

    /// <summary>A buffer for the T per-step results, reused call after call (cleared by <see cref="Join"/>).</summary>
    private protected Tensor[] StepResults(int steps)
    {
        if (_stepResults.Length != steps)
        {
            _stepResults = new Tensor[steps];
        }

        return _stepResults;
    }

    /// <summary>The per-step results, (N, H) each, stacked time-major, (T, N, H), and the buffer cleared.</summary>
    private protected Tensor Join(Tensor[] stepResults)
    {
        var stacked = Ops.Stack(stepResults, 0);
        Array.Clear(stepResults);
        return stacked;
    }

    /// <summary>Time-major (T, N, H) to the layer's (N, T, H).</summary>
    private protected static Tensor BatchMajor(Tensor timeMajor) => Ops.Permute(timeMajor, 1, 0, 2);

    /// <summary>An (N, H) zero state, shared by the calls (no op writes into its input).</summary>
    private Tensor Zeros(int batch)
    {
        if (_zeros is null || _zeros.Shape[0] != batch)
        {
            _zeros = Tensor.Zeros([batch, HiddenSize], InputWeight.DType);
        }

        return _zeros;
    }
}
