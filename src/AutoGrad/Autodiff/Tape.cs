using System.Runtime.CompilerServices;

using AutoGrad.Tensors;

namespace AutoGrad.Autodiff;

/// <summary>
/// Records tensor operations as they run, then computes gradients with one reverse sweep over the record.
/// </summary>
/// <remarks>
/// <para><b>Scope.</b> <c>using var tape = new Tape();</c> makes the tape the current one on this thread until it is
/// disposed. While it is current, every operation with an input the tape tracks appends a node: tracked inputs are
/// tensors passed to <see cref="Watch(Tensor)"/>, tensors with <see cref="Tensor.RequiresGrad"/> set, and results of
/// recorded operations. Operations on nothing tracked still run, unrecorded.</para>
/// <para><b>Memory.</b> Results of operations while the tape is current, and the gradients of the sweep, live in the
/// tape's arena. <see cref="Reset"/> recycles them all at once (a training loop resets one tape each step and
/// allocates nothing once warm); reading such a tensor after a reset or dispose throws.</para>
/// <para><b>Gradients once.</b> A tape computes gradients once: a second <see cref="Gradient(Tensor, Tensor[])"/> or
/// <see cref="Backward(Tensor)"/> throws unless the first passed <c>retainGraph: true</c>. <see cref="Reset"/> makes the
/// tape ready to record anew.</para>
/// <para><b>Threads and async code.</b> The current tape flows with the logical call context, as an
/// <see cref="AsyncLocal{T}"/> does: an async method that awaits between ops keeps recording on its tape whichever thread
/// it resumes on, and work started elsewhere (another thread, a pool task) does not see it. A tape serves one flow of
/// work at a time; independent tapes in different flows do not interact.</para>
/// </remarks>
public sealed partial class Tape : IDisposable
{
    /// <summary>
    /// The recording state of the logical call context. Its change handler mirrors it into thread-static fields, so
    /// the per-op read stays a thread-static load while the value itself flows across awaits.
    /// </summary>
    private static readonly AsyncLocal<RecordingScope?> s_scope = new(OnScopeChanged);

    /// <summary>The scope of <see cref="NoGrad"/>: no tape, no arena, and no implicit recording either.</summary>
    private static readonly RecordingScope s_noGrad = new(null, null, null);


    private readonly RecordingScope? _outerScope;
    private readonly RecordingScope _recording;
    private readonly RecordingScope _suspended;
    private readonly Arena _arena = new();
    private readonly Dictionary<Tensor, int> _leaves = new(ReferenceEqualityComparer.Instance);
    private readonly NodeList _nodes = new();
    private readonly ManyInputsPool _manyInputs = new();
    private readonly ThirdInputPool _thirdInputs = new();
    private int _count;
    private bool _gradientsTaken;
    private bool _disposed;

    // The two leaves looked up last and their nodes, checked before _leaves: a chain of ops meets the same weight and
    // bias again and again, and the dictionary's hashed lookup was a tenth of a tiny multiply's recording.
    private Tensor? _recentLeaf, _olderLeaf;
    private int _recentLeafNode, _olderLeafNode;

    /// <summary>Creates a tape and makes it the current one in this logical call context (this thread, and what it awaits).</summary>
    public Tape()
        : this(makeCurrent: true)
    {
    }

    /// <summary>A tape that becomes current, or (for <see cref="Detached"/>) one that never does.</summary>
    private Tape(bool makeCurrent)
    {
        _recording = new RecordingScope(this, _arena, this);
        _suspended = new RecordingScope(null, _arena, this);
        _arena.Owner = this;
        if (makeCurrent)
        {
            _outerScope = s_scope.Value;
            s_scope.Value = _recording;
        }
    }

    /// <summary>Creates a tape that records only what is replayed onto it (see <see cref="ImplicitGraph"/>).</summary>
    internal static Tape Detached() => new(makeCurrent: false);

    /// <summary>
    /// Suspends recording in this logical call context until the returned scope is disposed, on a tape and implicitly
    /// alike (PyTorch's <c>torch.no_grad()</c>): ops run without recording overhead and their results own their memory
    /// (for evaluation inside a training loop, say).
    /// </summary>
    /// <returns>The scope; dispose it (<c>using</c>) to resume.</returns>
    public static NoGradScope NoGrad()
    {
        var scope = new NoGradScope(s_scope.Value);
        s_scope.Value = s_noGrad;
        return scope;
    }

    /// <summary>
    /// Stops recording until the scope is disposed, but keeps allocating results in the current tape's arena (for a
    /// custom op's forward pass, whose inner ops must not become nodes).
    /// </summary>
    internal static NoGradScope SuspendRecording()
    {
        var previous = s_scope.Value;
        var scope = new NoGradScope(previous);
        s_scope.Value = previous?.Tape is { } tape ? tape._suspended : previous ?? s_noGrad;
        return scope;
    }

    /// <summary>
    /// Makes this tape's arena (and, with <paramref name="record"/>, its recording) current until the scope ends,
    /// whatever was current before: for a detached tape that serves as scratch space (a checkpoint's segment).
    /// </summary>
    internal NoGradScope Enter(bool record)
    {
        ThrowIfDisposed("Enter");
        var scope = new NoGradScope(s_scope.Value);
        s_scope.Value = record ? _recording : _suspended;
        return scope;
    }

    /// <summary>The tape recording in this logical call context, or null.</summary>
    public static Tape? Current => RecordingContext.Current.Tape;

    /// <summary>Node <paramref name="index"/> of the recording (the ONNX exporter walks them in order).</summary>
    internal ref readonly Node NodeAt(int index) => ref _nodes[index];

    /// <summary>The node that recorded <paramref name="output"/> (for tests of the rules; forward mode will walk them).</summary>
    internal ref readonly Node NodeOf(Tensor output) => ref _nodes[output.Node];

    /// <summary>The number of nodes recorded (watched inputs included).</summary>
    public int NodeCount => _count;

    /// <summary>Bytes of arena memory handed out since the last reset (intermediates and gradients).</summary>
    public long ArenaBytesInUse => _arena.BytesInUse;

    /// <summary>The bytes of memory the arena holds, used or not.</summary>
    internal long ArenaCapacityBytes => _arena.CapacityBytes;

    /// <summary>
    /// Anomaly mode, as PyTorch's <c>detect_anomaly</c>: every recorded op's output, and every gradient the backward
    /// sweep forms, is checked for NaN and infinity, and the first one throws <see cref="AnomalyException"/> naming the
    /// op and its node. Off by default; when off it costs one flag test per node.
    /// </summary>
    public bool DetectAnomalies { get; set; }

    /// <summary>True once <see cref="Dispose"/> ran.</summary>
    public bool IsDisposed => _disposed;

    /// <summary>
    /// Tracks <paramref name="tensor"/> as an input of the graph, so that operations on it are recorded and
    /// <see cref="Gradient(Tensor, Tensor[])"/> can return its gradient.
    /// </summary>
    /// <param name="tensor">A tensor you created, or a result on this tape.</param>
    /// <returns>The same tensor, for chaining.</returns>
    public Tensor Watch(Tensor tensor)
    {
        if (tensor is null)
        {
            throw new ArgumentNullException(nameof(tensor), "Watch: the tensor to watch is null.");
        }

        ThrowIfDisposed("Watch");
        if (Track(tensor, "Watch") < 0)
        {
            if (tensor.IsTapeOwned)
            {
                tensor.Node = Append(LeafOp.Instance, tensor, null, null, null, -1, -1, -1, default);
            }
            else
            {
                AddLeaf(tensor);
            }
        }

        return tensor;
    }

    /// <summary>
    /// Forgets every node and recycles the arena: tensors computed on this tape become unreadable, and the tape
    /// records anew. Parameters and their <see cref="Tensor.Grad"/> are untouched.
    /// </summary>
    public void Reset()
    {
        ThrowIfDisposed("Reset");
        _nodes.Clear(_count);
        _count = 0;
        _leaves.Clear();
        _recentLeaf = _olderLeaf = null;
        _gradientsTaken = false;
        ClearGradients();
        _manyInputs.Reset();
        _thirdInputs.Reset();
        _arena.Reset();
    }

    /// <summary>Ends the recording scope, restores the tape that was current before, and recycles the arena.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (s_scope.Value?.Arena == _arena)
        {
            // Back to the nearest enclosing tape still alive: disposed out of order (t1 before t2), t1 must never
            // become current again when t2 ends.
            s_scope.Value = Live(_outerScope);
        }

        _nodes.Clear(_count);
        _count = 0;
        _leaves.Clear();
        _recentLeaf = _olderLeaf = null;
        ClearGradients();
        _manyInputs.Reset();
        _thirdInputs.Reset();
        _arena.Dispose();
    }

    /// <summary>Makes <paramref name="scope"/> current again (the end of a <see cref="NoGradScope"/>), or its nearest live outer scope.</summary>
    internal static void Restore(RecordingScope? scope) => s_scope.Value = Live(scope);

    /// <summary>The scope itself when its tape is alive, else the scope that was current before that tape began.</summary>
    private static RecordingScope? Live(RecordingScope? scope)
    {
        while (scope?.Owner is { IsDisposed: true } dead)
        {
            scope = dead._outerScope;
        }

        return scope;
    }

    private static void OnScopeChanged(AsyncLocalValueChangedArgs<RecordingScope?> change)
    {
        var context = RecordingContext.Current;
        context.Tape = change.CurrentValue?.Tape;
        Arena.Current = change.CurrentValue?.Arena;

        // A scope without a tape (NoGrad, a custom op's forward pass) stops implicit recording; no scope at all, as on a
        // thread that never saw one, does not.
        context.ImplicitBlocked = change.CurrentValue is { Tape: null };
    }

    /// <summary>
    /// Appends a node for <paramref name="op"/> on the current tape when any input is tracked by it; otherwise does
    /// nothing. Called by every op after its forward computation.
    /// </summary>
    internal static void Record(Op op, Tensor output, Tensor? a, Tensor? b = null, Tensor? c = null) =>
        Record(op, output, a, b, c, default);

    /// <inheritdoc cref="Record(Op, Tensor, Tensor?, Tensor?, Tensor?)"/>
    internal static void Record(Op op, Tensor output, Tensor? a, Tensor? b, Tensor? c, in NodeArgs args)
    {
        var context = RecordingContext.Current;
        var tape = context.Tape;
        bool recorded;
        if (tape is null)
        {
            recorded = !context.ImplicitBlocked && (ImplicitGraph.Tracks(a) || ImplicitGraph.Tracks(b) || ImplicitGraph.Tracks(c));
            if (recorded)
            {
                ImplicitGraph.Record(op, output, a, b, c, args);
            }
        }
        else
        {
            var ia = tape.Track(a, op.Name);
            var ib = tape.Track(b, op.Name);
            var ic = tape.Track(c, op.Name);
            recorded = (ia & ib & ic) >= 0;
            if (recorded)
            {
                output.Node = tape.Append(op, output, a, b, c, ia, ib, ic, args);
                if (tape.DetectAnomalies)
                {
                    tape.CheckForward(output);
                }
            }
        }

        // After the node: a forward-mode rule that reads the output then sees it tracked, so the tangent's own ops
        // are recorded against it (reverse over forward).
        if (context.Innermost is not null)
        {
            DualLevel.Propagate(context, op, output, a, b, c, args, tape, recorded);
        }
    }

    /// <summary>Records an op with any number of inputs (a custom op), when any input is tracked; the array is kept by reference.</summary>
    internal static void RecordMany(Op op, Tensor output, Tensor[] inputs) => RecordMany(op, output, new ManyInputs(inputs));

    /// <summary>
    /// Slots for the inputs of an op with any number of them: recycled by the current tape (see
    /// <see cref="ManyInputsPool"/>) or new when none is recording. Fill them, then <see cref="RecordMany(Op, Tensor, ManyInputs, int)"/>.
    /// </summary>
    /// <param name="count">The number of inputs.</param>
    /// <returns>The record.</returns>
    internal static ManyInputs RentInputs(int count) => Current?._manyInputs.Rent(count) ?? new ManyInputs(count);

    /// <summary>Records an op with any number of inputs (Concat), when any input is tracked; <paramref name="axis"/> goes to <see cref="NodeArgs.Axis"/>.</summary>
    internal static void RecordMany(Op op, Tensor output, ManyInputs inputs, int axis = 0)
    {
        var recorded = RecordManyNode(op, output, inputs, axis);
        var context = RecordingContext.Current;
        if (context.Innermost is not null)
        {
            var args = NodeArgs.WithInputs(inputs);
            args.Axis = axis;
            DualLevel.Propagate(context, op, output, null, null, null, args, context.Tape, recorded);
        }
    }

    /// <summary>Records the node when an input is tracked; returns whether it did.</summary>
    private static bool RecordManyNode(Op op, Tensor output, ManyInputs inputs, int axis)
    {
        var tape = Current;
        if (tape is null)
        {
            if (RecordsImplicitly(inputs.Inputs))
            {
                var args = NodeArgs.WithInputs(inputs);
                args.Axis = axis;
                ImplicitGraph.Record(op, output, null, null, null, args);
                return true;
            }

            return false;
        }

        var any = false;
        for (var i = 0; i < inputs.Inputs.Length; i++)
        {
            inputs.Nodes[i] = tape.Track(inputs.Inputs[i], op.Name);
            any |= inputs.Nodes[i] >= 0;
        }

        if (any)
        {
            var args = NodeArgs.WithInputs(inputs);
            args.Axis = axis;
            output.Node = tape.Append(op, output, null, null, null, -1, -1, -1, args);
            if (tape.DetectAnomalies)
            {
                tape.CheckForward(output);
            }
        }

        return any;
    }

    /// <summary>
    /// Whether an op on <paramref name="x"/> may be recorded or differentiated: a tape is current, <paramref name="x"/>
    /// is recorded implicitly, or a forward-mode level is open. For an op that keeps extra state for its backward rule only when it is recorded (GELU's Φ).
    /// </summary>
    internal static bool MayRecord(Tensor x)
    {
        var context = RecordingContext.Current;
        return context.Tape is not null || (!context.ImplicitBlocked && ImplicitGraph.Tracks(x)) || context.Innermost is not null;
    }

    /// <summary>True when no tape is current and an op on <paramref name="inputs"/> is recorded implicitly.</summary>
    internal static bool RecordsImplicitly(ReadOnlySpan<Tensor> inputs)
    {
        var context = RecordingContext.Current;
        if (context.Tape is not null || context.ImplicitBlocked)
        {
            return false;
        }

        foreach (var input in inputs)
        {
            if (ImplicitGraph.Tracks(input))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Appends an implicitly recorded node to this (detached) tape, its inputs tracked as leaves or as nodes replayed before it.</summary>
    internal void Replay(ImplicitNode recorded)
    {
        int ia = Track(recorded.A, recorded.Op.Name), ib = Track(recorded.B, recorded.Op.Name), ic = Track(recorded.C, recorded.Op.Name);
        var args = recorded.Args;
        if (args.Inputs is { } many)
        {
            for (var i = 0; i < many.Length; i++)
            {
                args.InputNodes![i] = Track(many[i], recorded.Op.Name);
            }
        }

        var index = Append(recorded.Op, recorded.Output, recorded.A, recorded.B, recorded.C, ia, ib, ic, args);

        // The versions the inputs had when the op ran, so a tensor written since is refused as on any tape.
        _nodes[index].Versions = recorded.Versions;
        recorded.Output.Node = index;
        recorded.ReplayTape = this;
        recorded.ReplayIndex = index;
    }

    /// <summary>The node of a tracked tensor on this tape, or -1 when the tape does not track it.</summary>
    /// <remarks>
    /// Inlined for its common cases (no input, a live result of this tape), which every op meets up to three times: as
    /// a call each, with the stack frame its rarer cases need, it took 12% of a chain of tiny ops in a profile.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Track(Tensor? tensor, string op)
    {
        if (tensor is null)
        {
            return -1;
        }

        if (tensor.Arena == _arena && tensor.IsAlive)
        {
            return tensor.Node;
        }

        return TrackOther(tensor, op);
    }

    /// <summary><see cref="Track"/> for a leaf, a tensor recorded without a tape, or one this tape cannot use.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private int TrackOther(Tensor tensor, string op)
    {
        var arena = tensor.Arena;
        if (arena == _arena)
        {
            tensor.EnsureAlive(op);
            return tensor.Node;
        }

        if (arena is not null)
        {
            tensor.EnsureAlive(op);
            throw new InvalidOperationException(
                $"{op}: the {tensor.DType.Name()} tensor of shape {tensor.Shape} was computed on another tape than the one recording. " +
                "Tensors from two tapes cannot be mixed; Clone() it to use its value as a constant.");
        }

        if (_leaves.Count > 0 && TryGetLeaf(tensor, out var node))
        {
            return node;
        }

        if (tensor.RecordedBy is ImplicitNode recorded)
        {
            return recorded.ReplayTape == this ? recorded.ReplayIndex : throw new InvalidOperationException(
                $"{op}: the {tensor.DType.Name()} tensor of shape {tensor.Shape} was recorded without a tape (implicitly, from an input with " +
                "RequiresGrad = true while no tape was current), so this tape cannot follow its history. Compute it while the tape is " +
                "current, call Backward() on the loss it leads to, or Detach() it to use its value as a constant.");
        }

        return tensor.RequiresGrad ? AddLeaf(tensor) : -1;
    }

    /// <summary>The node of a leaf this tape tracks, from the two most recent lookups or else from <c>_leaves</c>.</summary>
    private bool TryGetLeaf(Tensor tensor, out int node)
    {
        if (ReferenceEquals(tensor, _recentLeaf))
        {
            node = _recentLeafNode;
            return true;
        }

        if (ReferenceEquals(tensor, _olderLeaf))
        {
            node = _olderLeafNode;
            (_olderLeaf, _recentLeaf) = (_recentLeaf, _olderLeaf);
            (_olderLeafNode, _recentLeafNode) = (_recentLeafNode, _olderLeafNode);
            return true;
        }

        if (!_leaves.TryGetValue(tensor, out node))
        {
            return false;
        }

        (_olderLeaf, _olderLeafNode) = (_recentLeaf, _recentLeafNode);
        (_recentLeaf, _recentLeafNode) = (tensor, node);
        return true;
    }

    private int AddLeaf(Tensor tensor)
    {
        var node = Append(LeafOp.Instance, tensor, null, null, null, -1, -1, -1, default);
        _leaves.Add(tensor, node);
        return node;
    }

    private int Append(Op op, Tensor output, Tensor? a, Tensor? b, Tensor? c, int ia, int ib, int ic, in NodeArgs args)
    {
        ThrowIfDisposed(op.Name);
        ref var node = ref _nodes.Add(_count);
        node.Op = op;
        node.Output = output;
        node.A = a;
        node.B = b;
        node.InA = ia;
        node.InB = ib;
        if (c is null)
        {
            node.Args = args;
        }
        else
        {
            node.Args = args.WithThird(c, ic, _thirdInputs);
        }

        // Only tensors that own their memory can be written (a tape's results are read-only), so a node whose inputs
        // are all results of other nodes needs no version check: the sweep then skips it with one comparison.
        node.Versions = (a is { IsTapeOwned: false } || b is { IsTapeOwned: false } || c is not null || node.Args.HasReference)
            ? CurrentVersions(node)
            : 0;
        return _count++;
    }

    private void ThrowIfDisposed(string op)
    {
        if (_disposed)
        {
            throw new ObjectDisposedException(nameof(Tape), $"{op}: the tape has been disposed; create a new Tape (or Reset() one instead of disposing it).");
        }
    }

    /// <summary>What is current in a logical call context: the recording tape (null while suspended) and the arena results go to.</summary>
    internal sealed class RecordingScope(Tape? tape, Arena? arena, Tape? owner)
    {
        /// <summary>The tape that records, or null while recording is suspended.</summary>
        public Tape? Tape { get; } = tape;

        /// <summary>The arena results are allocated in, or null (owned results: <see cref="NoGrad"/>).</summary>
        public Arena? Arena { get; } = arena;

        /// <summary>The tape whose arena this is (recording or suspended), or null for <see cref="NoGrad"/>.</summary>
        public Tape? Owner { get; } = owner;
    }
}
