using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace AutoGrad.Kernels;

/// <summary>
/// Max pooling over 2×2 windows at stride 2 in float32, one output row at a time, eight windows per step: the pooling
/// of most nets, where a scalar loop spends more time choosing than moving memory. An adjacent pair of columns is one
/// 64-bit lane, so "the other column of my window" is a 32-bit shift, and the outputs are the pairs' low halves
/// (a narrowing). The rules are those of the scalar code: the maximum propagates NaN, and the gradient goes to the
/// window's first element equal to the output (row-major), or its first NaN.
/// </summary>
internal static class MaxPool2x2
{
    /// <summary>Whether the vector paths run (else callers use their scalar loops).</summary>
    public static bool IsSupported => Vector256.IsHardwareAccelerated;

    /// <summary>
    /// Pools <paramref name="rows"/> output rows of planes <paramref name="width"/> wide (even), stored one after
    /// another, with the rows split across the worker threads when there are many (<see cref="Chunks"/>).
    /// </summary>
    public static void Forward(ArraySegment<float> input, ArraySegment<float> output, int rows, int width) =>
        Chunks.Run(new ForwardRows(input, output, width), rows, 2 * width);

    /// <summary>The gradient of <paramref name="rows"/> output rows (see <see cref="Forward(ArraySegment{float}, ArraySegment{float}, int, int)"/>).</summary>
    public static void Backward(ArraySegment<float> input, ArraySegment<float> output, ArraySegment<float> upstream, ArraySegment<float> gradient, int rows, int width) =>
        Chunks.Run(new BackwardRows(input, output, upstream, gradient, width), rows, 2 * width);

    /// <summary>output[j] = max of top[2j], top[2j + 1], bottom[2j], bottom[2j + 1], for j below output's length.</summary>
    public static void Forward(ReadOnlySpan<float> top, ReadOnlySpan<float> bottom, Span<float> output)
    {
        var outW = output.Length;
        if (top.Length < 2 * outW || bottom.Length < 2 * outW)
        {
            throw new ArgumentException("The input rows are shorter than twice the output row.", nameof(output));
        }

        ref var t = ref MemoryMarshal.GetReference(top);
        ref var b = ref MemoryMarshal.GetReference(bottom);
        ref var o = ref MemoryMarshal.GetReference(output);
        nuint j = 0;
        for (; j + 8 <= (nuint)outW; j += 8)
        {
            var low = PairMaxima(Vector256.LoadUnsafe(ref t, 2 * j), Vector256.LoadUnsafe(ref b, 2 * j));
            var high = PairMaxima(Vector256.LoadUnsafe(ref t, (2 * j) + 8), Vector256.LoadUnsafe(ref b, (2 * j) + 8));
            Vector256.Narrow(low, high).AsSingle().StoreUnsafe(ref o, j);
        }

        // Four windows more, then the last four again where a few remain (a 28-wide plane has 14 per row): windows
        // computed twice are written twice with the same values.
        if (j + 4 <= (nuint)outW)
        {
            var four = PairMaxima(Vector256.LoadUnsafe(ref t, 2 * j), Vector256.LoadUnsafe(ref b, 2 * j));
            Vector256.Narrow(four, four).AsSingle().GetLower().StoreUnsafe(ref o, j);
            j += 4;
        }

        if (j < (nuint)outW && outW >= 4)
        {
            j = (nuint)outW - 4;
            var four = PairMaxima(Vector256.LoadUnsafe(ref t, 2 * j), Vector256.LoadUnsafe(ref b, 2 * j));
            Vector256.Narrow(four, four).AsSingle().GetLower().StoreUnsafe(ref o, j);
            j += 4;
        }

        for (; j < (nuint)outW; j++)
        {
            var at = 2 * j;
            Unsafe.Add(ref o, j) = float.Max(
                float.Max(Unsafe.Add(ref t, at), Unsafe.Add(ref t, at + 1)),
                float.Max(Unsafe.Add(ref b, at), Unsafe.Add(ref b, at + 1)));
        }
    }

    /// <summary>
    /// The gradient of one output row: each window's four elements of <paramref name="gradTop"/> and
    /// <paramref name="gradBottom"/> are written (overwritten), g at the chosen one and 0 at the others.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> top, ReadOnlySpan<float> bottom, ReadOnlySpan<float> output, ReadOnlySpan<float> upstream, Span<float> gradTop, Span<float> gradBottom)
    {
        var outW = output.Length;
        if (top.Length < 2 * outW || bottom.Length < 2 * outW || upstream.Length != outW || gradTop.Length < 2 * outW || gradBottom.Length < 2 * outW)
        {
            throw new ArgumentException("The rows' lengths do not fit one output row of 2×2 windows.", nameof(output));
        }

        ref var t = ref MemoryMarshal.GetReference(top);
        ref var b = ref MemoryMarshal.GetReference(bottom);
        ref var y = ref MemoryMarshal.GetReference(output);
        ref var g = ref MemoryMarshal.GetReference(upstream);
        ref var dt = ref MemoryMarshal.GetReference(gradTop);
        ref var db = ref MemoryMarshal.GetReference(gradBottom);
        nuint j = 0;
        for (; j + 8 <= (nuint)outW; j += 8)
        {
            var maxima = Vector256.LoadUnsafe(ref Unsafe.As<float, uint>(ref y), j);
            var gradients = Vector256.LoadUnsafe(ref Unsafe.As<float, uint>(ref g), j);
            var (up, down) = Route(Vector256.LoadUnsafe(ref t, 2 * j), Vector256.LoadUnsafe(ref b, 2 * j), Vector256.WidenLower(maxima), Vector256.WidenLower(gradients));
            up.StoreUnsafe(ref dt, 2 * j);
            down.StoreUnsafe(ref db, 2 * j);
            (up, down) = Route(Vector256.LoadUnsafe(ref t, (2 * j) + 8), Vector256.LoadUnsafe(ref b, (2 * j) + 8), Vector256.WidenUpper(maxima), Vector256.WidenUpper(gradients));
            up.StoreUnsafe(ref dt, (2 * j) + 8);
            down.StoreUnsafe(ref db, (2 * j) + 8);
        }

        // Four windows more where they fit (a 24-wide plane has 12 per row), then the last four again where a few
        // remain (28-wide: 14): every element of a window is written, so a window done twice is written twice alike.
        if (j + 4 <= (nuint)outW)
        {
            FourWindows(ref t, ref b, ref y, ref g, ref dt, ref db, j);
            j += 4;
        }

        if (j < (nuint)outW && outW >= 4)
        {
            FourWindows(ref t, ref b, ref y, ref g, ref dt, ref db, (nuint)outW - 4);
            j = (nuint)outW;
        }

        for (; j < (nuint)outW; j++)
        {
            var at = 2 * j;
            var m = Unsafe.Add(ref y, j);
            var first = FirstMaximum(Unsafe.Add(ref t, at), Unsafe.Add(ref t, at + 1), Unsafe.Add(ref b, at), Unsafe.Add(ref b, at + 1), m);
            Unsafe.Add(ref dt, at) = Unsafe.Add(ref dt, at + 1) = Unsafe.Add(ref db, at) = Unsafe.Add(ref db, at + 1) = 0;
            Unsafe.Add(ref first < 2 ? ref dt : ref db, at + (nuint)(first & 1)) = Unsafe.Add(ref g, j);
        }
    }

    /// <summary>The gradient of the four windows from output column <paramref name="j"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FourWindows(ref float t, ref float b, ref float y, ref float g, ref float dt, ref float db, nuint j)
    {
        var maxima = Vector128.LoadUnsafe(ref Unsafe.As<float, uint>(ref y), j);
        var gradients = Vector128.LoadUnsafe(ref Unsafe.As<float, uint>(ref g), j);
        var (up, down) = Route(
            Vector256.LoadUnsafe(ref t, 2 * j), Vector256.LoadUnsafe(ref b, 2 * j),
            Vector256.Create(Vector128.WidenLower(maxima), Vector128.WidenUpper(maxima)),
            Vector256.Create(Vector128.WidenLower(gradients), Vector128.WidenUpper(gradients)));
        up.StoreUnsafe(ref dt, 2 * j);
        down.StoreUnsafe(ref db, 2 * j);
    }

    private readonly struct ForwardRows(ArraySegment<float> input, ArraySegment<float> output, int width) : IChunkJob
    {
        public void Run(int start, int length)
        {
            var outW = width / 2;
            for (var row = start; row < start + length; row++)
            {
                Forward(input.AsSpan(2 * row * width, width), input.AsSpan(((2 * row) + 1) * width, width), output.AsSpan(row * outW, outW));
            }
        }
    }

    private readonly struct BackwardRows(ArraySegment<float> input, ArraySegment<float> output, ArraySegment<float> upstream, ArraySegment<float> gradient, int width) : IChunkJob
    {
        public void Run(int start, int length)
        {
            var outW = width / 2;
            for (var row = start; row < start + length; row++)
            {
                int top = 2 * row * width, bottom = top + width;
                Backward(
                    input.AsSpan(top, width), input.AsSpan(bottom, width), output.AsSpan(row * outW, outW), upstream.AsSpan(row * outW, outW),
                    gradient.AsSpan(top, width), gradient.AsSpan(bottom, width));
            }
        }
    }

    /// <summary>In each pair's low half, the larger of the pair's two columns over both rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<ulong> PairMaxima(Vector256<float> top, Vector256<float> bottom)
    {
        var rows = Vector256.Max(top, bottom);
        return Vector256.Max(rows, (rows.AsUInt64() >> 32).AsSingle()).AsUInt64();
    }

    /// <summary>
    /// Four windows' gradients: <paramref name="maxima"/> and <paramref name="gradients"/> hold one window each per
    /// 64-bit lane (low half), and are spread over both halves so each pair of columns compares with its own.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<float> Top, Vector256<float> Bottom) Route(Vector256<float> top, Vector256<float> bottom, Vector256<ulong> maxima, Vector256<ulong> gradients)
    {
        var m = (maxima | (maxima << 32)).AsSingle();
        var g = gradients | (gradients << 32);
        var nan = ~Vector256.Equals(m, m);
        var inTop = (Vector256.Equals(top, m) | (~Vector256.Equals(top, top) & nan)).AsUInt64();
        var inBottom = (Vector256.Equals(bottom, m) | (~Vector256.Equals(bottom, bottom) & nan)).AsUInt64();
        // Per pair: the right column only when the left one did not match; the bottom row only when the top did not.
        var anyTop = inTop | (inTop << 32) | (inTop >> 32);
        var anyBottom = inBottom | (inBottom << 32) | (inBottom >> 32);
        var takeTop = (inTop & ~(inTop << 32)) | (~(anyTop | anyBottom) & Vector256.Create(0xFFFF_FFFFUL));
        var takeBottom = inBottom & ~(inBottom << 32) & ~anyTop;
        return ((takeTop & g).AsSingle(), (takeBottom & g).AsSingle());
    }

    /// <summary>
    /// Which of a 2×2 window's elements (a, b above c, d) gets its gradient: the first equal to
    /// <paramref name="maximum"/>, or the first NaN when the maximum is NaN; the first element when none matches (an
    /// output not computed from this window). Chosen with bit arithmetic, not branches, which a random maximum's
    /// position would mispredict half the time. The scalar form, for both element types.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int FirstMaximum<T>(T a, T b, T c, T d, T maximum)
        where T : IFloatingPointIeee754<T>
    {
        var nan = T.IsNaN(maximum);
        bool ma = nan ? T.IsNaN(a) : a == maximum, mb = nan ? T.IsNaN(b) : b == maximum;
        bool mc = nan ? T.IsNaN(c) : c == maximum, md = nan ? T.IsNaN(d) : d == maximum;
        var matches = Bit(ma) | (Bit(mb) << 1) | (Bit(mc) << 2) | (Bit(md) << 3);
        return BitOperations.TrailingZeroCount(matches | 16) & 3;

        static int Bit(bool value) => Unsafe.As<bool, byte>(ref value);
    }
}
