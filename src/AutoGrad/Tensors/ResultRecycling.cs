namespace AutoGrad.Tensors;

/// <summary>
/// A scope in which the results of ops on the current tape reuse the tensor objects of the tape's earlier
/// generations instead of allocating new ones, so a training step of a fixed net allocates (almost) nothing.
/// </summary>
/// <remarks>
/// Only for code whose intermediate results cannot be reached from outside the scope: a built-in net's forward pass,
/// which returns its last result made outside the scope. A reference kept to a recycled result would, after the
/// tape's reset, see a later step's values instead of throwing as an expired tensor does; that is why this is not
/// public, and why a net built of user modules (whose Forward might keep its input) does not use it.
/// </remarks>
internal readonly ref struct ResultRecycling
{
    private readonly Arena? _arena;

    private ResultRecycling(Arena? arena)
    {
        _arena = arena;
        arena?.BeginRecycling();
    }

    /// <summary>Starts recycling on the current tape's arena (nothing happens when no tape is recording).</summary>
    public static ResultRecycling Begin() => new(Arena.Current);

    /// <summary>Ends the scope.</summary>
    public void Dispose() => _arena?.EndRecycling();
}
