using System.Numerics;
using System.Numerics.Tensors;

namespace AutoGrad.Kernels;

/// <summary>An elementwise binary operation in the three forms broadcasting needs: span–span, span–scalar, scalar–span.</summary>
/// <typeparam name="T">The element type.</typeparam>
internal interface IBinaryKernel<T>
{
    static abstract void Apply(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> destination);

    static abstract void Apply(ReadOnlySpan<T> x, T y, Span<T> destination);

    static abstract void Apply(T x, ReadOnlySpan<T> y, Span<T> destination);

    static abstract T Apply(T x, T y);
}

/// <summary>The four arithmetic kernels, each a thin shim over <see cref="TensorPrimitives"/>.</summary>
internal static class BinaryKernels
{
    internal readonly struct Add<T> : IBinaryKernel<T>
        where T : IFloatingPointIeee754<T>
    {
        public static void Apply(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> destination) => TensorPrimitives.Add(x, y, destination);

        public static void Apply(ReadOnlySpan<T> x, T y, Span<T> destination) => TensorPrimitives.Add(x, y, destination);

        public static void Apply(T x, ReadOnlySpan<T> y, Span<T> destination) => TensorPrimitives.Add(y, x, destination);

        public static T Apply(T x, T y) => x + y;
    }

    internal readonly struct Subtract<T> : IBinaryKernel<T>
        where T : IFloatingPointIeee754<T>
    {
        public static void Apply(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> destination) => TensorPrimitives.Subtract(x, y, destination);

        public static void Apply(ReadOnlySpan<T> x, T y, Span<T> destination) => TensorPrimitives.Subtract(x, y, destination);

        public static void Apply(T x, ReadOnlySpan<T> y, Span<T> destination) => TensorPrimitives.Subtract(x, y, destination);

        public static T Apply(T x, T y) => x - y;
    }

    internal readonly struct Multiply<T> : IBinaryKernel<T>
        where T : IFloatingPointIeee754<T>
    {
        public static void Apply(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> destination) => TensorPrimitives.Multiply(x, y, destination);

        public static void Apply(ReadOnlySpan<T> x, T y, Span<T> destination) => TensorPrimitives.Multiply(x, y, destination);

        public static void Apply(T x, ReadOnlySpan<T> y, Span<T> destination) => TensorPrimitives.Multiply(y, x, destination);

        public static T Apply(T x, T y) => x * y;
    }

    internal readonly struct Divide<T> : IBinaryKernel<T>
        where T : IFloatingPointIeee754<T>
    {
        public static void Apply(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> destination) => TensorPrimitives.Divide(x, y, destination);

        public static void Apply(ReadOnlySpan<T> x, T y, Span<T> destination) => TensorPrimitives.Divide(x, y, destination);

        public static void Apply(T x, ReadOnlySpan<T> y, Span<T> destination) => TensorPrimitives.Divide(x, y, destination);

        public static T Apply(T x, T y) => x / y;
    }

    /// <summary>The larger of each pair; NaN propagates (IEEE 754 maximum, as PyTorch's maximum).</summary>
    internal readonly struct Maximum<T> : IBinaryKernel<T>
        where T : IFloatingPointIeee754<T>
    {
        public static void Apply(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> destination) => TensorPrimitives.Max(x, y, destination);

        public static void Apply(ReadOnlySpan<T> x, T y, Span<T> destination) => TensorPrimitives.Max(x, y, destination);

        public static void Apply(T x, ReadOnlySpan<T> y, Span<T> destination) => TensorPrimitives.Max(y, x, destination);

        public static T Apply(T x, T y) => T.Max(x, y);
    }

    /// <summary>The smaller of each pair; NaN propagates.</summary>
    internal readonly struct Minimum<T> : IBinaryKernel<T>
        where T : IFloatingPointIeee754<T>
    {
        public static void Apply(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> destination) => TensorPrimitives.Min(x, y, destination);

        public static void Apply(ReadOnlySpan<T> x, T y, Span<T> destination) => TensorPrimitives.Min(x, y, destination);

        public static void Apply(T x, ReadOnlySpan<T> y, Span<T> destination) => TensorPrimitives.Min(y, x, destination);

        public static T Apply(T x, T y) => T.Min(x, y);
    }

    /// <summary>
    /// How much of a maximum's gradient x receives against y: 1 where x &gt; y, ½ at a tie, 0 otherwise (NaN included),
    /// PyTorch's rule. <see cref="Minimum{T}"/> uses it with the arguments' roles as <c>y &gt; x</c> (see <see cref="LessWeight{T}"/>).
    /// </summary>
    internal readonly struct GreaterWeight<T> : IBinaryKernel<T>
        where T : IFloatingPointIeee754<T>
    {
        public static void Apply(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> destination)
        {
            for (var i = 0; i < destination.Length; i++)
            {
                destination[i] = Apply(x[i], y[i]);
            }
        }

        public static void Apply(ReadOnlySpan<T> x, T y, Span<T> destination)
        {
            for (var i = 0; i < destination.Length; i++)
            {
                destination[i] = Apply(x[i], y);
            }
        }

        public static void Apply(T x, ReadOnlySpan<T> y, Span<T> destination)
        {
            for (var i = 0; i < destination.Length; i++)
            {
                destination[i] = Apply(x, y[i]);
            }
        }

        public static T Apply(T x, T y) => x > y ? T.One : x == y ? T.One / (T.One + T.One) : T.Zero;
    }

    /// <summary>How much of a minimum's gradient x receives against y: 1 where x &lt; y, ½ at a tie, 0 otherwise.</summary>
    internal readonly struct LessWeight<T> : IBinaryKernel<T>
        where T : IFloatingPointIeee754<T>
    {
        public static void Apply(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> destination) => GreaterWeight<T>.Apply(y, x, destination);

        public static void Apply(ReadOnlySpan<T> x, T y, Span<T> destination) => GreaterWeight<T>.Apply(y, x, destination);

        public static void Apply(T x, ReadOnlySpan<T> y, Span<T> destination) => GreaterWeight<T>.Apply(y, x, destination);

        public static T Apply(T x, T y) => GreaterWeight<T>.Apply(y, x);
    }
}
