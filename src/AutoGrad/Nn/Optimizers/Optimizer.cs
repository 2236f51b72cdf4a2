using System.Numerics;
using System.Numerics.Tensors;

namespace AutoGrad.Optimizers;

/// <summary>
/// Updates parameters in place from their accumulated <see cref="Tensor.Grad"/>. Per-parameter state (velocities,
/// moments) is allocated on the first step and reused, so steady-state steps allocate nothing.
/// </summary>
public abstract class Optimizer
{
    private readonly Tensor[] _parameters;
    private readonly Array?[,] _state;

    /// <summary>Creates the optimizer.</summary>
    /// <param name="parameters">The tensors to update; each must own its memory.</param>
    /// <param name="learningRate">The step size, positive.</param>
    /// <param name="weightDecay">L2 penalty: λ·p is added to each gradient before the update (AdamW decouples it instead).</param>
    /// <param name="stateSlots">How many state buffers (each the size of its parameter) the optimizer keeps per parameter.</param>
    protected Optimizer(IEnumerable<Tensor> parameters, double learningRate, double weightDecay, int stateSlots)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        _parameters = [.. parameters];
        if (_parameters.Length == 0)
        {
            throw new ArgumentException($"{GetType().Name}: no parameters to optimize.", nameof(parameters));
        }

        LearningRate = learningRate;
        WeightDecay = RequireNonNegative(weightDecay, GetType().Name, nameof(weightDecay));
        _state = new Array?[stateSlots, _parameters.Length];
    }

    /// <summary>The step size, positive and finite; may be changed between steps (a schedule).</summary>
    public double LearningRate
    {
        get;
        set => field = RequirePositive(value, GetType().Name, "learningRate");
    }

    /// <summary>The L2 penalty coefficient.</summary>
    public double WeightDecay { get; }

    /// <summary>The number of steps taken.</summary>
    public int Steps { get; private set; }

    /// <summary>The parameters being optimized.</summary>
    public IReadOnlyList<Tensor> Parameters => _parameters;

    /// <summary>If set, gradients are scaled down together so their global L2 norm is at most this before each step.</summary>
    public double? MaxGradientNorm { get; set; }

    /// <summary>Applies one update to every parameter that has a gradient.</summary>
    public void Step()
    {
        Steps++;
        if (MaxGradientNorm is double maxNorm)
        {
            GradientClipping.ClipByGlobalNorm(_parameters, maxNorm);
        }

        for (var i = 0; i < _parameters.Length; i++)
        {
            var p = _parameters[i];
            if (p.Grad is null)
            {
                continue;
            }

            if (p.Grad.Shape != p.Shape || p.Grad.DType != p.DType)
            {
                throw new InvalidOperationException(
                    $"{GetType().Name}: parameter {i} is {p.DType.Name()} {p.Shape} but its gradient is {p.Grad.DType.Name()} {p.Grad.Shape}.");
            }

            if (p.DType == DType.Float32)
            {
                Update(i, p.AsSpan<float>(), p.Grad.AsSpan<float>());
            }
            else
            {
                Update(i, p.AsSpan<double>(), p.Grad.AsSpan<double>());
            }
        }
    }

    /// <summary>Sets every parameter's gradient to zero (see <see cref="Tensor.ZeroGrad"/>: no memory is touched until the next backward pass).</summary>
    public void ZeroGrad()
    {
        foreach (var p in _parameters)
        {
            p.ZeroGrad();
        }
    }

    /// <summary>Updates parameter <paramref name="index"/> in place. The gradient span may be used as scratch.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="index">The parameter's position, for its state.</param>
    /// <param name="parameter">The values.</param>
    /// <param name="gradient">The gradient; writable so weight decay can be folded in without a copy.</param>
    protected abstract void Update<T>(int index, Span<T> parameter, Span<T> gradient)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>g += λ·p when weight decay is on (the L2 form, as in PyTorch's SGD and Adam).</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="parameter">The values.</param>
    /// <param name="gradient">The gradient, updated in place.</param>
    protected void ApplyWeightDecay<T>(ReadOnlySpan<T> parameter, Span<T> gradient)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (WeightDecay > 0)
        {
            TensorPrimitives.MultiplyAdd(parameter, T.CreateTruncating(WeightDecay), gradient, gradient);
        }
    }

    /// <summary>Checks that a hyperparameter (a momentum, decay or β) lies in [0, 1).</summary>
    /// <param name="value">The value.</param>
    /// <param name="optimizer">The optimizer's name, for the message.</param>
    /// <param name="name">The parameter's name.</param>
    /// <returns><paramref name="value"/>.</returns>
    protected static double RequireFraction(double value, string optimizer, string name) => value is >= 0 and < 1
        ? value
        : throw new ArgumentOutOfRangeException(name, value, $"{optimizer}: {name} must be in [0, 1).");

    /// <summary>Checks that a hyperparameter (a learning rate or ε) is positive and finite.</summary>
    /// <param name="value">The value.</param>
    /// <param name="optimizer">The optimizer's name, for the message.</param>
    /// <param name="name">The parameter's name.</param>
    /// <returns><paramref name="value"/>.</returns>
    protected static double RequirePositive(double value, string optimizer, string name) => value > 0 && double.IsFinite(value)
        ? value
        : throw new ArgumentOutOfRangeException(name, value, $"{optimizer}: {name} must be positive and finite.");

    /// <summary>Checks that a hyperparameter (a weight decay) is zero or positive and finite.</summary>
    /// <param name="value">The value.</param>
    /// <param name="optimizer">The optimizer's name, for the message.</param>
    /// <param name="name">The parameter's name.</param>
    /// <returns><paramref name="value"/>.</returns>
    protected static double RequireNonNegative(double value, string optimizer, string name) => value >= 0 && double.IsFinite(value)
        ? value
        : throw new ArgumentOutOfRangeException(name, value, $"{optimizer}: {name} must be ≥ 0 and finite.");

    /// <summary>State buffer <paramref name="slot"/> of parameter <paramref name="index"/>, zero on first use.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="slot">Which of the optimizer's buffers (velocity, first moment, …).</param>
    /// <param name="index">The parameter.</param>
    /// <returns>The buffer.</returns>
    protected Span<T> State<T>(int slot, int index)
        where T : unmanaged => (T[])(_state[slot, index] ??= new T[_parameters[index].Length]);
}
