using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace AutoGrad.Kernels;

/// <summary>
/// Copies and sums of short lines (an image row of 8 to a few dozen elements), with the vector moves inlined: im2col
/// and col2im move thousands of such lines per image, and a call to memmove or TensorPrimitives costs about as much as
/// the line itself. Meant for float and double; the source and the destination never overlap.
/// </summary>
internal static class Lines
{
    /// <summary>destination = source (same lengths).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy<T>(ReadOnlySpan<T> source, Span<T> destination)
        where T : struct
    {
        var n = source.Length;
        if (destination.Length != n)
        {
            throw new ArgumentException("The lines differ in length.", nameof(destination));
        }

        if (n < Vector128<T>.Count || !Vector128.IsHardwareAccelerated)
        {
            source.CopyTo(destination);
            return;
        }

        Copy(ref MemoryMarshal.GetReference(source), ref MemoryMarshal.GetReference(destination), n);
    }

    /// <summary>
    /// The <paramref name="n"/> elements from <paramref name="s"/> on to <paramref name="d"/> on, unchecked: for loops
    /// over many lines whose bounds the caller checked once. <paramref name="n"/> must be at least one 128-bit vector.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy<T>(ref T s, ref T d, int n)
        where T : struct
    {
        // The last vector ends at the line's end and may overlap the one before it, which is harmless for a copy.
        if (Vector512.IsHardwareAccelerated && n >= Vector512<T>.Count)
        {
            var last = (nuint)(n - Vector512<T>.Count);
            for (nuint i = 0; i < last; i += (nuint)Vector512<T>.Count)
            {
                Vector512.LoadUnsafe(ref s, i).StoreUnsafe(ref d, i);
            }

            Vector512.LoadUnsafe(ref s, last).StoreUnsafe(ref d, last);
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<T>.Count)
        {
            var last = (nuint)(n - Vector256<T>.Count);
            for (nuint i = 0; i < last; i += (nuint)Vector256<T>.Count)
            {
                Vector256.LoadUnsafe(ref s, i).StoreUnsafe(ref d, i);
            }

            Vector256.LoadUnsafe(ref s, last).StoreUnsafe(ref d, last);
        }
        else if (Vector128.IsHardwareAccelerated && n >= Vector128<T>.Count)
        {
            var last = (nuint)(n - Vector128<T>.Count);
            for (nuint i = 0; i < last; i += (nuint)Vector128<T>.Count)
            {
                Vector128.LoadUnsafe(ref s, i).StoreUnsafe(ref d, i);
            }

            Vector128.LoadUnsafe(ref s, last).StoreUnsafe(ref d, last);
        }
    }

    /// <summary>destination += source (same lengths).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Add<T>(ReadOnlySpan<T> source, Span<T> destination)
        where T : struct, IAdditionOperators<T, T, T>
    {
        var n = source.Length;
        if (destination.Length != n)
        {
            throw new ArgumentException("The lines differ in length.", nameof(destination));
        }

        ref var s = ref MemoryMarshal.GetReference(source);
        ref var d = ref MemoryMarshal.GetReference(destination);
        // Whole vectors from the widest down, then single elements: an overlapping tail would add twice.
        nuint i = 0, count = (nuint)n;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + (nuint)Vector512<T>.Count <= count; i += (nuint)Vector512<T>.Count)
            {
                (Vector512.LoadUnsafe(ref d, i) + Vector512.LoadUnsafe(ref s, i)).StoreUnsafe(ref d, i);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + (nuint)Vector256<T>.Count <= count; i += (nuint)Vector256<T>.Count)
            {
                (Vector256.LoadUnsafe(ref d, i) + Vector256.LoadUnsafe(ref s, i)).StoreUnsafe(ref d, i);
            }
        }

        if (Vector128.IsHardwareAccelerated)
        {
            for (; i + (nuint)Vector128<T>.Count <= count; i += (nuint)Vector128<T>.Count)
            {
                (Vector128.LoadUnsafe(ref d, i) + Vector128.LoadUnsafe(ref s, i)).StoreUnsafe(ref d, i);
            }
        }

        for (; i < count; i++)
        {
            Unsafe.Add(ref d, i) += Unsafe.Add(ref s, i);
        }
    }
}
