using AutoGrad.Autodiff;
using AutoGrad.Tensors;

namespace AutoGrad.Transforms;

/// <summary>
/// The tape's node for one <see cref="Functional.Checkpoint(Func{Tensor[], Tensor}, Tensor[])"/> call: its rules run
/// the function again, on scratch tapes whose memory is recycled as soon as the rule is done. The latest segment on a
/// thread keeps its forward recording instead, until the next segment starts: the segment nearest the loss is the
/// first the backward sweep reaches, so its recording serves there without a second forward, and no more than one
/// segment's intermediates are ever held at once, as during a recomputation.
/// </summary>
internal sealed class CheckpointSegment(Func<Tensor[], Tensor> function) : Op("Checkpoint")
{
    /// <summary>The segment on this thread that holds its forward recording, if any.</summary>
    [ThreadStatic]
    private static CheckpointSegment? s_keeping;

    /// <summary>The kept recording: its scratch tape, the inputs' views watched there, and the output there.</summary>
    private (Tape Tape, Tensor[] Views, Tensor Output)? _kept;

    /// <summary>
    /// The function's output, computed in a scratch arena with no tangents carried, then copied to where results go
    /// now (the current tape's arena, or owned memory). With <paramref name="keep"/> the computation is recorded on the
    /// scratch tape, which the segment keeps for its backward rule (releasing the one an earlier segment kept); else
    /// nothing is recorded and the arena is recycled at once.
    /// </summary>
    public Tensor Forward(Tensor[] inputs, bool keep)
    {
        s_keeping?.Release();
        var scratch = Rent();
        var kept = false;
        try
        {
            Tensor output;
            var views = inputs;
            using (scratch.Enter(record: keep))
            using (DualLevel.Suspend())
            {
                if (keep)
                {
                    views = [.. inputs.Select(input => scratch.Watch(input.View(input.Shape)))];
                }

                output = Run(views);
            }

            var copy = output.CopyToNew();
            if (keep)
            {
                _kept = (scratch, views, output);
                s_keeping = this;
                kept = true;
            }

            return copy;
        }
        finally
        {
            if (!kept)
            {
                Return(scratch);
            }
        }
    }

    /// <summary>Gives the kept recording's scratch tape back (when its node was not recorded, or a sweep used it).</summary>
    public void Release()
    {
        if (_kept is { } kept)
        {
            _kept = null;
            Return(kept.Tape);
        }

        if (s_keeping == this)
        {
            s_keeping = null;
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

        // The kept forward recording when this segment still holds one (a first sweep from the segment nearest the
        // loss); otherwise the function runs again.
        var kept = _kept;
        _kept = null;
        var scratch = kept?.Tape ?? Rent();
        try
        {
            (Tensor? View, bool Written)[] gradients;
            using (scratch.Enter(record: true))
            {
                Tensor[] views;
                Tensor output;
                if (kept is { } recording)
                {
                    (views, output) = (recording.Views, recording.Output);
                }
                else
                {
                    views = [.. inputs.Select(input => scratch.Watch(input.View(input.Shape)))];
                    output = Run(views);
                    RequireSame(output, node.Output);
                }

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
            if (s_keeping == this)
            {
                s_keeping = null;
            }
        }
    }

    /// <summary>
    /// The same, recorded (<c>createGraph</c>): the function runs again on the recording tape, on identity views of its
    /// inputs, and the sweep of that recording stops at the views, so the gradients differentiate again through them.
    /// </summary>
    public override InputGradients Differentiate(in Node node, Tensor upstream)
    {
        var tape = Tape.Current ?? throw new InvalidOperationException("Checkpoint: a recorded sweep runs with its tape current.");
        Release();
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
