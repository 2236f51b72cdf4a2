using AutoGrad.Nn.Data;
using AutoGrad.Nn.Optimizers;
using AutoGrad.Nn.Training;

namespace AutoGrad.Tests.Nn.Training;

public class TrainerTests
{
    [Fact]
    public void A_two_layer_net_learns_the_digits()
    {
        var (train, test) = Dataset.Digits().Split(0.8, seed: 42);
        var model = new TwoLayerNet(64, 100, 10, WeightInit.He, seed: 42);
        var result = Trainer.Fit(model, new Adam(model.Parameters(), 0.001), train, test, new TrainingOptions { BatchSize = 32, Epochs = 30, Seed = 42, EvaluateEachEpoch = false });
        Assert.True(result.TestAccuracy >= 0.96, $"test accuracy {result.TestAccuracy:P2}");
        Assert.True(result.TrainAccuracy >= 0.98, $"train accuracy {result.TrainAccuracy:P2}");
        Assert.True(result.Losses[^1] < result.Losses[0] / 5, $"loss {result.Losses[0]} → {result.Losses[^1]}");
        Assert.Equal(30, result.Epochs.Count);
    }

    [Fact]
    public void The_same_seed_gives_the_same_losses_bit_for_bit()
    {
        var (train, test) = Dataset.Digits().Split(0.8, seed: 1);
        double[] Run()
        {
            var model = new MultiLayerNet(64, [32, 32], 10, seed: 5, dropout: 0.1);
            return [.. Trainer.Fit(model, new Momentum(model.Parameters(), 0.05), train, test, new TrainingOptions { BatchSize = 50, Iterations = 60, Seed = 9, EvaluateEachEpoch = false }).Losses];
        }

        var first = Run();
        var second = Run();
        Assert.Equal(first.Select(BitConverter.DoubleToInt64Bits), second.Select(BitConverter.DoubleToInt64Bits));
    }

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Accuracy_counts_the_rows_whose_first_highest_score_is_their_label(DType dtype)
    {
        // Identity weights: each row's scores are its features. A tie goes to the lower class, as argmax does.
        float[] features = [1, 5, 2, /**/ 3, 3, 0, /**/ 0, 4, 4, /**/ 0, 0, 9, /**/ 7, 1, 1];
        int[] labels = [1, 0, 1, 2, 2];
        var model = new Linear(3, 3, dtype: dtype);
        for (var i = 0; i < 3; i++)
        {
            for (var j = 0; j < 3; j++)
            {
                model.Weight[i, j] = i == j ? 1 : 0;
            }
        }

        Assert.Equal(4.0 / 5, Trainer.Accuracy(model, new Dataset("ties", features, labels, featureCount: 3, classCount: 3), dtype));
    }

    [Fact]
    public void Training_in_float64_works_too()
    {
        var (train, test) = Dataset.Digits().Split(0.8, seed: 2);
        var model = new TwoLayerNet(64, 50, 10, WeightInit.He, seed: 1, dtype: DType.Float64);
        var result = Trainer.Fit(model, new Sgd(model.Parameters(), 0.1), train, test, new TrainingOptions { BatchSize = 32, Epochs = 10, DType = DType.Float64, EvaluateEachEpoch = false });
        Assert.True(result.TestAccuracy >= 0.9, $"test accuracy {result.TestAccuracy:P2}");
    }

    [Fact]
    public void Fashion_mnist_with_the_books_set_up_reaches_86_percent()
    {
        // 784-50-10, N(0, 0.01²) weights, SGD lr 0.1, batch 100, 10,000 iterations.
        var (train, test) = Dataset.FashionMnist();
        var model = new TwoLayerNet(784, 50, 10, seed: 42);
        var result = Trainer.Fit(model, new Sgd(model.Parameters(), 0.1), train, test, new TrainingOptions { BatchSize = 100, Iterations = 10_000, Seed = 42, EvaluateEachEpoch = false });
        Assert.True(result.TestAccuracy >= 0.86, $"test accuracy {result.TestAccuracy:P2}");
    }

    [Fact]
    [Trait("Category", "Slow")] // 45 s of the suite: ten epochs of 60,000 images through 784-256-256-10
    public void Fashion_mnist_with_two_256_layers_and_adam_reaches_88_percent()
    {
        var (train, test) = Dataset.FashionMnist();
        var model = new MultiLayerNet(784, [256, 256], 10, seed: 42);
        var result = Trainer.Fit(model, new Adam(model.Parameters(), 0.001), train, test, new TrainingOptions { BatchSize = 100, Epochs = 10, Seed = 42, EvaluateEachEpoch = false });
        Assert.True(result.TestAccuracy >= 0.88, $"test accuracy {result.TestAccuracy:P2}");
    }

    [Fact]
    public void A_diverging_run_stops_before_the_update_that_would_ruin_the_parameters()
    {
        var (train, test) = Dataset.Digits().Split(0.8, seed: 1);
        var model = new TwoLayerNet(64, 16, 10, seed: 3);
        var optimizer = new Sgd(model.Parameters(), learningRate: 1e38);

        var e = Assert.Throws<TrainingDivergedException>(
            () => Trainer.Fit(model, optimizer, train, test, new TrainingOptions { BatchSize = 32, Iterations = 50, Seed = 2 }));

        Assert.False(double.IsFinite(e.Loss));
        Assert.Contains("diverged", e.Message);
        Assert.InRange(optimizer.Steps, 1, 49);
        Assert.All(model.Parameters(), p => Assert.True(p.ToFloatArray().All(float.IsFinite), "a parameter holds a non-finite value"));
    }

    /// <summary>A model whose loss is finite while the gradient of its parameter is infinite: Σ √p at p = [0, 4].</summary>
    private sealed class SquareRootModel : Module
    {
        public SquareRootModel() => P = RegisterParameter("p", Tensor.FromArray([0f, 4f]));

        public Tensor P { get; }

        public override Tensor Forward(Tensor input) => Ops.Reshape(Ops.Sqrt(P), 1, 2) + input;
    }

    [Fact]
    public void Step_stops_before_the_update_when_a_gradient_is_infinite_though_the_loss_is_finite()
    {
        // d√p/dp = 1/(2√p) is +∞ at p = 0 (times the finite (softmax − onehot)/N), while the loss is finite.
        var model = new SquareRootModel();
        var optimizer = new Sgd(model.Parameters(), learningRate: 0.1);
        using var tape = new Tape();
        var features = Tensor.Zeros([1, 2], DType.Float32);

        var e = Assert.Throws<TrainingDivergedException>(() => Trainer.Step(model, optimizer, tape, features, new[] { 1 }));

        Assert.True(double.IsFinite(e.Loss));
        Assert.Contains("gradient of parameter 'p'", e.Message);
        Assert.Equal([0f, 4f], model.P.ToFloatArray());
        Assert.Equal(0, optimizer.Steps);
    }
}
