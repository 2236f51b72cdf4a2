using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AutoGrad.Kernels;

/// <summary>
/// Bytes widened to floats and divided by a constant, each x / d rounded once as IEEE division rounds it, at the speed
/// of a multiply: q = x·(1/d), then q + (x − q·d)·(1/d) with both steps fused. That correction gives the rounded quotient
/// for almost every x and d; since a byte has only 256 values, the form is checked against x / d for all of them once
/// per divisor, and a divisor it fails for is divided after all. Widening and dividing a Fashion-MNIST batch of 100 rows
/// in order took 6.6 µs with a vector division per 16 pixels and takes 5.0 µs this way (Zen 5, one thread).
/// </summary>
internal static unsafe class ByteScaling
{
    /// <summary>The divisor checked last and whether the fused form is exact for it (one data set's loader asks again and again).</summary>
    private static Checked? s_last;

    /// <summary>
    /// <paramref name="target"/>[i] = <paramref name="source"/>[i] / <paramref name="divisor"/> for every i of
    /// <paramref name="source"/>, bit for bit as float division gives it.
    /// </summary>
    public static void Divide(ReadOnlySpan<byte> source, float divisor, Span<float> target)
    {
        target = target[..source.Length];
        if (!IsExact(divisor))
        {
            TensorPrimitives.ConvertTruncating<byte, float>(source, target);
            TensorPrimitives.Divide(target, divisor, target);
            return;
        }

        var inverse = 1f / divisor;
        var i = 0;
        fixed (byte* from = source)
        fixed (float* to = target)
        {
            if (Avx512F.IsSupported)
            {
                for (; i + 16 <= source.Length; i += 16)
                {
                    var x = Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load(from + i)));
                    Quotient(x, Vector512.Create(divisor), Vector512.Create(inverse)).Store(to + i);
                }
            }
            else if (Avx2.IsSupported)
            {
                for (; i + 8 <= source.Length; i += 8)
                {
                    var x = Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(from + i));
                    Quotient(x, Vector256.Create(divisor), Vector256.Create(inverse)).Store(to + i);
                }
            }
        }

        // The rest one by one: the check made the fused form and the division agree, so either serves.
        for (; i < source.Length; i++)
        {
            target[i] = source[i] / divisor;
        }
    }

    /// <summary>Whether the fused form gives x / <paramref name="divisor"/> exactly for every byte x.</summary>
    internal static bool IsExact(float divisor)
    {
        var last = s_last;
        if (last is not null && last.Divisor.Equals(divisor))
        {
            return last.Exact;
        }

        var inverse = 1f / divisor;
        var exact = float.IsNormal(divisor) && float.IsNormal(inverse);
        for (var x = 0; x < 256 && exact; x++)
        {
            var quotient = x * inverse;
            var fused = MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(-quotient, divisor, x), inverse, quotient);
            exact = BitConverter.SingleToInt32Bits(fused) == BitConverter.SingleToInt32Bits(x / divisor);
        }

        s_last = new Checked(divisor, exact);
        return exact;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Quotient(Vector512<float> x, Vector512<float> divisor, Vector512<float> inverse)
    {
        var quotient = x * inverse;
        return Vector512.FusedMultiplyAdd(Vector512.FusedMultiplyAdd(-quotient, divisor, x), inverse, quotient);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Quotient(Vector256<float> x, Vector256<float> divisor, Vector256<float> inverse)
    {
        var quotient = x * inverse;
        return Vector256.FusedMultiplyAdd(Vector256.FusedMultiplyAdd(-quotient, divisor, x), inverse, quotient);
    }

    private sealed record Checked(float Divisor, bool Exact);
}
