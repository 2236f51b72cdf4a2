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
