using AutoGrad.Tensors;

namespace AutoGrad.Autodiff;

/// <summary>
/// A user-defined differentiable op: write <see cref="Forward"/> and <see cref="Backward"/> with AutoGrad's ops and
/// <see cref="Apply"/> records the op on the tape as one node, like a built-in one. Because the backward rule is made
/// of ops, the op also supports higher-order gradients (<c>createGraph: true</c>) with nothing more to write.
/// </summary>
/// <example>
/// <code>
/// sealed class Softplus() : CustomOp("Softplus")
/// {
///     public override Tensor Forward(IReadOnlyList&lt;Tensor&gt; x) =&gt; Ops.Log(Ops.Exp(x[0]) + 1);
///     public override IReadOnlyList&lt;Tensor?&gt; Backward(IReadOnlyList&lt;Tensor&gt; x, Tensor y, Tensor g) =&gt; [g * Ops.Sigmoid(x[0])];
/// }
/// </code>
/// </example>
public abstract class CustomOp
{
    private readonly CustomOpNode _node;

    /// <summary>Creates the op.</summary>
    /// <param name="name">The name messages and graph pictures use.</param>
    protected CustomOp(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
        _node = new CustomOpNode(this);
    }

    /// <summary>The op's name.</summary>
    public string Name { get; }

    /// <summary>Computes the output. The ops used here are not recorded one by one; the whole op is one node.</summary>
    /// <param name="inputs">The inputs given to <see cref="Apply"/>.</param>
    /// <returns>The output.</returns>
    public abstract Tensor Forward(IReadOnlyList<Tensor> inputs);

    /// <summary>
    /// The vector-Jacobian product: each input's gradient given the output's. Write it with ops; it is recorded when
    /// gradients are taken with <c>createGraph: true</c>. Return null for an input that needs no gradient.
    /// </summary>
    /// <param name="inputs">The inputs of the forward pass.</param>
    /// <param name="output">The output of the forward pass.</param>
    /// <param name="outputGradient">The gradient of the output, of its shape.</param>
    /// <returns>One gradient (or null) per input, each of its input's shape and type.</returns>
    public abstract IReadOnlyList<Tensor?> Backward(IReadOnlyList<Tensor> inputs, Tensor output, Tensor outputGradient);

    /// <summary>Runs the op and records it on the current tape when any input is tracked.</summary>
    /// <param name="inputs">The inputs.</param>
    /// <returns>The output.</returns>
    public Tensor Apply(params Tensor[] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        for (var i = 0; i < inputs.Length; i++)
        {
            Check.NotNull(inputs[i], Name, $"inputs[{i}]");
        }

        var snapshot = (Tensor[])inputs.Clone();
        Tensor output;
        using (Tape.SuspendRecording())
        using (DualLevel.Suspend())
        {
            output = Forward(snapshot) ?? throw new InvalidOperationException($"{Name}: Forward returned null.");
        }

        var onTape = Tape.Current is not null;
        var implicitly = !onTape && Tape.RecordsImplicitly(snapshot);
        if (onTape || implicitly || DualLevel.IsActive)
        {
            // Forward may return an input, a parameter or an owned tensor: the node (and a tangent, in forward mode)
            // then gets a view of it as an output of its own.
            if (implicitly || DualLevel.IsActive || !output.IsTapeOwned || output.Node >= 0)
            {
                output = output.View(output.Shape);
            }

            Tape.RecordMany(_node, output, snapshot);
        }

        return output;
    }

    /// <summary>
    /// The Jacobian-vector product, for forward mode (<see cref="DualLevel"/>): the output's tangent given the inputs'
    /// tangents. Write it with ops, so that it can be differentiated again. Without an override, forward mode through
    /// the op throws <see cref="NotSupportedException"/> naming it: a rule derived from <see cref="Forward"/> would be
    /// wrong whenever Forward computes outside AutoGrad's ops, and the double-VJP trick would silently lose every
    /// derivative beyond the first.
    /// </summary>
    /// <param name="inputs">The inputs of the forward pass.</param>
    /// <param name="output">The output of the forward pass.</param>
    /// <param name="tangents">One tangent per input, of its shape and type; null where the input's tangent is zero.</param>
    /// <returns>The output's tangent, of its shape and type.</returns>
    /// <exception cref="NotSupportedException">The op has no forward-mode rule (not overridden).</exception>
    public virtual Tensor Jvp(IReadOnlyList<Tensor> inputs, Tensor output, IReadOnlyList<Tensor?> tangents) =>
        throw new NotSupportedException(
            $"{Name}: this custom op has no forward-mode rule; override CustomOp.Jvp to give the output's tangent from the inputs' tangents.");

    /// <summary>Checks what <see cref="Backward"/> returned for input <paramref name="index"/>.</summary>
    internal Tensor? CheckGradient(IReadOnlyList<Tensor?> gradients, IReadOnlyList<Tensor> inputs, int index)
    {
        if (gradients.Count != inputs.Count)
        {
            throw new InvalidOperationException($"{Name}: Backward returned {gradients.Count} gradients for {inputs.Count} inputs.");
        }

        var g = gradients[index];
        if (g is not null && (g.Shape != inputs[index].Shape || g.DType != inputs[index].DType))
        {
            throw new ShapeMismatchException(
                $"{Name}: the gradient of input {index} is {g.DType.Name()} {g.Shape}, but the input is {inputs[index].DType.Name()} {inputs[index].Shape}.");
        }

        return g;
    }

    /// <summary>The tape's view of a custom op: one node whose rules call the user's Backward.</summary>
    private sealed class CustomOpNode(CustomOp op) : Op(op.Name)
    {
        public override void Backward(Tape tape, int index, in Node node)
        {
            var inputs = node.Args.Inputs!;
            var nodes = node.Args.InputNodes!;
            IReadOnlyList<Tensor?> gradients;
            using (Tape.SuspendRecording())
            {
                gradients = op.Backward(inputs, node.Output, tape.UpstreamTensor(index));
            }

            for (var i = 0; i < inputs.Length; i++)
            {
                if (nodes[i] >= 0 && op.CheckGradient(gradients, inputs, i) is { } g)
                {
                    tape.AddGradient(nodes[i], g);
                }
            }
        }

        public override InputGradients Differentiate(in Node node, Tensor upstream)
        {
            var inputs = node.Args.Inputs!;
            var gradients = op.Backward(inputs, node.Output, upstream);
            var checkedGradients = new Tensor?[inputs.Length];
            for (var i = 0; i < inputs.Length; i++)
            {
                checkedGradients[i] = op.CheckGradient(gradients, inputs, i);
            }

            return new InputGradients(null, Many: checkedGradients);
        }

        public override Tensor Jvp(in Node node, InputTangents tangents)
        {
            var output = node.Output;
            var tangent = op.Jvp(node.Args.Inputs!, output, tangents.Many!)
                ?? throw new InvalidOperationException($"{op.Name}: Jvp returned null; return zeros for a zero tangent.");
            if (tangent.Shape != output.Shape || tangent.DType != output.DType)
            {
                throw new ShapeMismatchException(
                    $"{op.Name}: Jvp returned a {tangent.DType.Name()} {tangent.Shape} tangent, but the output is {output.DType.Name()} {output.Shape}.");
            }

            return tangent;
        }
    }
}
