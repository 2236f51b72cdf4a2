using System.Numerics;

using AutoGrad.Autodiff;
using AutoGrad.Tensors;

using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace AutoGrad.Operations;

/// <summary>
/// The pieces forward-mode rules share: the output's tangent as a sum of the inputs' contributions, and the rules of
/// ops whose Jacobian has a shape that lets the backward rule in ops serve (diagonal; one row).
/// </summary>
public static partial class Ops
{
    /// <summary>
    /// The sum of the contributions (null for an input whose tangent is zero), broadcast to the node's output shape;
    /// zeros of that shape when there is none.
    /// </summary>
    private static Tensor TangentSum(in Node node, Tensor? first, Tensor? second = null, Tensor? third = null)
    {
        Tensor? sum = null;
        foreach (var term in (ReadOnlySpan<Tensor?>)[first, second, third])
        {
            if (term is not null)
            {
                sum = sum is null ? term : sum + term;
            }
        }

        var output = node.Output;
        return sum is null ? Tensor.ZerosLike(output) : sum.Shape == output.Shape ? sum : BroadcastTo(sum, output.Shape.Dims);
    }

    /// <summary>
    /// The forward-mode rule of an op with a scalar output (a loss): its Jacobian is one row, the gradient, so the
    /// Jacobian-vector product is Σᵢ ⟨∂L/∂xᵢ, ẋᵢ⟩. The gradients come from the op's fast backward kernel (upstream 1)
    /// when nothing will differentiate the tangent, else from its backward rule written in ops.
    /// </summary>
    private static Tensor ScalarOutputJvp<TRule>(in Node node, InputTangents tangents)
        where TRule : IBackwardRule
    {
        var output = node.Output;
        if (tangents.Quiet)
        {
            var one = Tensor.Ones(output.Shape.Dims, output.DType);
            var total = 0.0;
            foreach (var (tangent, input, which) in (ReadOnlySpan<(Tensor?, Tensor?, int)>)[(tangents.A, node.A, 0), (tangents.B, node.B, 1)])
            {
                if (tangent is not null)
                {
                    var gradient = Tensor.Uninitialized(input!.DType, input.Shape);
                    Tape.RunBackwardRule(node, one, gradient, which);
                    total += ElementType.Dispatch<DotProduct, double>(gradient.DType, new DotProduct(gradient, tangent));
                }
            }

            return Tensor.Full(total, output.Shape.Dims, output.DType);
        }

        var gradients = TRule.Differentiate(node, Tensor.Ones(output.Shape.Dims, output.DType));
        Tensor? sum = null;
        foreach (var (gradient, tangent) in (ReadOnlySpan<(Tensor?, Tensor?)>)[(gradients.A, tangents.A), (gradients.B, tangents.B), (gradients.C, tangents.C)])
        {
            if (gradient is not null && tangent is not null)
            {
                var term = Sum(gradient * tangent);
                sum = sum is null ? term : sum + term;
            }
        }

        return sum ?? Tensor.ZerosLike(output);
    }

    private readonly struct DotProduct(Tensor a, Tensor b) : IElementFunction<double>
    {
        public double Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T> => double.CreateTruncating(TensorPrimitives.Dot<T>(a.Raw<T>(), b.Raw<T>()));
    }

    /// <summary>
    /// The forward-mode rule of an op whose Jacobian is symmetric (diagonal for an elementwise op; diag(y) − y·yᵀ for
    /// softmax): the Jacobian-vector product is the vector-Jacobian product with the tangent as the upstream gradient. When nothing will differentiate the tangent
    /// again, the op's fast backward kernel computes it in one pass (<see cref="Tape.RunBackwardRule"/>); otherwise the
    /// backward rule written in ops (<typeparamref name="TRule"/>'s Differentiate) does, so that it differentiates
    /// again. No tangent, or an op whose derivative is zero (Sign), gives a zero one.
    /// </summary>
    private static Tensor DiagonalJvp<TRule>(in Node node, InputTangents tangents)
        where TRule : IBackwardRule
    {
        if (tangents.A is not { } tangent)
        {
            return Tensor.ZerosLike(node.Output);
        }

        var input = node.A!;
        if (tangents.Quiet)
        {
            var result = Tensor.Uninitialized(input.DType, input.Shape);
            Tape.RunBackwardRule(node, tangent, result);
            return result;
        }

        return TRule.Differentiate(node, tangent).A ?? Tensor.ZerosLike(node.Output);
    }

    /// <summary>
    /// A binary elementwise op's forward rule when only one input has a tangent and that input has the output's shape:
    /// its Jacobian with respect to that input is diagonal (ȧ·b for a product, ȧ/b for a quotient), so when nothing will
    /// differentiate the tangent, the op's fast backward kernel gives it in one pass. Null when that does not apply.
    /// </summary>
    private static Tensor? DiagonalInputJvp(in Node node, InputTangents tangents)
    {
        var (tangent, input, which) = (tangents.A, tangents.B) switch
        {
            ({ } ta, null) => (ta, node.A!, 0),
            (null, { } tb) => (tb, node.B!, 1),
            _ => (null, null, -1),
        };
        if (tangent is null || input!.Shape != node.Output.Shape || !tangents.Quiet)
        {
            return null;
        }

        var result = Tensor.Uninitialized(input.DType, input.Shape);
        Tape.RunBackwardRule(node, tangent, result, which);
        return result;
    }

    /// <summary>
    /// <see cref="DiagonalJvp{TRule}"/> for a batch of directions: the op's backward kernel once per direction, each
    /// reading and writing its block of the batched tensors in place. Null (one direction at a time, with ops) when the
    /// tangent may be differentiated again.
    /// </summary>
    private static Tensor? DiagonalJvpBatch<TRule>(in Node node, InputTangents tangents, int batch)
        where TRule : IBackwardRule
    {
        var input = node.A!;
        if (tangents.A is not { } tangent || !tangents.Quiet)
        {
            return null;
        }

        var result = Tensor.Uninitialized(input.DType, Shape.Create(Batched(input.Shape, batch)));
        int outputLength = node.Output.Length, inputLength = input.Length;
        for (var k = 0; k < batch; k++)
        {
            Tape.RunBackwardRule(node, tangent.View(node.Output.Shape, k * outputLength), result.View(input.Shape, k * inputLength));
        }

        return result;
    }

    /// <summary><see cref="ScalarOutputJvp{TRule}"/> for a batch of directions: the gradients once, then one dot product per direction.</summary>
    private static Tensor? ScalarOutputJvpBatch<TRule>(in Node node, InputTangents tangents, int batch)
        where TRule : IBackwardRule
    {
        if (!tangents.Quiet)
        {
            return null;
        }

        var output = node.Output;
        var one = Tensor.Ones(output.Shape.Dims, output.DType);
        var totals = new double[batch];
        foreach (var (tangent, input, which) in (ReadOnlySpan<(Tensor?, Tensor?, int)>)[(tangents.A, node.A, 0), (tangents.B, node.B, 1)])
        {
            if (tangent is not null)
            {
                var gradient = Tensor.Uninitialized(input!.DType, input.Shape);
                Tape.RunBackwardRule(node, one, gradient, which);
                for (var k = 0; k < batch; k++)
                {
                    totals[k] += ElementType.Dispatch<DotProduct, double>(gradient.DType, new DotProduct(gradient, tangent.View(input.Shape, k * input.Length)));
                }
            }
        }

        return Tensor.FromArray(totals, output.DType, Batched(output.Shape, batch));
    }

    /// <summary>(batch, shape…): a batched tangent's shape.</summary>
    private static int[] Batched(Shape shape, int batch) => [batch, .. shape.Dims];

    /// <summary>
    /// A batched binary elementwise rule for the common case: every input with a tangent has the output's shape (the
    /// other may broadcast), so each contribution is the unbatched formula with the batch axis in front. Null otherwise.
    /// </summary>
    private static Tensor? ElementwiseJvpBatch(in Node node, InputTangents tangents, int batch, Func<Tensor, Tensor> fromA, Func<Tensor, Tensor> fromB)
    {
        var output = node.Output.Shape;
        if ((tangents.A is not null && node.A!.Shape != output) || (tangents.B is not null && node.B!.Shape != output))
        {
            return null;
        }

        Tensor? sum = null;
        if (tangents.A is { } ta)
        {
            sum = fromA(ta);
        }

        if (tangents.B is { } tb)
        {
            var term = fromB(tb);
            sum = sum is null ? term : sum + term;
        }

        return sum is null ? null : sum.Shape.Dims.SequenceEqual(Batched(output, batch)) ? sum : BroadcastTo(sum, Batched(output, batch));
    }
}
