using static AutoGrad.Tests.TestData;

namespace AutoGrad.Tests.Operations;

public class MatMulTests
{
    public static TheoryData<int[], int[], int[]> Cases => new()
    {
        { [3, 4], [4, 5], [3, 5] },
        { [3, 1], [1, 4], [3, 4] },
        { [2, 3, 4], [4, 5], [2, 3, 5] },
        { [2, 1, 3, 4], [5, 4, 2], [2, 5, 3, 2] },
        { [4], [4, 2], [2] },
        { [3, 4], [4], [3] },
        { [2, 3, 4], [4], [2, 3] },
        { [4], [4], [] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Shapes_broadcast_and_gradients_match(int[] a, int[] b, int[] expected)
    {
        var y = Ops.MatMul(Normal(1, a), Normal(2, b));
        Assert.Equal(Shape.Create(expected), y.Shape);
        AssertGradientsMatch(v => Ops.MatMul(v[0], v[1]), Normal(1, a), Normal(2, b));
    }

    [Fact]
    public void Values_match_by_hand()
    {
        var a = Tensor.FromArray(new double[,] { { 1, 2 }, { 3, 4 } });
        var b = Tensor.FromArray(new double[,] { { 5, 6 }, { 7, 8 } });
        Assert.Equal([19.0, 22, 43, 50], Ops.MatMul(a, b).ToDoubleArray());
    }

    [Fact]
    public void Batched_matches_one_matrix_at_a_time()
    {
        var a = Normal(3, 3, 2, 4);
        var b = Normal(4, 3, 4, 5);
        var batched = Ops.MatMul(a, b);
        for (var i = 0; i < 3; i++)
        {
            var single = Ops.MatMul(a[i..(i + 1)], b[i..(i + 1)]);
            Assert.Equal(single.ToDoubleArray(), batched[i..(i + 1)].ToDoubleArray());
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Products_sharing_a_matrix_add_their_gradients_into_its_slot_in_either_order(bool broadcastFirst)
    {
        // The products add straight into a gradient slot: the first to arrive overwrites it (after one clearing when
        // its batches broadcast over the matrix), the others add. Both orders of arrival, against finite differences.
        var w1 = Normal(5, 2, 3, 5);
        var w2 = Normal(6, 6, 5);
        var bias = Normal(7, 5);
        Tensor Broadcast(Tensor[] v) => Ops.Sum(Ops.MatMul(v[0], v[1]) * w1);
        Tensor Plain(Tensor[] v) => Ops.Sum(Ops.Affine(Ops.Reshape(v[0], 6, 4), v[1], bias) * w2) + Ops.Sum(Ops.MatMul(Ops.Reshape(v[0], 6, 4), v[1]));

        // The sweep runs backwards: the op recorded last sends its gradient first.
        AssertGradientsMatch(v => broadcastFirst ? Plain(v) + Broadcast(v) : Broadcast(v) + Plain(v), Normal(3, 2, 3, 4), Normal(4, 4, 5));
    }
}
