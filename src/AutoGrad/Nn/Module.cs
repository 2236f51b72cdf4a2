using AutoGrad.Tensors;

namespace AutoGrad.Nn;

/// <summary>
/// A building block of a model: owns named parameters (tensors with <see cref="Tensor.RequiresGrad"/>), named
/// buffers (state that is saved but not trained, such as running statistics) and named sub-modules, and has a
/// training and an evaluation mode. Names nest with dots, as in PyTorch's state dicts: <c>layers.0.weight</c>.
/// </summary>
public abstract partial class Module
{
    private readonly List<(string Name, Tensor Tensor)> _parameters = [];
    private readonly List<(string Name, Tensor Tensor)> _buffers = [];
    private readonly List<(string Name, Module Module)> _children = [];

    /// <summary>True in training mode (the default); <see cref="Eval"/> switches dropout and batch norm to inference.</summary>
    public bool IsTraining { get; private set; } = true;

    /// <summary>Computes the module's output.</summary>
    /// <param name="input">The input batch.</param>
    /// <returns>The output batch.</returns>
    public abstract Tensor Forward(Tensor input);

    /// <summary>Sets training mode on this module and every sub-module.</summary>
    /// <param name="training">True for training, false for evaluation.</param>
    /// <returns>This module.</returns>
    public Module Train(bool training = true)
    {
        IsTraining = training;
        foreach (var (_, child) in _children)
        {
            child.Train(training);
        }

        return this;
    }

    /// <summary>Sets evaluation mode on this module and every sub-module.</summary>
    /// <returns>This module.</returns>
    public Module Eval() => Train(false);

    /// <summary>Every parameter of this module and its sub-modules with its dotted name, in registration order.</summary>
    /// <returns>The named parameters.</returns>
    public IEnumerable<(string Name, Tensor Parameter)> NamedParameters() => Walk(static m => m._parameters);

    /// <summary>Every buffer of this module and its sub-modules with its dotted name.</summary>
    /// <returns>The named buffers.</returns>
    public IEnumerable<(string Name, Tensor Buffer)> NamedBuffers() => Walk(static m => m._buffers);

    /// <summary>Parameters and buffers together: everything a checkpoint saves.</summary>
    /// <returns>The named tensors, parameters first.</returns>
    public IEnumerable<(string Name, Tensor Tensor)> StateDict() => NamedParameters().Concat(NamedBuffers());

    /// <summary>Every parameter, in registration order.</summary>
    /// <returns>The parameters.</returns>
    public IEnumerable<Tensor> Parameters() => NamedParameters().Select(p => p.Parameter);

    /// <summary>The direct sub-modules with their names.</summary>
    /// <returns>The children.</returns>
    public IReadOnlyList<(string Name, Module Module)> Children() => _children;

    /// <summary>Clears the accumulated gradient of every parameter (see <see cref="Tensor.ZeroGrad"/>).</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters())
        {
            p.ZeroGrad();
        }
    }

    /// <summary>Registers a parameter: it is marked <see cref="Tensor.RequiresGrad"/> and listed under <paramref name="name"/>.</summary>
    /// <param name="name">The name, unique within this module, without dots.</param>
    /// <param name="parameter">A tensor that owns its memory.</param>
    /// <returns>The parameter.</returns>
    protected Tensor RegisterParameter(string name, Tensor parameter)
    {
        CheckName(name);
        ArgumentNullException.ThrowIfNull(parameter);
        if (parameter.IsTapeOwned)
        {
            throw new ArgumentException($"Parameter '{name}' is the result of an op on a tape; parameters must own their memory (Clone() it).", nameof(parameter));
        }

        parameter.RequiresGrad = true;
        _parameters.Add((name, parameter));
        return parameter;
    }

    /// <summary>Registers a buffer: state saved with the parameters but not trained.</summary>
    /// <param name="name">The name, unique within this module, without dots.</param>
    /// <param name="buffer">A tensor that owns its memory.</param>
    /// <returns>The buffer.</returns>
    protected Tensor RegisterBuffer(string name, Tensor buffer)
    {
        CheckName(name);
        ArgumentNullException.ThrowIfNull(buffer);
        _buffers.Add((name, buffer));
        return buffer;
    }

    /// <summary>Registers a sub-module under <paramref name="name"/>.</summary>
    /// <typeparam name="TModule">The module type.</typeparam>
    /// <param name="name">The name, unique within this module, without dots.</param>
    /// <param name="module">The sub-module.</param>
    /// <returns>The sub-module.</returns>
    protected TModule RegisterModule<TModule>(string name, TModule module)
        where TModule : Module
    {
        CheckName(name);
        ArgumentNullException.ThrowIfNull(module);
        module.Train(IsTraining);
        _children.Add((name, module));
        return module;
    }

    /// <summary>Checks that every layer size of a module is positive, naming the module and the first bad size.</summary>
    internal static void RequireSizes(string module, params ReadOnlySpan<int> sizes)
    {
        for (var i = 0; i < sizes.Length; i++)
        {
            if (sizes[i] <= 0)
            {
                throw new ArgumentOutOfRangeException(
                    nameof(sizes), sizes[i], $"{module}: layer sizes ({string.Join(", ", sizes.ToArray())}) must all be positive; size {i} is {sizes[i]}.");
            }
        }
    }

    private IEnumerable<(string Name, Tensor Tensor)> Walk(Func<Module, List<(string Name, Tensor Tensor)>> select)
    {
        foreach (var entry in select(this))
        {
            yield return entry;
        }

        foreach (var (childName, child) in _children)
        {
            foreach (var (name, tensor) in child.Walk(select))
            {
                yield return ($"{childName}.{name}", tensor);
            }
        }
    }

    private void CheckName(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (name.Contains('.', StringComparison.Ordinal))
        {
            throw new ArgumentException($"Name '{name}' must not contain a dot; dots separate nested module names.", nameof(name));
        }

        if (_parameters.Any(p => p.Name == name) || _buffers.Any(b => b.Name == name) || _children.Any(c => c.Name == name))
        {
            throw new ArgumentException($"{GetType().Name} already has a member named '{name}'.", nameof(name));
        }
    }
}
