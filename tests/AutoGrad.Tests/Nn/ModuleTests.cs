
using static AutoGrad.Tests.TestData;

namespace AutoGrad.Tests.Nn;

public class ModuleTests
{
    [Fact]
    public void Parameters_and_buffers_have_dotted_names()
    {
        var net = new Sequential(new Linear(4, 3, seed: 1), new BatchNorm1d(3), new Relu(), new Linear(3, 2, seed: 2));
        Assert.Equal(["0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias"], net.NamedParameters().Select(p => p.Name));
        Assert.Equal(["1.running_mean", "1.running_var"], net.NamedBuffers().Select(b => b.Name));
        Assert.All(net.Parameters(), p => Assert.True(p.RequiresGrad));
        Assert.Equal(8, net.StateDict().Count());
    }

    [Fact]
    public void LayerNorm_gives_each_row_mean_0_and_variance_1_and_learns_its_scale_and_shift()
    {
        var layer = new LayerNorm(4, dtype: DType.Float64);
        Assert.Equal(["weight", "bias"], layer.NamedParameters().Select(p => p.Name));
        var x = Tensor.FromArray([1.0, 2, 3, 6, -4, 0, 4, 8, 5, 5, 5, 5], 3, 4);
        var y = layer.Forward(x).ToDoubleArray();
        for (var row = 0; row < 2; row++)
        {
            var values = y.AsSpan(row * 4, 4).ToArray();
            Assert.Equal(0, values.Average(), 1e-12);
            // σ²/(σ² + ε) with σ² of 3.5 and 20 here: 1 to within ε/σ².
            Assert.Equal(1, values.Select(v => v * v).Average(), 5e-6);
        }

        // A constant row is 0 after centring (β), whatever ε.
        Assert.Equal([0.0, 0, 0, 0], y[8..]);

        using var tape = new Tape();
        var loss = Ops.Sum(layer.Forward(x) * Tensor.FromArray([1.0, 2, 3, 4]));
        tape.Backward(loss);
        Assert.Equal([3.0, 6, 9, 12], layer.Bias.Grad!.ToDoubleArray());
        Assert.Throws<ShapeMismatchException>(() => layer.Forward(Tensor.Zeros([2, 3], DType.Float64)));
    }

    [Fact]
    public void Embedding_looks_up_rows_by_id_and_sums_a_repeated_ids_gradient()
    {
        var embedding = new Embedding(4, 3, seed: 7, dtype: DType.Float64);
        var table = embedding.Weight.ToDoubleArray();
        Assert.InRange(StandardDeviation(new Embedding(100, 100, seed: 1, dtype: DType.Float64).Weight.ToDoubleArray()), 0.97, 1.03);

        var ids = IntTensor.FromArray([2, 0, 2, 3], 2, 2);
        var vectors = embedding.Forward(ids);
        Assert.Equal(new[] { 2, 2, 3 }, vectors.Shape.Dims.ToArray());
        Assert.Equal(table[6..9].Concat(table[0..3]).Concat(table[6..9]).Concat(table[9..12]), vectors.ToDoubleArray());
        Assert.Equal(vectors.ToDoubleArray(), embedding.Forward(Tensor.FromArray([2.0, 0, 2, 3], 2, 2)).ToDoubleArray());

        using var tape = new Tape();
        tape.Backward(Ops.Sum(embedding.Forward(ids) * Tensor.FromArray([1.0, 2, 3], 1, 1, 3)));
        Assert.Equal([1.0, 2, 3, 0, 0, 0, 2, 4, 6, 1, 2, 3], embedding.Weight.Grad!.ToDoubleArray());
    }

    [Fact]
    public void Train_and_eval_reach_every_submodule()
    {
        var net = new MultiLayerNet(4, [5, 5], 2, dropout: 0.5, batchNorm: true);
        net.Eval();
        Assert.All(net.Layers, l => Assert.False(l.IsTraining));
        net.Train();
        Assert.All(net.Layers, l => Assert.True(l.IsTraining));
    }

    [Fact]
    public void Linear_uses_the_requested_initialization()
    {
        var he = new Linear(200, 300, WeightInit.He, seed: 3, dtype: DType.Float64).Weight.ToDoubleArray();
        Assert.InRange(StandardDeviation(he), 0.97 * Math.Sqrt(2.0 / 200), 1.03 * Math.Sqrt(2.0 / 200));
        var xavier = new Linear(200, 300, WeightInit.Xavier, seed: 3, dtype: DType.Float64).Weight.ToDoubleArray();
        Assert.InRange(StandardDeviation(xavier), 0.97 * Math.Sqrt(1.0 / 200), 1.03 * Math.Sqrt(1.0 / 200));
        var book = new Linear(200, 300, seed: 3, dtype: DType.Float64).Weight.ToDoubleArray();
        Assert.InRange(StandardDeviation(book), 0.0097, 0.0103);
    }

    [Fact]
    public void TwoLayerNet_is_affine_relu_affine()
    {
        var net = new TwoLayerNet(4, 5, 3, seed: 1, dtype: DType.Float64);
        var x = Normal(9, 2, 4);
        var expected = Ops.Affine(Ops.Relu(Ops.Affine(x, net.Affine1.Weight, net.Affine1.Bias)), net.Affine2.Weight, net.Affine2.Bias);
        Assert.Equal(expected.ToDoubleArray(), net.Forward(x).ToDoubleArray());
        Assert.Equal(["affine1.weight", "affine1.bias", "affine2.weight", "affine2.bias"], net.NamedParameters().Select(p => p.Name));
    }

    [Fact]
    public void Dropout_zeroes_about_p_scales_survivors_and_passes_gradients_through_the_mask()
    {
        var dropout = new Dropout(0.3, seed: 5);
        var x = Tensor.Ones([100, 100], DType.Float64);
        using var tape = new Tape();
        tape.Watch(x);
        var y = dropout.Forward(x);
        var values = y.ToDoubleArray();
        var zeros = values.Count(v => v == 0);
        Assert.InRange(zeros, 2700, 3300);
        Assert.All(values.Where(v => v != 0), v => Assert.Equal(1 / 0.7, v, 12));
        var g = tape.Gradient(Ops.Sum(y), x)[0].ToDoubleArray();
        Assert.Equal(values, g);
        dropout.Eval();
        Assert.Same(x, dropout.Forward(x));
    }

    [Fact]
    public void Dropout_masks_repeat_for_a_seed()
    {
        var x = Tensor.Ones([50], DType.Float64);
        Assert.Equal(new Dropout(0.5, 7).Forward(x).ToDoubleArray(), new Dropout(0.5, 7).Forward(x).ToDoubleArray());
    }

    [Fact]
    public void BatchNorm_normalizes_in_training_and_uses_running_statistics_in_evaluation()
    {
        var bn = new BatchNorm1d(3, momentum: 0.1, dtype: DType.Float64);
        var x = Ops.Add(Ops.Multiply(Normal(1, 64, 3), 4), 2);
        var y = bn.Forward(x);
        var mean = Ops.Mean(y, 0).ToDoubleArray();
        var variance = Ops.Mean(y * y, 0).ToDoubleArray();
        Assert.All(mean, m => Assert.Equal(0, m, 10));
        Assert.All(variance, v => Assert.Equal(1, v, 4));

        var batchMean = Ops.Mean(x, 0).ToDoubleArray();
        TestData.AssertClose(batchMean.Select(m => 0.1 * m).ToArray(), bn.RunningMean.ToDoubleArray(), 1e-12);
        var centered = x - Ops.Mean(x, 0);
        var unbiased = (Ops.Sum(centered * centered, 0) / 63).ToDoubleArray();
        TestData.AssertClose(unbiased.Select(v => 0.9 + (0.1 * v)).ToArray(), bn.RunningVariance.ToDoubleArray(), 1e-12);

        bn.Eval();
        var evaluated = bn.Forward(x).ToDoubleArray();
        var rm = bn.RunningMean.ToDoubleArray();
        var rv = bn.RunningVariance.ToDoubleArray();
        Assert.Equal((x[5, 1] - rm[1]) / Math.Sqrt(rv[1] + 1e-5), evaluated[(5 * 3) + 1], 12);
    }

    [Fact]
    public void BatchNorm_training_gradients_match_finite_differences()
    {
        var bn = new BatchNorm1d(3, dtype: DType.Float64);
        AssertGradientsMatch(v => bn.Forward(v[0]) * Normal(2, 5, 3), Normal(1, 5, 3));
    }

    private static double StandardDeviation(double[] values)
    {
        var mean = values.Average();
        return Math.Sqrt(values.Select(v => (v - mean) * (v - mean)).Average());
    }
}
