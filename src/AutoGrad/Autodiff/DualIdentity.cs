using AutoGrad.Tensors;

namespace AutoGrad.Autodiff;

/// <summary>
/// The value side of <see cref="DualLevel.MakeDual"/>: a view of the primal recorded as an identity, so a tape that
/// tracks the primal tracks the dual tensor too, and the tangent attached to the view leaves the primal untouched.
/// </summary>
internal static class DualIdentity
{
    private static readonly Op s_op = new Op<Rule>("MakeDual", readsInputs: false);

    /// <summary>A view of <paramref name="primal"/>, recorded as the identity when it is tracked.</summary>
    public static Tensor Apply(Tensor primal)
    {
        var dual = primal.View(primal.Shape);
        Tape.Record(s_op, dual, primal);
        return dual;
    }

    private readonly struct Rule : IBackwardRule
    {
        // The identity's Jacobian is I in both directions.
        public static Tensor Jvp(in Node node, InputTangents tangents) => tangents.A ?? Tensor.ZerosLike(node.Output);

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(upstream);

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            var target = tape.BeginGradient<T>(node.InA);
            tape.Upstream<T>(index).CopyTo(target.Span);
            tape.Commit(target);
        }
    }
}
