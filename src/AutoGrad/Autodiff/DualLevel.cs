using AutoGrad.Tensors;

namespace AutoGrad.Autodiff;

/// <summary>
/// A level of forward-mode differentiation (PyTorch's <c>forward_ad.dual_level</c>, one JAX <c>jvp</c> trace): while it
/// is open, a tensor made with <see cref="MakeDual"/> carries a tangent, and every op on it computes its output's
/// tangent at once from its Jacobian-vector product rule, beside its value. No tape is recorded for it, and nothing is
/// kept once an op has run, so a forward-mode pass holds no more memory than the plain one.
/// </summary>
/// <remarks>
/// <para><b>Nesting.</b> Levels nest: a level opened inside another gives tangents of its own, and the ops that compute
/// them carry the outer level's tangents in turn, so forward over forward gives second derivatives (the tangents never
/// mix up, as JAX's levels keep perturbations apart). A tape opened inside or outside a level records the ops that
/// compute tangents like any others, so reverse over forward and forward over reverse
/// (<c>createGraph: true</c>) work as well.</para>
/// <para><b>Scope.</b> A level flows with the logical call context, as a <see cref="Tape"/> does. Dispose it to close
/// it; tangents of a closed level are gone (<see cref="TangentOf"/> refuses to read them).</para>
/// </remarks>
/// <example>
/// <code>
/// using var level = new DualLevel();
/// var x = level.MakeDual(Tensor.FromArray([0.5, 1.0]), Tensor.FromArray([1.0, 0.0]));
/// var y = Ops.Sin(x) * x;
/// var dy = level.TangentOf(y); // ∂y/∂x₀ along (1, 0): cos(0.5)·0.5 + sin(0.5), then 0
/// </code>
/// </example>
public sealed class DualLevel : IDisposable
{
    private static readonly AsyncLocal<DualLevel?> s_level = new(OnLevelChanged);

    private readonly DualLevel? _outer;
    private readonly bool _isPrivate;
    private bool _disposed;

    /// <summary>Opens a level inside the current one (if any), and makes it current in this logical call context.</summary>
    public DualLevel()
    {
        _outer = Live(s_level.Value);
        Depth = (_outer?.Depth ?? 0) + 1;
        s_level.Value = this;
    }

    /// <summary>
    /// A level inside whatever levels compute tangents right now (in a rule: the levels outside the rule's own), open on
    /// this thread only until disposed: for a rule that runs a function again in forward mode (a checkpoint's).
    /// </summary>
    internal static DualLevel Private() => new(RecordingContext.Current.Innermost);

    private DualLevel(DualLevel? outer)
    {
        _outer = outer;
        Depth = (outer?.Depth ?? 0) + 1;
        _isPrivate = true;
        RecordingContext.Current.Innermost = this;
    }

    /// <summary>The innermost open level in this logical call context, or null.</summary>
    public static DualLevel? Current => Live(s_level.Value);

    /// <summary>1 for a level opened outside any other, 2 for one inside it, and so on.</summary>
    public int Depth { get; }

    /// <summary>True once <see cref="Dispose"/> ran.</summary>
    public bool IsDisposed => _disposed;

    /// <summary>True while some level is open here: ops then offer their tangents to it.</summary>
    /// <remarks>
    /// The innermost level whose tangents ops compute now (<see cref="RecordingContext.Innermost"/>) is the current
    /// level, or while a rule computes one level's tangent, the level outside it, so the rule's ops carry only the outer
    /// levels' tangents. Outside forward mode it is null, which is all an op pays for it.
    /// </remarks>
    internal static bool IsActive => RecordingContext.Current.Innermost is not null;

    /// <summary>
    /// A tensor with the value of <paramref name="primal"/> (sharing its memory) and the tangent
    /// <paramref name="tangent"/> at this level. The primal is not changed; ops on the result carry the tangent on.
    /// A tape that tracks the primal tracks the result as the same value, so reverse mode sees through it.
    /// </summary>
    /// <param name="primal">The value.</param>
    /// <param name="tangent">Its tangent (the direction of the derivative): the same shape and element type.</param>
    /// <returns>The dual tensor.</returns>
    /// <exception cref="ShapeMismatchException">The tangent's shape or element type differs from the primal's.</exception>
    /// <exception cref="ObjectDisposedException">The level is closed.</exception>
    public Tensor MakeDual(Tensor primal, Tensor tangent)
    {
        Check.NotNull(primal, "MakeDual", nameof(primal));
        Check.NotNull(tangent, "MakeDual", nameof(tangent));
        ThrowIfDisposed("MakeDual");
        if (tangent.Shape != primal.Shape || tangent.DType != primal.DType)
        {
            throw new ShapeMismatchException(
                $"MakeDual: the tangent is {tangent.DType.Name()} {tangent.Shape}, but the primal is {primal.DType.Name()} {primal.Shape}; " +
                "a tangent has its primal's shape and element type.");
        }

        primal.EnsureAlive("MakeDual");
        tangent.EnsureAlive("MakeDual");
        var dual = DualIdentity.Apply(primal);
        Attach(dual, tangent);
        return dual;
    }

    /// <summary>
    /// The tangent of <paramref name="tensor"/> at this level: what the ops that computed it carried on from the
    /// tensors made with <see cref="MakeDual"/>; null when it depends on none of them (its tangent is zero).
    /// </summary>
    /// <param name="tensor">A tensor computed while this level was open.</param>
    /// <returns>The tangent, or null for zero.</returns>
    /// <exception cref="InvalidOperationException">The tensor was written after its tangent was set.</exception>
    public Tensor? TangentOf(Tensor tensor)
    {
        Check.NotNull(tensor, "TangentOf", nameof(tensor));
        ThrowIfDisposed("TangentOf");
        return Find(tensor);
    }

    /// <summary>Closes the level: the outer level (if any) becomes current again, and this level's tangents are gone.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_isPrivate)
        {
            RecordingContext.Current.Innermost = _outer;
        }
        else if (s_level.Value == this)
        {
            s_level.Value = Live(_outer);
        }
    }

    /// <summary>
    /// Called by every op after its forward computation (from <see cref="Tape.Record(Op, Tensor, Tensor?, Tensor?, Tensor?, in NodeArgs)"/>):
    /// gives <paramref name="output"/> its tangent at each open level where an input has one, from the op's rule.
    /// </summary>
    /// <param name="context">This thread's recording context (the caller has read it).</param>
    /// <param name="op">The op that ran.</param>
    /// <param name="output">Its result.</param>
    /// <param name="a">Its first input.</param>
    /// <param name="b">Its second input.</param>
    /// <param name="c">Its third input.</param>
    /// <param name="args">Its node's arguments (the inputs of an op with any number of them).</param>
    /// <param name="tape">The tape current now (the caller has read it), or null.</param>
    /// <param name="recorded">Whether the op was recorded (on the tape or implicitly): then its tangent may be differentiated.</param>
    internal static void Propagate(RecordingContext context, Op op, Tensor output, Tensor? a, Tensor? b, Tensor? c, in NodeArgs args, Tape? tape, bool recorded)
    {
        if (a?.Tangents is null && b?.Tangents is null && c?.Tangents is null && !AnyTangent(args.Inputs))
        {
            return;
        }

        PropagateAt(context, context.Innermost!, op, output, a, b, c, args, tape, recorded);
    }

    /// <summary>
    /// Gives <paramref name="output"/> its tangents at <paramref name="level"/> and the levels outside it, outermost
    /// first: a rule reads the output's value, whose outer tangents must be in place before an inner rule's ops carry them.
    /// </summary>
    private static void PropagateAt(RecordingContext context, DualLevel level, Op op, Tensor output, Tensor? a, Tensor? b, Tensor? c, in NodeArgs args, Tape? tape, bool recorded)
    {
        if (level._outer is { } outer)
        {
            PropagateAt(context, outer, op, output, a, b, c, args, tape, recorded);
        }

        var many = args.Inputs;
        Tensor? ta = level.Find(a), tb = level.Find(b), tc = level.Find(c);
        Tensor?[]? tMany = null;
        if (many is not null)
        {
            tMany = new Tensor?[many.Length];
            for (var i = 0; i < many.Length; i++)
            {
                tMany[i] = level.Find(many[i]);
            }
        }

        if (ta is null && tb is null && tc is null && !AnyNonNull(tMany))
        {
            return;
        }

        var node = new Node
        {
            Op = op,
            Output = output,
            A = a,
            B = b,
            InA = ta is null ? -1 : 0,
            InB = tb is null ? -1 : 0,
            Args = c is null ? args : args.WithThird(c, tc is null ? -1 : 0),
        };

        // The rule's ops carry the outer levels' tangents only: its own level's would be a perturbation of itself.
        var innermost = context.Innermost;
        context.Innermost = level._outer;
        Tensor tangent;
        try
        {
            // Nobody differentiates this tangent when the op was not recorded, no level outside this one computes
            // tangents of it, and no tangent is tracked itself (a tangent a tape differentiates, say).
            var quiet = !recorded && level._outer is null && !Tracked(tape, ta) && !Tracked(tape, tb) && !Tracked(tape, tc) && (tMany is null || !AnyTracked(tape, tMany));
            tangent = op.Jvp(node, new InputTangents(ta, tb, tc, tMany, quiet));
        }
        finally
        {
            context.Innermost = innermost;
        }

        // Length and type, not the whole shape: this runs for every op in forward mode, and a rule that returned the
        // right number of elements in the wrong shape fails the catalog's finite-difference checks anyway.
        if (tangent.Length != output.Length || tangent.DType != output.DType || tangent.Rank != output.Rank)
        {
            // Every rule returns its output's shape; a mismatch is a bug in a rule, not in the caller's input.
            throw new InvalidOperationException(
                $"{op.Name}: its forward-mode rule gave a {tangent.DType.Name()} {tangent.Shape} tangent for a {output.DType.Name()} {output.Shape} output.");
        }

        level.Attach(output, tangent);
    }

    /// <summary>
    /// An owned copy of <paramref name="tensor"/> with owned copies of its tangents at every open level (and theirs, for
    /// nested levels): how a result leaves the private tape a transform computed it on without losing its derivatives.
    /// </summary>
    internal static Tensor CopyWithTangents(Tensor tensor)
    {
        var copy = tensor.Clone();
        var links = new List<TangentLink>();
        for (var link = tensor.Tangents as TangentLink; link is not null; link = link.Next)
        {
            if (!link.Level._disposed)
            {
                links.Add(link);
            }
        }

        for (var i = links.Count - 1; i >= 0; i--)
        {
            links[i].Level.Attach(copy, CopyWithTangents(links[i].Tangent));
        }

        return copy;
    }

    /// <summary>Stops ops from computing tangents until the scope ends (a custom op's forward pass, whose inner ops are not its rule).</summary>
    internal static Suspension Suspend() => new(RecordingContext.Current);

    private static bool AnyTangent(Tensor[]? inputs)
    {
        if (inputs is not null)
        {
            foreach (var input in inputs)
            {
                if (input?.Tangents is not null)
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static bool Tracked(Tape? tape, Tensor? tangent) =>
        tangent is not null && (tape is not null ? tape.NodeIndexOf(tangent) >= 0 : ImplicitGraph.Tracks(tangent));

    private static bool AnyTracked(Tape? tape, Tensor?[]? tangents)
    {
        if (tangents is not null)
        {
            foreach (var t in tangents)
            {
                if (Tracked(tape, t))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static bool AnyNonNull(Tensor?[]? tangents)
    {
        if (tangents is not null)
        {
            foreach (var t in tangents)
            {
                if (t is not null)
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static DualLevel? Live(DualLevel? level)
    {
        while (level is { _disposed: true })
        {
            level = level._outer;
        }

        return level;
    }

    private static void OnLevelChanged(AsyncLocalValueChangedArgs<DualLevel?> change) => RecordingContext.Current.Innermost = change.CurrentValue;

    private void Attach(Tensor tensor, Tensor tangent) => tensor.Tangents = new TangentLink(this, tangent, tensor.Version, tensor.Tangents as TangentLink);

    private Tensor? Find(Tensor? tensor)
    {
        for (var link = tensor?.Tangents as TangentLink; link is not null; link = link.Next)
        {
            if (link.Level == this)
            {
                if (link.Version != tensor!.Version)
                {
                    throw new InvalidOperationException(
                        $"Forward mode: the {tensor.DType.Name()} tensor of shape {tensor.Shape} was written after its tangent was set, so the " +
                        "tangent no longer describes its value. Write tensors before MakeDual, or make a new dual tensor after writing.");
                }

                return link.Tangent;
            }
        }

        return null;
    }

    private void ThrowIfDisposed(string call)
    {
        if (_disposed)
        {
            throw new ObjectDisposedException(nameof(DualLevel), $"{call}: the forward-mode level has been closed; open a new DualLevel.");
        }
    }

    /// <summary>One tangent of a tensor: its level, its value, the tensor's version when it was set, and the tangents of other levels.</summary>
    private sealed record TangentLink(DualLevel Level, Tensor Tangent, int Version, TangentLink? Next);

    /// <summary>The scope of <see cref="Suspend"/>: restores the levels that were computing tangents.</summary>
    internal readonly struct Suspension : IDisposable
    {
        private readonly RecordingContext _context;
        private readonly DualLevel? _innermost;

        public Suspension(RecordingContext context)
        {
            _context = context;
            _innermost = context.Innermost;
            context.Innermost = null;
        }

        public void Dispose() => _context.Innermost = _innermost;
    }
}
