namespace AutoGrad.Tensors;

/// <summary>Factories: every tensor made here owns its memory.</summary>
public sealed partial class Tensor
{
    /// <summary>Copies a flat row-major array into a new tensor of the given shape.</summary>
    /// <param name="data">The elements, row-major.</param>
    /// <param name="shape">The dimensions; their product must equal <c>data.Length</c>. Empty for a 1-D tensor of <c>data.Length</c>.</param>
    /// <returns>A float32 tensor.</returns>
    public static Tensor FromArray(float[] data, params ReadOnlySpan<int> shape) => FromSpan<float>(data, shape, "FromArray");

    /// <summary>Copies a flat row-major array into a new tensor of the given shape.</summary>
    /// <param name="data">The elements, row-major.</param>
    /// <param name="shape">The dimensions; their product must equal <c>data.Length</c>. Empty for a 1-D tensor of <c>data.Length</c>.</param>
    /// <returns>A float64 tensor, whatever <see cref="DefaultDType"/> says: the array's type says it.</returns>
    public static Tensor FromArray(double[] data, params ReadOnlySpan<int> shape) => FromSpan<double>(data, shape, "FromArray");

    /// <summary>Copies whole numbers into a new tensor of the given shape, in <see cref="DefaultDType"/> (the data does not say which).</summary>
    /// <param name="data">The elements, row-major.</param>
    /// <param name="shape">The dimensions; their product must equal <c>data.Length</c>. Empty for a 1-D tensor of <c>data.Length</c>.</param>
    /// <returns>A tensor of the default element type.</returns>
    public static Tensor FromArray(int[] data, params ReadOnlySpan<int> shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        return FromArray(Array.ConvertAll(data, v => (double)v), DefaultDType, shape);
    }

    /// <summary>Copies a flat row-major array into a new tensor of the given element type (rounding to float32 when asked).</summary>
    /// <param name="data">The elements, row-major.</param>
    /// <param name="dtype">The element type.</param>
    /// <param name="shape">The dimensions; their product must equal <c>data.Length</c>. Empty for a 1-D tensor of <c>data.Length</c>.</param>
    /// <returns>The tensor.</returns>
    public static Tensor FromArray(double[] data, DType dtype, params ReadOnlySpan<int> shape)
    {
        ArgumentNullException.ThrowIfNull(data);

        // A copy: a float64 tensor keeps the array it is given.
        return FromDoubles((double[])data.Clone(), ShapeOf(data.Length, shape, "FromArray"), dtype);
    }

    /// <summary>A 1-D tensor of the values in <see cref="DefaultDType"/>, PyTorch's <c>torch.tensor([...])</c>: <c>Tensor.Of(1, 2, 3)</c>.</summary>
    /// <param name="values">The elements.</param>
    /// <returns>A tensor of the default element type.</returns>
    public static Tensor Of(params double[] values) => FromArray(values, DefaultDType);

    /// <summary>Copies a 2-D array into a new tensor of shape (rows, columns).</summary>
    /// <param name="data">The elements.</param>
    /// <returns>A float32 tensor.</returns>
    public static Tensor FromArray(float[,] data) => FromMultiDim<float>(data);

    /// <summary>Copies a 2-D array into a new tensor of shape (rows, columns).</summary>
    /// <param name="data">The elements.</param>
    /// <returns>A float64 tensor.</returns>
    public static Tensor FromArray(double[,] data) => FromMultiDim<double>(data);

    /// <summary>Copies a 3-D array into a new tensor.</summary>
    /// <param name="data">The elements.</param>
    /// <returns>A float32 tensor.</returns>
    public static Tensor FromArray(float[,,] data) => FromMultiDim<float>(data);

    /// <summary>Copies a 3-D array into a new tensor.</summary>
    /// <param name="data">The elements.</param>
    /// <returns>A float64 tensor.</returns>
    public static Tensor FromArray(double[,,] data) => FromMultiDim<double>(data);

    /// <summary>Creates a rank-0 tensor holding one value.</summary>
    /// <param name="value">The value.</param>
    /// <param name="dtype">The element type; <see cref="DefaultDType"/> when null.</param>
    /// <returns>The scalar tensor.</returns>
    public static Tensor Scalar(double value, DType? dtype = null) => Full(value, [], dtype);

    /// <summary>Creates a tensor of zeros.</summary>
    /// <param name="shape">The dimensions.</param>
    /// <param name="dtype">The element type; <see cref="DefaultDType"/> when null.</param>
    /// <returns>The tensor.</returns>
    public static Tensor Zeros(ReadOnlySpan<int> shape, DType? dtype = null) => Owned(dtype ?? DefaultDType, Shape.Create(shape, "Zeros"));

    /// <summary>Creates a tensor of ones.</summary>
    /// <param name="shape">The dimensions.</param>
    /// <param name="dtype">The element type; <see cref="DefaultDType"/> when null.</param>
    /// <returns>The tensor.</returns>
    public static Tensor Ones(ReadOnlySpan<int> shape, DType? dtype = null) => Full(1, shape, dtype);

    /// <summary>Creates a tensor with every element set to <paramref name="value"/>.</summary>
    /// <param name="value">The value (rounded to float32 for a float32 tensor).</param>
    /// <param name="shape">The dimensions.</param>
    /// <param name="dtype">The element type; <see cref="DefaultDType"/> when null.</param>
    /// <returns>The tensor.</returns>
    public static Tensor Full(double value, ReadOnlySpan<int> shape, DType? dtype = null)
    {
        var t = Owned(dtype ?? DefaultDType, Shape.Create(shape, "Full"));
        ElementType.Dispatch(t.DType, new FillWith(t, value, write: false));
        return t;
    }

    /// <summary>Creates a tensor of zeros with the shape and element type of <paramref name="like"/>.</summary>
    /// <param name="like">The tensor whose shape and element type to copy.</param>
    /// <returns>The tensor.</returns>
    public static Tensor ZerosLike(Tensor like)
    {
        ArgumentNullException.ThrowIfNull(like);
        return Owned(like.DType, like.Shape);
    }

    /// <summary>The values start, start + step, ... up to but excluding stop, as a 1-D tensor (like <c>numpy.arange</c>).</summary>
    /// <param name="start">The first value.</param>
    /// <param name="stop">The bound, excluded.</param>
    /// <param name="step">The increment, not zero.</param>
    /// <param name="dtype">The element type; <see cref="DefaultDType"/> when null.</param>
    /// <returns>The tensor.</returns>
    /// <exception cref="ArgumentException">The step is zero or not finite.</exception>
    public static Tensor Arange(double start, double stop, double step = 1, DType? dtype = null)
    {
        if (step == 0 || !double.IsFinite(step) || !double.IsFinite(start) || !double.IsFinite(stop))
        {
            throw new ArgumentException($"Arange: start {start}, stop {stop} and step {step} must be finite and step non-zero.", nameof(step));
        }

        var count = (int)Math.Max(0, Math.Ceiling((stop - start) / step));
        var values = new double[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = start + (i * step);
        }

        return FromDoubles(values, Shape.Create([count], "Arange"), dtype);
    }

    /// <summary>Samples from a normal distribution (the same seed gives the same values on every run).</summary>
    /// <param name="shape">The dimensions.</param>
    /// <param name="seed">The random seed; when null, the next draw of the global generator (see <see cref="ManualSeed"/>).</param>
    /// <param name="mean">The mean.</param>
    /// <param name="std">The standard deviation, not negative.</param>
    /// <param name="dtype">The element type; <see cref="DefaultDType"/> when null.</param>
    /// <returns>The tensor.</returns>
    public static Tensor RandomNormal(ReadOnlySpan<int> shape, int? seed = null, double mean = 0, double std = 1, DType? dtype = null)
    {
        if (!(std >= 0) || !double.IsFinite(std) || !double.IsFinite(mean))
        {
            throw new ArgumentException($"RandomNormal: mean {mean} must be finite and std {std} finite and not negative.", nameof(std));
        }

        var s = Shape.Create(shape, "RandomNormal");
        var values = new double[s.ElementCount];
        var random = new SeededRandom(seed ?? NextSeed());
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = mean + (std * random.NextNormal());
        }

        return FromDoubles(values, s, dtype);
    }

    /// <summary>Samples uniformly from [low, high) (the same seed gives the same values on every run).</summary>
    /// <param name="shape">The dimensions.</param>
    /// <param name="seed">The random seed; when null, the next draw of the global generator (see <see cref="ManualSeed"/>).</param>
    /// <param name="low">The inclusive lower bound.</param>
    /// <param name="high">The exclusive upper bound, above <paramref name="low"/>.</param>
    /// <param name="dtype">The element type; <see cref="DefaultDType"/> when null.</param>
    /// <returns>The tensor.</returns>
    public static Tensor RandomUniform(ReadOnlySpan<int> shape, int? seed = null, double low = 0, double high = 1, DType? dtype = null)
    {
        if (!(high > low) || !double.IsFinite(low) || !double.IsFinite(high))
        {
            throw new ArgumentException($"RandomUniform: the bounds [{low}, {high}) must be finite with low < high.", nameof(high));
        }

        var s = Shape.Create(shape, "RandomUniform");
        var values = new double[s.ElementCount];
        var random = new SeededRandom(seed ?? NextSeed());
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = low + ((high - low) * random.NextDouble());
        }

        return FromDoubles(values, s, dtype);
    }

    private static Tensor FromSpan<T>(ReadOnlySpan<T> data, ReadOnlySpan<int> shape, string op)
        where T : unmanaged
    {
        var s = ShapeOf(data.Length, shape, op);
        var array = data.ToArray();
        return Wrap(array, s);
    }

    /// <summary>The shape for <paramref name="length"/> values: the given one, which they must fill, or 1-D when none is given.</summary>
    private static Shape ShapeOf(int length, ReadOnlySpan<int> shape, string op)
    {
        var s = shape.Length == 0 ? Shape.Create([length], op) : Shape.Create(shape, op);
        if (s.ElementCount != length)
        {
            throw new ArgumentException($"{op}: {length} values do not fill shape {s} ({s.ElementCount} elements).", nameof(shape));
        }

        return s;
    }

    private static Tensor FromMultiDim<T>(Array data)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(data);
        var dims = new int[data.Rank];
        for (var i = 0; i < dims.Length; i++)
        {
            dims[i] = data.GetLength(i);
        }

        var flat = new T[data.Length];
        var k = 0;
        foreach (T v in data)
        {
            flat[k++] = v;
        }

        return Wrap(flat, Shape.FromOwned(dims, "FromArray"));
    }

    /// <summary>An owned tensor of <paramref name="values"/>, rounded to float32 when <paramref name="dtype"/> asks for it.</summary>
    private static Tensor FromDoubles(double[] values, Shape shape, DType? dtype) =>
        ElementType.Dispatch<DoublesAs, Tensor>(dtype ?? DefaultDType, new DoublesAs(values, shape));

    /// <summary>The values as a tensor of the dispatched type: the array itself for float64, a rounded copy for float32.</summary>
    private readonly struct DoublesAs(double[] values, Shape shape) : IElementFunction<Tensor>
    {
        public Tensor Run<T>()
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            if (values is T[] same)
            {
                return Wrap(same, shape);
            }

            var converted = new T[values.Length];
            System.Numerics.Tensors.TensorPrimitives.ConvertTruncating<double, T>(values, converted);
            return Wrap(converted, shape);
        }
    }
}
