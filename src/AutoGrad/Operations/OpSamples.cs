using AutoGrad.Tensors;

namespace AutoGrad.Operations;

/// <summary>Inputs for the op descriptors' gradient checks: seeded float64 tensors in each op's valid domain.</summary>
internal static class OpSamples
{
    /// <summary>Class labels for three rows of four classes.</summary>
    public static readonly int[] Labels = [2, 0, 3];

    /// <summary>A check of an op against finite differences.</summary>
    public static OpSample Gradient(string op, Func<Tensor[], Tensor> function, params Func<Tensor>[] inputs) =>
        new(op, Describe(inputs), function, () => [.. inputs.Select(make => make())]);

    /// <summary>A check of a fused op against its composition of primitives.</summary>
    public static OpSample Composition(string op, Func<Tensor[], Tensor> fused, Func<Tensor[], Tensor> composed, params Func<Tensor>[] inputs) =>
        new(op, Describe(inputs) + " vs composition", fused, () => [.. inputs.Select(make => make())], composed);

    /// <summary>A query's result on a hand-worked input, which must print as <paramref name="expected"/>.</summary>
    public static OpValueCheck Value(string op, string what, Func<object> call, string expected) =>
        new(op, what, () => call().ToString() ?? "", expected);

    /// <summary>A bad-input case expecting exactly <typeparamref name="TException"/>.</summary>
    public static OpBadInput Bad<TException>(string description, Func<object> call, params string[] fragments)
        where TException : Exception => new(description, typeof(TException), call, fragments);

    /// <summary>A call that must be refused for the size of its result.</summary>
    public static OpBadInput Overflow(string description, Func<object> call, params string[] fragments) =>
        new(description, typeof(ShapeMismatchException), call, fragments);

    /// <summary>Zeros of the given shape in float64 (float32 for <see cref="F23"/>), for bad-input calls.</summary>
    public static Tensor M23 => Tensor.Zeros([2, 3], DType.Float64);

    /// <inheritdoc cref="M23"/>
    public static Tensor M32 => Tensor.Zeros([3, 2], DType.Float64);

    /// <inheritdoc cref="M23"/>
    public static Tensor V3 => Tensor.Zeros([3], DType.Float64);

    /// <inheritdoc cref="M23"/>
    public static Tensor V2 => Tensor.Zeros([2], DType.Float64);

    /// <inheritdoc cref="M23"/>
    public static Tensor F23 => Tensor.Zeros([2, 3]);

    /// <inheritdoc cref="M23"/>
    public static Tensor Empty => Tensor.Zeros([0, 3], DType.Float64);

    /// <summary>A (65537, 1) column and a (1, 65537) row of float32 ones: their broadcast or product has 65537² elements.</summary>
    public static Tensor Column => Tensor.Ones([65537, 1]);

    /// <inheritdoc cref="Column"/>
    public static Tensor Row => Tensor.Ones([1, 65537]);

    /// <summary>Standard normal values.</summary>
    public static Func<Tensor> N(int seed, params int[] shape) => () => Tensor.RandomNormal(shape, seed, dtype: DType.Float64);

    /// <summary>Uniform values in [low, high).</summary>
    public static Func<Tensor> U(int seed, double low, double high, params int[] shape) => () => Tensor.RandomUniform(shape, seed, low, high, DType.Float64);

    /// <summary>Normal values at least 0.1 from 0, for ops with a kink there.</summary>
    public static Func<Tensor> Away(int seed, params int[] shape) => () =>
    {
        var t = Tensor.RandomNormal(shape, seed, dtype: DType.Float64);
        var values = t.AsSpan<double>();
        for (var i = 0; i < values.Length; i++)
        {
            values[i] += values[i] >= 0 ? 0.1 : -0.1;
        }

        return t;
    };

    /// <summary><see cref="Labels"/> as one-hot rows, (3, 4).</summary>
    public static Tensor OneHotLabels()
    {
        var t = new double[12];
        for (var i = 0; i < 3; i++)
        {
            t[(i * 4) + Labels[i]] = 1;
        }

        return Tensor.FromArray(t, 3, 4);
    }

    private static string Describe(Func<Tensor>[] inputs) => string.Join(" ", inputs.Select(make => make().Shape.ToString()));
}
