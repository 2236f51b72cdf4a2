using AutoGrad.Autodiff;
using AutoGrad.Tensors;

namespace AutoGrad.Operations;

/// <summary>
/// The pieces batched backward rules share (<see cref="Op.VjpBatch"/>: many cotangents in one reverse sweep, each on a
/// leading axis): the shapes of Jacobian that let one broadcast product serve every cotangent.
/// </summary>
public static partial class Ops
{
    /// <summary>
    /// The batched backward rule of an elementwise op of one input: its Jacobian is diagonal, the same for every
    /// cotangent, so the op's fast backward kernel gives the diagonal once (upstream 1) and one broadcast product gives
    /// every cotangent's gradient. Null (one cotangent at a time) where the input's shape is not the output's.
    /// </summary>
    private static InputGradients? DiagonalVjpBatch(in Node node, Tensor upstream)
    {
        var input = node.A!;
        if (node.InA < 0)
        {
            return default(InputGradients);
        }

        if (input.Shape != node.Output.Shape)
        {
            return null;
        }

        var diagonal = Tensor.Uninitialized(input.DType, input.Shape);
        Tape.RunBackwardRule(node, Tensor.Ones(input.Shape.Dims, input.DType), diagonal);
        return new InputGradients(upstream * diagonal);
    }

    /// <summary>
    /// The batched backward rule of a binary elementwise op whose inputs that need a gradient have the output's shape
    /// (the other may broadcast): each gradient is the unbatched formula with the batch axis in front, and nothing is
    /// summed over broadcast axes. Null (one cotangent at a time) otherwise.
    /// </summary>
    private static InputGradients? ElementwiseVjpBatch(in Node node, Tensor upstream, Func<Tensor, Tensor> toA, Func<Tensor, Tensor> toB)
    {
        var output = node.Output.Shape;
        if ((node.InA >= 0 && node.A!.Shape != output) || (node.InB >= 0 && node.B!.Shape != output))
        {
            return null;
        }

        return new InputGradients(node.InA >= 0 ? toA(upstream) : null, node.InB >= 0 ? toB(upstream) : null);
    }
}
