using System.Text;

namespace AutoGrad.Tensors;

/// <summary>
/// An immutable, row-major n-dimensional array that no gradient flows through: the integer and boolean results of
/// queries (<see cref="IntTensor"/> from <c>ArgMax</c>, <see cref="BoolTensor"/> from comparisons). It owns its memory,
/// so unlike an op's <see cref="Tensor"/> it stays readable after the tape that was current is reset.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
public abstract class ConstantTensor<T>
    where T : unmanaged, IEquatable<T>
{
    private const int SummarizeAbove = 10;
    private const int EdgeItems = 3;

    private readonly T[] _data;

    /// <summary>Wraps <paramref name="data"/>, which the caller hands over and never changes again.</summary>
    /// <param name="data">The elements, row-major.</param>
    /// <param name="shape">The dimensions; their product is <paramref name="data"/>'s length.</param>
    private protected ConstantTensor(T[] data, Shape shape)
    {
        _data = data;
        Shape = shape;
    }

    /// <summary>The dimensions.</summary>
    public Shape Shape { get; }

    /// <summary>The number of dimensions (0 for a scalar).</summary>
    public int Rank => Shape.Rank;

    /// <summary>The number of elements.</summary>
    public int Length => _data.Length;

    /// <summary>The short type name that <see cref="ToString"/> starts with.</summary>
    private protected abstract string Kind { get; }

    /// <summary>Reads one element; negative indices count from the end.</summary>
    /// <param name="indices">One index per dimension (none for a scalar).</param>
    /// <returns>The element.</returns>
    /// <exception cref="ArgumentException">The number of indices differs from <see cref="Rank"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside its dimension.</exception>
    public T this[params ReadOnlySpan<int> indices] => _data[Shape.FlatIndex(indices)];

    /// <summary>The elements, row-major, without copying.</summary>
    /// <returns>A read-only view of the elements.</returns>
    public ReadOnlySpan<T> AsReadOnlySpan() => _data;

    /// <summary>A copy of the elements, row-major.</summary>
    /// <returns>A new array.</returns>
    public T[] ToArray() => (T[])_data.Clone();

    /// <summary>Formats the values (summarized when large) and the shape, as <see cref="Tensor.ToString"/> does.</summary>
    /// <returns>For example <c>IntTensor([2, 0, 1], shape=(3,))</c>.</returns>
    public override string ToString()
    {
        var text = new StringBuilder(Kind).Append('(');
        AppendDimension(text, 0, 0);
        return text.Append(", shape=").Append(Shape).Append(')').ToString();
    }

    /// <summary>Formats one element.</summary>
    /// <param name="value">The element.</param>
    /// <returns>Its text.</returns>
    private protected abstract string Format(T value);

    /// <summary>The elements, for the derived types' operators (which never write through it).</summary>
    private protected T[] Data => _data;

    private void AppendDimension(StringBuilder text, int axis, int offset)
    {
        if (axis == Rank)
        {
            text.Append(Format(_data[offset]));
            return;
        }

        var dim = Shape.Dims[axis];
        var stride = Shape.Inner(axis);
        text.Append('[');
        for (var i = 0; i < dim; i++)
        {
            if (dim > SummarizeAbove && i == EdgeItems)
            {
                text.Append("..., ");
                i = dim - EdgeItems;
            }

            AppendDimension(text, axis + 1, offset + (i * stride));
            if (i < dim - 1)
            {
                text.Append(", ");
            }
        }

        text.Append(']');
    }

    /// <summary>Checks a caller's data against a shape (none: one dimension) and copies it, naming <paramref name="op"/> on a mismatch.</summary>
    private protected static (T[] Data, Shape Shape) Copy(ReadOnlySpan<T> data, ReadOnlySpan<int> shape, string op)
    {
        var s = shape.Length == 0 ? Shape.Create([data.Length], op) : Shape.Create(shape, op);
        if (s.ElementCount != data.Length)
        {
            throw new ArgumentException($"{op}: {data.Length} values do not fill shape {s} ({s.ElementCount} elements).", nameof(shape));
        }

        return (data.ToArray(), s);
    }
}
