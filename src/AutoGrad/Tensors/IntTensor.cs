using System.Globalization;

namespace AutoGrad.Tensors;

/// <summary>
/// An immutable tensor of 32-bit integers: positions such as <c>ArgMax</c>'s, or class indices. Not differentiable;
/// <see cref="ToTensor"/> converts it for arithmetic.
/// </summary>
public sealed class IntTensor : ConstantTensor<int>
{
    internal IntTensor(int[] data, Shape shape)
        : base(data, shape)
    {
    }

    /// <inheritdoc/>
    private protected override string Kind => "IntTensor";

    /// <summary>Copies integers into a new tensor.</summary>
    /// <param name="data">The elements, row-major.</param>
    /// <param name="shape">The dimensions; none gives one dimension of <paramref name="data"/>'s length.</param>
    /// <returns>The tensor.</returns>
    /// <exception cref="ArgumentException">The shape does not hold exactly <paramref name="data"/>'s length, or has a negative dimension.</exception>
    public static IntTensor FromArray(int[] data, params ReadOnlySpan<int> shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        var (copy, s) = Copy(data, shape, "IntTensor.FromArray");
        return new IntTensor(copy, s);
    }

    /// <summary>The values as a floating-point tensor (owned), for arithmetic with other tensors.</summary>
    /// <param name="dtype">The element type; <see cref="Tensor.DefaultDType"/> when null.</param>
    /// <returns>A new tensor of the same shape.</returns>
    public Tensor ToTensor(DType? dtype = null)
    {
        var values = new double[Length];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = Data[i];
        }

        return Tensor.FromArray(values, Shape.Dims).ToType(dtype ?? Tensor.DefaultDType);
    }

    /// <inheritdoc/>
    private protected override string Format(int value) => value.ToString(CultureInfo.InvariantCulture);
}
