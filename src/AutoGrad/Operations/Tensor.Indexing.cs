using System.Runtime.CompilerServices;

using AutoGrad.Autodiff;
using AutoGrad.Operations;

namespace AutoGrad.Tensors;

/// <summary>Indexing on any axes with positions and ranges, PyTorch's <c>x[0, 1:3]</c>, read and written.</summary>
public sealed partial class Tensor
{
    /// <summary>
    /// The part of the tensor that <paramref name="indices"/> select, one per leading axis (the axes after them are
    /// kept whole): a position takes one index and removes the axis, a range keeps it. <c>x[.., 1..3]</c> is columns
    /// 1 and 2 of a matrix, <c>x[0, ..]</c> its first row, <c>x[^1, 2..]</c> the last row from column 2 on. Reading is an
    /// op (recorded like <see cref="Ops.Narrow"/> and <see cref="Ops.Reshape"/>, so gradients flow through it).
    /// Writing copies a tensor that broadcasts to the part into it, in place: the tensor must own its memory, and the
    /// write counts as one (<see cref="Version"/> grows), so a tape that recorded an op on the old values refuses its
    /// backward pass, as PyTorch does.
    /// </summary>
    /// <param name="indices">Positions (<see cref="int"/>, negative from the end, or <see cref="Index"/>) and ranges, at most one per axis.</param>
    /// <exception cref="ArgumentException">More indices than axes.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A position or range outside its axis.</exception>
    [IndexerName("Element")]
    public Tensor this[params ReadOnlySpan<TensorIndex> indices]
    {
        get
        {
            EnsureAlive("Indexer");
            Span<int> starts = stackalloc int[Rank];
            Span<int> lengths = stackalloc int[Rank];
            Span<int> kept = stackalloc int[Rank];
            var rank = Resolve(indices, starts, lengths, kept);
            var part = this;
            for (var axis = 0; axis < Rank; axis++)
            {
                if (lengths[axis] != Shape[axis])
                {
                    part = Ops.Narrow(part, axis, starts[axis], lengths[axis]);
                }
            }

            return rank == Rank ? part : Ops.Reshape(part, kept[..rank]);
        }

        set
        {
            ArgumentNullException.ThrowIfNull(value);
            EnsureAlive("Indexer");
            Check.SameType(this, value, "Indexer");
            Span<int> starts = stackalloc int[Rank];
            Span<int> lengths = stackalloc int[Rank];
            Span<int> kept = stackalloc int[Rank];
            var rank = Resolve(indices, starts, lengths, kept);
            Tensor block;
            using (Tape.NoGrad())
            {
                // The value broadcasts to the part as read (positions' axes removed); then it takes the part's full rank.
                block = Ops.Reshape(Ops.BroadcastTo(value, kept[..rank]), lengths);
            }

            Ops.WriteBlock(this, block, starts);
        }
    }

    /// <summary>Each axis's first index and length, and the dimensions of the result (kept axes only); returns its rank.</summary>
    private int Resolve(ReadOnlySpan<TensorIndex> indices, Span<int> starts, Span<int> lengths, Span<int> kept)
    {
        if (indices.Length > Rank)
        {
            throw new ArgumentException($"Indexer: {indices.Length} indices given for a tensor of shape {Shape} (rank {Rank}).", nameof(indices));
        }

        var rank = 0;
        for (var axis = 0; axis < Rank; axis++)
        {
            var index = axis < indices.Length ? indices[axis] : TensorIndex.FromRange(Range.All);
            (starts[axis], lengths[axis]) = index.Resolve(Shape[axis], axis, Shape);
            if (index.IsRange)
            {
                kept[rank++] = lengths[axis];
            }
        }

        return rank;
    }
}
