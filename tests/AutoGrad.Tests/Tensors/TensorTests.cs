namespace AutoGrad.Tests.Tensors;

public class TensorTests
{
    [Fact]
    public void Creates_from_flat_and_multidimensional_arrays()
    {
        var a = Tensor.FromArray([1f, 2, 3, 4, 5, 6], 2, 3);
        Assert.Equal(Shape.Create([2, 3]), a.Shape);
        Assert.Equal(DType.Float32, a.DType);
        Assert.Equal(6.0, a[1, 2]);
        Assert.Equal(4.0, a[-1, 0]);

        var b = Tensor.FromArray(new double[,] { { 1, 2 }, { 3, 4 }, { 5, 6 } });
        Assert.Equal(Shape.Create([3, 2]), b.Shape);
        Assert.Equal(DType.Float64, b.DType);
        Assert.Equal([1.0, 2, 3, 4, 5, 6], b.ToDoubleArray());

        var c = Tensor.FromArray(new float[,,] { { { 1, 2 } }, { { 3, 4 } } });
        Assert.Equal(Shape.Create([2, 1, 2]), c.Shape);
        Assert.Equal(3.0, c[1, 0, 0]);
    }

    [Fact]
    public void Creation_copies_the_source_array()
    {
        var data = new double[] { 1, 2, 3 };
        var t = Tensor.FromArray(data);
        data[0] = 99;
        Assert.Equal(1.0, t[0]);
        Assert.Equal(Shape.Create([3]), t.Shape);
    }

    [Fact]
    public void Scalars_have_rank_zero()
    {
        var s = Tensor.Scalar(2.5, DType.Float64);
        Assert.Equal(0, s.Rank);
        Assert.Equal(1, s.Length);
        Assert.Equal(2.5, s.ToScalar());
    }

    [Fact]
    public void Factories_fill_as_documented()
    {
        Assert.All(Tensor.Zeros([2, 2]).ToFloatArray(), v => Assert.Equal(0f, v));
        Assert.All(Tensor.Ones([3], DType.Float64).ToDoubleArray(), v => Assert.Equal(1.0, v));
        Assert.All(Tensor.Full(7, [2, 3]).ToFloatArray(), v => Assert.Equal(7f, v));
        Assert.Equal([0.0, 0.5, 1.0, 1.5], Tensor.Arange(0, 2, 0.5, DType.Float64).ToDoubleArray());
        Assert.Equal([5.0, 3.0], Tensor.Arange(5, 1, -2, DType.Float64).ToDoubleArray());
    }

    [Fact]
    public void Seeded_random_tensors_repeat_and_have_the_requested_moments()
    {
        var a = Tensor.RandomNormal([10000], seed: 7, mean: 2, std: 3, dtype: DType.Float64);
        var b = Tensor.RandomNormal([10000], seed: 7, mean: 2, std: 3, dtype: DType.Float64);
        Assert.Equal(a.ToDoubleArray(), b.ToDoubleArray());
        var values = a.ToDoubleArray();
        var mean = values.Average();
        var std = Math.Sqrt(values.Select(v => (v - mean) * (v - mean)).Average());
        Assert.InRange(mean, 1.9, 2.1);
        Assert.InRange(std, 2.9, 3.1);

        var u = Tensor.RandomUniform([10000], seed: 1, low: -1, high: 3).ToFloatArray();
        Assert.All(u, v => Assert.InRange(v, -1f, 3f));
        Assert.InRange(u.Average(), 0.95, 1.05);
        Assert.NotEqual(a.ToDoubleArray(), Tensor.RandomNormal([10000], seed: 8, dtype: DType.Float64).ToDoubleArray());
    }

    [Fact]
    public void Float32_and_float64_seeded_streams_agree_after_rounding()
    {
        var f = Tensor.RandomNormal([100], seed: 3).ToFloatArray();
        var d = Tensor.RandomNormal([100], seed: 3, dtype: DType.Float64).ToDoubleArray();
        Assert.Equal(d.Select(v => (float)v).ToArray(), f);
    }

    [Fact]
    public void Indexer_rejects_wrong_counts_and_ranges_with_the_shape()
    {
        var t = Tensor.Zeros([2, 3]);
        Assert.Contains("(2, 3)", Assert.Throws<ArgumentException>(() => t[1]).Message);
        Assert.Contains("dimension 1", Assert.Throws<ArgumentOutOfRangeException>(() => t[0, 3]).Message);
    }

    [Fact]
    public void Span_access_checks_the_element_type()
    {
        var t = Tensor.FromArray([1f, 2f]);
        Assert.Equal(2f, t.AsReadOnlySpan<float>()[1]);
        Assert.Contains("float32", Assert.Throws<InvalidOperationException>(() => t.AsReadOnlySpan<double>().ToArray()).Message);
        t.AsSpan<float>()[0] = 5;
        Assert.Equal(5.0, t[0]);
    }

    [Fact]
    public void ToString_is_readable_and_summarizes_large_tensors()
    {
        Assert.Equal("tensor([[1, 2], [3, 4.5]], shape=(2, 2), float32)", Tensor.FromArray([1f, 2, 3, 4.5f], 2, 2).ToString());
        Assert.Equal("tensor(0.1, shape=(), float64)", Tensor.Scalar(0.1, DType.Float64).ToString());
        var big = Tensor.Arange(0, 100).ToString();
        Assert.Equal("tensor([0, 1, 2, ..., 97, 98, 99], shape=(100,), float32)", big);
    }

    [Fact]
    public void ToType_converts_and_clone_is_independent()
    {
        var d = Tensor.FromArray([0.1, 0.2], 2);
        var f = d.ToType(DType.Float32);
        Assert.Equal(DType.Float32, f.DType);
        Assert.Equal([0.1f, 0.2f], f.ToFloatArray());
        var c = d.Clone();
        c.AsSpan<double>()[0] = 9;
        Assert.Equal(0.1, d[0]);
    }

    [Fact]
    public void Round_trips_through_System_Numerics_Tensors()
    {
        var t = Tensor.FromArray([1.0, 2, 3, 4, 5, 6], 2, 3);
        System.Numerics.Tensors.Tensor<double> numerics = t.ToNumericsTensor<double>();
        Assert.Equal([(nint)2, 3], numerics.Lengths.ToArray());
        Assert.Equal(6.0, numerics[1, 2]);
        var back = Tensor.FromNumericsTensor(numerics);
        Assert.Equal(t.Shape, back.Shape);
        Assert.Equal(t.ToDoubleArray(), back.ToDoubleArray());

        var span = t.AsReadOnlyTensorSpan<double>();
        Assert.Equal(4.0, span[1, 0]);
        Assert.Equal(t.ToDoubleArray(), Tensor.FromNumericsTensor(span).ToDoubleArray());

        var asFloat = t.ToNumericsTensor<float>();
        Assert.Equal(5f, asFloat[1, 1]);
    }

    [Fact]
    public void Results_on_a_tape_expire_when_the_tape_is_reset_or_disposed()
    {
        var x = Tensor.FromArray([1f, 2f]);
        Tensor y;
        Tensor kept;
        using (var tape = new Tape())
        {
            y = Ops.Exp(x);
            Assert.True(y.IsTapeOwned);
            kept = y.Clone();
            tape.Reset();
            Assert.False(y.IsAlive);
            var e = Assert.Throws<InvalidOperationException>(() => y.ToFloatArray());
            Assert.Contains("reset or disposed", e.Message);
            Assert.Contains("(2,)", e.Message);
            y = Ops.Exp(x);
        }

        Assert.Throws<InvalidOperationException>(() => y[0]);
        Assert.Throws<InvalidOperationException>(() => Ops.Exp(y));
        Assert.Equal(Math.E, kept[0], 6);
        Assert.False(Ops.Exp(x).IsTapeOwned);
    }
}
