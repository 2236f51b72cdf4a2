using AutoGrad.Tensors;

namespace AutoGrad.Nn;

/// <summary>
/// Channel dropout for (N, C, H, W) images, as <c>torch.nn.Dropout2d</c>: in training each whole channel of each image
/// is zeroed with probability p and the others scaled by 1/(1 − p); evaluation is the identity. Neighbouring pixels
/// are correlated, so dropping single pixels regularizes a convolutional layer little; dropping feature maps does.
/// </summary>
public sealed class Dropout2d : Module
{
    private readonly SeededRandom _random;

    /// <summary>Creates the layer.</summary>
    /// <param name="probability">The chance of dropping a channel, in [0, 1).</param>
    /// <param name="seed">The seed of the mask stream; null draws one from the global generator (<see cref="Tensor.ManualSeed"/>).</param>
    public Dropout2d(double probability = 0.5, int? seed = null)
    {
        if (!(probability >= 0 && probability < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "Dropout2d: the probability must be in [0, 1).");
        }

        Probability = probability;
        _random = new SeededRandom(seed ?? Tensor.NextSeed());
    }

    /// <summary>The chance of dropping a channel.</summary>
    public double Probability { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank != 4)
        {
            throw new ShapeMismatchException($"Dropout2d: expected (N, C, H, W), got {input.Shape}.");
        }

        if (!IsTraining || Probability == 0)
        {
            return input;
        }

        // One value per image and channel, broadcast over the pixels: the mask costs N·C numbers, not N·C·H·W, and
        // lives in the tape's arena like any result, so a training step allocates nothing for it.
        var mask = Tensor.Uninitialized(input.DType, Shape.Create([input.Shape[0], input.Shape[1], 1, 1]));
        ElementType.Dispatch(input.DType, new ChannelMask(this, mask));
        return input * mask;
    }

    /// <summary>0 with the probability of dropping, else the scale that keeps the expectation.</summary>
    private readonly struct ChannelMask(Dropout2d dropout, Tensor mask) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            var m = mask.Raw<T>();
            var kept = T.CreateTruncating(1 / (1 - dropout.Probability));
            for (var i = 0; i < m.Length; i++)
            {
                m[i] = dropout._random.NextDouble() < dropout.Probability ? T.Zero : kept;
            }
        }
    }
}
