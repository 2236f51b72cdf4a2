using AutoGrad.Autodiff;
using AutoGrad.Tensors;

namespace AutoGrad.Transforms;

/// <summary>
/// The tape's node for one <see cref="Functional.Checkpoint(Func{Tensor[], Tensor}, Tensor[])"/> call: its rules run
/// the function again, on scratch tapes whose memory is recycled as soon as the rule is done.
/// </summary>
internal sealed class CheckpointSegment(Func<Tensor[], Tensor> function) : Op("Checkpoint")
{
    /// <summary>
    /// The function's output, computed in a scratch arena with nothing recorded and no tangents carried, then copied
    /// to where results go now (the current tape's arena, or owned memory).
    /// </summary>
    public Tensor Forward(Tensor[] inputs)
    {
        var scratch = Rent();
        try
        {
            Tensor output;
            using (scratch.Enter(record: false))
            using (DualLevel.Suspend())
            {
                output = Run(inputs);
            }

            return output.CopyToNew();
        }
        finally
        {
            Return(scratch);
        }
    }

    /// <summary>
    /// Runs the function again on a scratch tape, its inputs views there, and has the inputs' gradients written straight
    /// into the main tape's slots (a parameter's claimed gradient, say) where those are still empty, else added to them.
    /// </summary>
    public override void Backward(Tape tape, int index, in Node node)
    {
        var inputs = node.Args.Inputs!;
        var nodes = node.Args.InputNodes!;
        var upstream = tape.UpstreamTensor(index);
        var targets = new (Array Storage, int Offset)?[inputs.Length];
        var fresh = new bool[inputs.Length];
        for (var i = 0; i < inputs.Length; i++)
        {
            if (nodes[i] >= 0)
            {
                var (storage, offset, accumulate) = ElementType.Dispatch<SlotOf, (Array, int, bool)>(inputs[i].DType, new SlotOf(tape, nodes[i]));
                if (!accumulate)
                {
                    targets[i] = (storage, offset);
                    fresh[i] = true;
                }
            }
        }

        var scratch = Rent();
        try
        {
            (Tensor? View, bool Written)[] gradients;
            using (scratch.Enter(record: true))
            {
                var views = new Tensor[inputs.Length];
                for (var i = 0; i < views.Length; i++)
                {
                    views[i] = scratch.Watch(inputs[i].View(inputs[i].Shape));
                }

                var output = Run(views);
                RequireSame(output, node.Output);
                RefuseHiddenParameters(scratch, views);
                gradients = scratch.GradientViews(output, views, upstream, targets);
            }

            for (var i = 0; i < inputs.Length; i++)
            {
                if (fresh[i] && !gradients[i].Written)
                {
                    // The slot was claimed for a gradient that never came: zero, not stale memory.
                    ElementType.Dispatch(inputs[i].DType, new ClearSlot(tape, nodes[i], inputs[i].Length));
                }
                else if (!fresh[i] && nodes[i] >= 0 && gradients[i].View is { } gradient)
                {
                    tape.AddGradient(nodes[i], gradient);
                }
            }
        }
        finally
        {
            Return(scratch);
        }
    }

    /// <summary>
    /// The same, recorded (<c>createGraph</c>): the function runs again on the recording tape, on identity views of its
    /// inputs, and the sweep of that recording stops at the views, so the gradients differentiate again through them.
    /// </summary>
    public override InputGradients Differentiate(in Node node, Tensor upstream)
    {
        var tape = Tape.Current ?? throw new InvalidOperationException("Checkpoint: a recorded sweep runs with its tape current.");
        var inputs = node.Args.Inputs!;
        var views = new Tensor[inputs.Length];
        for (var i = 0; i < views.Length; i++)
        {
            views[i] = DualIdentity.Apply(inputs[i]);
        }

        var output = Run(views);
        RequireSame(output, node.Output);
        return new InputGradients(null, Many: tape.RecordedGradients(output, upstream, views));
    }

    /// <summary>Forward mode: the function again, its inputs dual at a level of its own inside the levels computing now.</summary>
    public override Tensor Jvp(in Node node, InputTangents tangents)
    {
        var inputs = node.Args.Inputs!;
        using var level = DualLevel.Private();
        var duals = new Tensor[inputs.Length];
        for (var i = 0; i < duals.Length; i++)
        {
            duals[i] = tangents.Many![i] is { } t ? level.MakeDual(inputs[i], t) : inputs[i];
        }

        var output = Run(duals);
        RequireSame(output, node.Output);
        return level.TangentOf(output) ?? Tensor.ZerosLike(node.Output);
    }

    private static Tape Rent() => ScratchTapes.Rent();

    private static void Return(Tape scratch) => ScratchTapes.Return(scratch);

    private Tensor Run(Tensor[] inputs) =>
        function(inputs) ?? throw new InvalidOperationException("Checkpoint: the function returned null.");

    private static void RequireSame(Tensor output, Tensor recorded)
    {
        if (output.Shape != recorded.Shape || output.DType != recorded.DType)
        {
            throw new InvalidOperationException(
                $"Checkpoint: the function gave a {output.DType.Name()} {output.Shape} output when run again, but {recorded.DType.Name()} " +
                $"{recorded.Shape} the first time; a checkpointed function must be deterministic.");
        }
    }

    /// <summary>A tensor with RequiresGrad that the recomputation read but that is not an input would lose its gradient.</summary>
    private static void RefuseHiddenParameters(Tape scratch, Tensor[] views)
    {
        if (scratch.HiddenParameter(views) is { } hidden)
        {
            throw new InvalidOperationException(
                $"Checkpoint: the function reads a {hidden.DType.Name()} tensor of shape {hidden.Shape} with RequiresGrad that is not one of its " +
                "inputs, so its gradient would be lost; pass it as an input (parameters included).");
        }
    }

    private readonly struct SlotOf(Tape tape, int node) : IElementFunction<(Array, int, bool)>
    {
        public (Array, int, bool) Run<T>()
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> => tape.SummedGradientSlot<T>(node);
    }

    private readonly struct ClearSlot(Tape tape, int node, int length) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            var (storage, offset, _) = tape.SummedGradientSlot<T>(node);
            new Span<T>((T[])storage, offset, length).Clear();
        }
    }

}
