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
            Lines(start, span.Length * sizeof(T));
        }
    }

    /// <summary>Asks the CPU to start loading the lines of <paramref name="bytes"/> bytes from <paramref name="start"/> (pinned) into cache.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Lines(void* start, int bytes)
    {
        if (!Sse.IsSupported)
        {
            return;
        }

        for (var offset = 0; offset < bytes; offset += CacheLine)
        {
            Sse.Prefetch0((byte*)start + offset);
        }
    }
}

/// <summary>
/// Prefetches two regions into L2 a few lines at a time, spread over the steps of a compute-bound loop, so that the
/// next piece of work finds its data there instead of waiting on memory: each group of a direct convolution copies its
/// input into padded planes before it computes and stores its output to lines that are not in cache, and both
/// otherwise stall on every line.
/// </summary>
internal unsafe ref struct PrefetchCursor
{
    private const int CacheLine = 64;

    private readonly byte* _firstEnd;
    private byte* _second;
    private readonly byte* _secondEnd;
    private readonly int _linesPerStep;
    private byte* _next;

    /// <summary>
    /// Spreads <paramref name="firstBytes"/> bytes from <paramref name="first"/>, then <paramref name="secondBytes"/>
    /// from <paramref name="second"/> (both pinned by the caller), over <paramref name="steps"/> calls of
    /// <see cref="Step"/>.
    /// </summary>
    public PrefetchCursor(void* first, nint firstBytes, void* second, nint secondBytes, int steps)
    {
        if (!Sse.IsSupported)
        {
            firstBytes = secondBytes = 0;
        }

        _next = (byte*)first;
        _firstEnd = _next + firstBytes;
        _second = (byte*)second;
        _secondEnd = _second + secondBytes;
        _linesPerStep = (int)Math.Max(1, (((firstBytes + secondBytes) / CacheLine) + steps) / Math.Max(1, steps));
    }

    /// <summary>Prefetches the next few lines, if any are left.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Step()
    {
        for (var k = 0; k < _linesPerStep; k++)
        {
            if (_next >= _firstEnd)
            {
                if (_second >= _secondEnd)
                {
                    return;
                }

                Sse.Prefetch1(_second);
                _second += CacheLine;
                continue;
            }

            Sse.Prefetch1(_next);
            _next += CacheLine;
        }
    }
}
