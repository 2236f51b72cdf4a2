using AutoGrad.Tensors;

namespace AutoGrad.Autodiff;

/// <summary>
/// A differentiable operation's backward rule. Each op is a stateless singleton defined in the same file as its
/// forward computation; nodes point at it, so the reverse sweep is one virtual call per node and no closures.
/// </summary>
internal abstract class Op
{
    protected Op(string name, bool readsInputs = true)
    {
        Name = name;
        ReadsInputs = readsInputs;
    }

    /// <summary>The op's public name, as messages and graph pictures show it.</summary>
    public string Name { get; }

    /// <summary>
    /// Whether the backward rules read the inputs' values (Multiply does, Add does not): only then does a write to an
    /// input between forward and backward make the gradient wrong, and only then does the tape check for one.
    /// </summary>
    public bool ReadsInputs { get; }

    /// <summary>
    /// Adds the gradients of the node's inputs (those with a node index ≥ 0) to the tape, given the gradient of its
    /// output (<see cref="Tape.Upstream{T}(int)"/>).
    /// </summary>
    /// <param name="tape">The tape running the sweep.</param>
    /// <param name="index">This node's index on the tape.</param>
    /// <param name="node">The node.</param>
    public abstract void Backward(Tape tape, int index, in Node node);

    /// <summary>
    /// The same rule written with ops, so that a sweep that records (<c>createGraph: true</c>) makes the gradients
    /// differentiable again. Returns the gradients of the inputs that need one (null for the others).
    /// </summary>
    /// <param name="node">The node.</param>
    /// <param name="upstream">The gradient of the node's output, a tensor on the recording tape.</param>
    /// <returns>The inputs' gradients.</returns>
    public abstract InputGradients Differentiate(in Node node, Tensor upstream);

    /// <summary>
    /// The forward-mode rule (a Jacobian-vector product): the output's tangent, given the tangents of the node's inputs
    /// (null for an input whose tangent is zero), written with ops so that it differentiates again (forward over forward,
    /// reverse over forward). <see cref="DualLevel"/> calls it for every op that runs on a tensor with a tangent.
    /// </summary>
    /// <param name="node">The node: the op's inputs, output and state, as its backward rules see them.</param>
    /// <param name="tangents">The inputs' tangents, in input order.</param>
    /// <returns>The output's tangent, of its shape and type.</returns>
    public abstract Tensor Jvp(in Node node, InputTangents tangents);

    /// <summary>
    /// The forward-mode rule for a batch of tangents at once (a Jacobian's or Hessian's columns): each tangent has a
    /// leading axis of <paramref name="batch"/> directions before its input's shape, and so has the result. Null when
    /// the op has no batched rule, or it does not apply here; the sweep then runs <see cref="Jvp"/> per direction.
    /// </summary>
    /// <param name="node">The node.</param>
    /// <param name="tangents">The inputs' batched tangents (null where zero).</param>
    /// <param name="batch">The number of directions.</param>
    /// <returns>The output's batched tangent, of shape (batch, output's shape), or null.</returns>
    public virtual Tensor? JvpBatch(in Node node, InputTangents tangents, int batch) => null;

    /// <summary>
    /// The backward rule for a batch of cotangents at once (PyTorch's <c>is_grads_batched</c>; a reverse Jacobian's
    /// rows): <paramref name="upstream"/> has a leading axis of <paramref name="batch"/> cotangents before the output's
    /// shape, and each input's gradient gets one before its input's shape. Only inputs with a node (≥ 0) get one. Null
    /// when the op has no batched rule, or it does not apply here; the sweep then runs the fast backward kernel once per
    /// cotangent. Written with ops, but never differentiated again: a sweep that records runs per cotangent.
    /// </summary>
    /// <param name="node">The node, its unneeded inputs' nodes set to −1.</param>
    /// <param name="upstream">The output's batched gradient, (batch, output's shape).</param>
    /// <param name="batch">The number of cotangents.</param>
    /// <returns>The inputs' batched gradients, or null.</returns>
    public virtual InputGradients? VjpBatch(in Node node, Tensor upstream, int batch) => null;

    /// <summary>
    /// Writes the node as ONNX (<c>Onnx.Export</c>): nodes on <paramref name="graph"/> computing its output from its
    /// inputs' values. An op without an ONNX form throws, naming itself.
    /// </summary>
    /// <param name="node">The node, recorded in evaluation mode.</param>
    /// <param name="graph">The graph being built.</param>
    /// <returns>The name of the value holding the node's output.</returns>
    /// <exception cref="NotSupportedException">The op has no ONNX form.</exception>
    public virtual string Onnx(in Node node, IOnnxGraph graph) =>
        throw new NotSupportedException($"{Name} has no ONNX form, so a model that uses it cannot be exported.");

    /// <inheritdoc/>
    public override string ToString() => Name;
}

/// <summary>The gradients a differentiable backward rule returns for a node's inputs (null where none is needed).</summary>
/// <param name="A">The first input's gradient.</param>
/// <param name="B">The second input's gradient.</param>
/// <param name="C">The third input's gradient.</param>
/// <param name="Many">For ops with any number of inputs (<see cref="NodeArgs.Inputs"/>): one gradient per input.</param>
internal readonly record struct InputGradients(Tensor? A, Tensor? B = null, Tensor? C = null, IReadOnlyList<Tensor?>? Many = null);

/// <summary>The tangents of a node's inputs for a forward-mode rule (null where an input's tangent is zero).</summary>
/// <param name="A">The first input's tangent.</param>
/// <param name="B">The second input's tangent.</param>
/// <param name="C">The third input's tangent.</param>
/// <param name="Many">For ops with any number of inputs: one tangent per input.</param>
/// <param name="Quiet">
/// Nothing will differentiate the tangent the rule computes (no outer forward-mode level, no tape or implicit graph
/// tracking the inputs or the tangents), so the rule may compute it with kernels instead of ops. The caller knows this
/// from what it already read; false is always safe.
/// </param>
internal readonly record struct InputTangents(Tensor? A, Tensor? B = null, Tensor? C = null, IReadOnlyList<Tensor?>? Many = null, bool Quiet = false);

/// <summary>A watched input: a leaf of the graph, whose gradient the sweep collects and passes on to nobody.</summary>
internal sealed class LeafOp : Op
{
    public static readonly LeafOp Instance = new();

    private LeafOp()
        : base("Input", readsInputs: false)
    {
    }

    public override void Backward(Tape tape, int index, in Node node)
    {
    }

    public override InputGradients Differentiate(in Node node, Tensor upstream) => default;

    public override Tensor Jvp(in Node node, InputTangents tangents) => Tensor.ZerosLike(node.Output);
}

/// <summary>A backward rule written once for both element types; see <see cref="Op{TRule}"/>.</summary>
internal interface IBackwardRule
{
    /// <summary>The rule for element type <typeparamref name="T"/>: read the upstream gradient, write the inputs' gradients.</summary>
    static abstract void Backward<T>(Tape tape, int index, in Node node)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>;

    /// <summary>The same rule written with ops, for gradients that are differentiated again (see <see cref="Op.Differentiate"/>).</summary>
    static abstract InputGradients Differentiate(in Node node, Tensor upstream);

    /// <summary>
    /// The forward-mode rule (see <see cref="Op.Jvp"/>), beside the two backward rules: abstract, so an op cannot be
    /// added without one.
    /// </summary>
    static abstract Tensor Jvp(in Node node, InputTangents tangents);

    /// <summary>The forward-mode rule for a batch of directions (see <see cref="Op.JvpBatch"/>); none by default.</summary>
    static virtual Tensor? JvpBatch(in Node node, InputTangents tangents, int batch) => null;

    /// <summary>The backward rule for a batch of cotangents (see <see cref="Op.VjpBatch"/>); none by default.</summary>
    static virtual InputGradients? VjpBatch(in Node node, Tensor upstream, int batch) => null;

    /// <summary>The node as ONNX (see <see cref="Op.Onnx"/>); null when the op has no ONNX form.</summary>
    static virtual string? Onnx(in Node node, IOnnxGraph graph) => null;
}

/// <summary>
/// An op whose backward rule is the struct <typeparamref name="TRule"/>. The JIT specializes the rule for float and
/// double, so dispatch costs one type test and no generic virtual lookup.
/// </summary>
/// <typeparam name="TRule">The rule.</typeparam>
internal sealed class Op<TRule> : Op
    where TRule : struct, IBackwardRule
{
    public Op(string name, bool readsInputs = true)
        : base(name, readsInputs)
    {
    }

    public override void Backward(Tape tape, int index, in Node node) =>
        ElementType.Dispatch(node.Output.DType, new Sweep(tape, index, in node));

    public override InputGradients Differentiate(in Node node, Tensor upstream) => TRule.Differentiate(node, upstream);

    public override Tensor Jvp(in Node node, InputTangents tangents) => TRule.Jvp(node, tangents);

    public override Tensor? JvpBatch(in Node node, InputTangents tangents, int batch) => TRule.JvpBatch(node, tangents, batch);

    public override InputGradients? VjpBatch(in Node node, Tensor upstream, int batch) => TRule.VjpBatch(node, upstream, batch);

    public override string Onnx(in Node node, IOnnxGraph graph) => TRule.Onnx(node, graph) ?? base.Onnx(node, graph);

    /// <summary>The rule's call for one node, by reference: the 64-byte node is never copied.</summary>
    private readonly ref struct Sweep : IElementAction
    {
        private readonly Tape _tape;
        private readonly int _index;
        private readonly ref readonly Node _node;

        public Sweep(Tape tape, int index, ref readonly Node node)
        {
            _tape = tape;
            _index = index;
            _node = ref node;
        }

        public void Run<T>()
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> => TRule.Backward<T>(_tape, _index, in _node);
    }
}
