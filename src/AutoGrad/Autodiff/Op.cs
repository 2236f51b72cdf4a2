namespace AutoGrad;

/// <summary>
/// A differentiable operation's backward rule. Each op is a stateless singleton defined in the same file as its
/// forward computation; nodes point at it, so the reverse sweep is one virtual call per node and no closures.
/// </summary>
internal abstract class Op
{
    protected Op(string name) => Name = name;

    /// <summary>The op's public name, as messages and graph pictures show it.</summary>
    public string Name { get; }

    /// <summary>
    /// Adds the gradients of the node's inputs (those with a node index ≥ 0) to the tape, given the gradient of its
    /// output (<see cref="Tape.Upstream{T}(int)"/>).
    /// </summary>
    /// <param name="tape">The tape running the sweep.</param>
    /// <param name="index">This node's index on the tape.</param>
    /// <param name="node">The node.</param>
    public abstract void Backward(Tape tape, int index, in Node node);

    /// <inheritdoc/>
    public override string ToString() => Name;
}

/// <summary>A watched input: a leaf of the graph, whose gradient the sweep collects and passes on to nobody.</summary>
internal sealed class LeafOp : Op
{
    public static readonly LeafOp Instance = new();

    private LeafOp()
        : base("Input")
    {
    }

    public override void Backward(Tape tape, int index, in Node node)
    {
    }
}

/// <summary>A backward rule written once for both element types; see <see cref="Op{TRule}"/>.</summary>
internal interface IBackwardRule
{
    /// <summary>The rule for element type <typeparamref name="T"/>: read the upstream gradient, write the inputs' gradients.</summary>
    static abstract void Backward<T>(Tape tape, int index, in Node node)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>;
}

/// <summary>
/// An op whose backward rule is the struct <typeparamref name="TRule"/>. The JIT specializes the rule for float and
/// double, so dispatch costs one type test and no generic virtual lookup.
/// </summary>
/// <typeparam name="TRule">The rule.</typeparam>
internal sealed class Op<TRule> : Op
    where TRule : struct, IBackwardRule
{
    public Op(string name)
        : base(name)
    {
    }

    public override void Backward(Tape tape, int index, in Node node)
    {
        if (node.Output.DType == DType.Float32)
        {
            TRule.Backward<float>(tape, index, node);
        }
        else
        {
            TRule.Backward<double>(tape, index, node);
        }
    }
}
