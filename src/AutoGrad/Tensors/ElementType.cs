using System.Numerics;
using System.Runtime.CompilerServices;

namespace AutoGrad.Tensors;

/// <summary>
/// Code written once for both element types: <see cref="Run{T}"/> is a generic method of a struct, so the JIT compiles
/// a float and a double copy, and <see cref="ElementType.Dispatch{TAction}(DType, in TAction)"/> picks one. The struct
/// carries the arguments, so nothing is allocated (C# has no generic lambdas; this is their zero-cost form). A
/// <c>ref struct</c> may implement it too, to carry spans or a reference to a tape node without copying it.
/// </summary>
internal interface IElementAction
{
    /// <summary>The work, for element type <typeparamref name="T"/>.</summary>
    void Run<T>()
        where T : unmanaged, IFloatingPointIeee754<T>;
}

/// <summary>The same, for work that returns a value.</summary>
/// <typeparam name="TResult">What the work returns.</typeparam>
internal interface IElementFunction<out TResult>
{
    /// <summary>The work, for element type <typeparamref name="T"/>.</summary>
    TResult Run<T>()
        where T : unmanaged, IFloatingPointIeee754<T>;
}

/// <summary>The one place that turns a <see cref="DType"/> into a type argument.</summary>
internal static class ElementType
{
    /// <summary>Runs <paramref name="action"/> for the element type <paramref name="dtype"/> names.</summary>
    /// <exception cref="NotSupportedException">The type is neither float32 nor float64.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Dispatch<TAction>(DType dtype, in TAction action)
        where TAction : IElementAction, allows ref struct
    {
        switch (dtype)
        {
            case DType.Float32:
                action.Run<float>();
                break;
            case DType.Float64:
                action.Run<double>();
                break;
            default:
                throw Unsupported(dtype);
        }
    }

    /// <summary>Runs <paramref name="function"/> for the element type <paramref name="dtype"/> names, returning its result.</summary>
    /// <exception cref="NotSupportedException">The type is neither float32 nor float64.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TResult Dispatch<TFunction, TResult>(DType dtype, in TFunction function)
        where TFunction : IElementFunction<TResult>, allows ref struct => dtype switch
        {
            DType.Float32 => function.Run<float>(),
            DType.Float64 => function.Run<double>(),
            _ => throw Unsupported(dtype),
        };

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static NotSupportedException Unsupported(DType dtype) =>
        new($"Element type {(int)dtype} is not supported; tensors hold float32 or float64.");
}
