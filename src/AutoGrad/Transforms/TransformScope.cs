using AutoGrad.Autodiff;
using AutoGrad.Tensors;

namespace AutoGrad.Transforms;

/// <summary>
/// Where a transform records the function it differentiates. Inside a tape's scope it records there, so its results
/// are tensors on that tape and differentiate again (a Hessian as the Jacobian of a gradient, say); otherwise on a tape
/// of its own, whose results leave it as owned copies with their tangents at any open <see cref="DualLevel"/>.
/// </summary>
internal sealed class TransformScope : IDisposable
{
    private readonly Tape? _own;
    private readonly NoGradScope _entered;
    private readonly string _transform;
    private bool _kept;

    public TransformScope(string transform)
    {
        _transform = transform;
        if (Tape.Current is { } outer)
        {
            Tape = outer;
        }
        else
        {
            _own = ScratchTapes.Rent();
            _entered = _own.Enter(record: true);
            Tape = _own;
        }
    }

    /// <summary>The tape the function is recorded on.</summary>
    public Tape Tape { get; }

    /// <summary>True when the tape is the transform's own (so results must be copied out before it ends).</summary>
    public bool IsOwn => _own is not null;

    /// <summary>
    /// Whether gradients must be recorded (<c>createGraph</c>): on a caller's tape, so the caller can differentiate
    /// them; under an open forward-mode level, so they carry tangents.
    /// </summary>
    public bool RecordsGradients => !IsOwn || DualLevel.IsActive;

    /// <summary>
    /// The inputs as the function will see them: views recorded as the identity of each input, tracked on the tape, so
    /// the caller's tensors are never watched or changed.
    /// </summary>
    public Tensor[] Inputs(IReadOnlyList<Tensor> inputs)
    {
        var views = new Tensor[inputs.Count];
        for (var i = 0; i < views.Length; i++)
        {
            views[i] = Tape.Watch(DualIdentity.Apply(inputs[i]));
        }

        return views;
    }

    /// <summary>Runs the function on the inputs' views and checks what it returns.</summary>
    public Tensor Run(Func<Tensor[], Tensor> function, Tensor[] views)
    {
        var output = function(views) ?? throw new InvalidOperationException($"{_transform}: the function returned null.");
        output.EnsureAlive(_transform);
        if (Tape.NodeIndexOf(output) < 0)
        {
            throw new InvalidOperationException(
                $"{_transform}: the function's {output.DType.Name()} output of shape {output.Shape} does not depend on its input, so it has " +
                "no derivative to take. Compute it from the tensor the function is given (not from a Clone(), Detach() or a captured copy).");
        }

        return output;
    }

    /// <summary>A result as the caller receives it: itself on the caller's tape, else an owned copy with its tangents.</summary>
    public Tensor Escape(Tensor result) => IsOwn && result.IsTapeOwned ? DualLevel.CopyWithTangents(result) : result;

    /// <summary>
    /// A scope for work after the function ran: on the transform's own tape nothing more is recorded (and results are
    /// owned), on the caller's tape everything is, so the caller can differentiate it.
    /// </summary>
    public IDisposable? Quiet() => IsOwn ? Tape.NoGrad() : null;

    /// <summary>
    /// Keeps the transform's own tape for a pullback that sweeps it later: it stops being current but keeps its graph,
    /// and is never lent out again. Dispose then leaves it alone.
    /// </summary>
    public Tape? Keep()
    {
        if (_own is not null && !_kept)
        {
            _entered.Dispose();
            _kept = true;
        }

        return _own;
    }

    public void Dispose()
    {
        if (_own is not null && !_kept)
        {
            _kept = true;
            _entered.Dispose();
            ScratchTapes.Return(_own);
        }
    }
}
