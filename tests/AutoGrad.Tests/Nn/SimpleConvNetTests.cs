using AutoGrad.Nn.Data;
using AutoGrad.Nn.Optimizers;
using AutoGrad.Nn.Training;

namespace AutoGrad.Tests.Nn;

public class SimpleConvNetTests
{
    [Fact]
    public void The_books_convolutional_net_learns_the_digits_to_98_percent()
    {
        var (train, test) = Dataset.Digits().Split(0.8, seed: 42);
        var model = new SimpleConvNet(1, 8, 8, seed: 42);
        var result = Trainer.Fit(model, new Adam(model.Parameters(), 0.001), train, test, new TrainingOptions { BatchSize = 32, Epochs = 30, Seed = 42, EvaluateEachEpoch = false });
        Assert.True(result.TestAccuracy >= 0.98, $"test accuracy {result.TestAccuracy:P2}");
    }

    [Fact]
    [Trait("Category", "Slow")] // 85 s: eight epochs of 60,000 images
    public void The_books_convolutional_net_reaches_90_5_percent_on_fashion_mnist_within_8_epochs()
    {
        // Issue 14's target, from PyTorch 2.11 with the same net and settings: 90.5% at epoch 5, 90.9% at epoch 8.
        var (train, test) = Dataset.FashionMnist();
        var model = new SimpleConvNet(seed: 42);
        var result = Trainer.Fit(model, new Adam(model.Parameters(), 0.001), train, test, new TrainingOptions { BatchSize = 100, Epochs = 8, Seed = 42 });
        var best = result.Epochs.Max(e => e.TestAccuracy ?? 0);
        Assert.True(best >= 0.905, $"best test accuracy {best:P2} (per epoch: {string.Join(", ", result.Epochs.Select(e => $"{e.TestAccuracy:P2}"))})");
    }

    [Fact]
    public void Every_parameter_gradient_matches_the_books_numerical_gradient()
    {
        // The book's gradient check (chapter 7): central differences of the loss for every parameter, in float64.
        var model = new SimpleConvNet(2, 6, 7, classes: 3, filters: 3, kernel: 3, hidden: 5, seed: 3, dtype: DType.Float64);
        var x = Tensor.RandomNormal([4, 2, 6, 7], 4, dtype: DType.Float64);
        int[] labels = [0, 2, 1, 2];
        double Loss() => Ops.SoftmaxWithLoss(model.Forward(x), labels).ToScalar();

        using (var tape = new Tape())
        {
            model.ZeroGrad();
            tape.Backward(Ops.SoftmaxWithLoss(model.Forward(x), labels));
        }

        foreach (var (name, parameter) in model.NamedParameters())
        {
            var values = parameter.AsSpan<double>();
            var analytic = parameter.Grad!.ToDoubleArray();
            for (var i = 0; i < values.Length; i++)
            {
                var saved = values[i];
                values[i] = saved + 1e-5;
                var up = Loss();
                values = parameter.AsSpan<double>();
                values[i] = saved - 1e-5;
                var down = Loss();
                values = parameter.AsSpan<double>();
                values[i] = saved;
                var numeric = (up - down) / 2e-5;
                Assert.True(Math.Abs(numeric - analytic[i]) <= 1e-7 + (1e-5 * Math.Abs(numeric)), $"{name}[{i}]: backprop {analytic[i]}, numerical {numeric}");
            }
        }
    }
}
