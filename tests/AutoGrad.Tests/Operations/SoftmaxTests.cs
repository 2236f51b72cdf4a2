using static AutoGrad.Tests.TestData;

namespace AutoGrad.Tests.Operations;

public class SoftmaxTests
{
    public static TheoryData<int[], int> Cases => new()
    {
        { [5], 0 },
        { [3, 4], -1 },
        { [3, 4], 0 },
        { [2, 3, 4], 1 },
        { [2, 3, 4], 2 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Softmax_and_log_softmax_gradients_match(int[] shape, int axis)
    {
        AssertGradientsMatch(v => Ops.Softmax(v[0], axis), Normal(1, shape));
        AssertGradientsMatch(v => Ops.LogSoftmax(v[0], axis), Normal(2, shape));
    }

    [Fact]
    public void Rows_sum_to_one_and_log_softmax_is_its_log()
    {
        var x = Normal(3, 2, 3, 4);
        var y = Ops.Softmax(x, 1).ToDoubleArray();
        var logY = Ops.LogSoftmax(x, 1).ToDoubleArray();
        for (var o = 0; o < 2; o++)
        {
            for (var i = 0; i < 4; i++)
            {
                var sum = 0.0;
                for (var a = 0; a < 3; a++)
                {
                    var at = (((o * 3) + a) * 4) + i;
                    sum += y[at];
                    Assert.Equal(Math.Log(y[at]), logY[at], 13);
                }

                Assert.Equal(1.0, sum, 14);
            }
        }
    }

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Logits_of_1000_do_not_overflow(DType dtype)
    {
        var x = Tensor.FromArray([1000.0, 999.0, -1000.0]).ToType(dtype);
        var y = Ops.Softmax(x).ToDoubleArray();
        var e = Math.Exp(-1);
        AssertClose([1 / (1 + e), e / (1 + e), 0], y, 1e-6);
        var logY = Ops.LogSoftmax(x).ToDoubleArray();
        Assert.Equal(-2000 - Math.Log(1 + e), logY[2], dtype == DType.Float32 ? 2 : 10);
        Assert.All(logY, v => Assert.True(double.IsFinite(v)));
    }
}
