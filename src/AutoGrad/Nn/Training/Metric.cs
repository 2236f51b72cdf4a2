using AutoGrad.Nn.Data;
using AutoGrad.Nn.Schedules;
using AutoGrad.Operations;
using AutoGrad.Tensors;

namespace AutoGrad.Nn.Training;

/// <summary>
/// A number to watch while training: its mean over one batch (weighted by batch size across an epoch), and whether
/// larger or smaller is better (for early stopping and <see cref="ReduceOnPlateau"/>).
/// </summary>
/// <param name="Name">A name for reports.</param>
/// <param name="BatchMean">The metric's mean over one batch, from the model's output (computed without recording).</param>
/// <param name="Goal">Whether larger or smaller is better.</param>
public sealed record Metric(string Name, Func<Tensor, SupervisedBatch, double> BatchMean, MetricGoal Goal)
{
    /// <summary>
    /// The share of samples classified right: the highest score against the label, or, for targets and one output per
    /// sample, a positive logit against a target above ½.
    /// </summary>
    public static Metric Accuracy { get; } = new("accuracy", static (output, batch) => AccuracyOf(output, batch), MetricGoal.Maximize);

    /// <summary>The mean of (y − t)².</summary>
    public static Metric MeanSquaredError { get; } = new("mean squared error", static (output, batch) => Ops.Mean(Ops.Square(output - Loss.Targets(batch, "mean squared error"))).ToScalar(), MetricGoal.Minimize);

    /// <summary>The mean of |y − t|.</summary>
    public static Metric MeanAbsoluteError { get; } = new("mean absolute error", static (output, batch) => Ops.Mean(Ops.Abs(output - Loss.Targets(batch, "mean absolute error"))).ToScalar(), MetricGoal.Minimize);

    private static double AccuracyOf(Tensor output, SupervisedBatch batch)
    {
        if (batch.Targets is { } targets)
        {
            if (output.Shape != targets.Shape)
            {
                throw new ShapeMismatchException($"Fit: accuracy against targets needs one logit per target, got output {output.Shape} for targets {targets.Shape}.");
            }

            var logits = output.ToDoubleArray();
            var expected = targets.ToDoubleArray();
            return (double)logits.Where((logit, i) => logit > 0 == expected[i] > 0.5).Count() / logits.Length;
        }

        var predicted = Ops.ArgMax(output, -1).ToArray();
        var labels = batch.Labels.Span;
        var correct = 0;
        for (var i = 0; i < labels.Length; i++)
        {
            correct += predicted[i] == labels[i] ? 1 : 0;
        }

        return (double)correct / labels.Length;
    }
}
