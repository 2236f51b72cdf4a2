using AutoGrad.Autodiff;
using AutoGrad.Tensors;

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
    /// Jacobian-vector product is Σᵢ ⟨∂L/∂xᵢ, ẋᵢ⟩ with the gradients from the backward rule written in ops (upstream 1).
    /// </summary>
    private static Tensor ScalarOutputJvp<TRule>(in Node node, InputTangents tangents)
        where TRule : IBackwardRule
    {
        var gradients = TRule.Differentiate(node, Tensor.Ones(node.Output.Shape.Dims, node.Output.DType));
        Tensor? sum = null;
        foreach (var (gradient, tangent) in (ReadOnlySpan<(Tensor?, Tensor?)>)[(gradients.A, tangents.A), (gradients.B, tangents.B), (gradients.C, tangents.C)])
        {
            if (gradient is not null && tangent is not null)
            {
                var term = Sum(gradient * tangent);
                sum = sum is null ? term : sum + term;
            }
        }

        return sum ?? Tensor.ZerosLike(node.Output);
    }

    /// <summary>
    /// The forward-mode rule of an elementwise op: its Jacobian is diagonal, so the Jacobian-vector product is the
    /// vector-Jacobian product with the tangent as the upstream gradient, and the backward rule written in ops
    /// (<typeparamref name="TRule"/>'s Differentiate) serves forward mode too. No tangent, or an op whose derivative is
    /// zero (Sign), gives a zero one.
    /// </summary>
    private static Tensor DiagonalJvp<TRule>(in Node node, InputTangents tangents)
        where TRule : IBackwardRule => (tangents.A is { } tangent ? TRule.Differentiate(node, tangent).A : null) ?? Tensor.ZerosLike(node.Output);
}
