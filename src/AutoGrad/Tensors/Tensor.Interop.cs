using System.Numerics.Tensors;

namespace AutoGrad.Tensors;

/// <summary>Conversion to and from System.Numerics.Tensors.</summary>
public sealed partial class Tensor
{
    /// <summary>Copies this tensor into a new <see cref="Tensor{T}"/> of the same shape.</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>; values are converted when it is not the element type.</typeparam>
    /// <returns>The System.Numerics.Tensors tensor.</returns>
    public Tensor<T> ToNumericsTensor<T>()
        where T : unmanaged => System.Numerics.Tensors.Tensor.Create(ToArray<T>(), Lengths());

    /// <summary>A read-only view of the elements as a <see cref="ReadOnlyTensorSpan{T}"/>, without copying.</summary>
    /// <typeparam name="T">The element type: <see cref="float"/> for float32, <see cref="double"/> for float64.</typeparam>
    /// <returns>The view; valid while this tensor is alive.</returns>
    public ReadOnlyTensorSpan<T> AsReadOnlyTensorSpan<T>()
        where T : unmanaged => new(AsReadOnlySpan<T>(), Lengths());

    /// <summary>Copies a <see cref="ReadOnlyTensorSpan{T}"/> (any strides) into a new owned tensor.</summary>
    /// <param name="source">The tensor span.</param>
    /// <returns>A float32 tensor of the same shape.</returns>
    public static Tensor FromNumericsTensor(in ReadOnlyTensorSpan<float> source) => FromTensorSpan(source);

    /// <summary>Copies a <see cref="ReadOnlyTensorSpan{T}"/> (any strides) into a new owned tensor.</summary>
    /// <param name="source">The tensor span.</param>
    /// <returns>A float64 tensor of the same shape.</returns>
    public static Tensor FromNumericsTensor(in ReadOnlyTensorSpan<double> source) => FromTensorSpan(source);

    /// <summary>Copies a <see cref="Tensor{T}"/> into a new owned tensor.</summary>
    /// <param name="source">The tensor.</param>
    /// <returns>A float32 tensor of the same shape.</returns>
    public static Tensor FromNumericsTensor(Tensor<float> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return FromTensorSpan<float>(source.AsReadOnlyTensorSpan());
    }

    /// <summary>Copies a <see cref="Tensor{T}"/> into a new owned tensor.</summary>
    /// <param name="source">The tensor.</param>
    /// <returns>A float64 tensor of the same shape.</returns>
    public static Tensor FromNumericsTensor(Tensor<double> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return FromTensorSpan<double>(source.AsReadOnlyTensorSpan());
    }

    private static Tensor FromTensorSpan<T>(in ReadOnlyTensorSpan<T> source)
        where T : unmanaged
    {
        var lengths = source.Lengths;
        var dims = new int[lengths.Length];
        for (var i = 0; i < dims.Length; i++)
        {
            dims[i] = checked((int)lengths[i]);
        }

        var shape = Shape.Create(dims, "FromTensor");
        var data = new T[shape.ElementCount];
        source.FlattenTo(data);
        return Wrap(data, shape);
    }

    private nint[] Lengths()
    {
        var lengths = new nint[Rank];
        for (var i = 0; i < lengths.Length; i++)
        {
            lengths[i] = Shape.Dims[i];
        }

        return lengths;
    }
}
