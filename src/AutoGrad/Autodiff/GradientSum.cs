using AutoGrad.Tensors;

using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace AutoGrad.Autodiff;

/// <summary>
/// The sum of two gradients of one node (fan-out), recorded by a sweep with <c>createGraph</c> so the sum can be
/// differentiated again. The Autodiff layer's own op: the Ops layer's <c>Add</c> sits above the tape, and gradients of
/// one node share a shape, so no broadcasting is needed. ∂/∂a = ∂/∂b = g.
/// </summary>
internal static class GradientSum
{
    private static readonly Op s_op = new Op<Rule>("Add", readsInputs: false);

    /// <summary>a + b for two tensors of the same shape and type, recorded when the tape tracks either.</summary>
    public static Tensor Add(Tensor a, Tensor b)
    {
        if (a.Shape != b.Shape || a.DType != b.DType)
        {
            // Every backward rule returns its input's shape; a mismatch is a bug in a rule, not in the caller's input.
            throw new InvalidOperationException($"Gradient: two gradients of one node differ: {a.DType.Name()} {a.Shape} and {b.DType.Name()} {b.Shape}.");
        }

        var y = Tensor.Uninitialized(a.DType, a.Shape);
        ElementType.Dispatch(a.DType, new SumForward(a, b, y));

        Tape.Record(s_op, y, a, b);
        return y;
    }

    private readonly struct SumForward(Tensor a, Tensor b, Tensor y) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> => TensorPrimitives.Add<T>(a.Raw<T>(), b.Raw<T>(), y.Raw<T>());
    }

    private readonly struct Rule : IBackwardRule
    {
        public static Tensor Jvp(in Node node, InputTangents tangents) => (tangents.A, tangents.B) switch
        {
            ({ } ta, { } tb) => Add(ta, tb),
            ({ } ta, null) => ta,
            (null, { } tb) => tb,
            _ => Tensor.ZerosLike(node.Output),
        };

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(upstream, upstream);

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            PassOn<T>(tape, index, node.InA);
            PassOn<T>(tape, index, node.InB);
        }

        private static void PassOn<T>(Tape tape, int index, int input)
            where T : unmanaged, System.Numerics.INumberBase<T>
        {
            if (input >= 0)
            {
                var target = tape.BeginGradient<T>(input);
                tape.Upstream<T>(index).CopyTo(target.Span);
                tape.Commit(target);
            }
        }
    }
}
