using AutoGrad.Autodiff;

namespace AutoGrad.Transforms;

/// <summary>
/// Detached tapes lent to transforms and checkpoints, per thread, and taken back reset: their arenas keep the memory
/// the last use needed, so a transform called in a loop neither allocates a tape nor faults in fresh pages each time.
/// </summary>
internal static class ScratchTapes
{
    [ThreadStatic]
    private static Stack<Tape>? s_free;

    /// <summary>A reset detached tape (made current only through <see cref="Tape.Enter"/>).</summary>
    public static Tape Rent() => s_free is { Count: > 0 } free ? free.Pop() : Tape.Detached();

    /// <summary>Takes a tape back: everything computed on it is recycled.</summary>
    public static void Return(Tape tape)
    {
        PeakBytesInUse = Math.Max(PeakBytesInUse, tape.ArenaBytesInUse);
        tape.Reset();
        (s_free ??= new Stack<Tape>()).Push(tape);
    }

    /// <summary>
    /// The most arena memory one lent tape had in use when it came back, on this thread since the last
    /// <see cref="ResetPeak"/>: what a checkpoint's recomputation needed at its peak (for measurements).
    /// </summary>
    [field: ThreadStatic]
    public static long PeakBytesInUse { get; private set; }

    /// <summary>Starts a new measurement of <see cref="PeakBytesInUse"/>.</summary>
    public static void ResetPeak() => PeakBytesInUse = 0;
}
