namespace AutoGrad.Tests.Tensors;

public class ConstantTensorTests
{
    [Fact]
    public void Integer_and_boolean_tensors_keep_their_shape_and_copy_the_callers_array()
    {
        int[] data = [1, 2, 3, 4, 5, 6];
        var t = IntTensor.FromArray(data, 2, 3);
        data[0] = 99;

        Assert.Equal(1, t[0, 0]);
        Assert.Equal(6, t[-1, -1]);
        Assert.Equal(2, t.Rank);
        Assert.Equal(6, t.Length);
        Assert.Equal("IntTensor([[1, 2, 3], [4, 5, 6]], shape=(2, 3))", t.ToString());
        Assert.Equal([1.0, 2, 3, 4, 5, 6], t.ToTensor(DType.Float64).ToDoubleArray());
        Assert.Equal(DType.Float32, t.ToTensor().DType);

        var mask = BoolTensor.FromArray([true, false]);
        Assert.Equal("BoolTensor([true, false], shape=(2,))", mask.ToString());
        Assert.Equal([1f, 0f], mask.ToTensor().ToFloatArray());
    }

    [Fact]
    public void Long_dimensions_print_summarized()
    {
        var t = IntTensor.FromArray([.. Enumerable.Range(0, 12)]);
        Assert.Equal("IntTensor([0, 1, 2, ..., 9, 10, 11], shape=(12,))", t.ToString());
    }

    [Fact]
    public void Bad_shapes_and_indices_name_the_call()
    {
        var wrongCount = Assert.Throws<ArgumentException>(() => IntTensor.FromArray([1, 2, 3], 2, 2));
        Assert.Contains("IntTensor.FromArray", wrongCount.Message, StringComparison.Ordinal);
        Assert.Contains("(2, 2)", wrongCount.Message, StringComparison.Ordinal);

        var mask = BoolTensor.FromArray([true, false, true], 3);
        Assert.Throws<ArgumentOutOfRangeException>(() => mask[3]);
        Assert.Throws<ArgumentException>(() => mask[0, 0]);
        var mismatch = Assert.Throws<ShapeMismatchException>(() => mask & BoolTensor.FromArray([true, true]));
        Assert.Contains("(3,)", mismatch.Message, StringComparison.Ordinal);
        Assert.Contains("(2,)", mismatch.Message, StringComparison.Ordinal);
    }
}
