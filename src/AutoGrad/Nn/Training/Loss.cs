using AutoGrad.Nn.Data;
using AutoGrad.Operations;
using AutoGrad.Tensors;

namespace AutoGrad.Nn.Training;

/// <summary>
/// What <see cref="Trainer.Fit(Module, Optimizers.Optimizer, TensorDataset, TensorDataset?, Loss, FitOptions?)"/>
/// minimizes: a named function of the model's output and the batch, returning a one-element tensor. Any function of
/// ops will do (<c>new Loss("huber", (y, b) => …)</c>); the common ones are here, named as in PyTorch.
/// </summary>
/// <param name="Name">A name for reports.</param>
/// <param name="Compute">The loss of one batch, recorded like any op.</param>
public sealed record Loss(string Name, Func<Tensor, SupervisedBatch, Tensor> Compute)
{
    /// <summary>Softmax cross-entropy of class scores against the batch's labels (PyTorch's <c>CrossEntropyLoss</c>; the book's SoftmaxWithLoss).</summary>
    public static Loss CrossEntropy { get; } = new("cross-entropy", static (output, batch) => Ops.SoftmaxWithLoss(output, batch.Labels));

    /// <summary>The mean of (y − t)² over every element (PyTorch's <c>MSELoss</c>; not the book's ½ convention).</summary>
    public static Loss MeanSquaredError { get; } = new("mean squared error", static (output, batch) => Ops.Mean(Ops.Square(output - Targets(batch, "mean squared error"))));

    /// <summary>The mean of |y − t| over every element (PyTorch's <c>L1Loss</c>).</summary>
    public static Loss MeanAbsoluteError { get; } = new("mean absolute error", static (output, batch) => Ops.Mean(Ops.Abs(output - Targets(batch, "mean absolute error"))));

    /// <summary>Binary cross-entropy of logits against targets in [0, 1], averaged over the batch (PyTorch's <c>BCEWithLogitsLoss</c> for (N, 1) outputs).</summary>
    public static Loss BinaryCrossEntropy { get; } = new("binary cross-entropy", static (output, batch) => Ops.SigmoidWithLoss(output, Targets(batch, "binary cross-entropy")));

    /// <summary>The batch's targets, or the loss's exception when it has labels instead.</summary>
    internal static Tensor Targets(SupervisedBatch batch, string loss) => batch.Targets
        ?? throw new InvalidOperationException($"Fit: the {loss} loss needs target values, but the data set has class labels; use Loss.CrossEntropy.");
}
