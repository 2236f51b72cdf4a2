using static AutoGrad.Tests.TestData;

namespace AutoGrad.Tests.Nn;

/// <summary>MultiHeadAttention, TransformerBlock and PositionalEncoding: against their definitions, causality, and finite differences.</summary>
public class AttentionModuleTests
{
    [Fact]
    public void One_head_is_the_projections_around_scaled_dot_product_attention()
    {
        var attention = new MultiHeadAttention(4, 1, seed: 1, dtype: DType.Float64);
        var x = Normal(2, 2, 3, 4);
        Tensor Project(Linear l) => Ops.Reshape(l.Forward(Ops.Reshape(x, 6, 4)), 2, 3, 4);
        var attended = Ops.ScaledDotProductAttention(Project(attention.Query), Project(attention.Key), Project(attention.Value));
        var expected = attention.Output.Forward(Ops.Reshape(attended, 6, 4)).ToDoubleArray();
        AssertClose(expected, attention.Forward(x).ToDoubleArray(), 1e-14, 1e-14);
    }

    [Fact]
    public void Heads_attend_separately_two_heads_differ_from_one()
    {
        var x = Normal(3, 1, 3, 4);
        var one = new MultiHeadAttention(4, 1, seed: 1, dtype: DType.Float64).Forward(x).ToDoubleArray();
        var two = new MultiHeadAttention(4, 2, seed: 1, dtype: DType.Float64).Forward(x).ToDoubleArray();
        Assert.Contains(one.Zip(two), p => Math.Abs(p.First - p.Second) > 1e-6);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Causal_outputs_before_the_last_step_ignore_the_last_input(bool block)
    {
        Module model = block ? new TransformerBlock(4, 2, causal: true, seed: 4, dtype: DType.Float64) : new MultiHeadAttention(4, 2, causal: true, seed: 4, dtype: DType.Float64);
        var x = Normal(5, 2, 4, 4).ToDoubleArray();
        var changed = (double[])x.Clone();
        for (var i = 12; i < 16; i++)
        {
            changed[i] += 1;
            changed[16 + i] -= 2;
        }

        var before = model.Forward(Tensor.FromArray(x, 2, 4, 4)).ToDoubleArray();
        var after = model.Forward(Tensor.FromArray(changed, 2, 4, 4)).ToDoubleArray();
        for (var n = 0; n < 2; n++)
        {
            AssertClose(before[(n * 16)..((n * 16) + 12)], after[(n * 16)..((n * 16) + 12)], 0, 0);
            Assert.NotEqual(before[(n * 16) + 12], after[(n * 16) + 12]);
        }
    }

    [Fact]
    public void The_block_passes_finite_differences_in_its_input()
    {
        var transformer = new TransformerBlock(4, 2, hidden: 6, causal: true, seed: 6, dtype: DType.Float64);
        var weights = Normal(7, 2, 3, 4);
        AssertGradientsMatch(v => Ops.Sum(transformer.Forward(v[0]) * weights), Normal(8, 2, 3, 4));
    }

    [Fact]
    public void A_block_reuses_its_result_objects_from_step_to_step_without_changing_a_gradient()
    {
        // The block recycles its intermediate results: each step's gradients must still be the first step's.
        var block = new TransformerBlock(16, 4, causal: true, seed: 3, dtype: DType.Float64);
        var x = Normal(5, 2, 7, 16);
        using var tape = new Tape();
        double[] Step()
        {
            tape.Reset();
            tape.Watch(x);
            var y = block.Forward(x);
            return [.. tape.Gradient(Ops.Sum(y * y), [x, block.Expand.Weight]).SelectMany(g => g.ToDoubleArray())];
        }

        var first = Step();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(first, Step());
        }

        // A steady forward pass: the output, the attention's record and a few shape arrays (about 1 KB), where a new
        // tensor object per op came to 3 KB.
        tape.Reset();
        tape.Watch(x);
        var before = GC.GetAllocatedBytesForCurrentThread();
        block.Forward(x);
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 2048);
    }

    [Fact]
    public void Sinusoidal_positions_follow_the_paper_and_learned_ones_are_parameters()
    {
        var encoding = new PositionalEncoding(5, 4, dtype: DType.Float64);
        var table = encoding.Table.ToDoubleArray();
        Assert.Equal([0.0, 1, 0, 1], table[..4]);
        AssertClose([Math.Sin(1), Math.Cos(1), Math.Sin(0.01), Math.Cos(0.01)], table[4..8], 1e-15, 1e-15);
        Assert.Empty(encoding.Parameters());

        var x = Normal(9, 2, 3, 4);
        var added = encoding.Forward(x).ToDoubleArray();
        AssertClose(x.ToDoubleArray().Select((v, i) => v + table[i % 12]).ToArray(), added, 1e-15, 1e-15);

        var learned = new PositionalEncoding(5, 4, learned: true, seed: 1);
        Assert.Equal(["weight"], learned.NamedParameters().Select(p => p.Name));
        var values = new PositionalEncoding(100, 100, learned: true, seed: 2, dtype: DType.Float64).Table.ToDoubleArray();
        var mean = values.Average();
        Assert.InRange(Math.Sqrt(values.Average(v => (v - mean) * (v - mean))), 0.0194, 0.0206);
    }
}
