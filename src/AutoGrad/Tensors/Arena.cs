using System.Runtime.CompilerServices;

using AutoGrad.Kernels;

namespace AutoGrad.Tensors;

/// <summary>
/// A bump allocator for the intermediate tensors and gradients of one tape. Allocation is an offset increment;
/// <see cref="Reset"/> recycles everything at once and starts a new generation, so a tensor from an older
/// generation can tell that its memory has been recycled (see <see cref="Tensor"/>'s liveness check).
/// </summary>
/// <remarks>
/// After a reset the chunks are coalesced into one chunk big enough for everything the last generation used,
/// so a training loop that records the same graph every step reaches a state where allocation never touches the GC.
/// </remarks>
internal sealed class Arena : IDisposable
{
    /// <summary>The smallest chunk, in elements: small enough for a tiny model, big enough to avoid churn.</summary>
    private const int MinChunk = 1 << 14;

    [ThreadStatic]
    private static Arena? s_current;

    private readonly ChunkList<float> _floats = new();
    private readonly ChunkList<double> _doubles = new();

    /// <summary>The result objects handed out inside <see cref="ResultRecycling"/> scopes, reused generation after generation.</summary>
    private readonly List<Tensor> _results = [];
    private int _nextResult;
    private int _recycling;

    /// <summary>
    /// The arena new tensors are allocated from, or null for owned memory: a thread-static mirror of the current
    /// tape's scope, which flows with the logical call context and sets this on every thread it reaches.
    /// </summary>
    internal static Arena? Current
    {
        get => s_current;
        set => s_current = value;
    }

    /// <summary>The tape this arena belongs to (set by the tape; the tensors layer does not know tapes).</summary>
    public object? Owner { get; set; }

    /// <summary>Starts at 1 so that a default (0) generation never matches.</summary>
    public int Generation { get; private set; } = 1;

    public bool IsDisposed { get; private set; }

    /// <summary>The bytes of all chunks the arena holds (what it costs in memory, used or not).</summary>
    public long CapacityBytes => (_floats.Capacity * sizeof(float)) + (_doubles.Capacity * sizeof(double));

    /// <summary>Elements handed out in the current generation, both element types counted in bytes.</summary>
    public long BytesInUse => (_floats.Used * sizeof(float)) + (_doubles.Used * sizeof(double));

    /// <summary>Returns <paramref name="length"/> uninitialized elements that stay valid until the next reset.</summary>
    public ArraySegment<T> Allocate<T>(int length)
        where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        return Chunks<T>().Allocate(length);
    }

    // The type test folds away when the JIT specializes for float or double, leaving a field load.
    private ChunkList<T> Chunks<T>()
        where T : unmanaged => typeof(T) == typeof(float)
        ? Unsafe.As<ChunkList<T>>(_floats)
        : Unsafe.As<ChunkList<T>>(_doubles);

    /// <summary>True inside a <see cref="ResultRecycling"/> scope: new results reuse the objects of earlier generations.</summary>
    public bool IsRecycling => _recycling > 0;

    /// <summary>Enters a <see cref="ResultRecycling"/> scope (they nest).</summary>
    public void BeginRecycling() => _recycling++;

    /// <summary>Leaves a <see cref="ResultRecycling"/> scope.</summary>
    public void EndRecycling() => _recycling--;

    /// <summary>
    /// A result over the given memory, in the next object this arena recycles (one it handed out in a scope of an
    /// earlier generation), or a new object it will recycle from the next generation on.
    /// </summary>
    public Tensor RecycledResult(Array array, int offset, Shape shape, DType dtype)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (_nextResult < _results.Count)
        {
            var recycled = _results[_nextResult++];
            recycled.Rebind(array, offset, shape, dtype, this);
            return recycled;
        }

        var created = Tensor.OverStorage(array, offset, shape, dtype, this);
        _results.Add(created);
        _nextResult++;
        return created;
    }

    /// <summary>Recycles all memory and starts a new generation.</summary>
    public void Reset()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        Generation++;
        _floats.Reset();
        _doubles.Reset();
        for (var i = 0; i < _nextResult; i++)
        {
            _results[i].ReleaseStorage();
        }

        _nextResult = 0;
    }

    public void Dispose()
    {
        if (IsDisposed)
        {
            return;
        }

        Generation++;
        IsDisposed = true;
        foreach (var result in _results)
        {
            result.ReleaseStorage();
        }

        _results.Clear();
        _floats.Release();
        _doubles.Release();
    }

    private sealed class ChunkList<T>
        where T : unmanaged
    {
        private static readonly int LineElements = 64 / Unsafe.SizeOf<T>();

        private readonly List<T[]> _chunks = [];

        // The chunk allocations come from, _chunks[_chunk], kept apart so that allocating reads one field, not the list.
        private T[]? _current;
        private int _chunk;
        private int _offset;
        private long _usedBefore;

        public long Used => _usedBefore + _offset - Start(_chunk);

        public long Capacity => _chunks.Sum(c => (long)c.Length);

        public ArraySegment<T> Allocate(int length)
        {
            var chunk = _current;
            if (chunk is null || _offset + length > chunk.Length)
            {
                chunk = Advance(length);
            }

            var segment = new ArraySegment<T>(chunk, _offset, length);

            // Round offsets up to a cache line (64 bytes: 16 floats or 8 doubles) so two small tensors never share one,
            // and no more: a scalar costs one line, not the 128 bytes that padding to 16 doubles took.
            _offset += (length + LineElements - 1) & ~(LineElements - 1);
            return segment;
        }

        private T[] Advance(int length)
        {
            if (_chunks.Count > 0)
            {
                _usedBefore += _offset - Start(_chunk);
                _chunk++;
            }

            while (_chunk < _chunks.Count && _chunks[_chunk].Length - Start(_chunk) < length)
            {
                _chunk++;
            }

            if (_chunk >= _chunks.Count)
            {
                var last = _chunks.Count == 0 ? 0 : _chunks[^1].Length;
                var size = Math.Max(Math.Max(MinChunk, length + LineElements), (int)Math.Min(Array.MaxLength, 2L * last));
                _chunks.Add(NewChunk(size));
                _chunk = _chunks.Count - 1;
            }

            _offset = Start(_chunk);
            return _current = _chunks[_chunk];
        }

        public void Reset()
        {
            if (_chunks.Count > 1)
            {
                // Coalesce: one chunk holding what the last generation needed, so the next one allocates nothing.
                var needed = _chunks.Sum(c => (long)c.Length);
                _chunks.Clear();
                _chunks.Add(NewChunk((int)Math.Min(Array.MaxLength, needed)));
            }

            _chunk = 0;
            _current = _chunks.Count > 0 ? _chunks[0] : null;
            _offset = Start(0);
            _usedBefore = 0;
        }

        /// <summary>
        /// A chunk on the pinned heap, so that its address never changes and the first element at a cache-line
        /// boundary stays one: kernels that load whole 64-byte vectors from rows at line offsets then never split a
        /// load across two lines (SimpleConvNet's filter-gradient dot products: 152 → 184 GFLOP/s).
        /// </summary>
        private static T[] NewChunk(int size) => GC.AllocateUninitializedArray<T>(size, pinned: true);

        /// <summary>The first element of chunk <paramref name="index"/> on a cache-line boundary (0 when there is no chunk).</summary>
        private int Start(int index) => index < _chunks.Count ? CacheLines.Skip(_chunks[index]) : 0;

        public void Release()
        {
            _chunks.Clear();
            _current = null;
            _chunk = 0;
            _offset = 0;
            _usedBefore = 0;
        }
    }
}
