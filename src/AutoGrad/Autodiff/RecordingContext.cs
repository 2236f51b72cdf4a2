using System.Runtime.CompilerServices;

namespace AutoGrad.Autodiff;

/// <summary>
/// What every op asks after it runs, kept in one object per thread: the recording tape, whether implicit recording is
/// blocked, and the innermost forward-mode level computing tangents. A thread-static read costs a call into the
/// runtime's thread-local storage here (<c>__tls_get_addr</c>); reading one object instead of three fields makes it one
/// call per op. The values mirror the logical call context (<see cref="Tape"/>'s and <see cref="DualLevel"/>'s
/// <see cref="AsyncLocal{T}"/> handlers write them).
/// </summary>
internal sealed class RecordingContext
{
    [ThreadStatic]
    private static RecordingContext? s_current;

    /// <summary>The tape recording in this thread's logical call context, or null.</summary>
    public Tape? Tape;

    /// <summary>True while a scope without a tape is current (NoGrad, a custom op's forward): no implicit recording.</summary>
    public bool ImplicitBlocked;

    /// <summary>The innermost forward-mode level whose tangents ops compute now, or null.</summary>
    public DualLevel? Innermost;

    /// <summary>This thread's context.</summary>
    public static RecordingContext Current
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => s_current ?? Create();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static RecordingContext Create() => s_current = new RecordingContext();
}
