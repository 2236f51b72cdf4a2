namespace AutoGrad;

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
