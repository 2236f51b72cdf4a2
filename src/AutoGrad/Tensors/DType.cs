namespace AutoGrad.Tensors;

/// <summary>The element type of a <see cref="Tensor"/>.</summary>
public enum DType
{
    /// <summary>32-bit IEEE 754 floating point (<see cref="float"/>): the type for speed.</summary>
    Float32,

    /// <summary>64-bit IEEE 754 floating point (<see cref="double"/>): the type for exact checks.</summary>
    Float64,
}

/// <summary>Names and sizes of <see cref="DType"/> values.</summary>
public static class DTypeExtensions
{
    /// <summary>The lower-case name used in messages and file formats ("float32", "float64").</summary>
    /// <param name="dtype">The element type.</param>
    /// <returns>The name.</returns>
    public static string Name(this DType dtype) => dtype switch
    {
        DType.Float32 => "float32",
        DType.Float64 => "float64",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown element type."),
    };

    /// <summary>The size of one element in bytes.</summary>
    /// <param name="dtype">The element type.</param>
    /// <returns>4 or 8.</returns>
    public static int SizeInBytes(this DType dtype) => dtype == DType.Float32 ? sizeof(float) : sizeof(double);

    internal static DType Of<T>() => typeof(T) == typeof(float) ? DType.Float32
        : typeof(T) == typeof(double) ? DType.Float64
        : throw new NotSupportedException($"Element type {typeof(T).Name} is not supported; use float or double.");
}
