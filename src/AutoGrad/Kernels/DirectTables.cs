using System.Buffers;
using System.Numerics;
using System.Runtime.Intrinsics;

namespace AutoGrad.Kernels;

/// <summary>
/// The tables a <see cref="DirectPlan{T}"/> is run with, rented from the shared pools so that a steady-state step
/// allocates nothing: the offset of each depth step in the padded planes (<see cref="DirectPlan{T}.FillOffsets"/>) and,
/// for passes that write an output, where each vector of computed positions goes
/// (<see cref="DirectPlan{T}.FillSegments"/>).
/// </summary>
internal readonly struct DirectTables<T>
    where T : unmanaged, INumber<T>
{
    private DirectTables(int[] offsets, int[] segmentStarts, int[] segmentOffsets, Vector512<T>[] segmentMasks)
    {
        Offsets = offsets;
        SegmentStarts = segmentStarts;
        SegmentOffsets = segmentOffsets;
        SegmentMasks = segmentMasks;
    }

    /// <summary>The offset of each depth step (c, ky, kx) in the padded planes.</summary>
    public int[] Offsets { get; }

    /// <summary>Where each vector's segments begin; vector v's end where vector v + 1's begin.</summary>
    public int[] SegmentStarts { get; }

    /// <summary>Each segment's output offset for lane 0.</summary>
    public int[] SegmentOffsets { get; }

    /// <summary>Each segment's lanes.</summary>
    public Vector512<T>[] SegmentMasks { get; }

    /// <summary>Rents and fills the tables of <paramref name="plan"/>, the segments only <paramref name="withSegments"/>.</summary>
    public static DirectTables<T> Rent(in DirectPlan<T> plan, bool withSegments)
    {
        var offsets = ArrayPool<int>.Shared.Rent(plan.Depth);
        plan.FillOffsets(offsets);
        if (!withSegments)
        {
            return new DirectTables<T>(offsets, [], [], []);
        }

        var starts = ArrayPool<int>.Shared.Rent(plan.Vectors + 1);
        var segmentOffsets = ArrayPool<int>.Shared.Rent(plan.SegmentCapacity);
        var masks = ArrayPool<Vector512<T>>.Shared.Rent(plan.SegmentCapacity);
        plan.FillSegments(starts, segmentOffsets, masks);
        return new DirectTables<T>(offsets, starts, segmentOffsets, masks);
    }

    /// <summary>Gives the arrays back to the pools.</summary>
    public void Return()
    {
        ArrayPool<int>.Shared.Return(Offsets);
        if (SegmentMasks.Length > 0)
        {
            ArrayPool<int>.Shared.Return(SegmentStarts);
            ArrayPool<int>.Shared.Return(SegmentOffsets);
            ArrayPool<Vector512<T>>.Shared.Return(SegmentMasks);
        }
    }
}
