using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AutoGrad.Kernels;

/// <summary>
/// General matrix multiply on dense row-major buffers: C = op(A)·op(B), or C += op(A)·op(B), where op may transpose.
/// </summary>
/// <remarks>
/// <para>The structure is GotoBLAS/BLIS: for each block of B (<see cref="DepthBlock"/> deep, <see cref="ColumnBlock"/>
/// wide) the block is packed into panels <c>Columns</c> wide (with few rows of A, each panel inside the work item that
/// uses it: <see cref="FewPanelsA"/>) and, where its layout would thrash the caches, op(A) into panels 6 rows high
/// (otherwise the kernel reads A in place); then a 6 × Columns register-blocked micro-kernel
/// (<see cref="GemmMicroKernel"/>) runs over every tile. Packing reads A or B with whichever strides the transpose
/// implies, so no transpose is ever materialized.</para>
/// <para>Both the packing and the tiles are shared among threads by <see cref="WorkerPool"/>. Each element of C is
/// computed by one thread, always summing the depth blocks in the same order, so the result is bit-identical for
/// any thread count.</para>
/// </remarks>
internal static unsafe class Gemm
{
    /// <summary>
    /// Depth of a packed block, from this machine's L1 (<see cref="DepthFor"/>): a B panel stays in L1 while the tiles
    /// beside it run (256 on a 48 KB L1: a 256 × 32-float panel is 32 KB).
    /// </summary>
    public static readonly int DepthBlock = DepthFor(CacheSizes.Current);

    /// <summary>Columns of B packed at once, from this machine's share of L3 (<see cref="ColumnsFor"/>; 4096 with 16 MB a core).</summary>
    public static readonly int ColumnBlock = ColumnsFor(CacheSizes.Current, DepthBlock);

    /// <summary>Rows of A one work item covers, from this machine's L2 (<see cref="RowsFor"/>; 96 with 1 MB and depth 256).</summary>
    public static readonly int RowBlock = RowsFor(CacheSizes.Current, DepthBlock);

    /// <summary>B panels one work item covers, so items are large enough to amortize scheduling.</summary>
    private const int PanelsPerItem = 4;

    /// <summary>
    /// A is packed only where each packed panel serves at least this many B panels, and then only where reading it in
    /// place thrashes a cache (<see cref="PackTransposedFromBytes"/>, <see cref="PackRowsFromBytes"/>); otherwise the
    /// kernel reads it in place. Packing by a scalar gather into 6-row panels cost 10% of a 1024³ product, while the
    /// kernel's six in-place streams run at the peak (2026-11-27, Zen 5, one thread, GFLOP/s in place against packed:
    /// 1024³ NN 237–246 against 213–222, 256³ NN 246–253 against 204–216, TN 242–255 against 202–207). A transposed A
    /// read in place steps one row of memory per depth step; with rows a multiple of 2 KB apart every step lands in the
    /// same few cache sets (m = 1024 or 2048 fell to 164 GFLOP/s against 222–232 packed; 512³ TN 75–82% of the FMA peak
    /// against 82–84%), so those are packed.
    /// </summary>
    private const int PackAFromPanels = 8;

    /// <summary>
    /// A transposed A whose rows are not a multiple of 2 KB apart is still packed when it holds this many bytes (4 MB):
    /// then it streams from L3 or memory, where the six-value reads of each depth step wait on a new line every step
    /// (3000³ TN 77 → 87–92% of the FMA peak, alternating runs, Zen 5, one thread), while a small one stays in L2 and
    /// packing it costs more than it saves (256³ TN 87 → 80%, 768³ 86 → 80%).
    /// </summary>
    private const long PackTransposedFromBytes = 4L << 20;

    /// <summary>
    /// A row-major A is packed (its six rows of each panel copied one after another) when its rows lie at least this many
    /// bytes apart and it serves <see cref="PackAFromPanels"/> B panels. A work item's 96 rows then sit in 96 KB of L2
    /// together instead of in 1 KB pieces 8 or 16 KB apart, which at 16 KB fall on four groups of L2 sets, 24 pieces to a
    /// group of a 16-way cache. 4096³ NN, both with the C prefetch, medians of alternating runs (Zen 5, one thread):
    /// 88.7–90.4 → 90.5–92.1% of the FMA peak; 2048³ 88.9 → 89.2%. At 4 KB apart (n = 1024) the copy costs what it saves.
    /// </summary>
    private const int PackRowsFromBytes = 8192;

    /// <summary>Depth steps ahead that packing a transposed A prefetches its rows.</summary>
    private const int PackAhead = 8;

    /// <summary>Panels of A one packing item covers (a work item's row block).</summary>
    private static readonly int PanelsPerPackA = RowBlock / GemmMicroKernel.Rows;

    /// <summary>Eight values from <paramref name="from"/> to <paramref name="to"/>, as one vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyEight<T>(T* from, T* to)
        where T : unmanaged
    {
        if (sizeof(T) == 4)
        {
            Vector256.Store(Vector256.Load((float*)from), (float*)to);
        }
        else
        {
            Vector512.Store(Vector512.Load((double*)from), (double*)to);
        }
    }

    /// <summary>
    /// When op(A) has at most this many 6-row panels (a training batch of up to 192), a depth-blocked product packs each
    /// B panel inside the work item that runs its tiles, into the thread's own L1-sized buffer
    /// (<see cref="PanelScratch{T}"/>), and one item covers all the rows, so every panel is packed once, goes from L1
    /// to the kernel and is never written to L2 or L3 as a whole packed block. A row-major panel is packed by its first
    /// tile, which reads it in place (<see cref="GemmMicroKernel.RunPackingB{T}"/>), so that its trip from L3 overlaps
    /// multiply-adds. B was read in place for such products
    /// until 2026-11-28, which thrashed L1 wherever its rows lie a multiple of 1 KB apart and waited on a line per
    /// depth step elsewhere (Zen 5, one thread, % of the FMA peak, in place → packed in the item: 96x1000x1024 46–50 →
    /// 70–80, 192x1024x1024 45–49 → 71–84, 128x1024x1024 61 → 87, 100x1000x1000 TN 70–71 → 80–81; two threads on
    /// 100x1000x1000 NN lost 144% → 126% of one peak). Whole-depth products: <see cref="InPlaceStrideBytes"/>.
    /// </summary>
    private const int FewPanelsA = 32;

    /// <summary>
    /// With few rows of A and whole-depth panels, a row-major B is read in place unless its rows lie a multiple of this
    /// many bytes apart: then a panel's rows share a quarter of L1's sets or fewer and evict each other (96x1000x256,
    /// rows 1 KB apart, 52–78% of the FMA peak in place, 75–86% packed), while elsewhere a packing phase costs what it
    /// saves or more (64x64x32 79–80% in place against 62–76% packed; 30x25x576 70–72% against 50–65%).
    /// </summary>
    private const int InPlaceStrideBytes = 512;

    /// <summary>Below this many multiply-adds packing costs more than it saves.</summary>
    private const long SmallWork = 16 * 16 * 16;

    /// <summary>
    /// Below this many multiply-adds (8M) a second thread costs more than it saves. In a real training loop the batch
    /// and the weights are rewritten every step, so the other core must fetch them from this one's cache: the book's
    /// Fashion-MNIST loop (100x784x50 products, 3.9M) took 2.67 s with them split over two threads and 1.74–1.85 s
    /// without, although a benchmark on a fixed batch shows the split as 5% faster.
    /// </summary>
    private const long ParallelWork = 1 << 23;

    /// <summary>
    /// When all of op(B)'s depth fits in this many packed elements (2 MB of floats) and A is not packed, B is packed
    /// once for every depth block and each work item walks the whole depth: one packing and one compute phase in all.
    /// </summary>
    private const int WholeDepthLimit = 1 << 19;

    /// <summary>
    /// The block depth for <paramref name="caches"/>: a B micro-panel (one 16-float or 8-double vector pair wide, 128
    /// bytes a depth step for either type) fills two thirds of L1, leaving the rest to the A rows streaming past and
    /// to C; a multiple of 16 (the transposing packer's block), within [64, 512].
    /// </summary>
    internal static int DepthFor(CacheInfo caches) => Math.Clamp(caches.L1Data * 2 / 3 / 128 / 16 * 16, 64, 512);

    /// <summary>
    /// The rows of A a work item covers for <paramref name="caches"/> and block depth <paramref name="depth"/>: its
    /// rows of A, as floats, take 3/32 of L2 (96 × 256 floats, 96 KB of a 1 MB L2, as tuned on a Zen 5), leaving the
    /// rest to the B block streaming past and to C; a multiple of the 6-row tile, within [48, 384].
    /// </summary>
    internal static int RowsFor(CacheInfo caches, int depth) => Math.Clamp((int)((long)caches.L2 * 3 / 32 / (depth * 4)) / GemmMicroKernel.Rows * GemmMicroKernel.Rows, 48, 384);

    /// <summary>
    /// The columns packed at once for <paramref name="caches"/>: the packed block of B (depth × columns, 4 bytes each)
    /// takes a quarter of the core's share of L3, so it stays there while every row of A passes it; a multiple of 32,
    /// within [512, 8192]. The 4 MB block tuned on a Zen 5 (16 MB a core) is more than a 16-core Xeon's whole share,
    /// where issue 17 saw the single-thread rate fall from n = 1024 to 4096.
    /// </summary>
    internal static int ColumnsFor(CacheInfo caches, int depth) => Math.Clamp(caches.L3PerCore / 4 / (depth * 4) / 32 * 32, 512, 8192);

    /// <summary>
    /// C (m×n) = op(A)·op(B), or C += op(A)·op(B) when <paramref name="accumulate"/> is set. A is m×k (k×m when
    /// <paramref name="transposeA"/>), B is k×n (n×k when <paramref name="transposeB"/>), all contiguous row-major.
    /// </summary>
    public static void Multiply<T>(bool transposeA, bool transposeB, int m, int n, int k, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m == 0 || n == 0)
        {
            return;
        }

        if (k == 0)
        {
            if (!accumulate)
            {
                c[..(m * n)].Clear();
            }

            return;
        }

        if ((long)m * n * k < SmallWork || !Vector256.IsHardwareAccelerated)
        {
            Direct(transposeA, transposeB, m, n, k, a, b, c, accumulate);
            return;
        }

        fixed (T* pa = a, pb = b, pc = c)
        {
            var job = GemmJob<T>.ForThisThread();
            job.Run(transposeA, transposeB, m, n, k, pa, pb, pc, accumulate);
        }
    }

    /// <summary>The unpacked loops, for tiny products and machines without 256-bit vectors.</summary>
    internal static void Direct<T>(bool transposeA, bool transposeB, int m, int n, int k, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!accumulate)
        {
            c[..(m * n)].Clear();
        }

        for (var i = 0; i < m; i++)
        {
            var row = c.Slice(i * n, n);
            for (var p = 0; p < k; p++)
            {
                var scale = transposeA ? a[(p * m) + i] : a[(i * k) + p];
                if (transposeB)
                {
                    for (var j = 0; j < n; j++)
                    {
                        row[j] += scale * b[(j * k) + p];
                    }
                }
                else
                {
                    TensorPrimitives.MultiplyAdd(b.Slice(p * n, n), scale, row, row);
                }
            }
        }
    }

    /// <summary>One GEMM call's state, reused by the thread that owns it so calls allocate nothing once warm.</summary>
    private sealed class GemmJob<T> : IParallelWork
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        [ThreadStatic]
        private static GemmJob<T>? s_job;

        private readonly int _columns = GemmMicroKernel.Columns<T>();
        private T[] _packedA = [];
        private T[] _packedB = [];
        private T[] _narrowB = [];
        private T* _a, _b, _c, _pa, _pb;
        private bool _transposeA, _transposeB, _add, _packing, _packA;
        private int _m, _n, _k, _pc, _kc, _jc, _nc, _panelsA, _panelsB, _itemsN, _rowChunk, _depthBlocks, _nPanels;
        private bool _wholeDepth, _accumulate, _bInPlace, _packBInItem;

        // The tail panel's columns, its op(B) and the rows one work item covers (0 outside the tail's run).
        private T* _tailB;
        private nint _tailBStride;
        private int _tailJ, _tailW, _tailRows;

        public static GemmJob<T> ForThisThread() => s_job ??= new GemmJob<T>();

        /// <summary>
        /// B panels the packing phase packs: all of them; none where each item packs its own; with B read in place only
        /// a ragged last one.
        /// </summary>
        private int PackedPanelsB => _packBInItem ? 0 : !_bInPlace ? _panelsB : _nc % _columns == 0 ? 0 : 1;

        /// <summary>The panel index packing item <paramref name="item"/> refers to.</summary>
        private int PackedPanel(int item) => _bInPlace ? _panelsB - 1 : item;

        public void Run(bool transposeA, bool transposeB, int m, int n, int k, T* a, T* b, T* c, bool accumulate)
        {
            (_transposeA, _transposeB, _m, _n, _k, _accumulate) = (transposeA, transposeB, m, n, k, accumulate);
            _a = a;
            _b = b;
            _c = c;
            var threads = (long)m * n * k >= ParallelWork ? Parallelism.MaxThreads : 1;
            _panelsA = (m + GemmMicroKernel.Rows - 1) / GemmMicroKernel.Rows;
            _depthBlocks = (k + DepthBlock - 1) / DepthBlock;

            // Rows per work item: at most RowBlock (A's share of L2), and split evenly enough to keep every thread busy.
            var perThread = (m + threads - 1) / threads;
            _rowChunk = Math.Clamp((perThread + GemmMicroKernel.Rows - 1) / GemmMicroKernel.Rows * GemmMicroKernel.Rows, GemmMicroKernel.Rows, RowBlock);

            // Columns past the last whole panel: a 6×32 tile would pad them to 32. With AVX-512, a remainder of one
            // vector plus a few columns runs its vector together with the last whole panel in a three-vector tile
            // (50 = 48 + 2), or alone in a one-vector tile when no panel precedes it (20 = 16 + 4), and its last ≤ 4
            // columns as dot products; a remainder under one vector runs in the one-vector tile with masked loads and
            // stores (10, 42 = 32 + 10) unless it is ≤ 4 columns deep enough for the dot products; others stay padded.
            var (half, narrow) = SplitRemainder(m, n);
            var tail = half == _columns / 2 && n - half - narrow >= _columns ? half + _columns : half;
            _nPanels = n - tail - narrow;
            var panelsAll = (Math.Min(_nPanels, ColumnBlock) + _columns - 1) / _columns;
            _packA = transposeA && panelsAll >= PackAFromPanels && ((long)m * sizeof(T) % 2048 == 0 || (long)m * k * sizeof(T) >= PackTransposedFromBytes);
            _wholeDepth = !_packA && m >= GemmMicroKernel.Rows && n <= ColumnBlock && (long)panelsAll * _columns * k <= WholeDepthLimit;
            _packBInItem = _panelsA <= FewPanelsA && !_wholeDepth;
            _bInPlace = _panelsA <= FewPanelsA && _wholeDepth && !transposeB && (long)n * sizeof(T) % InPlaceStrideBytes != 0;
            if (_packBInItem && (panelsAll + PanelsPerItem - 1) / PanelsPerItem >= threads)
            {
                // Every row in one item, so each B panel is packed once; the threads share the panels instead.
                _rowChunk = _panelsA * GemmMicroKernel.Rows;
            }

            _packA |= !transposeA && !_wholeDepth && panelsAll >= PackAFromPanels && (long)k * sizeof(T) >= PackRowsFromBytes;
            Reserve(ref _packedA, _packA ? _panelsA * PanelStrideA(Math.Min(k, DepthBlock)) : 0);
            Reserve(ref _packedB, _packBInItem ? 0 : (Math.Min(n, ColumnBlock) + _columns) * (_wholeDepth ? _depthBlocks * DepthBlock : Math.Min(k, DepthBlock)));
            fixed (T* pa = _packedA, pb = _packedB)
            {
                _pa = CacheLines.Align(pa);
                _pb = CacheLines.Align(pb);
                for (_jc = 0; _jc < _nPanels; _jc += ColumnBlock)
                {
                    _nc = Math.Min(ColumnBlock, _nPanels - _jc);
                    _panelsB = (_nc + _columns - 1) / _columns;
                    _itemsN = (_panelsB + PanelsPerItem - 1) / PanelsPerItem;
                    var rowItems = (m + _rowChunk - 1) / _rowChunk;
                    if (_wholeDepth)
                    {
                        _packing = true;
                        WorkerPool.Run(this, PackedPanelsB * _depthBlocks, threads);
                        _packing = false;
                        WorkerPool.Run(this, rowItems * _itemsN, threads);
                        continue;
                    }

                    for (_pc = 0; _pc < k; _pc += DepthBlock)
                    {
                        _kc = Math.Min(DepthBlock, k - _pc);
                        _add = accumulate || _pc > 0;
                        var packingItems = PackedPanelsB + (_packA ? PackGroupsA : 0);
                        if (packingItems > 0)
                        {
                            _packing = true;
                            WorkerPool.Run(this, packingItems, threads);
                            _packing = false;
                        }

                        WorkerPool.Run(this, rowItems * _itemsN, threads);
                    }
                }
            }

            // After the panels: the tail's rows shared among the threads, the narrow columns on the calling thread (at
            // most 4 of them); each element of C still comes from one thread in a fixed order.
            Reserve(ref _narrowB, (tail > 0 && transposeB) || (narrow > 0 && !transposeB) ? Math.Max(tail, narrow) * k : 0);
            fixed (T* narrowB = _narrowB)
            {
                var scratch = CacheLines.Align(narrowB);
                if (tail > 0)
                {
                    TailPanel(_nPanels, tail, scratch, threads);
                }

                if (narrow > 0)
                {
                    GemmNarrow.Run(transposeA, transposeB, m, n, k, a, b, c, accumulate, _nPanels + tail, narrow, scratch);
                }
            }

            _a = _b = _c = _pa = _pb = null;
        }

        public void Execute(int item)
        {
            if (_tailRows > 0)
            {
                TailRows(item * _tailRows, Math.Min(_m, (item + 1) * _tailRows));
            }
            else if (_packing && _wholeDepth)
            {
                // Item = (depth block, panel); each panel holds its whole depth contiguously, so one kernel call per
                // tile walks all of k (the sums stay in registers instead of going through C once per depth block).
                var packed = PackedPanelsB;
                var block = item / packed;
                var pc = block * DepthBlock;
                var panel = PackedPanel(item % packed);
                PackB(panel, pc, Math.Min(DepthBlock, _k - pc), _pb + ((nint)panel * _columns * _k) + ((nint)pc * _columns));
            }
            else if (_packing)
            {
                if (item < PackedPanelsB)
                {
                    var panel = PackedPanel(item);
                    PackB(panel, _pc, _kc, _pb + ((nint)panel * _columns * _kc));
                }
                else
                {
                    PackGroupA(item - PackedPanelsB);
                }
            }
            else if (_wholeDepth)
            {
                Tiles(item / _itemsN, item % _itemsN, 0, _k, _accumulate, _pb);
            }
            else
            {
                Tiles(item / _itemsN, item % _itemsN, _pc, _kc, _add, _pb);
            }
        }

        /// <summary>
        /// How many of the columns past the whole panels go to the one-vector tile and to the narrow kernels. A Half
        /// under one vector goes to the masked one-vector tile.
        /// </summary>
        private (int Half, int Narrow) SplitRemainder(int m, int n)
        {
            var rest = n % _columns;
            var vector = _columns / 2;
            if (rest == 0 || !GemmMicroKernel.Uses512)
            {
                return (0, 0);
            }

            // A shallow product leaves the dot products mostly scalar tails; the tiles cover it instead.
            var rowsSuffice = m >= GemmMicroKernel.Rows && (!_transposeA || m >= GemmNarrow.MinimumRows<T>());
            var narrowFits = rowsSuffice && _k >= GemmNarrow.MinimumDepth<T>();
            if (narrowFits && rest >= vector && rest - vector <= GemmNarrow.MaxColumns)
            {
                return (vector, rest - vector);
            }

            if (narrowFits && rest <= GemmNarrow.MaxColumns)
            {
                return (0, rest);
            }

            // Fewer columns than a vector past the panels (the book's output layer has 10 in all): a 6 × 32 panel
            // does twice the work of the masked one-vector tile (100x10x50 and 50x10x100 took 2.3–2.4 µs each padded,
            // 1.2–1.5 masked).
            return rest < vector && m >= GemmMicroKernel.Rows ? (rest, 0) : (0, 0);
        }

        /// <summary>
        /// Columns j … j+w−1 of C over the whole depth, with the one-vector tile (w = one vector; masked when fewer) or
        /// the three-vector tile (w = three), its rows shared among <paramref name="threads"/> threads.
        /// </summary>
        private void TailPanel(int j, int w, T* scratch, int threads)
        {
            const int mr = GemmMicroKernel.Rows;
            T* b;
            nint bStride;
            if (_transposeB)
            {
                // op(B)'s columns are rows of B: lay the W of them out as W values per depth step, 16×16 blocks
                // transposed in registers where they fit (a convolution's filter gradient with 16 filters is this
                // tile alone: DeepConvNet's second layer 2.7 → 1.9 ms per batch of 100).
                var first = 0;
                var side = TransposeBlock.Side<T>();
                if (w % side == 0 && TransposeBlock.IsSupported)
                {
                    for (; first + side <= _k; first += side)
                    {
                        for (var jj = 0; jj < w; jj += side)
                        {
                            TransposeBlock.Square(_b + ((nint)(j + jj) * _k) + first, _k, scratch + (first * w) + jj, w);
                        }
                    }
                }

                for (var p = first; p < _k; p++)
                {
                    for (var jj = 0; jj < w; jj++)
                    {
                        scratch[(p * w) + jj] = _b[((nint)(j + jj) * _k) + p];
                    }
                }

                b = scratch;
                bStride = w;
            }
            else
            {
                b = _b + j;
                bStride = _n;
            }

            (_tailJ, _tailW, _tailBStride) = (j, w, bStride);
            _tailB = b;

            // Rows split evenly in whole tiles, as the panels' are; a tail of 10 columns on one thread while the other
            // idled made a 1000x42x300 product 1.5x slower on two threads than the padded panel it replaced.
            var tiles = (_m + mr - 1) / mr;
            var items = Math.Min(threads, tiles);
            _tailRows = (tiles + items - 1) / items * mr;
            WorkerPool.Run(this, (_m + _tailRows - 1) / _tailRows, threads);
            _tailRows = 0;
            _tailB = null;
        }

        /// <summary>Rows <paramref name="from"/> … <paramref name="to"/>−1 (from a multiple of 6) of the tail panel.</summary>
        private void TailRows(int from, int to)
        {
            const int mr = GemmMicroKernel.Rows;
            var (j, w, bStride) = (_tailJ, _tailW, _tailBStride);
            var b = _tailB;
            var three = w > _columns;
            var edge = stackalloc T[mr * w];
            for (var i = from; i < to; i += mr)
            {
                // The last rows reuse the tile above (m ≥ 6 here) into scratch and keep only the new rows.
                var shift = Math.Max(0, i + mr - _m);
                var top = i - shift;
                var a = _transposeA ? _a + top : _a + ((nint)top * _k);
                nint rowStride = _transposeA ? 1 : _k, depthStride = _transposeA ? _m : 1;
                var target = shift == 0 ? _c + ((nint)i * _n) + j : edge;
                nint ldc = shift == 0 ? _n : w;
                var add = shift == 0 && _accumulate;
                if (three)
                {
                    GemmMicroKernel.RunThree(_k, a, rowStride, depthStride, b, bStride, target, ldc, add);
                }
                else if (w < _columns / 2)
                {
                    GemmMicroKernel.RunMasked(_k, a, rowStride, depthStride, b, bStride, target, ldc, add, w);
                }
                else
                {
                    GemmMicroKernel.RunHalf(_k, a, rowStride, depthStride, b, bStride, target, ldc, add);
                }

                if (shift == 0)
                {
                    continue;
                }

                StoreEdge(edge, w, shift, mr, _c + ((nint)top * _n) + j, w, _accumulate);
            }
        }

        /// <summary>Rows <paramref name="from"/> … <paramref name="to"/>−1 of a tile computed into scratch, copied or added to C.</summary>
        private void StoreEdge(T* edge, int edgeStride, int from, int to, T* c, int cols, bool add)
        {
            for (var r = from; r < to; r++)
            {
                var source = new ReadOnlySpan<T>(edge + (r * edgeStride), cols);
                var target = new Span<T>(c + ((nint)r * _n), cols);
                if (add)
                {
                    TensorPrimitives.Add(target, source, target);
                }
                else
                {
                    source.CopyTo(target);
                }
            }
        }

        private static void Reserve(ref T[] buffer, int length)
        {
            if (buffer.Length < CacheLines.RentLength<T>(length))
            {
                // Pinned, so the raw pointers the workers hold stay valid without a fixed block on their side; a line
                // longer, so that the panels can start on a cache line.
                buffer = GC.AllocateUninitializedArray<T>(CacheLines.RentLength<T>(length), pinned: true);
            }
        }

        /// <summary>
        /// Elements from one packed A panel to the next at depth <paramref name="kc"/>: the panel and one cache line
        /// more. Packing a transposed A writes sixteen panels a depth step at a time; a panel of 6 × 256 doubles is
        /// 12 KB, so without the line those sixteen stores would land in one or two sets of L1 and evict each other.
        /// </summary>
        private static int PanelStrideA(int kc) => (GemmMicroKernel.Rows * kc) + (CacheLines.Bytes / sizeof(T));

        /// <summary>Where packed panel <paramref name="panel"/> of A starts, at the current depth block.</summary>
        private T* PackedPanelA(int panel) => _pa + ((nint)panel * PanelStrideA(_kc));

        /// <summary>Packing items for A: groups of <see cref="PanelsPerPackA"/> panels.</summary>
        private int PackGroupsA => (_panelsA + PanelsPerPackA - 1) / PanelsPerPackA;

        /// <summary>
        /// The <see cref="PanelsPerPackA"/> panels of op(A) in <paramref name="group"/> (16 on a 1 MB L2), depth _pc … _pc+_kc.
        /// A transposed A is packed a depth step at a time across the whole group, so each row of A is read once, in
        /// order, for all its panels (panel by panel,
        /// every step of a panel lands on a new row 4 KB or more away, and the next panel fetches the same rows again).
        /// </summary>
        private void PackGroupA(int group)
        {
            const int mr = GemmMicroKernel.Rows;
            var first = group * PanelsPerPackA;
            var end = Math.Min(_panelsA, first + PanelsPerPackA);
            if (!_transposeA)
            {
                for (var panel = first; panel < end; panel++)
                {
                    PackA(panel, PackedPanelA(panel), _pc, _kc);
                }

                return;
            }

            // Panels whose eight-value reads stay inside A's rows go eight values a step (the two past the panel land
            // in the next step's slot, which overwrites them, so each panel's last step goes through PackA's loop).
            var wide = first;
            while (wide < end && ((wide + 1) * mr) + 2 <= _m)
            {
                wide++;
            }

            for (var p = 0; p < _kc - 1; p++)
            {
                var src = _a + ((nint)(_pc + p) * _m);
                if (p + PackAhead < _kc)
                {
                    // The rows are far apart (4 KB or more), so the hardware sees no stream to prefetch.
                    Prefetch.Lines(src + (PackAhead * (nint)_m) + (first * mr), (wide - first) * mr * sizeof(T));
                }

                for (var panel = first; panel < wide; panel++)
                {
                    CopyEight(src + (panel * mr), PackedPanelA(panel) + (p * mr));
                }
            }

            for (var panel = first; panel < end; panel++)
            {
                var from = panel < wide ? _kc - 1 : 0;
                PackA(panel, PackedPanelA(panel) + (from * mr), _pc + from, _kc - from);
            }
        }

        /// <summary>
        /// Rows i0 … i0+5 of op(A) (i0 = 6·<paramref name="panel"/>), depth <paramref name="pc"/> … +<paramref name="kc"/>−1,
        /// to <paramref name="dst"/>, zeros past m: a transposed A as 6 values per depth step (read with strides 1 and 6),
        /// a row-major one as its 6 rows one after another (strides kc and 1; whole-row copies).
        /// </summary>
        private void PackA(int panel, T* dst, int pc, int kc)
        {
            const int mr = GemmMicroKernel.Rows;
            var i0 = panel * mr;
            var rows = Math.Min(mr, _m - i0);
            if (_transposeA)
            {
                for (var p = 0; p < kc; p++)
                {
                    var src = _a + ((nint)(pc + p) * _m) + i0;
                    var d = dst + (p * mr);
                    for (var r = 0; r < mr; r++)
                    {
                        d[r] = r < rows ? src[r] : T.Zero;
                    }
                }

                return;
            }

            for (var r = 0; r < mr; r++)
            {
                var d = new Span<T>(dst + (r * kc), kc);
                if (r < rows)
                {
                    new ReadOnlySpan<T>(_a + ((nint)(i0 + r) * _k) + pc, kc).CopyTo(d);
                }
                else
                {
                    d.Clear();
                }
            }
        }

        /// <summary>Columns j0 … j0+Columns−1 of op(B), depth pc … pc+kc, to <paramref name="dst"/> as Columns values per depth step (zeros past n).</summary>
        private void PackB(int panel, int pc, int kc, T* dst)
        {
            var nr = _columns;
            var j0 = _jc + (panel * nr);
            var cols = Math.Min(nr, _n - j0);
            if (_transposeB)
            {
                // op(B)'s columns are rows of B: transpose square blocks in registers (16×16 floats, 8×8 doubles). A
                // ragged last panel (a convolution's filter gradient has 30 or 16 filters) copies its last rows into a
                // zero-padded block first rather than falling back to the element-by-element loop for the whole panel.
                var first = 0;
                var side = TransposeBlock.Side<T>();
                if (nr % side == 0 && TransposeBlock.IsSupported)
                {
                    var ragged = stackalloc T[side * side];
                    for (; first + side <= kc; first += side)
                    {
                        for (var j = 0; j < nr; j += side)
                        {
                            var rows = Math.Clamp(cols - j, 0, side);
                            var from = _b + ((nint)(j0 + j) * _k) + pc + first;
                            if (rows < side)
                            {
                                new Span<T>(ragged, side * side).Clear();
                                for (var r = 0; r < rows; r++)
                                {
                                    new ReadOnlySpan<T>(from + ((nint)r * _k), side).CopyTo(new Span<T>(ragged + (r * side), side));
                                }

                                from = ragged;
                            }

                            TransposeBlock.Square(from, rows < side ? side : _k, dst + (first * nr) + j, nr);
                        }
                    }
                }

                for (var j = 0; j < nr; j++)
                {
                    var src = _b + ((nint)(j0 + j) * _k) + pc;
                    for (var p = first; p < kc; p++)
                    {
                        dst[(p * nr) + j] = j < cols ? src[p] : T.Zero;
                    }
                }

                return;
            }

            if (cols == nr && nr == 2 * Vector512<T>.Count && Vector512.IsHardwareAccelerated)
            {
                // A whole panel row is two vectors: copied inline. A Memmove call and an empty Clear call per 128-byte
                // row were 4.7% of a 256³ float64 product.
                var row = _b + ((nint)pc * _n) + j0;
                for (var p = 0; p < kc; p++, row += _n)
                {
                    Vector512.Store(Vector512.Load(row), dst + (p * nr));
                    Vector512.Store(Vector512.Load(row + Vector512<T>.Count), dst + (p * nr) + Vector512<T>.Count);
                }

                return;
            }

            for (var p = 0; p < kc; p++)
            {
                var src = new ReadOnlySpan<T>(_b + ((nint)(pc + p) * _n) + j0, cols);
                var d = new Span<T>(dst + (p * nr), nr);
                src.CopyTo(d);
                d[cols..].Clear();
            }
        }

        /// <summary>Every 6 × Columns tile of one row block and one group of B panels.</summary>
        private void Tiles(int rowBlock, int panelGroup, int pc, int kc, bool add, T* packedB)
        {
            const int mr = GemmMicroKernel.Rows;
            var nr = _columns;
            var iEnd = Math.Min(_m, (rowBlock + 1) * _rowChunk);
            var panelEnd = Math.Min(_panelsB, (panelGroup + 1) * PanelsPerItem);
            var edge = stackalloc T[mr * 32];
            var edgeA = stackalloc T[mr * DepthBlock];
            var scratch = _packBInItem ? PanelScratch<T>.ForThisThread(nr * kc) : null;
            for (var panel = panelGroup * PanelsPerItem; panel < panelEnd; panel++)
            {
                var j = _jc + (panel * nr);
                var cols = Math.Min(nr, _n - j);

                // B is read in place by every tile of a whole-depth panel (_bInPlace), or by the first tile of a whole
                // row-major panel packed inside this item, which packs it for the tiles below as it goes; other panels
                // packed inside this item are packed here.
                var packInto = _packBInItem && !_transposeB && cols == nr ? scratch : null;
                var inPlace = cols == nr && (_bInPlace || packInto != null);
                var b = inPlace ? _b + ((nint)pc * _n) + j : packedB + ((nint)panel * nr * kc);
                var bStride = inPlace ? _n : nr;
                if (_packBInItem && packInto == null)
                {
                    PackB(panel, pc, kc, scratch);
                    b = scratch;
                }

                for (var i = rowBlock * _rowChunk; i < iEnd; i += mr)
                {
                    var rows = Math.Min(mr, _m - i);
                    var shift = 0;
                    T* a;
                    nint rowStride, depthStride;
                    if (_packA)
                    {
                        a = PackedPanelA(i / mr);
                        rowStride = _transposeA ? 1 : kc;
                        depthStride = _transposeA ? mr : 1;
                    }
                    else if (rows < mr && _m >= mr)
                    {
                        // The last rows of an unpacked A: run the tile on the last six rows of A (overlapping the
                        // tile above) into scratch, and keep only its new rows below. Nothing past m is read.
                        shift = mr - rows;
                        if (_transposeA)
                        {
                            a = _a + ((nint)pc * _m) + (i - shift);
                            rowStride = 1;
                            depthStride = _m;
                        }
                        else
                        {
                            a = _a + ((nint)(i - shift) * _k) + pc;
                            rowStride = _k;
                            depthStride = 1;
                        }
                    }
                    else if (rows < mr)
                    {
                        // Fewer than six rows in all (never with whole depth, so kc ≤ DepthBlock): pack them.
                        PackA(i / mr, edgeA, pc, kc);
                        a = edgeA;
                        rowStride = _transposeA ? 1 : kc;
                        depthStride = _transposeA ? mr : 1;
                    }
                    else if (_transposeA)
                    {
                        a = _a + ((nint)pc * _m) + i;
                        rowStride = 1;
                        depthStride = _m;
                    }
                    else
                    {
                        a = _a + ((nint)i * _k) + pc;
                        rowStride = _k;
                        depthStride = 1;
                    }

                    // An edge tile is computed whole into scratch, and then the part inside C is added or copied.
                    var c = _c + ((nint)i * _n) + j;
                    var whole = rows == mr && cols == nr;
                    var target = whole ? c : edge;
                    if (packInto != null)
                    {
                        GemmMicroKernel.RunPackingB(kc, a, rowStride, depthStride, b, bStride, target, whole ? _n : nr, whole && add, packInto);
                        b = packInto;
                        bStride = nr;
                        packInto = null;
                    }
                    else
                    {
                        GemmMicroKernel.Run(kc, a, rowStride, depthStride, b, bStride, target, whole ? _n : nr, whole && add);
                    }

                    if (!whole)
                    {
                        StoreEdge(edge, nr, shift, shift + rows, c - ((nint)shift * _n), cols, add);
                    }
                }
            }
        }
    }
}
