using System.Globalization;
using System.Text;

namespace AutoGrad.Tensors;

/// <summary>Readable text, in the style of NumPy's array printing.</summary>
public sealed partial class Tensor
{
    /// <summary>Dimensions longer than this print their first and last <see cref="EdgeItems"/> items around "...".</summary>
    private const int SummarizeAbove = 10;
    private const int EdgeItems = 3;

    /// <summary>Formats the values (summarized when large), the shape and the element type.</summary>
    /// <returns>For example <c>tensor([[1, 2], [3, 4]], shape=(2, 2), float32)</c>.</returns>
    public override string ToString()
    {
        if (!IsAlive)
        {
            return $"tensor(<recycled>, shape={Shape}, {DType.Name()})";
        }

        var text = new StringBuilder("tensor(");
        var values = ToDoubleArray();
        AppendDimension(text, values, 0, 0);
        text.Append(", shape=").Append(Shape).Append(", ").Append(DType.Name()).Append(')');
        return text.ToString();
    }

    private void AppendDimension(StringBuilder text, double[] values, int axis, int offset)
    {
        if (axis == Rank)
        {
            AppendNumber(text, values[offset]);
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

            AppendDimension(text, values, axis + 1, offset + (i * stride));
            if (i < dim - 1)
            {
                text.Append(", ");
            }
        }

        text.Append(']');
    }

    private void AppendNumber(StringBuilder text, double value)
    {
        // float32 prints its shortest round-trip form (the float it is, not a widened double); float64 prints
        // 10 significant digits, enough to compare by eye without 17-digit noise. ToDoubleArray() gives every bit.
        var s = DType == DType.Float32
            ? ((float)value).ToString(CultureInfo.InvariantCulture)
            : value.ToString("G10", CultureInfo.InvariantCulture);
        text.Append(s);
    }
}
