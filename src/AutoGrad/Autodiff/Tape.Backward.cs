using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

using AutoGrad.Tensors;

using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace AutoGrad.Autodiff;

/// <summary>The reverse sweep: gradient slots per node, and the public gradient calls.</summary>
public sealed partial class Tape
{
    /// <summary>Per node: where its output's gradient lives in the arena, or a null array while none has arrived.</summary>
    private GradientSlot[] _slots = [];

    /// <summary>During <see cref="Backward(Tensor, Tensor?, bool)"/>: the parameters whose gradient this sweep writes in place.</summary>
    private readonly List<(Tensor Leaf, int Node)> _claims = [];

    /// <summary>
    /// Gradients of a one-element <paramref name="output"/> with respect to each of <paramref name="inputs"/>.
    /// </summary>
    /// <param name="output">A tensor with exactly one element (a loss), recorded on this tape.</param>
    /// <param name="inputs">Tensors this tape tracks (watched, <see cref="Tensor.RequiresGrad"/>, or recorded results).</param>
    /// <returns>One gradient per input, each with its input's shape and owning its memory; zeros for an input the output does not depend on.</returns>
    /// <exception cref="InvalidOperationException">The output is not a scalar, an input is not tracked, or gradients were already taken.</exception>
    public Tensor[] Gradient(Tensor output, params Tensor[] inputs) => Gradient(output, inputs, outputGradient: null, retainGraph: false);

    /// <summary>
    /// The vector-Jacobian product: gradients with respect to <paramref name="inputs"/> of Σ outputGradient ⊙ output.
    /// </summary>
    /// <param name="output">A tensor recorded on this tape.</param>
    /// <param name="inputs">Tensors this tape tracks.</param>
    /// <param name="outputGradient">The upstream gradient, with <paramref name="output"/>'s shape and type; null means 1 for a one-element output.</param>
    /// <param name="retainGraph">Keep the tape usable for another gradient call.</param>
    /// <returns>One owned gradient per input, zeros for an input the output does not depend on.</returns>
    /// <param name="createGraph">
    /// Record the backward computation itself on this tape, so the returned gradients are tensors on it that can be
    /// differentiated again (second and higher derivatives). Implies <paramref name="retainGraph"/>.
    /// </param>
    /// <param name="isGradsBatched">
    /// PyTorch's <c>is_grads_batched</c>: <paramref name="outputGradient"/> holds B upstream gradients stacked on a
    /// leading axis, (B, output's shape), and each returned gradient has that axis too, (B, input's shape). One sweep
    /// serves them all: matrix products take every cotangent in one GEMM, other ops run their kernel per cotangent.
    /// Not with <paramref name="createGraph"/> (take those one cotangent at a time, or use <c>Functional.Jacobian</c>).
    /// </param>
    public Tensor[] Gradient(Tensor output, IReadOnlyList<Tensor> inputs, Tensor? outputGradient = null, bool retainGraph = false, bool createGraph = false, bool isGradsBatched = false)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var batch = isGradsBatched ? CheckBatchedGradient(output, outputGradient, createGraph) : 0;
        var root = PrepareSweep(output, batch > 0 ? outputGradient!.View(output.Shape) : outputGradient, "Gradient");
        var nodes = new int[inputs.Count];
        for (var i = 0; i < nodes.Length; i++)
        {
            var input = inputs[i] ?? throw new ArgumentNullException(nameof(inputs), $"Gradient: input {i} is null.");
            nodes[i] = Track(input, "Gradient");
            if (nodes[i] < 0)
            {
                throw new InvalidOperationException(
                    $"Gradient: input {i} (a {input.DType.Name()} tensor of shape {input.Shape}) is not tracked by this tape. " +
                    "Call tape.Watch(x) or set x.RequiresGrad = true before using it.");
            }
        }

        if (batch > 0)
        {
            return BatchedGradients(output, inputs, outputGradient!, batch, nodes, retainGraph);
        }

        if (createGraph)
        {
            var recorded = RecordedSweep(root, output, outputGradient);
            return [.. nodes.Select((node, i) => node < recorded.Length && recorded[node] is { } g ? g : Tensor.ZerosLike(inputs[i]))];
        }

        Sweep(root, output, outputGradient);
        var result = new Tensor[nodes.Length];
        for (var i = 0; i < nodes.Length; i++)
        {
            result[i] = CopyGradient(nodes[i], inputs[i]);
        }

        _gradientsTaken = !retainGraph;
        return result;
    }

    /// <summary>
    /// The reverse sweep with every rule written in ops (<see cref="Op.Differentiate"/>) while this tape records, so
    /// the gradients are themselves nodes on the tape. Nodes the sweep appends lie past the root and are not visited.
    /// </summary>
    private Tensor?[] RecordedSweep(int root, Tensor output, Tensor? outputGradient, int lowest = 0)
    {
        var gradients = new Tensor?[_count];
        if (root < 0)
        {
            return gradients;
        }

        var previous = s_scope.Value;
        s_scope.Value = _recording;
        try
        {
            gradients[root] = outputGradient ?? Tensor.Full(1, output.Shape.Dims, output.DType);
            for (var i = root; i >= lowest; i--)
            {
                if (gradients[i] is not { } upstream)
                {
                    continue;
                }

                // A copy, not a reference: the ops below append nodes.
                var node = _nodes[i];
                CheckInputsUnchanged(i, node);

                var (a, b, c, many) = node.Op.Differentiate(node, upstream);
                Accumulate(gradients, node.InA, a);
                Accumulate(gradients, node.InB, b);
                Accumulate(gradients, node.InC, c);
                for (var k = 0; many is not null && k < many.Count; k++)
                {
                    Accumulate(gradients, node.Args.InputNodes![k], many[k]);
                }
            }
        }
        finally
        {
            s_scope.Value = previous;
        }

        return gradients;
    }

    /// <summary>
    /// Gradients of <paramref name="output"/> (times <paramref name="outputGradient"/>) with respect to tracked
    /// <paramref name="inputs"/>, as tensors over this tape's gradient slots: no copies, valid until the tape is reset
    /// (a checkpoint's recomputation, whose gradients go on into the main tape's slots). An input given a target has its
    /// gradient written straight into that memory instead (its result is then null, and <c>Written</c> says whether any
    /// gradient arrived); others get null where none arrived.
    /// </summary>
    internal (Tensor? View, bool Written)[] GradientViews(Tensor output, Tensor[] inputs, Tensor outputGradient, (Array Storage, int Offset)?[] targets)
    {
        var root = PrepareSweep(output, outputGradient, "Gradient");
        var nodes = inputs.Select(input => Track(input, "Gradient")).ToArray();
        ResetSlots();
        for (var i = 0; i < nodes.Length; i++)
        {
            if (targets[i] is { } target && nodes[i] >= 0)
            {
                // Pending: the first gradient to arrive is written into the target, as into a claimed parameter gradient.
                _slots[nodes[i]] = new GradientSlot(target.Storage, target.Offset, Pending: true);
            }
        }

        RunSweep(root, output, outputGradient);
        _gradientsTaken = true;
        var results = new (Tensor?, bool)[nodes.Length];
        for (var i = 0; i < nodes.Length; i++)
        {
            var node = nodes[i];
            results[i] = node < 0 ? (null, false)
                : targets[i] is not null ? (null, !_slots[node].Pending)
                : (_slots[node].Array is null ? null : UpstreamTensor(node), false);
        }

        return results;
    }

    /// <summary>
    /// Adds a gradient computed elsewhere (a custom op's rule, a checkpoint's recomputation) to node
    /// <paramref name="node"/>'s slot: written there when the slot is empty, added when it already holds one.
    /// </summary>
    /// <param name="node">The input's node on this tape.</param>
    /// <param name="gradient">The gradient, of the node's shape and element type.</param>
    internal void AddGradient(int node, Tensor gradient) => ElementType.Dispatch(gradient.DType, new AddInto(this, node, gradient));

    private readonly struct AddInto(Tape tape, int node, Tensor gradient) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var target = tape.BeginGradient<T>(node);
            gradient.Data<T>().CopyTo(target.Span);
            tape.Commit(target);
        }
    }

    /// <summary>
    /// For a rule that has another tape compute its input's gradient: the input's slot memory, and whether a gradient is
    /// already there (add to it) or not (overwrite it; the slot is claimed for this one).
    /// </summary>
    internal (Array Storage, int Offset, bool Accumulate) SummedGradientSlot<T>(int node)
        where T : unmanaged
    {
        BeginSummedGradient<T>(node, out var accumulate);
        var slot = _slots[node];
        return (slot.Array!, slot.Offset, accumulate);
    }

    /// <summary>
    /// Recorded gradients of <paramref name="output"/> with respect to <paramref name="inputs"/>, from a sweep that stops
    /// at the earliest input: what lies before them is not visited (a checkpoint's recomputed segment, whose inputs are
    /// identity views of tensors earlier on the tape). Null for an input the tape does not track or the output does not reach.
    /// </summary>
    internal Tensor?[] RecordedGradients(Tensor output, Tensor outputGradient, Tensor[] inputs)
    {
        var root = NodeIndexOf(output);
        var nodes = inputs.Select(NodeIndexOf).ToArray();
        var lowest = nodes.Where(n => n >= 0).DefaultIfEmpty(0).Min();
        var gradients = root < 0 ? [] : RecordedSweep(root, output, outputGradient, lowest);
        return [.. nodes.Select(n => n >= 0 && n < gradients.Length ? gradients[n] : null)];
    }

    private static void Accumulate(Tensor?[] gradients, int node, Tensor? gradient)
    {
        if (node >= 0 && gradient is not null)
        {
            gradients[node] = gradients[node] is { } existing ? GradientSum.Add(existing, gradient) : gradient;
        }
    }

    /// <summary>
    /// Backpropagates a one-element <paramref name="loss"/> and adds the gradient of every tracked tensor with
    /// <see cref="Tensor.RequiresGrad"/> to its <see cref="Tensor.Grad"/> (created on first use), as PyTorch's
    /// <c>loss.backward()</c> does. Accumulation is deliberate: zero the gradients between steps (optimizers do).
    /// </summary>
    /// <param name="loss">A one-element tensor recorded on this tape.</param>
    public void Backward(Tensor loss) => Backward(loss, outputGradient: null, retainGraph: false);

    /// <summary>Like <see cref="Backward(Tensor)"/>, with an upstream gradient and the option to keep the tape usable.</summary>
    /// <param name="output">A tensor recorded on this tape.</param>
    /// <param name="outputGradient">The upstream gradient (output's shape and type), or null for a one-element output.</param>
    /// <param name="retainGraph">Keep the tape usable for another gradient call.</param>
    public void Backward(Tensor output, Tensor? outputGradient, bool retainGraph)
    {
        var root = PrepareSweep(output, outputGradient, "Backward");
        ResetSlots();

        // Parameters whose gradient was zeroed get their slot pointed at that gradient's memory (pending until the
        // first gradient arrives), so the backward rules write it in place: no zero fill, no arena copy, no adding pass.
        _claims.Clear();
        foreach (var (leaf, node) in _leaves)
        {
            if (leaf.RequiresGrad && leaf.ClaimGradientToOverwrite() is { } buffer)
            {
                _claims.Add((leaf, node));
                _slots[node] = new GradientSlot(buffer.Storage, buffer.StorageOffset, Pending: true);
            }
        }

        var completed = false;
        try
        {
            RunSweep(root, output, outputGradient);
            completed = true;
        }
        finally
        {
            // First the claims (a claimed buffer received the gradient unless its slot is still pending), releasing
            // every one; only then the additions below, which may wait for another thread's claim. Waiting while
            // holding no claim of one's own cannot deadlock. After a failed sweep a claimed buffer may hold part of a
            // gradient; released unwritten, it still counts as zero.
            foreach (var (leaf, node) in _claims)
            {
                leaf.ReleaseGradient(written: completed && !_slots[node].Pending);
                _slots[node] = default; // done: the additions below skip it
            }
        }

        foreach (var (leaf, node) in _leaves)
        {
            var slot = _slots[node];
            if (!leaf.RequiresGrad || slot.Array is null)
            {
                continue;
            }

            ElementType.Dispatch(leaf.DType, new SlotStep(this, node, leaf, SlotStep.Kind.Accumulate));
        }

        _gradientsTaken = !retainGraph;
    }

    /// <summary>The gradient of node <paramref name="index"/>'s output, read by its op's backward rule.</summary>
    internal ReadOnlySpan<T> Upstream<T>(int index)
        where T : unmanaged => Slot<T>(index, _nodes[index].Output.Length);

    /// <summary>The same as an array segment, for a rule that hands the work to other threads (a span cannot go with it).</summary>
    internal ArraySegment<T> UpstreamSegment<T>(int index)
        where T : unmanaged
    {
        var slot = _slots[index];
        return new ArraySegment<T>(Unsafe.As<T[]>(slot.Array!), slot.Offset, _nodes[index].Output.Length);
    }

    /// <summary>
    /// Where a backward rule writes the gradient for input node <paramref name="node"/>: the node's own slot when it
    /// has none yet, else scratch memory that <see cref="Commit{T}"/> adds into the slot (fan-out accumulates).
    /// </summary>
    internal GradientTarget<T> BeginGradient<T>(int node)
        where T : unmanaged
    {
        var length = _nodes[node].Output.Length;
        ref var slot = ref _slots[node];
        if (slot.Pending)
        {
            // A claimed parameter gradient: the first gradient to arrive is written straight into it.
            slot = slot with { Pending = false };
            return new GradientTarget<T>(new ArraySegment<T>(Unsafe.As<T[]>(slot.Array!), slot.Offset, length), node, isScratch: false);
        }

        var segment = _arena.Allocate<T>(length);
        if (slot.Array is null)
        {
            slot = new GradientSlot(segment.Array!, segment.Offset);
            return new GradientTarget<T>(segment, node, isScratch: false);
        }

        return new GradientTarget<T>(segment, node, isScratch: true);
    }

    /// <summary>
    /// For a rule that can add its result into memory as it computes it (a matrix product with accumulation): the
    /// input's own slot, with <paramref name="accumulate"/> false when this is its first gradient (overwrite it) and
    /// true when an earlier one is there (add into it). No scratch buffer and no extra pass: an LSTM's recurrent
    /// weight gets T products added straight into one slot.
    /// </summary>
    internal Span<T> BeginSummedGradient<T>(int node, out bool accumulate)
        where T : unmanaged
    {
        var length = _nodes[node].Output.Length;
        ref var slot = ref _slots[node];
        accumulate = !slot.Pending && slot.Array is not null;
        if (slot.Pending)
        {
            slot = slot with { Pending = false };
        }
        else if (slot.Array is null)
        {
            var segment = _arena.Allocate<T>(length);
            slot = new GradientSlot(segment.Array!, segment.Offset);
        }

        return new Span<T>(Unsafe.As<T[]>(slot.Array!), slot.Offset, length);
    }

    /// <summary>
    /// For a rule whose gradient is zero outside a region of its input (Slice, Crop): the input's own slot, cleared when
    /// this is its first gradient (<paramref name="fresh"/>: the rule copies its region in), else the slot as it stands (the rule
    /// adds its region in place). Either way the rule touches only its region after the one clearing, so an LSTM's T
    /// steps, each a slice of the same projected input, cost T regions rather than T whole tensors.
    /// </summary>
    internal Span<T> BeginRegionGradient<T>(int node, out bool fresh)
        where T : unmanaged
    {
        var length = _nodes[node].Output.Length;
        ref var slot = ref _slots[node];
        if (slot.Pending || slot.Array is null)
        {
            if (slot.Pending)
            {
                slot = slot with { Pending = false };
            }
            else
            {
                var segment = _arena.Allocate<T>(length);
                slot = new GradientSlot(segment.Array!, segment.Offset);
            }

            var cleared = new Span<T>(Unsafe.As<T[]>(slot.Array!), slot.Offset, length);
            cleared.Clear();
            fresh = true;
            return cleared;
        }

        fresh = false;
        return new Span<T>(Unsafe.As<T[]>(slot.Array), slot.Offset, length);
    }

    /// <summary>The gradient of node <paramref name="index"/>'s output as a tensor over the slot's memory (no tape tracks it).</summary>
    internal Tensor UpstreamTensor(int index)
    {
        var slot = _slots[index];
        var output = _nodes[index].Output;
        return Tensor.OverStorage(slot.Array!, slot.Offset, output.Shape, output.DType, _arena);
    }

    /// <summary>Temporary memory for a backward rule, valid until the tape is reset.</summary>
    internal Span<T> Scratch<T>(int length)
        where T : unmanaged => _arena.Allocate<T>(length).AsSpan();

    /// <summary>Finishes a gradient started with <see cref="BeginGradient{T}"/>: adds scratch into the slot.</summary>
    internal void Commit<T>(in GradientTarget<T> target)
        where T : unmanaged, INumberBase<T>
    {
        if (target.IsScratch)
        {
            var slot = Slot<T>(target.Node, target.Span.Length);
            TensorPrimitives.Add(slot, target.Span, slot);
        }
    }

    private int PrepareSweep(Tensor output, Tensor? outputGradient, string op)
    {
        ArgumentNullException.ThrowIfNull(output);
        ThrowIfDisposed(op);
        if (_gradientsTaken)
        {
            throw new InvalidOperationException(
                $"{op}: gradients were already computed from this tape. Pass retainGraph: true to the first call to compute them " +
                "again, or Reset() the tape and record the computation anew.");
        }

        if (outputGradient is null)
        {
            if (output.Length != 1)
            {
                throw new ShapeMismatchException(
                    $"{op}: the output has shape {output.Shape}, not one element; pass outputGradient of that shape for a vector-Jacobian product.");
            }
        }
        else
        {
            if (outputGradient.Shape != output.Shape)
            {
                throw new ShapeMismatchException($"{op}: outputGradient has shape {outputGradient.Shape} but the output has shape {output.Shape}.");
            }

            if (outputGradient.DType != output.DType)
            {
                throw new DTypeMismatchException($"{op}: outputGradient is {outputGradient.DType.Name()} but the output is {output.DType.Name()}.");
            }

            outputGradient.EnsureAlive(op);
            if (outputGradient.FirstNonFinite() is { } value)
            {
                // A non-finite seed turns every gradient into NaN or infinity; refuse it rather than return them.
                throw new ArgumentException($"{op}: outputGradient holds {Describe(value)}, not a finite number.", nameof(outputGradient));
            }
        }

        var root = Track(output, op);
        if (root < 0)
        {
            throw new InvalidOperationException(NotRecordedMessage(output, op));
        }

        return root;
    }

    /// <summary>
    /// Why a sweep from <paramref name="output"/> would compute nothing, as PyTorch says "element 0 of tensors does not
    /// require grad and does not have a grad_fn": every gradient would be zero, which is never what the caller meant.
    /// </summary>
    private string NotRecordedMessage(Tensor output, string op)
    {
        var what = $"the output (a {output.DType.Name()} tensor of shape {output.Shape})";
        if (output.Arena == _arena)
        {
            return $"{op}: {what} does not depend on any tensor this tape tracks, so every gradient would be zero. " +
                "Set RequiresGrad = true on the parameters (Module.RegisterParameter does) or call tape.Watch(x) before using them.";
        }

        return $"{op}: {what} was not recorded on this tape: it was computed before the tape was created, under NoGrad, " +
            "or from tensors that need no gradient, so every gradient would be zero. Compute it while the tape is current, " +
            "from parameters with RequiresGrad = true (or watched tensors).";
    }

    /// <summary>Clears every node's gradient slot (sized to the nodes recorded) before a sweep.</summary>
    private void ResetSlots()
    {
        if (_slots.Length < _count)
        {
            _slots = new GradientSlot[Math.Max(_count, Math.Min(2 * _slots.Length, 1 << 20))];
        }
        else
        {
            Array.Clear(_slots, 0, _count);
        }
    }

    /// <summary>Seeds the output's slot and runs every node's backward rule, last recorded first.</summary>
    private void Sweep(int root, Tensor output, Tensor? outputGradient)
    {
        ResetSlots();
        RunSweep(root, output, outputGradient);
    }

    private void RunSweep(int root, Tensor output, Tensor? outputGradient)
    {
        if (root < 0)
        {
            // The output depends on nothing tracked: every gradient is zero.
            return;
        }

        ElementType.Dispatch(output.DType, new SlotStep(this, root, outputGradient, SlotStep.Kind.Seed));

        for (var i = root; i >= 0; i--)
        {
            if (_slots[i].Array is null || _slots[i].Pending)
            {
                continue;
            }

            ref readonly var node = ref _nodes[i];
            if ((node.Versions != 0 && node.Versions != 1 + (node.A?.Version ?? 0) + (node.B?.Version ?? 0)) || node.Args.HasReference)
            {
                // Rare: a changed first or second input, or an op with more inputs or state (checked in full).
                CheckInputsUnchanged(i, node);
            }

            node.Op.Backward(this, i, in node);
            if (DetectAnomalies)
            {
                CheckBackward(i);
            }
        }
    }

    /// <summary>
    /// Throws when an input the node's backward rule reads was written after the node was recorded (its version
    /// grew), or when the labels of a loss were changed: the rule would compute the gradient of a function that was
    /// never evaluated. PyTorch raises the same error for tensors modified in place.
    /// </summary>
    private static void CheckInputsUnchanged(int index, in Node node)
    {
        if (node.Versions != 0 && node.Versions != CurrentVersions(node))
        {
            var inputs = string.Join(", ", Inputs(node).Select(t => $"a {t.DType.Name()} tensor of shape {t.Shape} at version {t.Version}"));
            throw new InvalidOperationException(
                $"Backward: {node.Op.Name} (node {index} of the tape) reads its inputs again, but one of them was written after it was recorded " +
                $"({inputs}; the versions summed to {node.Versions - 1} then). Record the computation again after changing a tensor, or change a Clone() of it.");
        }

        node.Args.Referenced?.VerifyUnchanged(node.Op.Name, index);
    }

    /// <summary>1 + the sum of the versions of the inputs a backward rule reads; 0 for ops whose rules read no input.</summary>
    internal static int CurrentVersions(in Node node) => node.Op.ReadsInputs ? 1 + VersionSum(node) : 0;

    private static int VersionSum(in Node node)
    {
        var sum = (node.A?.Version ?? 0) + (node.B?.Version ?? 0) + (node.C?.Version ?? 0);
        if (node.Args.Inputs is { } many)
        {
            foreach (var input in many)
            {
                sum += input.Version;
            }
        }

        return sum;
    }

    private static IEnumerable<Tensor> Inputs(Node node) =>
        node.Args.Inputs ?? new[] { node.A, node.B, node.C }.Where(t => t is not null).Select(t => t!);

    private void Seed<T>(int root, Tensor? outputGradient)
        where T : unmanaged, INumberBase<T>
    {
        var target = BeginGradient<T>(root);
        if (outputGradient is null)
        {
            target.Span.Fill(T.One);
        }
        else
        {
            outputGradient.Data<T>().CopyTo(target.Span);
        }
    }

    private Tensor CopyGradient(int node, Tensor like)
    {
        var result = Tensor.ZerosLike(like);
        if (_slots[node].Array is null)
        {
            return result;
        }

        ElementType.Dispatch(like.DType, new SlotStep(this, node, result, SlotStep.Kind.CopyOut));
        return result;
    }

    /// <summary>One element-typed step on a node's gradient slot.</summary>
    /// <param name="tape">The tape.</param>
    /// <param name="node">The node whose slot is read or seeded.</param>
    /// <param name="tensor">The leaf to accumulate into, the output gradient to seed from (null: ones), or the copy to fill.</param>
    /// <param name="kind">Which step.</param>
    private readonly struct SlotStep(Tape tape, int node, Tensor? tensor, SlotStep.Kind kind) : IElementAction
    {
        public enum Kind
        {
            /// <summary>Add the slot into the leaf's <see cref="Tensor.Grad"/>.</summary>
            Accumulate,

            /// <summary>Start the sweep: the slot holds the output gradient (ones when none is given).</summary>
            Seed,

            /// <summary>Copy the slot into a fresh tensor.</summary>
            CopyOut,
        }

        public void Run<T>()
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            switch (kind)
            {
                case Kind.Accumulate:
                    tensor!.AccumulateGradient<T>(tape.Slot<T>(node, tensor.Length));
                    break;
                case Kind.Seed:
                    tape.Seed<T>(node, tensor);
                    break;
                default:
                    tape.Slot<T>(node, tensor!.Length).CopyTo(tensor.Data<T>());
                    break;
            }
        }
    }

    private Span<T> Slot<T>(int node, int length)
        where T : unmanaged
    {
        var slot = _slots[node];
        return MemoryMarshal.CreateSpan(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(Unsafe.As<T[]>(slot.Array!)), slot.Offset), length);
    }

    private void ClearGradients() => Array.Clear(_slots);

    /// <summary>Where a node's gradient lives; <paramref name="Pending"/> marks a claimed parameter gradient nothing has reached yet.</summary>
    private readonly record struct GradientSlot(Array? Array, int Offset, bool Pending = false);
}

/// <summary>A gradient buffer being written by a backward rule; see <see cref="Tape.BeginGradient{T}(int)"/>.</summary>
/// <typeparam name="T">The element type.</typeparam>
internal readonly ref struct GradientTarget<T>
{
    public GradientTarget(ArraySegment<T> segment, int node, bool isScratch)
    {
        Segment = segment;
        Node = node;
        IsScratch = isScratch;
    }

    /// <summary>The buffer to overwrite with the gradient.</summary>
    public Span<T> Span => Segment.AsSpan();

    /// <summary>The same buffer as an array segment, for work handed to other threads.</summary>
    public ArraySegment<T> Segment { get; }

    public int Node { get; }

    public bool IsScratch { get; }
}
