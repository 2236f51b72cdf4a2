using AutoGrad.Tensors;

namespace AutoGrad.Autodiff;

/// <summary>
/// One node's fast backward rule run outside any sweep: for a forward-mode rule whose Jacobian is diagonal (an
/// elementwise op), whose Jacobian-vector product is its vector-Jacobian product with the tangent as the upstream
/// gradient; and for a batched reverse sweep, once per cotangent of an op with no batched rule. The rule's kernel
/// gives the result in one pass instead of a few ops. Only when nothing will differentiate it again; otherwise the
/// rule written in ops serves.
/// </summary>
public sealed partial class Tape
{
    /// <summary>The staged nodes: the three inputs' (A, B, C) and the output's.</summary>
    private const int StagedOutput = 3;

    /// <summary>A detached tape per thread whose four nodes and slots stage one rule at a time.</summary>
    [ThreadStatic]
    private static Tape? s_kernel;

    /// <summary>
    /// Runs <paramref name="node"/>'s fast backward rule once with <paramref name="upstream"/> as its output's gradient,
    /// writing one input's gradient into <paramref name="result"/> (zeros when the rule writes none).
    /// </summary>
    /// <param name="node">The node (its other inputs get no gradient).</param>
    /// <param name="upstream">The output's gradient, of the output's shape and type.</param>
    /// <param name="result">The input's gradient, of its shape and type; overwritten.</param>
    /// <param name="input">Which input's gradient: 0 for the first, 1 for the second.</param>
    internal static void RunBackwardRule(in Node node, Tensor upstream, Tensor result, int input = 0)
    {
        var staged = node;
        staged.InA = input == 0 ? 0 : -1;
        staged.InB = input == 1 ? 1 : -1;
        RunStagedRule(staged, upstream, input == 0 ? result : null, input == 1 ? result : null, null);
    }

    /// <summary>
    /// <paramref name="node"/> with its inputs' nodes renumbered to the staging tape's (0, 1, 2 for A, B, C; −1 stays
    /// −1), for <see cref="RunStagedRule"/>. Made once per node, used for every cotangent.
    /// </summary>
    internal static Node StageForKernel(in Node node)
    {
        var staged = node;
        staged.InA = node.InA >= 0 ? 0 : -1;
        staged.InB = node.InB >= 0 ? 1 : -1;
        if (node.C is not null)
        {
            staged.Args = node.Args.WithThirdNode(node.InC >= 0 ? 2 : -1);
        }

        return staged;
    }

    /// <summary>
    /// Runs a staged node's (<see cref="StageForKernel"/>) fast backward rule once with <paramref name="upstream"/> as its
    /// output's gradient, writing each input's gradient whose result is given (zeros where the rule writes none).
    /// </summary>
    internal static void RunStagedRule(in Node staged, Tensor upstream, Tensor? a, Tensor? b, Tensor? c)
    {
        var kernel = s_kernel ??= Detached();

        // The rule reads the node from the reference it is given, and from the tape only the lengths of its output and
        // of the inputs it writes: those are all that is staged there.
        kernel.Stage(staged.Output, upstream, a, b, c);
        try
        {
            staged.Op.Backward(kernel, StagedOutput, in staged);
            for (var i = 0; i < StagedOutput; i++)
            {
                if (kernel._slots[i].Pending)
                {
                    kernel._nodes[i].Output.Fill(0);
                }
            }
        }
        finally
        {
            kernel.Unstage();
        }
    }

    private void Stage(Tensor output, Tensor upstream, Tensor? a, Tensor? b, Tensor? c)
    {
        if (_count == 0)
        {
            for (var i = 0; i <= StagedOutput; i++)
            {
                _nodes.Add(i).Op = LeafOp.Instance;
            }

            _count = StagedOutput + 1;
            _slots = new GradientSlot[_count];
        }

        _nodes[StagedOutput].Output = output;
        _slots[StagedOutput] = new GradientSlot(upstream.Storage, upstream.StorageOffset);
        StageInput(0, a);
        StageInput(1, b);
        StageInput(2, c);
    }

    /// <summary>A pending slot over the result's memory: the rule's first gradient is written straight into it.</summary>
    private void StageInput(int index, Tensor? result)
    {
        if (result is null)
        {
            _slots[index] = default;
            return;
        }

        _nodes[index].Output = result;
        _slots[index] = new GradientSlot(result.Storage, result.StorageOffset, Pending: true);
    }

    /// <summary>
    /// Recycles what the rule took from the arena. The staged nodes and slots stay until the next call overwrites them
    /// (clearing the references a call cost more than the rule on a small tensor); they keep a few results alive.
    /// </summary>
    private void Unstage()
    {
        if (_arena.BytesInUse > 0)
        {
            _arena.Reset();
        }
    }
}
