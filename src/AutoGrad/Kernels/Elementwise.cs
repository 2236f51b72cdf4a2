using System.Numerics;
using System.Runtime.InteropServices;

namespace AutoGrad.Kernels;

/// <summary>Elementwise backward formulas that TensorPrimitives has no single call for, vectorized with <see cref="Vector{T}"/>.</summary>
internal static class Elementwise
{
    /// <summary>dx = g where x &gt; 0, else 0 (the gradient at exactly 0 is 0).</summary>
    public static void ReluBackward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> g, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            var vx = MemoryMarshal.Cast<T, Vector<T>>(x);
            var vg = MemoryMarshal.Cast<T, Vector<T>>(g);
            var vd = MemoryMarshal.Cast<T, Vector<T>>(dx);
            for (var v = 0; v < vx.Length; v++)
            {
                vd[v] = Vector.ConditionalSelect(Vector.GreaterThan(vx[v], Vector<T>.Zero), vg[v], Vector<T>.Zero);
            }

            i = vx.Length * Vector<T>.Count;
        }

        for (; i < x.Length; i++)
        {
            dx[i] = x[i] > T.Zero ? g[i] : T.Zero;
        }
    }

    /// <summary>dx = g ⊙ sign(x), with sign(0) = 0 (the subgradient PyTorch uses for |x|).</summary>
    public static void AbsBackward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> g, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (var i = 0; i < x.Length; i++)
        {
            dx[i] = x[i] > T.Zero ? g[i] : x[i] < T.Zero ? -g[i] : T.Zero;
        }
    }

    /// <summary>dx = g ⊙ y ⊙ (1 − y), the sigmoid's derivative from its output.</summary>
    public static void SigmoidBackward<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> g, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            var vy = MemoryMarshal.Cast<T, Vector<T>>(y);
            var vg = MemoryMarshal.Cast<T, Vector<T>>(g);
            var vd = MemoryMarshal.Cast<T, Vector<T>>(dx);
            for (var v = 0; v < vy.Length; v++)
            {
                vd[v] = vg[v] * vy[v] * (Vector<T>.One - vy[v]);
            }

            i = vy.Length * Vector<T>.Count;
        }

        for (; i < y.Length; i++)
        {
            dx[i] = g[i] * y[i] * (T.One - y[i]);
        }
    }

    /// <summary>dx = g ⊙ (1 − y²), tanh's derivative from its output.</summary>
    public static void TanhBackward<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> g, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            var vy = MemoryMarshal.Cast<T, Vector<T>>(y);
            var vg = MemoryMarshal.Cast<T, Vector<T>>(g);
            var vd = MemoryMarshal.Cast<T, Vector<T>>(dx);
            for (var v = 0; v < vy.Length; v++)
            {
                vd[v] = vg[v] * (Vector<T>.One - (vy[v] * vy[v]));
            }

            i = vy.Length * Vector<T>.Count;
        }

        for (; i < y.Length; i++)
        {
            dx[i] = g[i] * (T.One - (y[i] * y[i]));
        }
    }
}
