using System.Numerics;
using System.Runtime.InteropServices;

namespace AutoGrad.Kernels;

/// <summary>An elementwise backward formula dx = f(v, g), in a vector and a scalar form.</summary>
/// <typeparam name="T">The element type.</typeparam>
internal interface IGradientFormula<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    static abstract Vector<T> Apply(Vector<T> value, Vector<T> gradient);

    static abstract T Apply(T value, T gradient);
}

/// <summary>Elementwise backward formulas that TensorPrimitives has no single call for, vectorized with <see cref="Vector{T}"/>.</summary>
internal static class Elementwise
{
    /// <summary>dx = g where x &gt; 0, else 0 (the gradient at exactly 0 is 0).</summary>
    public static void ReluBackward<T>(ArraySegment<T> x, ArraySegment<T> g, ArraySegment<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T> => Chunks.Run(new MapChunk<T, Relu<T>>(x, g, dx), x.Count);

    /// <summary>dx = g ⊙ sign(x), with sign(0) = 0 (the subgradient PyTorch uses for |x|).</summary>
    public static void AbsBackward<T>(ArraySegment<T> x, ArraySegment<T> g, ArraySegment<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T> => Chunks.Run(new MapChunk<T, Abs<T>>(x, g, dx), x.Count);

    /// <summary>dx = g ⊙ y ⊙ (1 − y), the sigmoid's derivative from its output.</summary>
    public static void SigmoidBackward<T>(ArraySegment<T> y, ArraySegment<T> g, ArraySegment<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T> => Chunks.Run(new MapChunk<T, Sigmoid<T>>(y, g, dx), y.Count);

    /// <summary>dx = g ⊙ (1 − y²), tanh's derivative from its output.</summary>
    public static void TanhBackward<T>(ArraySegment<T> y, ArraySegment<T> g, ArraySegment<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T> => Chunks.Run(new MapChunk<T, Tanh<T>>(y, g, dx), y.Count);

    /// <summary>A formula over one chunk of a large gradient (see <see cref="Chunks"/>).</summary>
    private readonly struct MapChunk<T, TFormula>(ArraySegment<T> value, ArraySegment<T> g, ArraySegment<T> dx) : IChunkJob
        where T : unmanaged, IFloatingPointIeee754<T>
        where TFormula : IGradientFormula<T>
    {
        public void Run(int start, int length) => Map<T, TFormula>(value.AsSpan(start, length), g.AsSpan(start, length), dx.AsSpan(start, length));
    }

    private static void Map<T, TFormula>(ReadOnlySpan<T> value, ReadOnlySpan<T> g, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TFormula : IGradientFormula<T>
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            var vv = MemoryMarshal.Cast<T, Vector<T>>(value);
            var vg = MemoryMarshal.Cast<T, Vector<T>>(g);
            var vd = MemoryMarshal.Cast<T, Vector<T>>(dx);
            for (var v = 0; v < vv.Length; v++)
            {
                vd[v] = TFormula.Apply(vv[v], vg[v]);
            }

            i = vv.Length * Vector<T>.Count;
        }

        for (; i < value.Length; i++)
        {
            dx[i] = TFormula.Apply(value[i], g[i]);
        }
    }

    private readonly struct Relu<T> : IGradientFormula<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static Vector<T> Apply(Vector<T> x, Vector<T> g) => Vector.ConditionalSelect(Vector.GreaterThan(x, Vector<T>.Zero), g, Vector<T>.Zero);

        public static T Apply(T x, T g) => x > T.Zero ? g : T.Zero;
    }

    private readonly struct Abs<T> : IGradientFormula<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static Vector<T> Apply(Vector<T> x, Vector<T> g) =>
            Vector.ConditionalSelect(Vector.GreaterThan(x, Vector<T>.Zero), g, Vector.ConditionalSelect(Vector.LessThan(x, Vector<T>.Zero), -g, Vector<T>.Zero));

        public static T Apply(T x, T g) => x > T.Zero ? g : x < T.Zero ? -g : T.Zero;
    }

    private readonly struct Sigmoid<T> : IGradientFormula<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static Vector<T> Apply(Vector<T> y, Vector<T> g) => g * y * (Vector<T>.One - y);

        public static T Apply(T y, T g) => g * y * (T.One - y);
    }

    private readonly struct Tanh<T> : IGradientFormula<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static Vector<T> Apply(Vector<T> y, Vector<T> g) => g * (Vector<T>.One - (y * y));

        public static T Apply(T y, T g) => g * (T.One - (y * y));
    }
}
