using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AutoGrad.Kernels;

/// <summary>
/// Workspaces that start on a cache line. A 64-byte vector load from an address that is not a multiple of 64 spans
/// two lines and costs two loads; kernels whose rows sit at line offsets of their buffer (576-element rows, say) lose
/// a sixth of their speed or more when the buffer itself does not start on one (SimpleConvNet's filter-gradient dot
/// products: 184 → 152 GFLOP/s).
/// </summary>
internal static class CacheLines
{
    /// <summary>The bytes of a cache line.</summary>
    public const int Bytes = 64;

    /// <summary>The elements a rented array needs beyond <paramref name="length"/> for <see cref="Aligned{T}"/> to find room.</summary>
    public static int RentLength<T>(int length)
        where T : unmanaged => length + (Bytes / Unsafe.SizeOf<T>());

    /// <summary>
    /// <paramref name="length"/> elements of <paramref name="array"/> (at least <see cref="RentLength{T}"/> long)
    /// from its first element on a cache line. The address is read once: should the collector move the array later, the
    /// span follows it and stays correct, merely unaligned (rented arrays of this size seldom move).
    /// </summary>
    public static Span<T> Aligned<T>(T[] array, int length)
        where T : unmanaged => array.AsSpan(Skip(array), length);

    /// <summary>The elements of <paramref name="array"/> before its first one on a cache line, as its address reads now.</summary>
    public static unsafe int Skip<T>(T[] array)
        where T : unmanaged
    {
        var address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        return (int)((Bytes - (address & (Bytes - 1))) & (Bytes - 1)) / Unsafe.SizeOf<T>();
    }

    /// <summary>The first address at or after <paramref name="pointer"/> on a cache line (for pinned buffers a line longer than needed).</summary>
    public static unsafe T* Align<T>(T* pointer)
        where T : unmanaged => (T*)(((nint)pointer + (Bytes - 1)) & ~(nint)(Bytes - 1));
}
