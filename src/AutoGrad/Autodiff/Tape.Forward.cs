using AutoGrad.Tensors;

namespace AutoGrad.Autodiff;

/// <summary>
/// A forward sweep over the recorded nodes (JAX's <c>linearize</c>): the tangent of one tensor given tangents of
/// earlier ones, from each op's forward-mode rule, without running the ops' values again. Recording once and sweeping
/// once per direction is how a Jacobian's columns and a Hessian's (forward over the recorded gradient) come cheap.
/// </summary>
public sealed partial class Tape
{
    /// <summary>The node of a tensor this tape tracks, without tracking anything new: −1 when it does not.</summary>
    internal int NodeIndexOf(Tensor tensor)
    {
        if (tensor.Arena == _arena)
        {
            return tensor.IsAlive ? tensor.Node : -1;
        }

        if (_leaves.Count > 0 && _leaves.TryGetValue(tensor, out var node))
        {
            return node;
        }

        return tensor.RecordedBy is ImplicitNode { ReplayTape: { } replay } recorded && replay == this ? recorded.ReplayIndex : -1;
    }

    /// <summary>
    /// The tangent of <paramref name="target"/> when the nodes <paramref name="seeds"/> name move along their tangents
    /// and nothing else does: each node between them and the target gets its tangent from its op's rule. Null when the
    /// target does not depend on the seeds (a zero tangent). The rules' ops record wherever the caller's scope says.
    /// </summary>
    /// <param name="seeds">Nodes of this tape and their tangents, each of the node's shape and type (with a leading batch axis when batched).</param>
    /// <param name="target">A tensor this tape tracks.</param>
    /// <param name="batch">0 for one direction; otherwise the number of directions every tangent holds along a leading
    /// axis: each op's batched rule runs where it has one, its plain rule once per direction where not.</param>
    /// <returns>The target's tangent, or null for zero.</returns>
    internal Tensor? ForwardSweep(ReadOnlySpan<(int Node, Tensor Tangent)> seeds, Tensor target, int batch = 0)
    {
        ThrowIfDisposed("ForwardSweep");
        var last = NodeIndexOf(target);
        if (last < 0 || seeds.Length == 0)
        {
            return null;
        }

        var first = int.MaxValue;
        foreach (var (node, _) in seeds)
        {
            first = Math.Min(first, node);
        }

        if (first > last)
        {
            return null;
        }

        var tangents = new Tensor?[last - first + 1];
        foreach (var (node, tangent) in seeds)
        {
            if (node <= last)
            {
                tangents[node - first] = tangents[node - first] is { } other ? GradientSum.Add(other, tangent) : tangent;
            }
        }

        Tensor? At(int node) => node >= first ? tangents[node - first] : null;

        // The rules' results are differentiated again only by a level outside the sweep or a tape recording its ops.
        var context = RecordingContext.Current;
        var quiet = context.Innermost is null && context.Tape is null;
        for (var i = first; i <= last; i++)
        {
            if (tangents[i - first] is not null)
            {
                continue;
            }

            // A copy, not a reference: a rule's ops may append nodes when the caller records on this tape.
            var node = _nodes[i];
            Tensor? ta = At(node.InA), tb = At(node.InB), tc = At(node.InC);
            Tensor?[]? many = null;
            var any = ta is not null || tb is not null || tc is not null;
            if (node.Args.InputNodes is { } inputNodes)
            {
                many = new Tensor?[inputNodes.Length];
                for (var k = 0; k < inputNodes.Length; k++)
                {
                    many[k] = At(inputNodes[k]);
                    any |= many[k] is not null;
                }
            }

            if (any)
            {
                var inputs = new InputTangents(ta, tb, tc, many, quiet);
                tangents[i - first] = batch == 0 ? node.Op.Jvp(node, inputs) : node.Op.JvpBatch(node, inputs, batch) ?? DirectionByDirection(node, inputs, batch);
            }
        }

        return tangents[last - first];
    }

    /// <summary>
    /// A batched tangent from an op's plain rule, run once per direction on views of the directions' blocks, each result
    /// copied into its block of the output's batched tangent.
    /// </summary>
    private static Tensor DirectionByDirection(in Node node, InputTangents tangents, int batch)
    {
        var output = node.Output;
        var result = Tensor.Uninitialized(output.DType, Shape.Create([batch, .. output.Shape.Dims]));
        for (var k = 0; k < batch; k++)
        {
            Tensor?[]? many = null;
            if (tangents.Many is { } all)
            {
                many = new Tensor?[all.Count];
                for (var i = 0; i < many.Length; i++)
                {
                    many[i] = Block(all[i], node.Args.Inputs![i], k);
                }
            }

            var one = node.Op.Jvp(node, new InputTangents(Block(tangents.A, node.A, k), Block(tangents.B, node.B, k), Block(tangents.C, node.C, k), many, tangents.Quiet));
            one.CopyBlockTo(result, k * output.Length);
        }

        return result;
    }

    /// <summary>Direction <paramref name="k"/> of a batched tangent, a view with its input's shape; null stays null.</summary>
    private static Tensor? Block(Tensor? batched, Tensor? input, int k) => batched?.View(input!.Shape, k * input.Length);

    /// <summary>A leaf with <see cref="Tensor.RequiresGrad"/> that is none of <paramref name="inputs"/>, or null.</summary>
    internal Tensor? HiddenParameter(Tensor[] inputs)
    {
        foreach (var leaf in _leaves.Keys)
        {
            if (leaf.RequiresGrad && Array.IndexOf(inputs, leaf) < 0)
            {
                return leaf;
            }
        }

        return null;
    }
}
