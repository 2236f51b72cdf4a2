using AutoGrad.Tensors;

using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace AutoGrad.Nn.Optimizers;

/// <summary>Gradient clipping by global norm, as <c>torch.nn.utils.clip_grad_norm_</c>.</summary>
public static class GradientClipping
{
    /// <summary>
    /// <see cref="ClipByGlobalNorm(IReadOnlyList{Tensor}, double)"/> of any sequence of parameters, as PyTorch's
    /// <c>clip_grad_norm_(model.parameters(), max_norm)</c> takes them: <c>ClipByGlobalNorm(model.Parameters(), 1.0)</c>.
    /// </summary>
    /// <param name="parameters">The parameters whose <see cref="Tensor.Grad"/> to clip (those without one are skipped).</param>
    /// <param name="maxNorm">The largest allowed global norm, positive.</param>
    /// <returns>The global norm before clipping.</returns>
    public static double ClipByGlobalNorm(IEnumerable<Tensor> parameters, double maxNorm)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return ClipByGlobalNorm(parameters as IReadOnlyList<Tensor> ?? [.. parameters], maxNorm);
    }

    /// <summary>
    /// Scales every gradient by min(1, maxNorm / ‖g‖), where ‖g‖ is the L2 norm of all gradients together.
    /// </summary>
    /// <param name="parameters">The parameters whose <see cref="Tensor.Grad"/> to clip (those without one are skipped).</param>
    /// <param name="maxNorm">The largest allowed global norm, positive.</param>
    /// <returns>The global norm before clipping.</returns>
    public static double ClipByGlobalNorm(IReadOnlyList<Tensor> parameters, double maxNorm)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(maxNorm > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "ClipByGlobalNorm: the maximum norm must be positive.");
        }

        var squares = 0.0;
        foreach (var p in parameters)
        {
            if (p.Grad is not null)
            {
                squares += ElementType.Dispatch<SumOfSquares, double>(p.DType, new SumOfSquares(p.Grad));
            }
        }

        var norm = Math.Sqrt(squares);
        if (norm > maxNorm)
        {
            var scale = maxNorm / (norm + 1e-6);
            foreach (var p in parameters)
            {
                if (p.Grad is null)
                {
                    continue;
                }

                ElementType.Dispatch(p.DType, new Scale(p.Grad, scale));
            }
        }

        return norm;
    }

    private readonly struct SumOfSquares(Tensor gradient) : IElementFunction<double>
    {
        public double Run<T>()
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> => double.CreateTruncating(TensorPrimitives.SumOfSquares<T>(gradient.AsReadOnlySpan<T>()));
    }

    private readonly struct Scale(Tensor gradient, double scale) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            var g = gradient.AsSpan<T>();
            TensorPrimitives.Multiply(g, T.CreateTruncating(scale), g);
        }
    }
}
