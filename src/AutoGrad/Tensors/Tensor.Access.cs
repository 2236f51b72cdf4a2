using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace AutoGrad.Tensors;

/// <summary>Reading elements back, and copies.</summary>
public sealed partial class Tensor
{
    /// <summary>
    /// One element, converted to <see cref="double"/> when read and from it (rounded for float32) when written;
    /// negative indices count from the end. Writing needs a tensor that owns its memory and counts as a write
    /// (<see cref="Version"/> grows, as for <see cref="AsSpan{T}"/>).
    /// </summary>
    /// <param name="indices">One index per dimension (none for a scalar).</param>
    /// <returns>The element.</returns>
    /// <exception cref="ArgumentException">The number of indices differs from <see cref="Rank"/>.</exception>
    /// <exception cref="InvalidOperationException">Writing to a result in a tape's arena.</exception>
    // Indexers are named Item in metadata by default; that name belongs to Item(), PyTorch's x.item().
    [IndexerName("Element")]
    public double this[params ReadOnlySpan<int> indices]
    {
        get
        {
            var flat = FlatIndex(indices);
            return ElementType.Dispatch<ReadAt, double>(DType, new ReadAt(this, flat));
        }

        set
        {
            var flat = FlatIndex(indices);
            ElementType.Dispatch(DType, new WriteAt(this, flat, value));
        }
    }

    /// <summary>The value of a one-element tensor (any rank), like PyTorch's <c>item()</c>.</summary>
    /// <returns>The value, converted to <see cref="double"/>.</returns>
    /// <exception cref="InvalidOperationException">The tensor has more or fewer than one element.</exception>
    public double ToScalar()
    {
        if (Length != 1)
        {
            throw new InvalidOperationException($"ToScalar: the tensor of shape {Shape} has {Length} elements; ToScalar() needs exactly one.");
        }

        return ElementType.Dispatch<ReadAt, double>(DType, new ReadAt(this, 0));
    }

    /// <summary>The elements as a read-only span, without copying.</summary>
    /// <typeparam name="T"><see cref="float"/> for a float32 tensor, <see cref="double"/> for float64.</typeparam>
    /// <returns>The row-major elements.</returns>
    /// <exception cref="InvalidOperationException"><typeparamref name="T"/> is not the element type, or the tape that owned the memory was reset.</exception>
    public ReadOnlySpan<T> AsReadOnlySpan<T>()
        where T : unmanaged => Data<T>();

    /// <summary>
    /// The elements as a writable span, for tensors that own their memory (parameters, data buffers). Each call
    /// counts as a write (<see cref="Version"/> grows): a tape that recorded an op on this tensor refuses to run that
    /// op's backward rule afterwards, since it would read the new values (as PyTorch does for in-place changes).
    /// </summary>
    /// <typeparam name="T"><see cref="float"/> for a float32 tensor, <see cref="double"/> for float64.</typeparam>
    /// <returns>The row-major elements.</returns>
    /// <exception cref="InvalidOperationException">The tensor lives in a tape's arena (results of operations are read-only), or the type is wrong.</exception>
    public Span<T> AsSpan<T>()
        where T : unmanaged => WritableSpan<T>("AsSpan");

    /// <summary><see cref="AsSpan{T}"/> for the write that <paramref name="op"/> makes, named in its exception.</summary>
    internal Span<T> WritableSpan<T>(string op)
        where T : unmanaged
    {
        if (IsTapeOwned)
        {
            throw new InvalidOperationException(
                $"{op}: the tensor of shape {Shape} is the result of an operation on a tape and is read-only; writing would corrupt its gradient. Clone() it first.");
        }

        var data = Data<T>();
        Version++;
        return data;
    }

    /// <summary>Sets every element to <paramref name="value"/>, for tensors that own their memory (gradients, buffers).</summary>
    /// <param name="value">The value (rounded to float32 for a float32 tensor).</param>
    /// <exception cref="InvalidOperationException">The tensor lives in a tape's arena.</exception>
    public void Fill(double value)
    {
        ElementType.Dispatch(DType, new FillWith(this, value, write: true));
    }

    /// <summary>Copies the elements into a new flat row-major array.</summary>
    /// <typeparam name="T"><see cref="float"/> or <see cref="double"/>; converted when it is not the element type.</typeparam>
    /// <returns>The array.</returns>
    public T[] ToArray<T>()
        where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            return (T[])(object)ToFloatArray();
        }

        if (typeof(T) == typeof(double))
        {
            return (T[])(object)ToDoubleArray();
        }

        throw new NotSupportedException($"ToArray: element type {typeof(T).Name} is not supported; use float or double.");
    }

    /// <summary>Copies the elements into a new float array, rounding float64 values.</summary>
    /// <returns>The array.</returns>
    public float[] ToFloatArray() => ElementType.Dispatch<ConvertedCopy<float>, float[]>(DType, new ConvertedCopy<float>(this));

    /// <summary>Copies the elements into a new double array, widening float32 values exactly.</summary>
    /// <returns>The array.</returns>
    public double[] ToDoubleArray() => ElementType.Dispatch<ConvertedCopy<double>, double[]>(DType, new ConvertedCopy<double>(this));

    /// <summary>
    /// The same values, sharing memory, as a tensor no tape tracks: gradients stop here (JAX's stop_gradient,
    /// PyTorch's detach). A result on a tape stays valid only as long as that tape's memory.
    /// </summary>
    /// <returns>The detached view.</returns>
    public Tensor Detach()
    {
        EnsureAlive("Detach");
        return new Tensor(_array, _offset, Shape, DType, Arena);
    }

    /// <summary>An owned copy that no tape tracks (it survives tape resets; gradients do not flow through the copy).</summary>
    /// <returns>The copy.</returns>
    public Tensor Clone()
    {
        var copy = Owned(DType, Shape);
        ElementType.Dispatch(DType, new CopyInto(this, copy));
        return copy;
    }

    /// <summary>Copies the elements into <paramref name="destination"/>, an owned tensor of the same shape and type (a counted write).</summary>
    internal void CopyTo(Tensor destination)
    {
        EnsureAlive("CopyTo");
        ElementType.Dispatch(DType, new CopyInto(this, destination));
        destination.Version++;
    }

    /// <summary>A copy no tape tracks, in the current tape's arena while one records (a recycled object in a recycling scope), else owned.</summary>
    internal Tensor CopyToNew()
    {
        var copy = Uninitialized(DType, Shape);
        ElementType.Dispatch(DType, new CopyInto(this, copy));
        return copy;
    }

    /// <summary>An owned copy converted to <paramref name="dtype"/> (no tape tracks it).</summary>
    /// <param name="dtype">The element type of the copy.</param>
    /// <returns>The copy, or a plain <see cref="Clone"/> when the type is already <paramref name="dtype"/>.</returns>
    public Tensor ToType(DType dtype) => dtype == DType
        ? Clone()
        : ElementType.Dispatch<Converted, Tensor>(dtype, new Converted(this));

    private int FlatIndex(ReadOnlySpan<int> indices) => Shape.FlatIndex(indices);

    private readonly struct ReadAt(Tensor tensor, int index) : IElementFunction<double>
    {
        public double Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T> => double.CreateTruncating(tensor.Data<T>()[index]);
    }

    private readonly struct WriteAt(Tensor tensor, int index, double value) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T> => tensor.WritableSpan<T>("Indexer")[index] = T.CreateTruncating(value);
    }

    /// <summary>Sets every element; through <see cref="AsSpan{T}"/> (a counted write) when <paramref name="write"/> is set.</summary>
    private readonly struct FillWith(Tensor tensor, double value, bool write) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T> => (write ? tensor.AsSpan<T>() : tensor.Raw<T>()).Fill(T.CreateTruncating(value));
    }

    /// <summary>The elements as a new <typeparamref name="TOut"/> array: float64 to float32 rounds, float32 to float64 is exact.</summary>
    private readonly struct ConvertedCopy<TOut>(Tensor tensor) : IElementFunction<TOut[]>
        where TOut : unmanaged, IFloatingPointIeee754<TOut>
    {
        public TOut[] Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var result = new TOut[tensor.Length];
            TensorPrimitives.ConvertTruncating<T, TOut>(tensor.Data<T>(), result);
            return result;
        }
    }

    /// <summary>
    /// Copies the elements into <paramref name="destination"/> from element <paramref name="elementOffset"/> on: one
    /// block of a larger tensor being assembled (a batch of tangents, a Jacobian's rows). No version is counted, as
    /// the destination is new and nothing has read it.
    /// </summary>
    internal void CopyBlockTo(Tensor destination, int elementOffset) => ElementType.Dispatch(DType, new CopyInto(this, destination, elementOffset));

    private readonly struct CopyInto(Tensor source, Tensor destination, int offset = 0) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T> => source.Data<T>().CopyTo(destination.Raw<T>().Slice(offset));
    }

    /// <summary>An owned copy in the element type the dispatch names.</summary>
    private readonly struct Converted(Tensor tensor) : IElementFunction<Tensor>
    {
        public Tensor Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T> => Wrap(tensor.ToArray<T>(), tensor.Shape);
    }
}
