namespace AutoGrad;

/// <summary>
/// While alive, nothing is recorded on this thread and op results own their memory (they outlive any tape).
/// Create with <see cref="Tape.NoGrad"/>; dispose to restore the previous state. Scopes nest.
/// </summary>
public readonly struct NoGradScope : IDisposable
{
    private readonly Tape? _tape;
    private readonly Arena? _arena;
    private readonly bool _active;

    internal NoGradScope(Tape? tape, Arena? arena)
    {
        _tape = tape;
        _arena = arena;
        _active = true;
    }

    /// <summary>Restores the tape that was current when the scope began.</summary>
    public void Dispose()
    {
        if (_active)
        {
            Tape.Restore(_tape, _arena);
        }
    }
}
