using AutoGrad.Tensors;

namespace AutoGrad.Autodiff;

/// <summary>
/// One node's fast backward rule run outside any sweep, for a forward-mode rule whose Jacobian is diagonal (an
/// elementwise op): its Jacobian-vector product is its vector-Jacobian product with the tangent as the upstream
/// gradient, so the rule's kernel gives the tangent in one pass instead of a few ops. Only when nothing will
/// differentiate the tangent again; otherwise the rule written in ops serves.
/// </summary>
public sealed partial class Tape
{
    /// <summary>A detached tape per thread whose two nodes and slots stage one rule at a time.</summary>
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
        var kernel = s_kernel ??= Detached();

        // The rule reads the node from the reference it is given, and from the tape only the lengths of its output
        // (node 1) and of the input it writes (node 0): those two are all that is staged there.
        var staged = node;
        staged.InA = input == 0 ? 0 : -1;
        staged.InB = input == 1 ? 0 : -1;
        kernel.Stage(node.Output, upstream, result);
        try
        {
            node.Op.Backward(kernel, 1, in staged);
            if (kernel._slots[0].Pending)
            {
                result.Fill(0);
            }
        }
        finally
        {
            kernel.Unstage();
        }
    }

    private void Stage(Tensor output, Tensor upstream, Tensor result)
    {
        if (_count == 0)
        {
            _nodes.Add(0).Op = LeafOp.Instance;
            _nodes.Add(1).Op = LeafOp.Instance;
            _count = 2;
            _slots = new GradientSlot[2];
        }

        _nodes[0].Output = result;
        _nodes[1].Output = output;
        _slots[1] = new GradientSlot(upstream.Storage, upstream.StorageOffset);

        // A pending slot over the result's memory: the rule's first gradient is written straight into it.
        _slots[0] = new GradientSlot(result.Storage, result.StorageOffset, Pending: true);
    }

    /// <summary>
    /// Recycles what the rule took from the arena. The staged node and slots stay until the next call overwrites them
    /// (clearing six references a call cost more than the rule on a small tensor); they keep at most one result alive.
    /// </summary>
    private void Unstage()
    {
        if (_arena.BytesInUse > 0)
        {
            _arena.Reset();
        }
    }
}
