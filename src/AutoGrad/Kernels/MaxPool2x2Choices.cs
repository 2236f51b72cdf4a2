using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AutoGrad.Kernels;

/// <summary>
/// Max pooling over 2×2 windows at stride 2 in float32 that keeps, for each window, which of its four elements won:
/// one byte, 0 and 1 for the top row's left and right, 2 and 3 for the bottom row's. The gradient pass then reads
/// those bytes and the upstream gradient instead of the input and the output again: for SimpleConvNet's pooling,
/// 0.4 MB instead of 8.6 MB. The choice is <see cref="MaxPool2x2"/>'s (the first element equal to the maximum,
/// row-major, or the first NaN), so the gradients are the same bit for bit.
/// </summary>
/// <remarks>
/// Eight windows per step: a row's 16 floats are split into even (left) and odd (right) columns by one permute, so
/// the four candidates of eight windows sit in four vectors; the choice is three selects on their comparisons with
/// the maximum, narrowed to bytes. The gradient pass widens the bytes back and interleaves the four masked
/// gradients into the two rows. Both need AVX-512 (the 16-lane permute and the narrowing); without it callers keep
/// <see cref="MaxPool2x2"/>'s passes, which re-read the input.
/// </remarks>
internal static class MaxPool2x2Choices
{
    // Even lanes to the low half, odd lanes to the high half.
    private static readonly Vector512<int> s_split = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);

    // The low half's lane i and the high half's lane i side by side.
    private static readonly Vector512<int> s_interleave = Vector512.Create(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);

    /// <summary>Whether this machine runs these passes.</summary>
    public static bool IsSupported => Avx512F.VL.IsSupported;

    /// <summary>Bytes of choices for <paramref name="windows"/> windows, in float32 elements (the store is a float32 tensor).</summary>
    public static int StoreLength(int windows) => (windows + 3) / 4;

    /// <summary>
    /// Pools <paramref name="rows"/> output rows of planes <paramref name="width"/> wide (even), writing each window's
    /// maximum to <paramref name="output"/> and its choice to <paramref name="choices"/> (read as bytes), with the rows
    /// split across the worker threads when there are many.
    /// </summary>
    public static void Forward(ArraySegment<float> input, ArraySegment<float> output, ArraySegment<float> choices, int rows, int width) =>
        Chunks.Run(new ForwardRows(input, output, choices, width), rows, 2 * width);

    /// <summary>
    /// The gradient of <paramref name="rows"/> output rows from the choices <see cref="Forward(ArraySegment{float}, ArraySegment{float}, ArraySegment{float}, int, int)"/>
    /// kept: every element of <paramref name="gradient"/> is written, g at the chosen one and 0 at the others.
    /// </summary>
    public static void Backward(ArraySegment<float> choices, ArraySegment<float> upstream, ArraySegment<float> gradient, int rows, int width) =>
        Chunks.Run(new BackwardRows(choices, upstream, gradient, width), rows, 2 * width);

    /// <summary>One output row: output[j] = the maximum of window j (top[2j], top[2j + 1], bottom[2j], bottom[2j + 1]), choices[j] its choice.</summary>
    public static void Forward(ReadOnlySpan<float> top, ReadOnlySpan<float> bottom, Span<float> output, Span<byte> choices)
    {
        var outW = output.Length;
        if (top.Length < 2 * outW || bottom.Length < 2 * outW || choices.Length < outW)
        {
            throw new ArgumentException("The rows' lengths do not fit one output row of 2×2 windows.", nameof(output));
        }

        PoolRow(ref MemoryMarshal.GetReference(top), ref MemoryMarshal.GetReference(bottom), ref MemoryMarshal.GetReference(output), ref MemoryMarshal.GetReference(choices), outW);
    }

    /// <summary>
    /// <paramref name="rows"/> output rows at once: output row r pools input rows 2r and 2r + 1 of
    /// <paramref name="width"/> elements (a last odd column is left out), so the rows of many planes of even height
    /// are one call, checked once (per-row calls cost as much as the pooling for 24-wide planes).
    /// </summary>
    public static void PoolRows(ReadOnlySpan<float> input, int rows, int width, Span<float> output, Span<byte> choices)
    {
        var outW = width / 2;
        RequireRows(input.Length, output.Length, choices.Length, rows, width);

        ref var i0 = ref MemoryMarshal.GetReference(input);
        ref var o0 = ref MemoryMarshal.GetReference(output);
        ref var c0 = ref MemoryMarshal.GetReference(choices);
        for (var r = 0; r < rows; r++)
        {
            ref var top = ref Unsafe.Add(ref i0, 2 * r * width);
            PoolRow(ref top, ref Unsafe.Add(ref top, width), ref Unsafe.Add(ref o0, r * outW), ref Unsafe.Add(ref c0, r * outW), outW);
        }
    }

    /// <summary>
    /// The gradient of <see cref="PoolRows"/>: input rows 2r and 2r + 1 of <paramref name="gradient"/> get output
    /// row r's g at each window's choice and 0 at its other elements (a last odd column is not written).
    /// </summary>
    public static void RouteRows(ReadOnlySpan<byte> choices, ReadOnlySpan<float> upstream, int rows, int width, Span<float> gradient)
    {
        var outW = width / 2;
        RequireRows(gradient.Length, upstream.Length, choices.Length, rows, width);

        ref var c0 = ref MemoryMarshal.GetReference(choices);
        ref var g0 = ref MemoryMarshal.GetReference(upstream);
        ref var d0 = ref MemoryMarshal.GetReference(gradient);
        for (var r = 0; r < rows; r++)
        {
            ref var top = ref Unsafe.Add(ref d0, 2 * r * width);
            RouteRow(ref Unsafe.Add(ref c0, r * outW), ref Unsafe.Add(ref g0, r * outW), ref top, ref Unsafe.Add(ref top, width), outW);
        }
    }

    /// <summary>Refuses lengths that do not hold <paramref name="rows"/> output rows of <paramref name="width"/>-wide input row pairs.</summary>
    private static void RequireRows(int planeElements, int pooledElements, int choiceBytes, int rows, int width)
    {
        long windows = (long)rows * (width / 2);
        if (rows < 0 || width < 0 || planeElements < 2L * rows * width || pooledElements < windows || choiceBytes < windows)
        {
            throw new ArgumentException($"The spans do not fit {rows} rows of 2×2 windows over rows {width} wide.");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PoolRow(ref float t, ref float b, ref float o, ref byte c, int outW)
    {
        nuint j = 0;
        for (; j + 8 <= (nuint)outW; j += 8)
        {
            PoolEight(ref t, ref b, ref o, ref c, j);
        }

        // Four windows more where they fit, then the last four again where a few remain (a 28-wide plane has 14 a
        // row): a window done twice is written twice alike.
        if (j + 4 <= (nuint)outW)
        {
            PoolFour(ref t, ref b, ref o, ref c, j);
            j += 4;
        }

        if (j < (nuint)outW && outW >= 4)
        {
            PoolFour(ref t, ref b, ref o, ref c, (nuint)outW - 4);
            j = (nuint)outW;
        }

        for (; j < (nuint)outW; j++)
        {
            var at = 2 * j;
            float ta = Unsafe.Add(ref t, at), tb = Unsafe.Add(ref t, at + 1), ba = Unsafe.Add(ref b, at), bb = Unsafe.Add(ref b, at + 1);
            var maximum = float.Max(float.Max(ta, tb), float.Max(ba, bb));
            Unsafe.Add(ref o, j) = maximum;
            Unsafe.Add(ref c, j) = (byte)MaxPool2x2.FirstMaximum(ta, tb, ba, bb, maximum);
        }
    }

    /// <summary>One output row's gradient: each window's four elements of the two rows get g at its choice and 0 elsewhere.</summary>
    public static void Backward(ReadOnlySpan<byte> choices, ReadOnlySpan<float> upstream, Span<float> gradTop, Span<float> gradBottom)
    {
        var outW = upstream.Length;
        if (choices.Length < outW || gradTop.Length < 2 * outW || gradBottom.Length < 2 * outW)
        {
            throw new ArgumentException("The rows' lengths do not fit one output row of 2×2 windows.", nameof(upstream));
        }

        RouteRow(ref MemoryMarshal.GetReference(choices), ref MemoryMarshal.GetReference(upstream), ref MemoryMarshal.GetReference(gradTop), ref MemoryMarshal.GetReference(gradBottom), outW);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RouteRow(ref byte c, ref float g, ref float dt, ref float db, int outW)
    {
        nuint j = 0;
        for (; j + 8 <= (nuint)outW; j += 8)
        {
            RouteEight(ref c, ref g, ref dt, ref db, j);
        }

        if (j + 4 <= (nuint)outW)
        {
            RouteFour(ref c, ref g, ref dt, ref db, j);
            j += 4;
        }

        if (j < (nuint)outW && outW >= 4)
        {
            RouteFour(ref c, ref g, ref dt, ref db, (nuint)outW - 4);
            j = (nuint)outW;
        }

        for (; j < (nuint)outW; j++)
        {
            var at = 2 * j;
            int choice = Unsafe.Add(ref c, j);
            Unsafe.Add(ref dt, at) = Unsafe.Add(ref dt, at + 1) = Unsafe.Add(ref db, at) = Unsafe.Add(ref db, at + 1) = 0;
            Unsafe.Add(ref choice < 2 ? ref dt : ref db, at + (nuint)(choice & 1)) = Unsafe.Add(ref g, j);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PoolEight(ref float t, ref float b, ref float o, ref byte c, nuint j)
    {
        var top = Avx512F.PermuteVar16x32(Vector512.LoadUnsafe(ref t, 2 * j), s_split);
        var bottom = Avx512F.PermuteVar16x32(Vector512.LoadUnsafe(ref b, 2 * j), s_split);
        Vector256<float> topLeft = top.GetLower(), topRight = top.GetUpper(), bottomLeft = bottom.GetLower(), bottomRight = bottom.GetUpper();
        var maximum = Vector256.Max(Vector256.Max(topLeft, topRight), Vector256.Max(bottomLeft, bottomRight));
        maximum.StoreUnsafe(ref o, j);
        var choice = Choose(topLeft, topRight, bottomLeft, maximum);
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref c, j), Avx512F.VL.ConvertToVector128Byte(choice).AsUInt64().ToScalar());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PoolFour(ref float t, ref float b, ref float o, ref byte c, nuint j)
    {
        var top = Avx2.PermuteVar8x32(Vector256.LoadUnsafe(ref t, 2 * j), Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7));
        var bottom = Avx2.PermuteVar8x32(Vector256.LoadUnsafe(ref b, 2 * j), Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7));
        Vector128<float> topLeft = top.GetLower(), topRight = top.GetUpper(), bottomLeft = bottom.GetLower(), bottomRight = bottom.GetUpper();
        var maximum = Vector128.Max(Vector128.Max(topLeft, topRight), Vector128.Max(bottomLeft, bottomRight));
        maximum.StoreUnsafe(ref o, j);
        var choice = Choose(topLeft, topRight, bottomLeft, maximum);
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref c, j), Avx512F.VL.ConvertToVector128Byte(choice).AsUInt32().ToScalar());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RouteEight(ref byte c, ref float g, ref float dt, ref float db, nuint j)
    {
        var choice = Avx2.ConvertToVector256Int32(Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref c, j))).AsByte());
        var gradient = Vector256.LoadUnsafe(ref g, j);
        var topLeft = gradient & Vector256.Equals(choice, Vector256<int>.Zero).AsSingle();
        var topRight = gradient & Vector256.Equals(choice, Vector256.Create(1)).AsSingle();
        var bottomLeft = gradient & Vector256.Equals(choice, Vector256.Create(2)).AsSingle();
        var bottomRight = gradient & Vector256.Equals(choice, Vector256.Create(3)).AsSingle();
        Avx512F.PermuteVar16x32(Vector512.Create(topLeft, topRight), s_interleave).StoreUnsafe(ref dt, 2 * j);
        Avx512F.PermuteVar16x32(Vector512.Create(bottomLeft, bottomRight), s_interleave).StoreUnsafe(ref db, 2 * j);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RouteFour(ref byte c, ref float g, ref float dt, ref float db, nuint j)
    {
        var choice = Sse41.ConvertToVector128Int32(Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref c, j))).AsByte());
        var gradient = Vector128.LoadUnsafe(ref g, j);
        var topLeft = gradient & Vector128.Equals(choice, Vector128<int>.Zero).AsSingle();
        var topRight = gradient & Vector128.Equals(choice, Vector128.Create(1)).AsSingle();
        var bottomLeft = gradient & Vector128.Equals(choice, Vector128.Create(2)).AsSingle();
        var bottomRight = gradient & Vector128.Equals(choice, Vector128.Create(3)).AsSingle();
        var interleave = Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7);
        Avx2.PermuteVar8x32(Vector256.Create(topLeft, topRight), interleave).StoreUnsafe(ref dt, 2 * j);
        Avx2.PermuteVar8x32(Vector256.Create(bottomLeft, bottomRight), interleave).StoreUnsafe(ref db, 2 * j);
    }

    /// <summary>
    /// 0–3: the first candidate equal to the maximum, or the first NaN (then the maximum is NaN too); the bottom
    /// right one when none of the other three is.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Choose(Vector256<float> topLeft, Vector256<float> topRight, Vector256<float> bottomLeft, Vector256<float> maximum) =>
        Vector256.ConditionalSelect(
            Matches(topLeft, maximum),
            Vector256<int>.Zero,
            Vector256.ConditionalSelect(Matches(topRight, maximum), Vector256.Create(1), Vector256.ConditionalSelect(Matches(bottomLeft, maximum), Vector256.Create(2), Vector256.Create(3))));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Choose(Vector128<float> topLeft, Vector128<float> topRight, Vector128<float> bottomLeft, Vector128<float> maximum) =>
        Vector128.ConditionalSelect(
            Matches(topLeft, maximum),
            Vector128<int>.Zero,
            Vector128.ConditionalSelect(Matches(topRight, maximum), Vector128.Create(1), Vector128.ConditionalSelect(Matches(bottomLeft, maximum), Vector128.Create(2), Vector128.Create(3))));

    // Equal to the maximum, or NaN: a NaN candidate makes the maximum NaN, which equals nothing.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Matches(Vector256<float> candidate, Vector256<float> maximum) =>
        (Vector256.Equals(candidate, maximum) | ~Vector256.Equals(candidate, candidate)).AsInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Matches(Vector128<float> candidate, Vector128<float> maximum) =>
        (Vector128.Equals(candidate, maximum) | ~Vector128.Equals(candidate, candidate)).AsInt32();

    private readonly struct ForwardRows(ArraySegment<float> input, ArraySegment<float> output, ArraySegment<float> choices, int width) : IChunkJob
    {
        public void Run(int start, int length)
        {
            var outW = width / 2;
            PoolRows(input.AsSpan(2 * start * width, 2 * length * width), length, width, output.AsSpan(start * outW, length * outW), MemoryMarshal.AsBytes(choices.AsSpan()).Slice(start * outW, length * outW));
        }
    }

    private readonly struct BackwardRows(ArraySegment<float> choices, ArraySegment<float> upstream, ArraySegment<float> gradient, int width) : IChunkJob
    {
        public void Run(int start, int length)
        {
            var outW = width / 2;
            RouteRows(MemoryMarshal.AsBytes(choices.AsSpan()).Slice(start * outW, length * outW), upstream.AsSpan(start * outW, length * outW), length, width, gradient.AsSpan(2 * start * width, 2 * length * width));
        }
    }
}
