namespace AutoGrad.Tensors;

/// <summary>
/// An immutable tensor of booleans: a comparison's result (<c>Greater</c>, <c>Less</c>, <c>Equal</c>) and the condition
/// <c>Where</c> selects by. Not differentiable; combine masks with <c>!</c>, <c>&amp;</c> and <c>|</c>.
/// </summary>
public sealed class BoolTensor : ConstantTensor<bool>
{
    internal BoolTensor(bool[] data, Shape shape)
        : base(data, shape)
    {
    }

    /// <summary>How many elements are true.</summary>
    public int CountTrue => Data.Count(value => value);

    /// <inheritdoc/>
    private protected override string Kind => "BoolTensor";

    /// <summary>Copies booleans into a new tensor.</summary>
    /// <param name="data">The elements, row-major.</param>
    /// <param name="shape">The dimensions; none gives one dimension of <paramref name="data"/>'s length.</param>
    /// <returns>The tensor.</returns>
    /// <exception cref="ArgumentException">The shape does not hold exactly <paramref name="data"/>'s length, or has a negative dimension.</exception>
    public static BoolTensor FromArray(bool[] data, params ReadOnlySpan<int> shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        var (copy, s) = Copy(data, shape, "BoolTensor.FromArray");
        return new BoolTensor(copy, s);
    }

    /// <summary>Elementwise not.</summary>
    /// <param name="mask">The mask.</param>
    /// <returns>A new mask, true where <paramref name="mask"/> is false.</returns>
    public static BoolTensor operator !(BoolTensor mask)
    {
        ArgumentNullException.ThrowIfNull(mask);
        var result = new bool[mask.Length];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = !mask.Data[i];
        }

        return new BoolTensor(result, mask.Shape);
    }

    /// <summary>Elementwise and; the shapes must be equal.</summary>
    /// <param name="a">The first mask.</param>
    /// <param name="b">The second mask.</param>
    /// <returns>A new mask.</returns>
    /// <exception cref="ShapeMismatchException">The shapes differ.</exception>
    public static BoolTensor operator &(BoolTensor a, BoolTensor b) => Combine(a, b, "And", and: true);

    /// <summary>Elementwise or; the shapes must be equal.</summary>
    /// <param name="a">The first mask.</param>
    /// <param name="b">The second mask.</param>
    /// <returns>A new mask.</returns>
    /// <exception cref="ShapeMismatchException">The shapes differ.</exception>
    public static BoolTensor operator |(BoolTensor a, BoolTensor b) => Combine(a, b, "Or", and: false);

    /// <summary>The mask as 1 (true) and 0 (false) in a floating-point tensor (owned).</summary>
    /// <param name="dtype">The element type; <see cref="Tensor.DefaultDType"/> when null.</param>
    /// <returns>A new tensor of the same shape.</returns>
    public Tensor ToTensor(DType? dtype = null)
    {
        var values = new double[Length];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = Data[i] ? 1 : 0;
        }

        return Tensor.FromArray(values, Shape.Dims).ToType(dtype ?? Tensor.DefaultDType);
    }

    /// <inheritdoc/>
    private protected override string Format(bool value) => value ? "true" : "false";

    private static BoolTensor Combine(BoolTensor a, BoolTensor b, string op, bool and)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Shape != b.Shape)
        {
            throw new ShapeMismatchException($"{op}: masks of shapes {a.Shape} and {b.Shape} differ.");
        }

        var result = new bool[a.Length];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = and ? a.Data[i] & b.Data[i] : a.Data[i] | b.Data[i];
        }

        return new BoolTensor(result, a.Shape);
    }
}
