using System.Runtime.CompilerServices;

namespace AutoGrad;

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
/// The op-specific part of a <see cref="Node"/>: one reference, one number and one integer (20 bytes), read through
/// typed accessors (24 bytes with the node's version sum). Ops that need more than one reference (a saved tensor and labels) keep them in one small object.
/// </summary>
internal struct NodeArgs
{
    /// <summary>The reference: a saved <see cref="Tensor"/>, an <c>int[]</c> permutation, <see cref="LabelArgs"/> or <see cref="ManyInputs"/>.</summary>
    private object? _state;

    /// <summary>A scalar parameter (an exponent, a divisor), or a reduction's keep-dims flag as 1.</summary>
    public double Scalar;

    /// <summary>An axis, a slice's start or another integer parameter.</summary>
    public int Axis;

    /// <summary>See <see cref="Node.Versions"/>.</summary>
    public int Versions;

    /// <summary>A slice's start row (the same field as <see cref="Axis"/>; no op uses both).</summary>
    public int Index
    {
        readonly get => Axis;
        set => Axis = value;
    }

    /// <summary>Whether a reduction kept the reduced axis (held in <see cref="Scalar"/>, which reductions do not use otherwise).</summary>
    public bool KeepDims
    {
        readonly get => Scalar != 0;
        set => Scalar = value ? 1 : 0;
    }

    /// <summary>A tensor the forward pass computed for the backward pass (softmax probabilities, for example).</summary>
    public Tensor? Saved
    {
        readonly get => _state as Tensor ?? (_state as LabelArgs)?.Saved;
        set => _state = value;
    }

    /// <summary>An integer list (a permutation).</summary>
    public int[]? Ints
    {
        readonly get => _state as int[];
        set => _state = value;
    }

    /// <summary>Class indices, for ops that take labels.</summary>
    public readonly ReadOnlyMemory<int> Labels => (_state as LabelArgs)?.Labels ?? default;

    /// <summary>The labels' checksum at recording, to catch an array changed before backward reads it again.</summary>
    public readonly ulong LabelsChecksum => (_state as LabelArgs)?.Checksum ?? 0;

    /// <summary>All inputs of an op with any number of them (a <see cref="CustomOp"/>); A, B, C stay unused.</summary>
    public readonly Tensor[]? Inputs => (_state as ManyInputs)?.Inputs;

    /// <summary>The nodes of <see cref="Inputs"/> (−1 for inputs that need no gradient).</summary>
    public readonly int[]? InputNodes => (_state as ManyInputs)?.Nodes;

    /// <summary>Arguments holding labels, and optionally a saved tensor beside them.</summary>
    public static NodeArgs WithLabels(ReadOnlyMemory<int> labels, Tensor? saved = null) => new() { _state = new LabelArgs(labels, saved) };

    /// <summary>A third input (Affine's bias): kept out of <see cref="Node"/> itself, which most ops leave empty.</summary>
    public readonly Tensor? Third => (_state as ThirdInput)?.Tensor;

    /// <summary>The third input's node, or -1.</summary>
    public readonly int ThirdNode => (_state as ThirdInput)?.Node ?? -1;

    /// <summary>Arguments of an op with any number of inputs.</summary>
    public static NodeArgs WithInputs(Tensor[] inputs, int[] nodes) => new() { _state = new ManyInputs(inputs, nodes) };

    /// <summary>Arguments holding a third input.</summary>
    public static NodeArgs WithThird(Tensor third, int node) => new() { _state = new ThirdInput(third, node) };

    /// <summary>A second scalar parameter (a clamp's upper bound), boxed: the rare op with two keeps it in its state.</summary>
    public readonly double SecondScalar => _state is StrongBox<double> box ? box.Value : double.NaN;

    /// <summary>Arguments holding two scalar parameters.</summary>
    public static NodeArgs WithScalars(double first, double second) => new() { Scalar = first, _state = new StrongBox<double>(second) };

    /// <summary>Arguments holding an op's own state: any object the op defines (a condition mask, a convolution's geometry).</summary>
    /// <param name="state">The state; ops keep it immutable, or it would change under the backward rule.</param>
    /// <returns>The arguments.</returns>
    public static NodeArgs Of(object state) => new() { _state = state };

    /// <summary>The op's own state, as the op recorded it with <see cref="Of"/>.</summary>
    /// <typeparam name="TState">The state's type, which the op defines.</typeparam>
    /// <returns>The state.</returns>
    public readonly TState State<TState>()
        where TState : class => (TState)_state!;

    /// <summary>True when a reference is set (a saved tensor, labels, more inputs): one null test, for the sweep's fast path.</summary>
    public readonly bool HasReference => _state is not null;

    /// <summary>Labels kept by reference (the caller's array), with a checksum that backward verifies before reading them again.</summary>
    private sealed class LabelArgs(ReadOnlyMemory<int> labels, Tensor? saved)
    {
        public ReadOnlyMemory<int> Labels { get; } = labels;

        public Tensor? Saved { get; } = saved;

        public ulong Checksum { get; } = LabelChecksum.Of(labels.Span);
    }

    private sealed class ThirdInput(Tensor tensor, int node)
    {
        public Tensor Tensor { get; } = tensor;

        public int Node { get; } = node;
    }

    private sealed class ManyInputs(Tensor[] inputs, int[] nodes)
    {
        public Tensor[] Inputs { get; } = inputs;

        public int[] Nodes { get; } = nodes;
    }
}

/// <summary>A 64-bit checksum of a label array (XXH3), cheap enough to take on every loss call.</summary>
internal static class LabelChecksum
{
    public static ulong Of(ReadOnlySpan<int> labels) =>
        System.IO.Hashing.XxHash3.HashToUInt64(System.Runtime.InteropServices.MemoryMarshal.AsBytes(labels));
}
