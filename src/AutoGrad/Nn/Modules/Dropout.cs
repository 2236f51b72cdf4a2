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
    /// <param name="seed">The seed of the mask stream.</param>
    public Dropout(double probability = 0.5, int seed = 0)
    {
        if (!(probability >= 0 && probability < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "Dropout: the probability must be in [0, 1).");
        }

        Probability = probability;
        _random = new SeededRandom(seed);
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
        if (input.DType == DType.Float32)
        {
            Fill(mask.Raw<float>(), (float)scale);
        }
        else
        {
            Fill(mask.Raw<double>(), scale);
        }

        return input * mask;
    }

    private void Fill<T>(Span<T> mask, T scale)
        where T : struct
    {
        for (var i = 0; i < mask.Length; i++)
        {
            mask[i] = _random.NextDouble() < Probability ? default : scale;
        }
    }
}
