using AutoGrad.Tensors;

namespace AutoGrad.Autodiff;

/// <summary>
/// The reverse sweep for a batch of cotangents at once (PyTorch's <c>is_grads_batched</c>): every gradient carries a
/// leading axis of cotangents. Ops with a batched rule (matrix products: one GEMM for every cotangent) run it; the
/// others run their fast backward kernel once per cotangent on views of the blocks. One walk over the nodes instead
/// of one per cotangent, which is what a reverse Jacobian's rows cost before.
/// </summary>
public sealed partial class Tape
{
    /// <summary>
    /// <see cref="Gradient(Tensor, IReadOnlyList{Tensor}, Tensor?, bool, bool, bool)"/> with batched cotangents: one
    /// batched sweep, results owned (zeros for an input the output does not depend on).
    /// </summary>
    private Tensor[] BatchedGradients(Tensor output, IReadOnlyList<Tensor> inputs, Tensor cotangents, int batch, int[] nodes, bool retainGraph)
    {
        Tensor?[] gradients;
        using (NoGrad())
        {
            gradients = BatchedSweep(output, cotangents, batch, nodes);
        }

        _gradientsTaken = !retainGraph;
        var results = new Tensor[nodes.Length];
        for (var i = 0; i < results.Length; i++)
        {
            var input = inputs[i];
            var gradient = gradients[i];
            if (gradient is null || ReferenceEquals(gradient.Storage, cotangents.Storage))
            {
                // No gradient arrived, or it is the caller's cotangents themselves (an input that is the output, or a view of it).
                results[i] = Tensor.Zeros(Batched(input.Shape, batch), input.DType);
                gradient?.CopyBlockTo(results[i], 0);
            }
            else
            {
                results[i] = gradient;
            }
        }

        return results;
    }

    /// <summary>The number of cotangents in a batched output gradient, after checking its shape, type and values.</summary>
    private static int CheckBatchedGradient(Tensor output, Tensor? outputGradient, bool createGraph)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (createGraph)
        {
            throw new NotSupportedException(
                "Gradient: isGradsBatched does not record the sweep (createGraph). Take differentiable gradients one cotangent at a time, " +
                "or call Functional.Jacobian while this tape records.");
        }

        if (outputGradient is null)
        {
            throw new ArgumentException(
                $"Gradient: isGradsBatched needs outputGradient, the cotangents stacked on a leading axis: (B, …) before the output's shape {output.Shape}.",
                nameof(outputGradient));
        }

        var dims = outputGradient.Shape.Dims;
        if (dims.Length != output.Rank + 1 || dims[0] == 0 || !dims[1..].SequenceEqual(output.Shape.Dims))
        {
            throw new ShapeMismatchException(
                $"Gradient: with isGradsBatched, outputGradient must be B ≥ 1 cotangents of the output's shape {output.Shape} on a leading axis; it has shape {outputGradient.Shape}.");
        }

        if (outputGradient.DType != output.DType)
        {
            throw new DTypeMismatchException($"Gradient: outputGradient is {outputGradient.DType.Name()} but the output is {output.DType.Name()}.");
        }

        outputGradient.EnsureAlive("Gradient");
        if (outputGradient.FirstNonFinite() is { } value)
        {
            throw new ArgumentException($"Gradient: outputGradient holds {Describe(value)}, not a finite number.", nameof(outputGradient));
        }

        return dims[0];
    }

    /// <summary>
    /// The batched gradients of <paramref name="output"/> with respect to the nodes <paramref name="targets"/>, given
    /// <paramref name="batch"/> cotangents stacked on a leading axis. The sweep visits only nodes between the earliest
    /// target and the output, and computes only gradients that lead to a target. Results are tensors where results go
    /// now (the caller's scope), of shape (batch, target's shape); null where none arrived. Nothing is recorded.
    /// </summary>
    /// <param name="output">A tensor this tape tracks.</param>
    /// <param name="cotangents">(batch, output's shape), of the output's type.</param>
    /// <param name="batch">The number of cotangents.</param>
    /// <param name="targets">Nodes of this tape (−1 for none).</param>
    /// <returns>One batched gradient per target, or null.</returns>
    internal Tensor?[] BatchedSweep(Tensor output, Tensor cotangents, int batch, int[] targets)
    {
        var results = new Tensor?[targets.Length];
        var root = NodeIndexOf(output);
        var lowest = int.MaxValue;
        foreach (var target in targets)
        {
            lowest = target >= 0 ? Math.Min(lowest, target) : lowest;
        }

        if (root < 0 || lowest > root)
        {
            return results;
        }

        var leads = LeadsToTargets(targets, lowest, root);
        if (!leads[root - lowest])
        {
            return results;
        }

        bool Needed(int node) => node >= lowest && leads[node - lowest];

        var gradients = new Tensor?[root - lowest + 1];
        gradients[root - lowest] = cotangents;
        for (var i = root; i >= lowest; i--)
        {
            if (gradients[i - lowest] is not { } upstream || _nodes[i].Op is LeafOp)
            {
                continue;
            }

            // A copy whose inputs that lead to no target lose their node, so that no rule computes their gradients.
            var node = _nodes[i];
            CheckInputsUnchanged(i, node);
            node.InA = Needed(node.InA) ? node.InA : -1;
            node.InB = Needed(node.InB) ? node.InB : -1;
            if (node.InC >= 0 && !Needed(node.InC))
            {
                node.Args = node.Args.WithThirdNode(-1);
            }

            var (a, b, c, many) = node.Op.VjpBatch(node, upstream, batch) ?? CotangentByCotangent(node, upstream, batch);
            Add(node.InA, a);
            Add(node.InB, b);
            Add(node.InC, c);
            for (var k = 0; many is not null && k < many.Count; k++)
            {
                Add(node.Args.InputNodes![k], many[k]);
            }
        }

        for (var t = 0; t < targets.Length; t++)
        {
            results[t] = targets[t] >= 0 ? gradients[targets[t] - lowest] : null;
        }

        return results;

        void Add(int node, Tensor? gradient)
        {
            if (gradient is not null && Needed(node))
            {
                ref var slot = ref gradients[node - lowest];
                slot = slot is { } existing ? GradientSum.Add(existing, gradient) : gradient;
            }
        }
    }

    /// <summary>
    /// Which nodes from <paramref name="lowest"/> to <paramref name="root"/> depend on a target (the targets included):
    /// only their gradients lead anywhere. One pass in recording order.
    /// </summary>
    private bool[] LeadsToTargets(int[] targets, int lowest, int root)
    {
        var leads = new bool[root - lowest + 1];
        foreach (var target in targets)
        {
            if (target >= lowest && target <= root)
            {
                leads[target - lowest] = true;
            }
        }

        bool Leads(int node) => node >= lowest && leads[node - lowest];

        for (var i = lowest; i <= root; i++)
        {
            ref readonly var node = ref _nodes[i];
            if (leads[i - lowest])
            {
                continue;
            }

            var any = Leads(node.InA) || Leads(node.InB) || Leads(node.InC);
            if (!any && node.Args.InputNodes is { } inputs)
            {
                foreach (var input in inputs)
                {
                    any |= Leads(input);
                }
            }

            leads[i - lowest] = any;
        }

        return leads;
    }

    /// <summary>
    /// The batched gradients of an op with no batched rule: its fast backward kernel once per cotangent, reading and
    /// writing views of the blocks; for an op with any number of inputs, its rule written in ops once per cotangent.
    /// </summary>
    private static InputGradients CotangentByCotangent(in Node node, Tensor upstream, int batch)
    {
        var output = node.Output;
        if (node.Args.Inputs is { } inputs)
        {
            var many = new Tensor?[inputs.Length];
            for (var k = 0; k < batch; k++)
            {
                var gradients = node.Op.Differentiate(node, upstream.View(output.Shape, k * output.Length)).Many;
                for (var j = 0; gradients is not null && j < many.Length; j++)
                {
                    if (gradients[j] is { } gradient)
                    {
                        many[j] ??= Tensor.Zeros(Batched(inputs[j].Shape, batch), inputs[j].DType);
                        gradient.CopyBlockTo(many[j]!, k * inputs[j].Length);
                    }
                }
            }

            return new InputGradients(null, Many: many);
        }

        var staged = StageForKernel(node);
        Tensor? a = BatchedFor(node.InA, node.A, batch), b = BatchedFor(node.InB, node.B, batch), c = BatchedFor(node.InC, node.C, batch);
        for (var k = 0; k < batch; k++)
        {
            RunStagedRule(staged, upstream.View(output.Shape, k * output.Length), Block(a, node.A, k), Block(b, node.B, k), Block(c, node.C, k));
        }

        return new InputGradients(a, b, c);
    }

    private static Tensor? BatchedFor(int node, Tensor? input, int batch) =>
        node >= 0 ? Tensor.Uninitialized(input!.DType, Shape.Create(Batched(input.Shape, batch))) : null;

    private static int[] Batched(Shape shape, int batch) => [batch, .. shape.Dims];
}
