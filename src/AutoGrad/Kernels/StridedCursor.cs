namespace AutoGrad.Kernels;

/// <summary>
/// Walks the outer dimensions of a broadcast (all but the innermost), keeping the element offset of the output
/// and of up to two inputs. The caller handles each innermost run with a span kernel, so per-element work stays
/// vectorized however the shapes broadcast.
/// </summary>
internal ref struct StridedCursor
{
    private readonly ReadOnlySpan<int> _sizes;
    private readonly ReadOnlySpan<int> _stridesA;
    private readonly ReadOnlySpan<int> _stridesB;
    private readonly ReadOnlySpan<int> _stridesOut;
    private readonly Span<int> _index;

    public StridedCursor(ReadOnlySpan<int> sizes, ReadOnlySpan<int> stridesA, ReadOnlySpan<int> stridesB, ReadOnlySpan<int> stridesOut, Span<int> index)
    {
        _sizes = sizes;
        _stridesA = stridesA;
        _stridesB = stridesB;
        _stridesOut = stridesOut;
        _index = index;
        _index.Clear();
    }

    public int OffsetA { get; private set; }

    public int OffsetB { get; private set; }

    public int OffsetOut { get; private set; }

    /// <summary>Advances to the next run (odometer order over all dimensions but the last).</summary>
    public void MoveNext()
    {
        for (var d = _sizes.Length - 2; d >= 0; d--)
        {
            _index[d]++;
            OffsetA += _stridesA[d];
            OffsetB += _stridesB[d];
            OffsetOut += _stridesOut[d];
            if (_index[d] < _sizes[d])
            {
                return;
            }

            OffsetA -= _stridesA[d] * _sizes[d];
            OffsetB -= _stridesB[d] * _sizes[d];
            OffsetOut -= _stridesOut[d] * _sizes[d];
            _index[d] = 0;
        }
    }
}
