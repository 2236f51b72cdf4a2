using AutoGrad.Autodiff;
using AutoGrad.Tensors;

namespace AutoGrad.Operations;

/// <summary>Conventions shared by the loss ops.</summary>
public static partial class Ops
{
    /// <summary>
    /// The batch size N the losses divide by: rows of a rank-2 (or higher) input, 1 for a rank-1 input (one sample,
    /// as the book's <c>cross_entropy_error</c> reshapes it).
    /// </summary>
    private static int SampleCount(Tensor x) => x.Rank <= 1 ? 1 : x.Shape[0];

    /// <summary>Checks a (N, C) or (C,) score tensor and returns its rows and classes.</summary>
    private static (int Rows, int Classes) ScoreShape(Tensor x, string op)
    {
        if (x.Rank is < 1 or > 2 || x.Shape[-1] == 0)
        {
            throw new ShapeMismatchException($"{op}: needs scores of shape (N, C) or (C,) with C ≥ 1, got {x.Shape}.");
        }

        RequireSamples(x, op);
        return (x.Rank == 1 ? 1 : x.Shape[0], x.Shape[-1]);
    }

    /// <summary>
    /// Rejects an empty batch: a loss is a mean over samples, and the mean of none would be a silent NaN.
    /// </summary>
    private static void RequireSamples(Tensor x, string op)
    {
        if (x.Length == 0)
        {
            throw new ShapeMismatchException($"{op}: got an empty batch of shape {x.Shape}; a loss averages over samples and needs at least one.");
        }
    }

    /// <summary>Checks a target tensor against the scores: same shape and element type.</summary>
    private static void CheckTarget(Tensor x, Tensor target, string op)
    {
        Check.NotNull(target, op, nameof(target));
        Check.SameType(x, target, op);
        RequireSamples(x, op);
        if (target.Shape != x.Shape)
        {
            throw new ShapeMismatchException($"{op}: target shape {target.Shape} differs from input shape {x.Shape}; one-hot targets need the input's shape.");
        }
    }

    /// <summary>
    /// The state of an op that takes class labels: the caller's array, kept by reference (no copy per loss call), with
    /// an XXH3 checksum that the tape verifies before the backward rule reads the labels again; and optionally a tensor
    /// the forward pass saved beside them.
    /// </summary>
    private sealed class LabelState(ReadOnlyMemory<int> labels, Tensor? saved = null) : IReferencedState
    {
        private readonly ulong _checksum = Checksum(labels.Span);

        public ReadOnlyMemory<int> Labels { get; } = labels;

        public Tensor? Saved { get; } = saved;

        public void VerifyUnchanged(string op, int node)
        {
            if (Checksum(Labels.Span) != _checksum)
            {
                throw new InvalidOperationException(
                    $"Backward: the labels given to {op} (node {node} of the tape) were changed after the forward pass; its gradient would not " +
                    "belong to the loss computed. Keep the label array unchanged until the backward pass, or pass a copy.");
            }
        }

        private static ulong Checksum(ReadOnlySpan<int> labels) =>
            System.IO.Hashing.XxHash3.HashToUInt64(System.Runtime.InteropServices.MemoryMarshal.AsBytes(labels));
    }
}
