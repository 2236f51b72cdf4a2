using AutoGrad.Nn.Data;
using AutoGrad.Nn.Optimizers;
using AutoGrad.Nn.Schedules;
using AutoGrad.Nn.Training;

namespace AutoGrad.Tests.Nn.Training;

/// <summary>
/// Issue 16's general trainer: regression, binary targets and classification through one Fit, with a metric,
/// schedules, early stopping and a callback per epoch.
/// </summary>
public class GeneralFitTests
{
    /// <summary>y = 3·x₀ − 2·x₁ + 1 plus noise of σ 0.01, from plain arrays.</summary>
    private static TensorDataset Line(int count, int seed)
    {
        var random = new SeededRandom(seed);
        var features = new double[count, 2];
        var targets = new double[count];
        for (var i = 0; i < count; i++)
        {
            features[i, 0] = random.NextNormal();
            features[i, 1] = random.NextNormal();
            targets[i] = (3 * features[i, 0]) - (2 * features[i, 1]) + 1 + (0.01 * random.NextNormal());
        }

        return TensorDataset.FromArrays(features, targets, DType.Float64);
    }

    [Fact]
    public void A_regression_from_plain_arrays_finds_the_coefficients()
    {
        var model = new Linear(2, 1, seed: 1, dtype: DType.Float64);
        var result = Trainer.Fit(model, new Sgd(model.Parameters(), 0.1), Line(500, 1), Line(100, 2), Loss.MeanSquaredError,
            new FitOptions { Epochs = 20, Seed = 3, Metric = Metric.MeanAbsoluteError });

        Assert.Equal(20, result.History.Count);
        Assert.Equal(3.0, model.Weight[0, 0], 2);
        Assert.Equal(-2.0, model.Weight[1, 0], 2);
        Assert.Equal(1.0, model.Bias[0], 2);
        Assert.True(result.History[^1].ValidationLoss < 2e-4, $"validation MSE {result.History[^1].ValidationLoss}");
        Assert.True(result.History[^1].Metric < 0.012, $"validation MAE {result.History[^1].Metric}"); // the noise's mean |ε| is 0.008
    }

    [Fact]
    public void Binary_targets_train_with_binary_cross_entropy_and_score_their_accuracy()
    {
        // Two Gaussian blobs at (±1.5, ±1.5), targets 0 and 1.
        var random = new SeededRandom(4);
        var features = new double[400, 2];
        var targets = new double[400];
        for (var i = 0; i < 400; i++)
        {
            var side = i % 2 == 0 ? -1.5 : 1.5;
            features[i, 0] = side + random.NextNormal();
            features[i, 1] = side + random.NextNormal();
            targets[i] = i % 2;
        }

        var (train, validation) = TensorDataset.FromArrays(features, targets, DType.Float64).Split(0.75, seed: 5);
        var model = new Sequential(new Linear(2, 8, seed: 6, dtype: DType.Float64), new Tanh(), new Linear(8, 1, seed: 7, dtype: DType.Float64));
        var result = Trainer.Fit(model, new Adam(model.Parameters(), 0.01), train, validation, Loss.BinaryCrossEntropy,
            new FitOptions { Epochs = 30, Seed = 8, Metric = Metric.Accuracy });

        // The Bayes rate of this problem is Φ(1.5·√2) ≈ 98.3%.
        Assert.True(result.History[^1].Metric >= 0.95, $"validation accuracy {result.History[^1].Metric}");
    }

    [Fact]
    public void Classification_of_the_digits_through_the_general_loop_reaches_the_classic_ones_accuracy()
    {
        var (trainSet, testSet) = Dataset.Digits().Split(0.8, seed: 1);
        var model = new MultiLayerNet(64, [64], 10, seed: 2);
        var optimizer = new Adam(model.Parameters(), 0.01);
        var result = Trainer.Fit(model, optimizer, trainSet.ToTensorDataset(DType.Float32), testSet.ToTensorDataset(DType.Float32), Loss.CrossEntropy,
            new FitOptions { Epochs = 15, Seed = 3, Metric = Metric.Accuracy, Schedule = new StepDecay(optimizer, stepSize: 5, gamma: 0.5) });

        Assert.True(result.History[^1].Metric >= 0.95, $"test accuracy {result.History[^1].Metric}");
        Assert.Equal(0.01 * 0.125, result.History[^1].LearningRate, 15); // halved after epochs 5, 10 and 15
        Assert.Equal(0.01 * 0.5, result.History[4].LearningRate, 15);
    }

    [Fact]
    public void Early_stopping_ends_a_stalled_run_and_restores_the_best_epochs_parameters()
    {
        // A rate so high that the validation loss soon stops improving.
        var model = new Linear(2, 1, seed: 1, dtype: DType.Float64);
        var snapshots = new List<double[]>();
        var result = Trainer.Fit(model, new Sgd(model.Parameters(), 1.05), Line(200, 1), Line(100, 2), Loss.MeanSquaredError, new FitOptions
        {
            Epochs = 50,
            BatchSize = 200,
            Seed = 3,
            EarlyStopping = new EarlyStopping(Patience: 3),
            OnEpochEnd = _ => snapshots.Add(model.Weight.ToDoubleArray()),
        });

        Assert.True(result.StoppedEarly);
        Assert.Equal(result.BestEpoch + 3, result.History.Count);
        var best = result.History[result.BestEpoch - 1].Monitored;
        Assert.All(result.History, report => Assert.True(report.Monitored >= best));
        Assert.Equal(snapshots[result.BestEpoch - 1], model.Weight.ToDoubleArray());
    }

    [Fact]
    public void A_callback_sees_every_epoch_and_can_stop_training()
    {
        var model = new Linear(2, 1, seed: 1, dtype: DType.Float64);
        var seen = new List<int>();
        var result = Trainer.Fit(model, new Sgd(model.Parameters(), 0.1), Line(64, 1), null, Loss.MeanSquaredError, new FitOptions
        {
            Epochs = 10,
            Seed = 2,
            OnEpochEnd = report =>
            {
                seen.Add(report.Epoch);
                report.StopTraining = report.Epoch == 4;
            },
        });

        Assert.Equal([1, 2, 3, 4], seen);
        Assert.True(result.StoppedEarly);
        Assert.Null(result.History[0].ValidationLoss);
        Assert.True(result.History[3].TrainLoss < result.History[0].TrainLoss);
    }

    [Fact]
    public void Bad_settings_and_mismatched_data_get_Fits_exceptions()
    {
        var model = new Linear(2, 1, seed: 1, dtype: DType.Float64);
        var optimizer = new Sgd(model.Parameters(), 0.1);
        var line = Line(10, 1);
        var labelled = new TensorDataset(Tensor.Zeros([10, 2], DType.Float64), new int[10]);
        Assert.Contains("BatchSize (0)", Assert.Throws<ArgumentOutOfRangeException>(() => Trainer.Fit(model, optimizer, line, null, Loss.MeanSquaredError, new FitOptions { BatchSize = 0 })).Message);
        Assert.Contains("Patience ≥ 1", Assert.Throws<ArgumentOutOfRangeException>(() => Trainer.Fit(model, optimizer, line, null, Loss.MeanSquaredError, new FitOptions { EarlyStopping = new EarlyStopping(0) })).Message);
        Assert.Contains("does not match the training set", Assert.Throws<ArgumentException>(() => Trainer.Fit(model, optimizer, line, labelled, Loss.MeanSquaredError)).Message);
        Assert.Contains("needs target values", Assert.Throws<InvalidOperationException>(() => Trainer.Fit(model, optimizer, labelled, null, Loss.MeanSquaredError)).Message);
        Assert.Contains("must hold 10 samples", Assert.Throws<ShapeMismatchException>(() => new TensorDataset(Tensor.Zeros([10, 2]), Tensor.Zeros([9, 1]))).Message);
        Assert.Contains("label -1 of sample 2", Assert.Throws<ArgumentOutOfRangeException>(() => new TensorDataset(Tensor.Zeros([3, 2]), [0, 1, -1])).Message);

        var diverging = Assert.Throws<TrainingDivergedException>(() => Trainer.Fit(model, new Sgd(model.Parameters(), 1e6), Line(200, 1), null, Loss.MeanSquaredError, new FitOptions { Epochs = 100, BatchSize = 200 }));
        Assert.Contains("mean squared error loss is", diverging.Message);
    }
}
