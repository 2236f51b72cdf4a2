using AutoGrad.Kernels;

namespace AutoGrad.Tests.Kernels;

public class ByteScalingTests
{
    [Theory]
    [InlineData(255f)] // the image sets' divisor
    [InlineData(256f)]
    [InlineData(3f)]
    [InlineData(7.5f)]
    [InlineData(1f)]
    [InlineData(0.1f)]
    [InlineData(1e-30f)] // quotients past float's range: infinity, as division gives
    [InlineData(3e37f)] // quotients in the subnormal range
    public void Every_byte_over_the_divisor_equals_float_division_bit_for_bit(float divisor)
    {
        // Every byte value, then again from an odd offset, so that vectors and the one-by-one tail both see each.
        var bytes = Enumerable.Range(0, 256).Concat(Enumerable.Range(0, 256).Reverse()).Select(v => (byte)v).ToArray();
        foreach (var start in new[] { 0, 5 })
        {
            var source = bytes.AsSpan(start);
            var target = Enumerable.Repeat(float.NaN, source.Length + 3).ToArray();
            ByteScaling.Divide(source, divisor, target);
            for (var i = 0; i < source.Length; i++)
            {
                Assert.True(
                    BitConverter.SingleToInt32Bits(source[i] / divisor) == BitConverter.SingleToInt32Bits(target[i]),
                    $"{source[i]} / {divisor}: {target[i]:R}, expected {source[i] / divisor:R}");
            }

            Assert.True(target[source.Length..].All(float.IsNaN), "wrote past the source's length");
        }
    }

    [Fact]
    public void The_image_divisor_takes_the_multiplying_path()
    {
        // Fashion-MNIST divides by 255: it must run at multiply speed, not fall back to division; a power of two is exact.
        Assert.True(ByteScaling.IsExact(255f));
        Assert.True(ByteScaling.IsExact(16f));
        Assert.False(ByteScaling.IsExact(0f));
        Assert.False(ByteScaling.IsExact(float.NaN));
    }
}
