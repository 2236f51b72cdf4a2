using AutoGrad.Kernels;

namespace AutoGrad.Tests.Kernels;

public class RowGatherTests
{
    // Rows out of order, one twice, the first and the last; more than the prefetch's look-ahead.
    private static readonly int[] s_rows = [7, 0, 12, 3, 3, 19, 11, 5, 18, 1];

    [Theory]
    [InlineData(784, 255f)] // a Fashion-MNIST image: whole vectors only
    [InlineData(37, 255f)] // a vector, then a tail
    [InlineData(5, 3f)] // shorter than a vector
    public void Bytes_land_in_batch_order_divided_as_float_division_divides(int rowLength, float divisor)
    {
        var source = Enumerable.Range(0, 20 * rowLength).Select(i => (byte)((i * 37) + (i / rowLength))).ToArray();
        var target = Enumerable.Repeat(float.NaN, (s_rows.Length * rowLength) + 3).ToArray();
        RowGather.Bytes(source, rowLength, s_rows, divisor, target);
        for (var r = 0; r < s_rows.Length; r++)
        {
            for (var i = 0; i < rowLength; i++)
            {
                var expected = source[(s_rows[r] * rowLength) + i] / divisor;
                Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(target[(r * rowLength) + i]));
            }
        }

        Assert.All(target[(s_rows.Length * rowLength)..], value => Assert.True(float.IsNaN(value))); // nothing past the batch
    }

    [Fact]
    public void Float_rows_are_copied_or_widened_exactly_in_batch_order()
    {
        const int rowLength = 29;
        var source = Enumerable.Range(0, 20 * rowLength).Select(i => MathF.Sin(i) * 1e3f).ToArray();
        var floats = new float[s_rows.Length * rowLength];
        var doubles = new double[s_rows.Length * rowLength];
        RowGather.Floats<float>(source, rowLength, s_rows, floats);
        RowGather.Floats<double>(source, rowLength, s_rows, doubles);
        for (var r = 0; r < s_rows.Length; r++)
        {
            for (var i = 0; i < rowLength; i++)
            {
                var expected = source[(s_rows[r] * rowLength) + i];
                Assert.Equal(expected, floats[(r * rowLength) + i]);
                Assert.Equal((double)expected, doubles[(r * rowLength) + i]);
            }
        }
    }
}
