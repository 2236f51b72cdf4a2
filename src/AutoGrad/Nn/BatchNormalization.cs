using AutoGrad.Operations;
using AutoGrad.Tensors;

namespace AutoGrad.Nn;

/// <summary>
/// What <see cref="BatchNorm1d"/> and <see cref="BatchNorm2d"/> share, as PyTorch's <c>_BatchNorm</c>: γ and β, the
/// running mean and (unbiased) variance, and the two modes. In training the fused <see cref="Ops.BatchNorm"/> normalizes
/// each channel with the batch's statistics and updates the running ones; in evaluation the running statistics are used.
/// </summary>
public abstract class BatchNormalization : Module
{
    /// <summary>Creates the layer with γ = 1, β = 0, running mean 0 and running variance 1.</summary>
    /// <param name="layer">The layer's name, for messages.</param>
    /// <param name="channels">The channels (features) C.</param>
    /// <param name="momentum">The weight of each new batch in the running statistics, in [0, 1].</param>
    /// <param name="epsilon">Added to the variance before the square root, positive.</param>
    /// <param name="dtype">The element type.</param>
    private protected BatchNormalization(string layer, int channels, double momentum, double epsilon, DType? dtype)
    {
        RequireSizes(layer, channels);
        if (!(momentum is >= 0 and <= 1) || !(epsilon > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), $"{layer}: momentum {momentum} must be in [0, 1] and epsilon {epsilon} positive.");
        }

        Momentum = momentum;
        Epsilon = epsilon;
        Gamma = RegisterParameter("weight", Tensor.Ones([channels], dtype));
        Beta = RegisterParameter("bias", Tensor.Zeros([channels], dtype));
        RunningMean = RegisterBuffer("running_mean", Tensor.Zeros([channels], dtype));
        RunningVariance = RegisterBuffer("running_var", Tensor.Ones([channels], dtype));
    }

    /// <summary>The scale γ.</summary>
    public Tensor Gamma { get; }

    /// <summary>The shift β.</summary>
    public Tensor Beta { get; }

    /// <summary>The running mean used in evaluation.</summary>
    public Tensor RunningMean { get; }

    /// <summary>The running unbiased variance used in evaluation.</summary>
    public Tensor RunningVariance { get; }

    /// <summary>The weight of each new batch in the running statistics.</summary>
    public double Momentum { get; }

    /// <summary>Added to the variance for stability.</summary>
    public double Epsilon { get; }

    /// <summary>The training batches seen (PyTorch's <c>num_batches_tracked</c>), kept for PyTorch's state dict.</summary>
    public long BatchesTracked { get; private set; }

    /// <summary>PyTorch's <c>_BatchNorm</c> state: the parameters and statistics as they are, and the batch counter.</summary>
    private protected override IEnumerable<TorchTensor> OwnTorchTensors() =>
    [
        .. base.OwnTorchTensors(),
        new TorchTensor("num_batches_tracked", [], () => Tensor.Scalar(BatchesTracked, DType.Float64), value => BatchesTracked = (long)value.ToScalar()),
    ];

    /// <summary>Normalizes a checked (N, C, …) input in the current mode.</summary>
    /// <param name="input">The batch.</param>
    /// <returns>The normalized batch.</returns>
    private protected Tensor Normalize(Tensor input)
    {
        if (IsTraining)
        {
            BatchesTracked++;
            return Ops.BatchNorm(input, Gamma, Beta, Epsilon, RunningMean, RunningVariance, Momentum);
        }

        // (1, C, 1, …): each channel's statistics broadcast over the batch and the positions.
        var perChannel = new int[input.Rank];
        perChannel.AsSpan().Fill(1);
        perChannel[1] = Gamma.Length;
        var scale = Ops.Reshape(Gamma / Ops.Sqrt(RunningVariance + Epsilon), perChannel);
        return ((input - Ops.Reshape(RunningMean, perChannel)) * scale) + Ops.Reshape(Beta, perChannel);
    }
}
