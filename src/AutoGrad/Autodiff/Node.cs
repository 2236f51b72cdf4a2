using AutoGrad.Tensors;

namespace AutoGrad.Autodiff;

/// <summary>
/// One entry of the tape (a Wengert list): which op ran, its output, its inputs, and what its backward rule needs. A
/// plain 64-byte struct stored in chunks of an array, so recording allocates nothing per op and a tape of ten million
/// scalar ops costs 64 bytes a node here (a third input, rare, lives in <see cref="Args"/>).
/// </summary>
internal struct Node
{
    /// <summary>The op; its <see cref="Op.Backward"/> turns the output's gradient into the inputs' gradients.</summary>
    public Op Op;

    /// <summary>The value the op produced.</summary>
    public Tensor Output;

    /// <summary>The first two inputs, as the forward pass saw them.</summary>
    public Tensor? A, B;

    /// <summary>The nodes of the inputs that need a gradient, or -1 for inputs that need none (nothing is computed for them).</summary>
    public int InA, InB;

    /// <summary>Op-specific values: an axis, a scalar, a saved tensor, labels, a third input.</summary>
    public NodeArgs Args;

    /// <summary>
    /// 1 + the sum of the inputs' <see cref="Tensor.Version"/>s when the node was recorded (0 for ops whose rules read
    /// no input). Versions only grow, so a different sum at backward time means an input was written in between.
    /// Kept in <see cref="Args"/>, where it fills what would otherwise be padding.
    /// </summary>
    public int Versions
    {
        readonly get => Args.Versions;
        set => Args.Versions = value;
    }

    /// <summary>The third input (Affine's bias), or null.</summary>
    public readonly Tensor? C => Args.Third;

    /// <summary>The third input's node, or -1.</summary>
    public readonly int InC => Args.ThirdNode;
}

/// <summary>
/// The op-specific part of a <see cref="Node"/>: a number, an integer, and one object the op defines (20 bytes; 24 with
/// the node's version sum). The tape knows no op's parameters: an op keeps what its backward rule needs (a saved
/// tensor, a permutation, a condition mask, a convolution's geometry) in a type of its own, declared beside its code,
/// and reads it back with <see cref="State{TState}"/>. Only the inputs beyond the second are the tape's own business.
/// </summary>
internal struct NodeArgs
{
    /// <summary>The op's state, or the tape's record of inputs beyond the second (<see cref="ManyInputs"/>, <see cref="ThirdInput"/>).</summary>
    private object? _state;

    /// <summary>A scalar parameter (an exponent, a slope), as the op defines it.</summary>
    public double Scalar;

    /// <summary>An axis, a slice's start or another integer parameter, as the op defines it.</summary>
    public int Axis;

    /// <summary>See <see cref="Node.Versions"/>.</summary>
    public int Versions;

    /// <summary>True when an object is set (op state, more inputs): one null test, for the sweep's fast path.</summary>
    public readonly bool HasReference => _state is not null;

    /// <summary>The op's state, if it must be checked before its backward rule reads it again (labels kept by reference).</summary>
    public readonly IReferencedState? Referenced => OwnState as IReferencedState;

    /// <summary>All inputs of an op with any number of them (a <see cref="CustomOp"/>); A, B, C stay unused.</summary>
    public readonly Tensor[]? Inputs => (_state as ManyInputs)?.Inputs;

    /// <summary>The nodes of <see cref="Inputs"/> (−1 for inputs that need no gradient).</summary>
    public readonly int[]? InputNodes => (_state as ManyInputs)?.Nodes;

    /// <summary>A third input (Affine's bias): kept out of <see cref="Node"/> itself, which most ops leave empty.</summary>
    public readonly Tensor? Third => (_state as ThirdInput)?.Tensor;

    /// <summary>The third input's node, or -1.</summary>
    public readonly int ThirdNode => (_state as ThirdInput)?.Node ?? -1;

    /// <summary>Arguments holding an op's own state: any object the op defines.</summary>
    /// <param name="state">The state; the op never changes it after recording, or its backward rule would read the change.</param>
    /// <param name="scalar">A scalar parameter beside it.</param>
    /// <param name="axis">An integer parameter beside it.</param>
    /// <returns>The arguments.</returns>
    public static NodeArgs Of(object state, double scalar = 0, int axis = 0) => new() { _state = state, Scalar = scalar, Axis = axis };

    /// <summary>The op's own state, as the op recorded it with <see cref="Of"/>.</summary>
    /// <typeparam name="TState">The state's type, which the op defines.</typeparam>
    /// <returns>The state.</returns>
    public readonly TState State<TState>()
        where TState : class => (TState)OwnState!;

    /// <summary>The op's own state when it is a <typeparamref name="TState"/>, else null.</summary>
    public readonly TState? StateAs<TState>()
        where TState : class => OwnState as TState;

    /// <summary>The op's state, wherever the tape keeps it (beside a third input, or alone).</summary>
    private readonly object? OwnState => _state is ThirdInput third ? third.State : _state;

    /// <summary>Arguments of an op with any number of inputs.</summary>
    /// <param name="inputs">The inputs and their nodes.</param>
    /// <returns>The arguments.</returns>
    public static NodeArgs WithInputs(ManyInputs inputs) => new() { _state = inputs };

    /// <summary>These arguments with a third input (Affine's bias, a convolution's) beside the op's state.</summary>
    /// <param name="third">The third input.</param>
    /// <param name="node">Its node on the tape, or -1.</param>
    /// <param name="records">The tape's records of third inputs, for one that holds tape memory.</param>
    /// <returns>The arguments.</returns>
    public readonly NodeArgs WithThird(Tensor third, int node, ThirdInputPool records) => this with { _state = records.Of(third, node, _state) };

    /// <summary>These arguments with a third input in a record of their own, for a node that lives only while a rule runs (forward mode).</summary>
    /// <param name="third">The third input.</param>
    /// <param name="node">Its node, or -1.</param>
    /// <returns>The arguments.</returns>
    public readonly NodeArgs WithThird(Tensor third, int node) => this with { _state = new ThirdInput().Set(third, node, _state) };

    /// <summary>The same arguments with the third input's node replaced (staged on another tape; −1 for no gradient).</summary>
    public readonly NodeArgs WithThirdNode(int node) =>
        _state is ThirdInput third ? this with { _state = new ThirdInput().Set(third.Tensor, node, third.State) } : this;
}

/// <summary>
/// Op state that holds caller data by reference (a label array, not copied, so a loss call costs no allocation of its
/// size) and can tell whether it changed before the backward rule reads it again.
/// </summary>
internal interface IReferencedState
{
    /// <summary>Throws when the data changed since the node was recorded.</summary>
    /// <param name="op">The op's name, for the message.</param>
    /// <param name="node">The node's index on the tape, for the message.</param>
    void VerifyUnchanged(string op, int node);
}
