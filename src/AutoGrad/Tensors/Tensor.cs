using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AutoGrad.Tensors;

/// <summary>
/// A dense, row-major, n-dimensional array of <see cref="float"/> or <see cref="double"/> values that operations
/// can be recorded on for reverse-mode differentiation.
/// </summary>
/// <remarks>
/// <para>Tensors are immutable values as far as the operations are concerned: every operation returns a new tensor.</para>
/// <para>Memory: a tensor you create (<see cref="Zeros(ReadOnlySpan{int}, DType?)"/>, <see cref="FromArray(float[], ReadOnlySpan{int})"/>, ...)
/// owns its memory. A tensor returned by an operation while a <see cref="AutoGrad.Autodiff.Tape"/> is active lives in that tape's
/// arena and is recycled when the tape is reset or disposed; reading it afterwards throws
/// <see cref="InvalidOperationException"/> rather than returning recycled data. <see cref="Clone"/> makes an owned copy.</para>
/// </remarks>
public sealed partial class Tensor
{
    // Not readonly only so that an arena can rebind a recycled result (see Rebind); nothing else writes them.
    private Array _array;
    private int _offset;
    private Arena? _arena;
    private int _generation;

    // The shape's two parts, kept as fields rather than a Shape (whose padding would cost 8 bytes a tensor).
    private int[]? _dims;
    private int _count;

    /// <summary>
    /// The accumulated gradient and its guard (a <see cref="GradientState"/>, created on first use, so only parameters
    /// carry one), or, for a result that has nothing but tangents, the autodiff layer's tangents themselves (see
    /// <see cref="Tangents"/>): forward mode then allocates no state object per result.
    /// </summary>
    private object? _state;

    private Tensor(Array array, int offset, Shape shape, DType dtype, Arena? arena)
    {
        _array = array;
        _offset = offset;
        _dims = shape.DimsArray;
        _count = shape.ElementCount;
        DType = dtype;
        _arena = arena;
        _generation = arena?.Generation ?? 0;
    }

    /// <summary>The dimensions.</summary>
    public Shape Shape => Shape.FromParts(_dims, _count);

    /// <summary>The element type.</summary>
    public DType DType { get; private set; }

    /// <summary>The number of dimensions (0 for a scalar).</summary>
    public int Rank => Shape.Rank;

    /// <summary>The number of elements.</summary>
    public int Length => _count;

    /// <summary>
    /// Marks a tensor you created (a parameter) as one whose gradient is wanted: every tape records the operations
    /// that use it, and <see cref="AutoGrad.Autodiff.Tape.Backward(Tensor)"/> accumulates its gradient into <see cref="Grad"/>.
    /// </summary>
    public bool RequiresGrad
    {
        // Kept with the gradient, which only parameters have, so other tensors (every op's result) stay 8 bytes smaller.
        get => (_state as GradientState)?.RequiresGrad ?? false;
        set
        {
            if (value || _state is GradientState)
            {
                GradState.RequiresGrad = value;
            }
        }
    }

    /// <summary>
    /// The gradient accumulated by <see cref="AutoGrad.Autodiff.Tape.Backward(Tensor)"/>, owned by this tensor; null until then.
    /// After <see cref="ZeroGrad"/> it reads as zeros.
    /// </summary>
    public Tensor? Grad
    {
        get
        {
            if (_state is not GradientState state)
            {
                return null;
            }

            lock (state)
            {
                if (state.IsStale)
                {
                    state.Buffer!.Fill(0);
                    state.IsStale = false;
                }

                return state.Buffer;
            }
        }

        set
        {
            var state = GradState;
            lock (state)
            {
                state.Buffer = value;
                state.IsStale = false;
            }
        }
    }

    /// <summary>
    /// Resets the accumulated gradient to zero without touching its memory: the next <see cref="AutoGrad.Autodiff.Tape.Backward(Tensor)"/>
    /// overwrites it in place (no zero fill, no extra pass), and reading <see cref="Grad"/> before then gives zeros.
    /// </summary>
    public void ZeroGrad()
    {
        if (_state is GradientState state)
        {
            lock (state)
            {
                state.IsStale = state.Buffer is not null;
            }
        }
    }

    /// <summary>True when this tensor's memory belongs to a tape's arena rather than to the tensor.</summary>
    public bool IsTapeOwned => _arena is not null;

    /// <summary>True while the memory can be read: always for owned tensors; for arena tensors, until the tape is reset or disposed.</summary>
    public bool IsAlive
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _arena is null || (_arena.Generation == _generation && !_arena.IsDisposed);
    }

    /// <summary>
    /// How many times the library has handed out this tensor's memory for writing (<see cref="AsSpan{T}"/>, <see cref="Fill"/>,
    /// optimizer updates, checkpoint loads), PyTorch's <c>_version</c>. A tape compares it with the value it saw when it
    /// recorded an op, and refuses a backward rule that would read changed data.
    /// </summary>
    public int Version { get; private set; }

    /// <summary>The index of the node that produced this tensor on its tape, or -1 when no tape recorded it.</summary>
    internal int Node { get; set; } = -1;

    internal Arena? Arena => _arena;

    /// <summary>
    /// The autodiff layer's record of the op that produced this tensor when no tape was current (implicit recording),
    /// or null. Kept beside the gradient, so only such results and parameters pay for the field.
    /// </summary>
    internal object? RecordedBy
    {
        get => (_state as GradientState)?.Recorded;
        set
        {
            if (value is not null || _state is GradientState)
            {
                GradState.Recorded = value;
            }
        }
    }

    /// <summary>
    /// The autodiff layer's tangents of this tensor, one per forward-mode level that gave it one (see
    /// <c>DualLevel</c>), or null. Kept beside the gradient, so tensors outside forward mode pay nothing for it.
    /// </summary>
    internal object? Tangents
    {
        get => _state is GradientState state ? state.Tangents : _state;

        // Only forward mode writes tangents, and only to a tensor its own thread has just made (an op's result, a dual
        // view, a copy), which no other thread can be creating gradient state for.
        set
        {
            if (_state is GradientState state)
            {
                state.Tangents = value;
            }
            else
            {
                _state = value;
            }
        }
    }

    /// <summary>The array behind the elements, for the tape's gradient slots.</summary>
    internal Array Storage => _array;

    /// <summary>Where the elements start in <see cref="Storage"/>.</summary>
    internal int StorageOffset => _offset;

    private GradientState GradState
    {
        get
        {
            while (true)
            {
                var current = _state;
                if (current is GradientState state)
                {
                    return state;
                }

                // Tangents held alone move into the new state.
                var created = new GradientState { Tangents = current };
                if (Interlocked.CompareExchange(ref _state, created, current) == current)
                {
                    return created;
                }
            }
        }
    }

    /// <summary>
    /// For the backward pass: the gradient buffer to overwrite in place, when the gradient is stale or absent (it is
    /// created then) and no other sweep is writing it; null when this sweep must add to the gradient instead. A
    /// returned buffer is this sweep's until <see cref="ReleaseGradient"/>: other threads' sweeps wait to add to it.
    /// </summary>
    internal Tensor? ClaimGradientToOverwrite()
    {
        var state = GradState;
        lock (state)
        {
            if (state.Buffer is null)
            {
                state.Buffer = Owned(DType, Shape);
                state.IsStale = true;
            }

            if (!state.IsStale || state.IsClaimed)
            {
                return null;
            }

            state.IsClaimed = true;
            return state.Buffer;
        }
    }

    /// <summary>Ends a claim: the buffer now holds the gradient (<paramref name="written"/>), or still counts as zero.</summary>
    internal void ReleaseGradient(bool written)
    {
        var state = (GradientState)_state!;
        lock (state)
        {
            state.IsClaimed = false;
            state.IsStale &= !written;
            if (state.Waiters > 0)
            {
                // Only when a sweep waits: a pulse inflates the object's lock, which every later lock then pays for.
                Monitor.PulseAll(state);
            }
        }
    }

    /// <summary>
    /// Adds <paramref name="gradient"/> to <see cref="Grad"/> (creating it), under the tensor's lock and after any
    /// sweep that is writing it in place: two threads' backward sweeps into one parameter both count (PyTorch's
    /// AccumulateGrad holds a mutex for the same reason).
    /// </summary>
    internal void AccumulateGradient<T>(ReadOnlySpan<T> gradient)
        where T : unmanaged, INumberBase<T>
    {
        var state = GradState;
        lock (state)
        {
            while (state.IsClaimed)
            {
                state.Waiters++;
                Monitor.Wait(state);
                state.Waiters--;
            }

            state.Buffer ??= Owned(DType, Shape);
            var buffer = state.Buffer.Data<T>();
            if (state.IsStale)
            {
                gradient.CopyTo(buffer);
                state.IsStale = false;
            }
            else
            {
                TensorPrimitives.Add(buffer, gradient, buffer);
            }
        }
    }

    /// <summary>The gradient buffer as it is, without clearing a stale one (the tape's view).</summary>
    internal Tensor? GradBuffer => (_state as GradientState)?.Buffer;

    /// <summary>True when <see cref="GradBuffer"/> holds old values that count as zero (after <see cref="ZeroGrad"/>).</summary>
    internal bool GradIsStale => (_state as GradientState)?.IsStale ?? false;

    /// <summary>The first NaN or infinity among the elements, or null when all are finite.</summary>
    internal double? FirstNonFinite() => ElementType.Dispatch<NonFinite, double?>(DType, new NonFinite(this));

    /// <summary>Creates an uninitialized tensor: in the current tape's arena when one is active, else owning its memory.</summary>
    internal static Tensor Uninitialized(DType dtype, Shape shape)
    {
        return ElementType.Dispatch<Allocation, Tensor>(dtype, new Allocation(shape, Arena.Current));
    }

    /// <summary>A tensor over memory someone else manages (a gradient slot), tagged with that memory's arena.</summary>
    internal static Tensor OverStorage(Array array, int offset, Shape shape, DType dtype, Arena? arena) => new(array, offset, shape, dtype, arena);

    /// <summary>Creates a tensor that owns a fresh, zeroed array.</summary>
    internal static Tensor Owned(DType dtype, Shape shape) => ElementType.Dispatch<ZeroedArray, Tensor>(dtype, new ZeroedArray(shape));

    /// <summary>Wraps an array without copying; the tensor owns it from now on.</summary>
    internal static Tensor Wrap<T>(T[] data, Shape shape)
        where T : unmanaged => new(data, 0, shape, DTypeExtensions.Of<T>(), null);

    private static Tensor Allocate<T>(Shape shape, Arena? arena)
        where T : unmanaged
    {
        if (arena is null)
        {
            return new Tensor(GC.AllocateUninitializedArray<T>(shape.ElementCount), 0, shape, DTypeExtensions.Of<T>(), null);
        }

        var segment = arena.Allocate<T>(shape.ElementCount);
        return InArena(segment.Array!, segment.Offset, shape, DTypeExtensions.Of<T>(), arena);
    }

    /// <summary>A result over arena memory: a recycled object inside a <see cref="ResultRecycling"/> scope, else a new one.</summary>
    private static Tensor InArena(Array array, int offset, Shape shape, DType dtype, Arena arena) =>
        arena.IsRecycling ? arena.RecycledResult(array, offset, shape, dtype) : new Tensor(array, offset, shape, dtype, arena);

    /// <summary>
    /// Points a result of an earlier generation of <paramref name="arena"/> at new memory, as a new tensor of the
    /// current generation (no version, no node, no gradient). Only <see cref="Arena"/> calls it, for objects it
    /// handed out inside a <see cref="ResultRecycling"/> scope, which no caller outside the scope can hold.
    /// </summary>
    internal void Rebind(Array array, int offset, Shape shape, DType dtype, Arena arena)
    {
        _array = array;
        _offset = offset;
        if (_dims != shape.DimsArray)
        {
            _dims = shape.DimsArray;
        }

        _count = shape.ElementCount;
        DType = dtype;
        _arena = arena;
        _generation = arena.Generation;
        _state = null;
        Version = 0;
        Node = -1;
    }

    /// <summary>Lets go of the memory of a dead recycled result, so it does not keep a released arena chunk alive.</summary>
    internal void ReleaseStorage() => _array = Array.Empty<byte>();

    /// <summary>
    /// A tensor sharing this one's memory with another shape, starting <paramref name="elementOffset"/> in. While a
    /// tape is current the view belongs to it like any other result (it is recorded there and expires with it).
    /// </summary>
    internal Tensor View(Shape shape, int elementOffset = 0)
    {
        EnsureAlive("View");
        var owner = Arena.Current ?? _arena;
        return owner is null ? new Tensor(_array, _offset + elementOffset, shape, DType, null) : InArena(_array, _offset + elementOffset, shape, DType, owner);
    }

    /// <summary>The elements as a span, after checking liveness and element type.</summary>
    internal Span<T> Data<T>()
        where T : unmanaged
    {
        EnsureAlive("Read");
        if (_array.GetType() != typeof(T[]))
        {
            ThrowWrongType(typeof(T));
        }

        return new Span<T>(Unsafe.As<T[]>(_array), _offset, Length);
    }

    /// <summary>The elements without the element-type check, for kernels that already dispatched on <see cref="DType"/>.</summary>
    internal Span<T> Raw<T>()
        where T : unmanaged
    {
        EnsureAlive("Read");
        return MemoryMarshal.CreateSpan(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(Unsafe.As<T[]>(_array)), _offset), Length);
    }

    /// <summary><see cref="Raw{T}"/> as an array segment, for work that is handed to other threads (spans cannot be).</summary>
    internal ArraySegment<T> RawSegment<T>()
        where T : unmanaged
    {
        EnsureAlive("Read");
        return new ArraySegment<T>(Unsafe.As<T[]>(_array), _offset, Length);
    }

    /// <summary>Throws when the memory has been recycled by a tape reset or dispose.</summary>
    internal void EnsureAlive(string op)
    {
        if (_arena is not null && (_arena.Generation != _generation || _arena.IsDisposed))
        {
            ThrowRecycled(op);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowRecycled(string op) => throw new InvalidOperationException(
        $"{op}: this {DType.Name()} tensor of shape {Shape} was computed on a tape that has since been reset or disposed, " +
        "so its memory has been recycled. Keep results past a tape with Clone(), or compute them before the tape.");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowWrongType(Type requested) => throw new InvalidOperationException(
        $"The tensor of shape {Shape} holds {DType.Name()} elements, not " +
        (requested == typeof(float) ? "float32; convert it with ToType(DType.Float32)." : requested == typeof(double) ? "float64; convert it with ToType(DType.Float64)." : $"{requested.Name}."));

    /// <summary>A parameter's gradient and the lock that guards it across threads.</summary>
    private sealed class GradientState
    {
        /// <summary>The gradient's memory, owned by the tensor.</summary>
        public Tensor? Buffer;

        /// <summary>
        /// Set by <see cref="ZeroGrad"/>: the buffer holds old values that count as zero. The next backward pass writes
        /// the new gradient straight into it instead of adding, and a read first clears it.
        /// </summary>
        public bool IsStale;

        /// <summary>A backward sweep is writing the buffer in place; others wait before adding.</summary>
        public bool IsClaimed;

        /// <summary>See <see cref="Tensor.RequiresGrad"/>.</summary>
        public bool RequiresGrad;

        /// <summary>Sweeps waiting for a claim to end.</summary>
        public int Waiters;

        /// <summary>The node that recorded this tensor without a tape (see <see cref="RecordedBy"/>), or null.</summary>
        public object? Recorded;

        /// <summary>See <see cref="Tensor.Tangents"/>.</summary>
        public object? Tangents;
    }

    /// <summary>An uninitialized tensor in <paramref name="arena"/>, or owning its memory when there is none.</summary>
    private readonly struct Allocation(Shape shape, Arena? arena) : IElementFunction<Tensor>
    {
        public Tensor Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T> => Allocate<T>(shape, arena);
    }

    private readonly struct ZeroedArray(Shape shape) : IElementFunction<Tensor>
    {
        public Tensor Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T> => new(shape.ElementCount == 0 ? [] : new T[shape.ElementCount], 0, shape, DTypeExtensions.Of<T>(), null);
    }

    private readonly struct NonFinite(Tensor tensor) : IElementFunction<double?>
    {
        public double? Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T> => Kernels.Reduce.FirstNonFinite<T>(tensor.Raw<T>());
    }
}
