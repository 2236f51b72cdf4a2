using System.Numerics;

namespace AutoGrad.Kernels;

/// <summary>
/// When to stop offering work to the pool's workers for a while. A run in which no worker arrived before the calling
/// thread had claimed every item is an absence (with many workers, one that joined makes the run shared). On this
/// project's 2-vCPU VM, in some phases, the worker misses most runs and the caller, doing every item itself, still runs
/// slower than on one thread (an LSTM training step at 52–57 ms with the worker absent from 140 of its 199 runs,
/// against 35 ms on one thread): most likely the host then time-slices the two vCPUs on one physical core, so the
/// spinning worker takes half of the caller's time (the VM reports no steal time to confirm it). Running alone for a
/// while lets the worker fall asleep and hand the core back. The back-off starts at about one LSTM step's worth of
/// runs, doubles while the absences go on, and is short again once the workers have joined
/// <see cref="PresentToReset"/> runs in a row.
/// </summary>
internal sealed class WorkerBackOff
{
    /// <summary>Of the last 16 runs, this many absences start a back-off.</summary>
    public const int AbsentOfSixteen = 8;

    /// <summary>Runs of the first back-off.</summary>
    public const int First = 256;

    /// <summary>The longest back-off, in runs.</summary>
    public const int Longest = 16384;

    /// <summary>Runs in a row with the workers present after which the next back-off is <see cref="First"/> again.</summary>
    public const int PresentToReset = 64;

    private uint _absences;
    private int _presentStreak;
    private int _next = First;

    /// <summary>Notes one run; returns how many of the following runs should stay on the calling thread (0: none).</summary>
    /// <param name="absent">Whether the run's workers never arrived.</param>
    /// <returns>Runs to keep on the calling thread.</returns>
    public int Record(bool absent)
    {
        _absences = (_absences << 1) | (absent ? 1u : 0u);
        _presentStreak = absent ? 0 : _presentStreak + 1;
        if (_presentStreak >= PresentToReset)
        {
            _next = First;
        }

        if (BitOperations.PopCount(_absences & 0xFFFF) < AbsentOfSixteen)
        {
            return 0;
        }

        var runs = _next;
        _next = Math.Min(2 * _next, Longest);
        _absences = 0;
        return runs;
    }
}
