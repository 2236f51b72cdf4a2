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

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Pooling_before_the_relu_gives_the_books_order_bit_for_bit(DType dtype)
    {
        // The nets apply ReLU after the 2×2 pooling, the book before it. Small integers make ties, zeros and windows
        // with no positive element common; the upstream gradient is not 1; odd sizes leave a row and a column out.
        var random = new SeededRandom(5);
        var values = Enumerable.Range(0, 3 * 4 * 9 * 11).Select(_ => random.NextInt(7) - 3.0).ToArray();
        var x = dtype == DType.Float64 ? Tensor.FromArray(values, 3, 4, 9, 11) : Tensor.FromArray(values.Select(v => (float)v).ToArray(), 3, 4, 9, 11);
        var upstream = Tensor.RandomNormal([3, 4, 4, 5], 6, dtype: dtype);
        Tensor[] Run(Func<Tensor, Tensor> f)
        {
            using var tape = new Tape();
            tape.Watch(x);
            var y = f(x);
            return [y.Clone(), tape.Gradient(y, [x], upstream)[0].Clone()];
        }

        var book = Run(v => Ops.MaxPool2d(Ops.Relu(v), 2));
        var ours = Run(v => Ops.Relu(Ops.MaxPool2d(v, 2)));
        Assert.Equal(book[0].ToDoubleArray(), ours[0].ToDoubleArray());
        Assert.Equal(book[1].ToDoubleArray(), ours[1].ToDoubleArray());
        Assert.Contains(0.0, ours[1].ToDoubleArray());
        Assert.Contains(ours[1].ToDoubleArray(), v => v != 0);
    }
}
