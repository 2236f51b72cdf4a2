using AutoGrad.Tensors;

namespace AutoGrad.Autodiff;

/// <summary>
/// One op recorded without a tape: PyTorch's model, where a result that needs a gradient keeps a link to the op that
/// made it (its <see cref="Tensor.RecordedBy"/>) and through it to that op's inputs. The graph lives exactly as long as
/// the tensors that reach it, so a forward pass nobody differentiates is collected like any other garbage.
/// </summary>
internal sealed class ImplicitNode
{
    private static long s_sequence;

    public ImplicitNode(Op op, Tensor output, Tensor? a, Tensor? b, Tensor? c, in NodeArgs args, int versions)
    {
        Op = op;
        Output = output;
        A = a;
        B = b;
        C = c;
        Args = args;
        Versions = versions;
        Sequence = Interlocked.Increment(ref s_sequence);
    }

    public Op Op { get; }

    public Tensor Output { get; }

    /// <summary>The inputs as the op recorded them (A, B, a third, or any number in <see cref="NodeArgs.Inputs"/>); null once freed.</summary>
    public Tensor? A { get; private set; }

    public Tensor? B { get; private set; }

    public Tensor? C { get; private set; }

    public NodeArgs Args { get; private set; }

    /// <summary>1 + the inputs' versions when recorded (0 for ops that read no input), as <see cref="Node.Versions"/>.</summary>
    public int Versions { get; }

    /// <summary>When it was recorded: a node's inputs were all recorded before it, so this orders a replay.</summary>
    public long Sequence { get; }

    /// <summary>Set by a backward pass that did not retain the graph: the inputs are let go, and a second pass refuses.</summary>
    public bool Freed { get; private set; }

    /// <summary>The backward pass that last visited this node (so a walk visits it once).</summary>
    public long Visit { get; set; }

    /// <summary>The tape this node is being replayed on, and its index there; null outside a backward pass.</summary>
    public Tape? ReplayTape { get; set; }

    public int ReplayIndex { get; set; }

    /// <summary>Lets go of the inputs and the op's state (PyTorch frees the saved tensors the same way).</summary>
    public void Free()
    {
        Freed = true;
        A = B = C = null;
        Args = default;
    }
}

/// <summary>
/// Recording without a tape, and <see cref="Tensor.Backward(Tensor?, bool)"/> over what was recorded. A backward pass
/// walks the nodes that reach the output, replays them in recording order onto a tape of its own (so every op's
/// backward rule runs exactly as on an explicit tape), sweeps it, and adds each parameter's gradient to its Grad.
/// </summary>
internal static class ImplicitGraph
{
    private static long s_visits;

    [ThreadStatic]
    private static Tape? s_replay;

    /// <summary>True when an op on these inputs must be recorded: one needs a gradient or was itself recorded so.</summary>
    public static bool Tracks(Tensor? tensor) => tensor is not null && (tensor.RequiresGrad || tensor.RecordedBy is ImplicitNode);

    /// <summary>Records an op whose output owns its memory (no tape is current).</summary>
    public static void Record(Op op, Tensor output, Tensor? a, Tensor? b, Tensor? c, in NodeArgs args)
    {
        if (output.RecordedBy is not null || output.RequiresGrad)
        {
            // An op returned a tensor that already has a history (an input, a parameter): a view of it gets the node.
            throw new InvalidOperationException($"{op.Name}: returned a tensor that is already recorded; the op must return a new tensor.");
        }

        output.RecordedBy = new ImplicitNode(op, output, a, b, c, args, VersionsOf(op, a, b, c, args));
    }

    /// <summary>The backward pass from <paramref name="output"/>, adding into each parameter's <see cref="Tensor.Grad"/>.</summary>
    public static void Backward(Tensor output, ImplicitNode root, Tensor? outputGradient, bool retainGraph)
    {
        var nodes = Reachable(root);
        var tape = s_replay ??= Tape.Detached();
        tape.Reset();
        try
        {
            foreach (var node in nodes)
            {
                tape.Replay(node);
            }

            tape.Backward(output, outputGradient, retainGraph: false);
        }
        finally
        {
            foreach (var node in nodes)
            {
                node.ReplayTape = null;
            }

            // Nothing of the replay may outlive the pass: the tape's arena held only gradients, now in each Grad.
            tape.Reset();
        }

        if (!retainGraph)
        {
            foreach (var node in nodes)
            {
                node.Free();
            }
        }
    }

    /// <summary>The nodes that reach <paramref name="root"/>, in recording order.</summary>
    private static List<ImplicitNode> Reachable(ImplicitNode root)
    {
        var visit = Interlocked.Increment(ref s_visits);
        var nodes = new List<ImplicitNode>();
        var pending = new Stack<ImplicitNode>();
        root.Visit = visit;
        pending.Push(root);
        while (pending.TryPop(out var node))
        {
            if (node.Freed)
            {
                throw new InvalidOperationException(
                    $"Backward: the graph through {node.Op.Name} (output {node.Output.DType.Name()} {node.Output.Shape}) was freed by an earlier Backward. " +
                    "Pass retainGraph: true to the first call to go through it again, or compute the output anew.");
            }

            nodes.Add(node);
            Push(node.A);
            Push(node.B);
            Push(node.C);
            if (node.Args.Inputs is { } many)
            {
                foreach (var input in many)
                {
                    Push(input);
                }
            }
        }

        nodes.Sort(static (x, y) => x.Sequence.CompareTo(y.Sequence));
        return nodes;

        void Push(Tensor? input)
        {
            if (input?.RecordedBy is ImplicitNode parent && parent.Visit != visit)
            {
                parent.Visit = visit;
                pending.Push(parent);
            }
        }
    }

    private static int VersionsOf(Op op, Tensor? a, Tensor? b, Tensor? c, in NodeArgs args)
    {
        if (!op.ReadsInputs)
        {
            return 0;
        }

        var sum = (a?.Version ?? 0) + (b?.Version ?? 0) + (c?.Version ?? 0);
        if (args.Inputs is { } many)
        {
            foreach (var input in many)
            {
                sum += input.Version;
            }
        }

        return 1 + sum;
    }
}
