using AutoGrad.Tensors;

namespace AutoGrad.Nn;

/// <summary>
/// A recurrent layer's final state, kept from one call to the next in one owned buffer that each call overwrites:
/// the layer hands out copies (<see cref="Snapshot"/>, made only when read; <see cref="Start"/>, in the tape's arena
/// while one records), so that no tensor a caller or a tape holds ever changes, and a training step copies the state
/// once into memory it already has instead of allocating a new tensor.
/// </summary>
internal sealed class CarriedState
{
    private Tensor? _buffer;
    private Tensor? _snapshot;
    private bool _held;

    /// <summary>An owned copy of the last call's final state (the same object until the next call), or null when none is held.</summary>
    public Tensor? Snapshot => _held ? _snapshot ??= _buffer!.Clone() : null;

    /// <summary>Keeps <paramref name="state"/>'s values as the final state of the call that just ran.</summary>
    /// <param name="state">The state, (N, H).</param>
    public void Keep(Tensor state)
    {
        if (_buffer is null || _buffer.Shape != state.Shape || _buffer.DType != state.DType)
        {
            _buffer = Tensor.ZerosLike(state);
        }

        state.CopyTo(_buffer);
        _snapshot = null;
        _held = true;
    }

    /// <summary>A copy of the held state for a call to start from (in the current tape's arena, if any), or null when none is held.</summary>
    /// <returns>The copy, which no tape tracks.</returns>
    public Tensor? Start() => _held ? _buffer!.CopyToNew() : null;

    /// <summary>Forgets the state: the next call starts from zeros.</summary>
    public void Forget()
    {
        _held = false;
        _snapshot = null;
    }
}
