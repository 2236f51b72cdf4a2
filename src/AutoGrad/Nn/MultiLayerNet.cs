using AutoGrad.Tensors;

namespace AutoGrad.Nn;

/// <summary>
/// The book's multi-layer net: (Affine → [BatchNorm] → activation → [Dropout]) per hidden size, then a final Affine.
/// </summary>
public sealed class MultiLayerNet : Module
{
    private readonly Sequential _layers;

    /// <summary>Creates the net.</summary>
    /// <param name="inputSize">Inputs per sample.</param>
    /// <param name="hiddenSizes">The width of each hidden layer (any number, including none).</param>
    /// <param name="outputSize">Classes.</param>
    /// <param name="activation">"relu" (default), "sigmoid" or "tanh".</param>
    /// <param name="init">The weight initialization; null picks He for ReLU and Xavier otherwise, as the book advises.</param>
    /// <param name="seed">The seed; layer i uses seed + i.</param>
    /// <param name="dtype">The element type.</param>
    /// <param name="batchNorm">Insert batch normalization after each hidden Affine.</param>
    /// <param name="dropout">Dropout probability after each hidden activation (0 for none).</param>
    public MultiLayerNet(
        int inputSize,
        IReadOnlyList<int> hiddenSizes,
        int outputSize,
        string activation = "relu",
        WeightInit? init = null,
        int? seed = null,
        DType? dtype = null,
        bool batchNorm = false,
        double dropout = 0)
    {
        ArgumentNullException.ThrowIfNull(hiddenSizes);
        ArgumentNullException.ThrowIfNull(activation);
        RequireSizes(nameof(MultiLayerNet), [inputSize, .. hiddenSizes, outputSize]);
        var weights = init ?? (activation.Equals("relu", StringComparison.OrdinalIgnoreCase) ? WeightInit.He : WeightInit.Xavier);
        var layers = new List<Module>();
        var width = inputSize;
        for (var i = 0; i < hiddenSizes.Count; i++)
        {
            layers.Add(new Linear(width, hiddenSizes[i], weights, seed + i, dtype));
            if (batchNorm)
            {
                layers.Add(new BatchNorm1d(hiddenSizes[i], dtype: dtype));
            }

            layers.Add(Activation(activation));
            if (dropout > 0)
            {
                layers.Add(new Dropout(dropout, seed + 1000 + i));
            }

            width = hiddenSizes[i];
        }

        layers.Add(new Linear(width, outputSize, weights, seed + hiddenSizes.Count, dtype));
        _layers = RegisterModule("layers", new Sequential([.. layers]));
    }

    /// <summary>The layers in order.</summary>
    public IReadOnlyList<Module> Layers => _layers.Layers;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => _layers.Forward(input);

    private static Module Activation(string name) => name.ToUpperInvariant() switch
    {
        "RELU" => new Relu(),
        "SIGMOID" => new Sigmoid(),
        "TANH" => new Tanh(),
        _ => throw new ArgumentException($"MultiLayerNet: unknown activation '{name}'; use relu, sigmoid or tanh.", nameof(name)),
    };
}
