namespace AutoGrad.Autodiff;

/// <summary>
/// While alive, nothing is recorded in this logical call context and op results own their memory (they outlive any tape).
/// Create with <see cref="Tape.NoGrad"/>; dispose to restore the previous state. Scopes nest.
/// </summary>
public readonly struct NoGradScope : IDisposable
{
    private readonly Tape.RecordingScope? _previous;
    private readonly bool _active;

    internal NoGradScope(Tape.RecordingScope? previous)
    {
        _previous = previous;
        _active = true;
    }

    /// <summary>Restores the tape that was current when the scope began.</summary>
    public void Dispose()
    {
        if (_active)
        {
            Tape.Restore(_previous);
        }
    }
}
