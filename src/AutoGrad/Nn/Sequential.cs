using AutoGrad.Tensors;

namespace AutoGrad.Nn;

/// <summary>Modules applied one after the other; they are named "0", "1", … in the state dict.</summary>
public sealed class Sequential : Module
{
    private readonly Module[] _layers;

    /// <summary>Creates the chain.</summary>
    /// <param name="layers">The modules, first applied first.</param>
    public Sequential(params Module[] layers)
    {
        if (layers is null)
        {
            throw new ArgumentNullException(nameof(layers), "Sequential: the list of layers is null.");
        }

        var missing = Array.IndexOf(layers, null);
        if (missing >= 0)
        {
            throw new ArgumentNullException(nameof(layers), $"Sequential: layer {missing} is null.");
        }

        _layers = layers;
        for (var i = 0; i < layers.Length; i++)
        {
            RegisterModule(i.ToString(System.Globalization.CultureInfo.InvariantCulture), layers[i]);
        }
    }

    /// <summary>The modules in order.</summary>
    public IReadOnlyList<Module> Layers => _layers;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        var x = input;
        foreach (var layer in _layers)
        {
            x = layer.Forward(x);
        }

        return x;
    }
}
