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
}
