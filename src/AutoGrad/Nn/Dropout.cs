using AutoGrad.Tensors;

namespace AutoGrad.Nn;

/// <summary>
/// Inverted dropout: in training each element is zeroed with probability p and the survivors are scaled by
/// 1/(1 − p), so evaluation is the identity. The mask stream is seeded, so runs repeat exactly.
/// </summary>
public sealed class Dropout : Module
{
    private readonly SeededRandom _random;

    /// <summary>Creates the layer.</summary>
    /// <param name="probability">The chance of dropping an element, in [0, 1).</param>
    /// <param name="seed">The seed of the mask stream; null draws one from the global generator (<see cref="Tensor.ManualSeed"/>).</param>
    public Dropout(double probability = 0.5, int? seed = null)
    {
        if (!(probability >= 0 && probability < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "Dropout: the probability must be in [0, 1).");
        }

        Probability = probability;
        _random = new SeededRandom(seed ?? Tensor.NextSeed());
    }

    /// <summary>The chance of dropping an element.</summary>
    public double Probability { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (!IsTraining || Probability == 0)
        {
            return input;
        }

        var mask = Tensor.Uninitialized(input.DType, input.Shape);
        var scale = 1 / (1 - Probability);
        ElementType.Dispatch(input.DType, new MaskFill(this, mask, scale));

        return input * mask;
    }

    /// <summary>0 with the probability of dropping, else the scale that keeps the expectation.</summary>
    private readonly struct MaskFill(Dropout dropout, Tensor mask, double scale) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            var m = mask.Raw<T>();
            var kept = T.CreateTruncating(scale);
            for (var i = 0; i < m.Length; i++)
            {
                m[i] = dropout._random.NextDouble() < dropout.Probability ? T.Zero : kept;
            }
        }
    }
}
