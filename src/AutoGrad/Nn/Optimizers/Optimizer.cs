using System.Numerics;

using AutoGrad.Kernels;
using AutoGrad.Tensors;

using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace AutoGrad.Nn.Optimizers;

/// <summary>
/// Updates parameters in place from their accumulated <see cref="Tensor.Grad"/>. Per-parameter state (velocities,
/// moments) is allocated on the first step and reused, so steady-state steps allocate nothing.
/// </summary>
public abstract class Optimizer
{
    /// <summary>
    /// Elements per chunk of a large parameter's update (a multiple of every vector width, so each chunk but the last
    /// runs whole vectors and the result does not depend on how chunks fall to threads).
    /// </summary>
    private const int ChunkLength = 1 << 15;

    /// <summary>
    /// Parameters from this many elements up are updated in chunks shared between threads. The update is bound by
    /// memory (Adam reads and writes 28 bytes per float32 parameter), and the backward GEMMs that wrote the gradient
    /// left parts of it in each core's cache; one thread alone took 2.3 ms for Adam on 784-1000-1000-10 after a
    /// two-thread backward, against 0.8 ms after a one-thread backward.
    /// </summary>
    private const int ParallelLength = 4 * ChunkLength;

    private readonly Tensor[] _parameters;
    private double _learningRate;
    private readonly Array?[,] _state;

    // Runs the chunks of one parameter on the worker pool; a private type, so the public Optimizer does not expose the
    // kernels' internal IParallelWork interface.
    private readonly ChunkUpdate _chunkUpdate;

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
        _chunkUpdate = new ChunkUpdate(this);
    }

    /// <summary>The step size, positive and finite; may be changed between steps (a schedule).</summary>
    public double LearningRate
    {
        get => _learningRate;
        set => _learningRate = RequirePositive(value, GetType().Name, "learningRate");
    }

    /// <summary>
    /// Sets the rate a schedule computed. It may reach 0 at the schedule's end (a cosine's last step), where a rate set
    /// by hand must be positive: an optimizer made with rate 0 would never change anything.
    /// </summary>
    internal void SetScheduledRate(double rate, string schedule) => _learningRate = rate >= 0 && double.IsFinite(rate)
        ? rate
        : throw new InvalidOperationException($"{schedule}: computed the learning rate {rate}, which is not a finite number of at least 0.");

    /// <summary>The L2 penalty coefficient.</summary>
    public double WeightDecay { get; }

    /// <summary>The number of steps taken.</summary>
    public int Steps { get; private set; }

    /// <summary>The parameters being optimized.</summary>
    public IReadOnlyList<Tensor> Parameters => _parameters;

    /// <summary>If set, gradients are scaled down together so their global L2 norm is at most this before each step.</summary>
    public double? MaxGradientNorm { get; set; }

    /// <summary>Applies one update to every parameter that has a gradient (as PyTorch, skipping those without one).</summary>
    /// <exception cref="InvalidOperationException">No parameter has a gradient: the step would do nothing.</exception>
    public void Step()
    {
        Steps++;
        if (MaxGradientNorm is double maxNorm)
        {
            GradientClipping.ClipByGlobalNorm(_parameters, maxNorm);
        }

        if (Array.TrueForAll(_parameters, p => p.Grad is null))
        {
            // PyTorch skips parameters without a gradient; when none has one the step would silently do nothing.
            throw new InvalidOperationException(
                $"{GetType().Name}: none of the {_parameters.Length} parameters has a gradient, so Step() would change nothing. " +
                "Run a backward pass first (loss.Backward() or tape.Backward(loss)) from a loss computed from these parameters " +
                "with RequiresGrad = true.");
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

            if (p.Length >= ParallelLength)
            {
                UpdateInChunks(i);
            }
            else
            {
                UpdateRange(i, 0, p.Length);
            }
        }
    }


    /// <summary>Updates elements start … start + length − 1 of parameter <paramref name="index"/>, whose gradient is checked.</summary>
    private void UpdateRange(int index, int start, int length)
    {
        ElementType.Dispatch(_parameters[index].DType, new RangeUpdate(this, index, start, length));
    }

    private readonly struct RangeUpdate(Optimizer optimizer, int index, int start, int length) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            var p = optimizer._parameters[index];
            optimizer.Update(index, start, p.AsSpan<T>().Slice(start, length), p.Grad!.AsSpan<T>().Slice(start, length));
        }
    }

    private void UpdateInChunks(int index)
    {
        // State is created here, on this thread, so the chunks never race to allocate it.
        for (var slot = 0; slot < _state.GetLength(0); slot++)
        {
            _state[slot, index] ??= ElementType.Dispatch<ZeroState, Array>(_parameters[index].DType, new ZeroState(_parameters[index].Length));
        }

        _chunkUpdate.Index = index;
        var chunks = (_parameters[index].Length + ChunkLength - 1) / ChunkLength;
        WorkerPool.Run(_chunkUpdate, chunks, Parallelism.MaxThreads);
    }

    /// <summary>A zeroed state array (a moment, a velocity) of the parameter's element type.</summary>
    private readonly struct ZeroState(int length) : IElementFunction<Array>
    {
        public Array Run<T>()
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> => new T[length];
    }

    /// <summary>Sets every parameter's gradient to zero (see <see cref="Tensor.ZeroGrad"/>: no memory is touched until the next backward pass).</summary>
    public void ZeroGrad()
    {
        foreach (var p in _parameters)
        {
            p.ZeroGrad();
        }
    }

    /// <summary>
    /// Updates elements <paramref name="start"/> … <paramref name="start"/> + <paramref name="parameter"/>.Length − 1
    /// of parameter <paramref name="index"/> in place. A large parameter is updated in chunks, possibly on several
    /// threads at once, so an update must be elementwise and touch only its own elements' state (take it with
    /// <see cref="State{T}(int, int, int, int)"/>). The gradient span may be used as scratch.
    /// </summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="index">The parameter's position, for its state.</param>
    /// <param name="start">The position of the chunk's first element within the parameter.</param>
    /// <param name="parameter">The chunk's values.</param>
    /// <param name="gradient">The chunk's gradient; writable so weight decay can be folded in without a copy.</param>
    protected abstract void Update<T>(int index, int start, Span<T> parameter, Span<T> gradient)
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

    /// <summary>The part of state buffer <paramref name="slot"/> of parameter <paramref name="index"/> that belongs to one chunk; zero on first use.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="slot">Which of the optimizer's buffers (velocity, first moment, …).</param>
    /// <param name="index">The parameter.</param>
    /// <param name="start">The chunk's first element, as passed to <see cref="Update{T}"/>.</param>
    /// <param name="length">The chunk's length.</param>
    /// <returns>The state of those elements.</returns>
    protected Span<T> State<T>(int slot, int index, int start, int length)
        where T : unmanaged => ((T[])(_state[slot, index] ??= new T[_parameters[index].Length])).AsSpan(start, length);

    /// <summary>One parameter's update, split into chunks that worker threads run.</summary>
    private sealed class ChunkUpdate(Optimizer optimizer) : IParallelWork
    {
        /// <summary>The parameter being updated, read by the worker threads.</summary>
        public int Index { get; set; }

        public void Execute(int item)
        {
            var start = item * ChunkLength;
            optimizer.UpdateRange(Index, start, Math.Min(ChunkLength, optimizer._parameters[Index].Length - start));
        }
    }
}
