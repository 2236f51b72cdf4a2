namespace AutoGrad.Nn;

/// <summary>How a layer draws its initial weights: N(0, σ²) with σ fixed or derived from the fan-in n.</summary>
public readonly record struct WeightInit
{
    private WeightInit(string name, Func<int, double> std)
    {
        Name = name;
        StdFor = std;
    }

    /// <summary>The book's default: σ = 0.01 whatever the layer's size.</summary>
    public static WeightInit Default { get; } = Std(0.01);

    /// <summary>He initialization for ReLU layers: σ = √(2/n).</summary>
    public static WeightInit He { get; } = new("he", n => Math.Sqrt(2.0 / n));

    /// <summary>Xavier initialization (the book's form, for sigmoid and tanh): σ = √(1/n).</summary>
    public static WeightInit Xavier { get; } = new("xavier", n => Math.Sqrt(1.0 / n));

    /// <summary>A short name: "he", "xavier" or the σ.</summary>
    public string Name { get; }

    /// <summary>σ as a function of the fan-in.</summary>
    public Func<int, double> StdFor { get; }

    /// <summary>A fixed σ.</summary>
    /// <param name="std">The standard deviation, positive and finite.</param>
    /// <returns>The initialization.</returns>
    public static WeightInit Std(double std)
    {
        if (!(std > 0) || !double.IsFinite(std))
        {
            throw new ArgumentOutOfRangeException(nameof(std), std, "WeightInit: the standard deviation must be positive and finite.");
        }

        return new WeightInit(std.ToString(System.Globalization.CultureInfo.InvariantCulture), _ => std);
    }

    /// <summary>Parses "he", "xavier" or a number.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The initialization.</returns>
    public static WeightInit Parse(string text) => text.ToUpperInvariant() switch
    {
        "HE" or "RELU" => He,
        "XAVIER" or "SIGMOID" => Xavier,
        _ when double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var std) => Std(std),
        _ => throw new FormatException($"WeightInit: '{text}' is not 'he', 'xavier' or a standard deviation."),
    };

    /// <inheritdoc/>
    public override string ToString() => Name;
}
