using AutoGrad.Nn.Data;
using AutoGrad.Nn.Optimizers;
using AutoGrad.Nn.Training;

using static AutoGrad.Tests.TestData;

namespace AutoGrad.Tests.Nn;

public class ConvolutionModuleTests
{
    [Fact]
    public void BatchNorm2d_normalizes_each_channel_in_training_and_uses_its_running_statistics_in_evaluation()
    {
        var norm = new BatchNorm2d(3, momentum: 0.5, dtype: DType.Float64);
        var x = Ops.Add(Ops.Multiply(Normal(1, 4, 3, 5, 5), 3), 2);
        var y = norm.Forward(x);

        // Per channel over N·H·W = 100 values: mean 0 and (biased) variance 1/(1 + ε/σ²), as PyTorch's.
        var rows = Ops.Reshape(Ops.Permute(y, 1, 0, 2, 3), 3, -1);
        AssertClose(new double[3], Ops.Mean(rows, 1).ToDoubleArray(), 0, 1e-12);
        var xRows = Ops.Reshape(Ops.Permute(x, 1, 0, 2, 3), 3, -1);
        var biased = Ops.Var(xRows, 1, unbiased: false).ToDoubleArray();
        AssertClose(biased.Select(v => v / (v + 1e-5)).ToArray(), Ops.Var(rows, 1, unbiased: false).ToDoubleArray(), 1e-12);

        // Running statistics: halfway (momentum 0.5) from (0, 1) to the batch mean and the unbiased variance.
        AssertClose(Ops.Mean(xRows, 1).ToDoubleArray().Select(m => m / 2).ToArray(), norm.RunningMean.ToDoubleArray(), 1e-12);
        AssertClose(Ops.Var(xRows, 1).ToDoubleArray().Select(v => (1 + v) / 2).ToArray(), norm.RunningVariance.ToDoubleArray(), 1e-12);

        norm.Eval();
        var evaluated = norm.Forward(x);
        var mean = norm.RunningMean.ToDoubleArray();
        var variance = norm.RunningVariance.ToDoubleArray();
        Assert.Equal((x[1, 2, 3, 4] - mean[2]) / Math.Sqrt(variance[2] + 1e-5), evaluated[1, 2, 3, 4], 12);
    }

    [Fact]
    public void Dropout2d_drops_whole_channels_and_keeps_the_expectation()
    {
        var dropout = new Dropout2d(0.25, seed: 3);
        var x = Tensor.Ones([200, 8, 3, 3], DType.Float64);
        var y = dropout.Forward(x).ToDoubleArray();
        var kept = 0;
        for (var plane = 0; plane < 200 * 8; plane++)
        {
            var values = y.AsSpan(plane * 9, 9);
            Assert.True(values.SequenceEqual(Enumerable.Repeat(values[0], 9).ToArray()), "a channel was dropped in part");
            Assert.Contains(values[0], new[] { 0, 1 / 0.75 });
            kept += values[0] > 0 ? 1 : 0;
        }

        Assert.InRange(kept / 1600.0, 0.72, 0.78);
        dropout.Eval();
        Assert.Same(x, dropout.Forward(x));
    }

    [Fact]
    public void DeepConvNet_with_batch_normalization_learns_the_digits()
    {
        var (train, test) = Dataset.Digits().Split(0.8, seed: 42);
        var model = new DeepConvNet(1, 8, 8, batchNorm: true, seed: 42);
        var result = Trainer.Fit(model, new Adam(model.Parameters(), 0.001), train, test, new TrainingOptions { BatchSize = 32, Epochs = 20, Seed = 42, EvaluateEachEpoch = false });
        Assert.True(result.TestAccuracy >= 0.975, $"test accuracy {result.TestAccuracy:P2}");
    }

    [Fact]
    [Trait("Category", "Slow")] // about 8 minutes on a 2-core VM: ten epochs of 60,000 images through six convolutions
    public void DeepConvNet_with_batch_normalization_reaches_91_5_percent_on_fashion_mnist_within_10_epochs()
    {
        // Issue 14's target. Measured here: 91.5% at epoch 7, 92.1% at its best, 91.3% after the tenth epoch.
        var (train, test) = Dataset.FashionMnist();
        var model = new DeepConvNet(batchNorm: true, seed: 42);
        var result = Trainer.Fit(model, new Adam(model.Parameters(), 0.001), train, test, new TrainingOptions { BatchSize = 100, Epochs = 10, Seed = 42 });
        var best = result.Epochs.Max(e => e.TestAccuracy ?? 0);
        Assert.True(best >= 0.915, $"best test accuracy {best:P2} (per epoch: {string.Join(", ", result.Epochs.Select(e => $"{e.TestAccuracy:P2}"))})");
    }
}
