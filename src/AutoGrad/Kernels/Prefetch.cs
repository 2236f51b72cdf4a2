using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace AutoGrad.Kernels;

/// <summary>Software prefetch, for gathers whose addresses the hardware prefetcher cannot guess (shuffled rows).</summary>
internal static unsafe class Prefetch
{
    private const int CacheLine = 64;

    /// <summary>Asks the CPU to start loading <paramref name="span"/> into cache; a no-op where SSE is missing.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Span<T>(ReadOnlySpan<T> span)
        where T : unmanaged
    {
        if (!Sse.IsSupported)
        {
            return;
        }

        fixed (T* start = span)
        {
            var bytes = (byte*)start;
            var length = span.Length * sizeof(T);
            for (var offset = 0; offset < length; offset += CacheLine)
            {
                Sse.Prefetch0(bytes + offset);
            }
        }
    }
}
