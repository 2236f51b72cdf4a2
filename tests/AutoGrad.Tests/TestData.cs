namespace AutoGrad.Tests;

/// <summary>Seeded inputs for tests.</summary>
internal static class TestData
{
    public static Tensor Normal(int seed, params int[] shape) => Tensor.RandomNormal(shape, seed, dtype: DType.Float64);

    public static Tensor Uniform(int seed, double low, double high, params int[] shape) =>
        Tensor.RandomUniform(shape, seed, low, high, DType.Float64);

    /// <summary>Normal values pushed at least 0.1 away from 0, for ops with a kink there (relu, abs).</summary>
    public static Tensor AwayFromZero(int seed, params int[] shape)
    {
        var t = Normal(seed, shape);
        var span = t.AsSpan<double>();
        for (var i = 0; i < span.Length; i++)
        {
            span[i] += span[i] >= 0 ? 0.1 : -0.1;
        }

        return t;
    }

    public static void AssertGradientsMatch(Func<Tensor[], Tensor> function, params Tensor[] inputs)
    {
        var result = GradientChecker.Check(function, inputs);
        Assert.True(result.Passed, result.ToString());
    }

    /// <summary>Runs <paramref name="run"/> with the worker threads capped at <paramref name="threads"/>, the cap restored after.</summary>
    public static TResult WithThreads<TResult>(int threads, Func<TResult> run)
    {
        var saved = AutoGrad.Kernels.Parallelism.MaxThreads;
        AutoGrad.Kernels.Parallelism.MaxThreads = threads;
        try
        {
            return run();
        }
        finally
        {
            AutoGrad.Kernels.Parallelism.MaxThreads = saved;
        }
    }

    /// <summary>Asserts that each float32 array of <paramref name="actual"/> equals its counterpart in <paramref name="expected"/> bit for bit.</summary>
    public static void AssertSameBits(float[][] expected, float[][] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].Select(BitConverter.SingleToInt32Bits), actual[i].Select(BitConverter.SingleToInt32Bits));
        }
    }

    public static void AssertClose(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, double relative, double absolute = 0)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            var tolerance = absolute + (relative * Math.Abs(expected[i]));
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"element {i}: expected {expected[i]:R}, got {actual[i]:R} (tolerance {tolerance:E2})");
        }
    }
}
