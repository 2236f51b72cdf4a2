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
        {
            output = Forward(snapshot) ?? throw new InvalidOperationException($"{Name}: Forward returned null.");
        }

        if (Tape.Current is not null)
        {
            // Forward may return an input or an owned tensor: the node then gets a view of it as an output of its own.
            if (!output.IsTapeOwned || output.Node >= 0)
            {
                output = output.View(output.Shape);
            }

            Tape.RecordMany(_node, output, snapshot);
        }
        else if (Tape.RecordsImplicitly(snapshot))
        {
            // Recorded without a tape: always a view of its own, since Forward may return an input or a parameter.
            output = output.View(output.Shape);
            Tape.RecordMany(_node, output, snapshot);
        }

        return output;
    }

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
                    ElementType.Dispatch(g.DType, new Write(tape, nodes[i], g));
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

        /// <summary>Copies a gradient the user's rule returned into its input's slot.</summary>
        private readonly struct Write(Tape tape, int node, Tensor gradient) : IElementAction
        {
            public void Run<T>()
                where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
            {
                var target = tape.BeginGradient<T>(node);
                gradient.Data<T>().CopyTo(target.Span);
                tape.Commit(target);
            }
        }
    }
}
