using static AutoGrad.Tests.TestData;

namespace AutoGrad.Tests.Operations;

/// <summary>What the Attention descriptor does not state: values worked out by hand, masks, and float32.</summary>
public class AttentionTests
{
    [Fact]
    public void Attention_weighs_the_values_by_the_softmax_of_the_scaled_scores()
    {
        var q = Tensor.FromArray([2.0, 0], 1, 2);
        var k = Tensor.FromArray([1.0, 0, 0, 1], 2, 2);
        var v = Tensor.FromArray([1.0, 2, 3, 4], 2, 2);

        // Scores q·kᵀ/√2 = (√2, 0): P = (e^√2, 1)/(e^√2 + 1).
        var p0 = Math.Exp(Math.Sqrt(2)) / (Math.Exp(Math.Sqrt(2)) + 1);
        var y = Ops.ScaledDotProductAttention(q, k, v).ToDoubleArray();
        AssertClose([(p0 * 1) + ((1 - p0) * 3), (p0 * 2) + ((1 - p0) * 4)], y, 1e-15, 1e-15);

        // PyTorch's mask: true where a query may attend. Only key 1 here, so the output is its value.
        var masked = Ops.ScaledDotProductAttention(q, k, v, BoolTensor.FromArray([false, true], 1, 2)).ToDoubleArray();
        Assert.Equal([3.0, 4.0], masked);
    }

    [Fact]
    public void A_query_with_no_allowed_key_gives_0_and_passes_no_gradient()
    {
        var q = Normal(1, 2, 3);
        var k = Normal(2, 4, 3);
        var v = Normal(3, 4, 2);
        var mask = BoolTensor.FromArray([true, false, true, false, false, false, false, false], 2, 4);
        using var tape = new Tape();
        tape.Watch(q);
        tape.Watch(k);
        var y = Ops.ScaledDotProductAttention(q, k, v, mask);
        Assert.Equal([0.0, 0.0], y.ToDoubleArray()[2..]);
        var gradients = tape.Gradient(y, [q, k], Normal(4, 2, 2), retainGraph: true);
        Assert.Equal([0.0, 0, 0], gradients[0].ToDoubleArray()[3..]);
        Assert.All(gradients[1].ToDoubleArray(), g => Assert.True(double.IsFinite(g)));

        // The keys no query may see (1 and 3) receive no gradient either.
        var dk = gradients[1].ToDoubleArray();
        Assert.Equal([0.0, 0, 0, 0, 0, 0], dk[3..6].Concat(dk[9..12]));
    }

    [Fact]
    public void Causal_attention_lets_the_first_query_see_only_the_first_key_and_float32_agrees()
    {
        var q = Normal(5, 2, 3, 4);
        var k = Normal(6, 2, 3, 4);
        var v = Normal(7, 2, 3, 2);
        var y = Ops.ScaledDotProductAttention(q, k, v, isCausal: true).ToDoubleArray();
        var values = v.ToDoubleArray();
        Assert.Equal(values[0..2], y[0..2]);
        Assert.Equal(values[6..8], y[6..8]);
        var narrow = Ops.ScaledDotProductAttention(q.ToType(DType.Float32), k.ToType(DType.Float32), v.ToType(DType.Float32), isCausal: true);
        AssertClose(y, narrow.ToDoubleArray(), 1e-6, 1e-6);
    }
}
