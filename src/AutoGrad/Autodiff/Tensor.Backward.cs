using AutoGrad.Autodiff;

namespace AutoGrad.Tensors;

/// <summary>PyTorch's <c>loss.backward()</c> and <c>torch.no_grad()</c> on the tensor itself.</summary>
public sealed partial class Tensor
{
    /// <summary>
    /// Backpropagates from this tensor and adds the gradient of every parameter it depends on (every tensor with
    /// <see cref="RequiresGrad"/>) into that parameter's <see cref="Grad"/>, as PyTorch's <c>loss.backward()</c>.
    /// Recorded on a tape, this is that tape's <see cref="Tape.Backward(Tensor, Tensor?, bool)"/>; recorded without one
    /// (implicitly: an op on a tensor with <see cref="RequiresGrad"/> while no tape is current), the pass runs over that
    /// graph and then frees it unless <paramref name="retainGraph"/> is set.
    /// </summary>
    /// <remarks>
    /// A parameter that no recorded op read keeps its <see cref="Grad"/> as it was (null when it never had one), as in
    /// PyTorch. Gradients accumulate: zero them between steps (<see cref="ZeroGrad"/>, or an optimizer's ZeroGrad).
    /// </remarks>
    /// <param name="gradient">The upstream gradient, of this tensor's shape and type; null means 1 for a one-element tensor.</param>
    /// <param name="retainGraph">Keep the graph for another backward pass through it.</param>
    /// <exception cref="InvalidOperationException">
    /// Nothing was recorded for this tensor (no input had <see cref="RequiresGrad"/>, or it was computed under
    /// <see cref="Tape.NoGrad"/>), or the graph was freed by an earlier pass.
    /// </exception>
    public void Backward(Tensor? gradient = null, bool retainGraph = false)
    {
        EnsureAlive("Backward");
        if (_arena?.Owner is Tape tape)
        {
            tape.Backward(this, gradient, retainGraph);
            return;
        }

        if (RecordedBy is ImplicitNode root)
        {
            ImplicitGraph.Backward(this, root, gradient, retainGraph);
            return;
        }

        if (Tape.Current is { } current)
        {
            // Its message says why the current tape did not record this tensor.
            current.Backward(this, gradient, retainGraph);
            return;
        }

        throw new InvalidOperationException(
            $"Backward: the {DType.Name()} tensor of shape {Shape} was not recorded, so it has no gradient to pass back (PyTorch: \"element 0 of " +
            "tensors does not require grad and does not have a grad_fn\"). Set RequiresGrad = true on the parameters it is computed from " +
            "(Module.RegisterParameter does), and compute it outside NoGrad.");
    }

    /// <summary>Suspends recording (on a tape and implicitly) until the scope is disposed; the same as <see cref="Tape.NoGrad"/>.</summary>
    /// <returns>The scope; dispose it (<c>using</c>) to resume.</returns>
    public static NoGradScope NoGrad() => Tape.NoGrad();
}
