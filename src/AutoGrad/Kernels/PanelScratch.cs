namespace AutoGrad.Kernels;

/// <summary>
/// One packed B panel's workspace per thread, pinned and starting on a cache line: a GEMM whose A has few rows packs
/// each B panel just before the tiles that read it, so the panel goes from this buffer's L1 lines straight to the
/// micro-kernel instead of through a shared block in L2 or L3.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
internal static unsafe class PanelScratch<T>
    where T : unmanaged
{
    [ThreadStatic]
    private static T[]? s_buffer;

    /// <summary>At least <paramref name="length"/> elements on a cache line, the same buffer on every call from one thread.</summary>
    public static T* ForThisThread(int length)
    {
        var buffer = s_buffer;
        if (buffer is null || buffer.Length < CacheLines.RentLength<T>(length))
        {
            // Pinned, so the address stays valid after this returns; sized once for the largest panel seen.
            buffer = GC.AllocateUninitializedArray<T>(CacheLines.RentLength<T>(length), pinned: true);
            s_buffer = buffer;
        }

        fixed (T* pointer = buffer)
        {
            return CacheLines.Align(pointer);
        }
    }
}
