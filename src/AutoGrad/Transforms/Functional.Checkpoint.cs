using AutoGrad.Autodiff;
using AutoGrad.Tensors;

namespace AutoGrad.Transforms;

/// <summary>Gradient checkpointing: memory traded for a second forward pass.</summary>
public static partial class Functional
{
    /// <summary>
    /// Runs <paramref name="function"/> without keeping its intermediates (PyTorch's <c>torch.utils.checkpoint</c>, JAX's
    /// <c>checkpoint</c>): the tape records one node for the whole function, holding only its inputs and output, and
    /// the backward sweep runs the function again to rebuild what its gradient needs. Works with
    /// <see cref="Tape.Gradient(Tensor, IReadOnlyList{Tensor}, Tensor?, bool, bool, bool)"/>, <see cref="Tape.Backward(Tensor)"/>,
    /// <c>createGraph</c> (the recomputed segment is recorded) and forward mode.
    /// </summary>
    /// <remarks>
    /// Every tensor whose gradient is wanted must be an input, parameters included (as in JAX): a recomputation that
    /// reads a tensor with <see cref="Tensor.RequiresGrad"/> that is not an input is refused, since its gradient would be
    /// lost. The function must be deterministic (dropout with a fixed seed, say), or the recomputation differs.
    /// </remarks>
    /// <param name="function">The segment to recompute, a function of its inputs.</param>
    /// <param name="inputs">Its inputs.</param>
    /// <returns>Its output, recorded as one node.</returns>
    public static Tensor Checkpoint(Func<Tensor[], Tensor> function, params Tensor[] inputs)
    {
        ArgumentNullException.ThrowIfNull(function);
        CheckTensors(inputs, "Checkpoint", nameof(inputs));
        var segment = new CheckpointSegment(function);

        // The forward recording is kept for the backward rule only where a sweep may come (see CheckpointSegment).
        var output = segment.Forward(inputs, keep: Tape.Current is not null || Tape.RecordsImplicitly(inputs));
        var record = Tape.RentInputs(inputs.Length);
        inputs.CopyTo(record.Inputs, 0);
        Tape.RecordMany(segment, output, record);
        if (Tape.Current?.NodeIndexOf(output) is not >= 0 && output.RecordedBy is null)
        {
            segment.Release();
        }

        return output;
    }

    /// <summary>Runs a one-input function without keeping its intermediates; see <see cref="Checkpoint(Func{Tensor[], Tensor}, Tensor[])"/>.</summary>
    /// <param name="function">The segment to recompute.</param>
    /// <param name="input">Its input.</param>
    /// <returns>Its output, recorded as one node.</returns>
    public static Tensor Checkpoint(Func<Tensor, Tensor> function, Tensor input)
    {
        ArgumentNullException.ThrowIfNull(function);
        return Checkpoint(inputs => function(inputs[0]), [input]);
    }
}
