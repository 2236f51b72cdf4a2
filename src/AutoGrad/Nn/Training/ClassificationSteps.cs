using AutoGrad.Autodiff;
using AutoGrad.Nn.Data;
using AutoGrad.Nn.Optimizers;

namespace AutoGrad.Nn.Training;

/// <summary>
/// The steps that <see cref="Trainer.Fit(Module, Optimizer, Dataset, Dataset, TrainingOptions, Action{TrainingProgress})"/>
/// takes between its evaluations: the loader's next batch, one <see cref="Trainer.Step"/>, and the epoch's running loss
/// and batch accuracy. A class of its own so that a benchmark runs the very loop Fit runs beside steps on a fixed batch.
/// </summary>
internal sealed class ClassificationSteps(Module model, Optimizer optimizer, DataLoader loader, Tape tape)
{
    private double _lossSum;
    private int _steps;
    private int _correct;
    private int _samples;

    /// <summary>One step on the next batch.</summary>
    /// <returns>The step's loss.</returns>
    public double Take()
    {
        var batch = loader.Next();
        var (loss, scores) = Trainer.Step(model, optimizer, tape, batch.Features, batch.Labels);
        var value = loss.ToScalar();
        _lossSum += value;
        _steps++;
        _correct += Trainer.CountCorrect(scores, batch.Labels.Span);
        _samples += batch.Size;
        return value;
    }

    /// <summary>The state after <paramref name="iteration"/> of <paramref name="total"/> steps, with the epoch's means so far.</summary>
    public TrainingProgress Report(int iteration, int total, double? testAccuracy) =>
        new(iteration, total, loader.Epoch + 1, _lossSum / _steps, (double)_correct / _samples, testAccuracy);

    /// <summary>Clears the epoch's running sums.</summary>
    public void StartEpoch() => (_lossSum, _steps, _correct, _samples) = (0, 0, 0, 0);
}
