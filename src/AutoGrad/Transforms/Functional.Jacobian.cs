using AutoGrad.Operations;
using AutoGrad.Tensors;

namespace AutoGrad.Transforms;

/// <summary>Jacobians and Hessians: many sweeps over one recording of the function.</summary>
public static partial class Functional
{
    /// <summary>
    /// How many columns one forward sweep, or rows one reverse sweep, carries: enough to batch the products, few enough
    /// to bound memory.
    /// </summary>
    private const int VectorsPerSweep = 128;

    /// <summary>
    /// The Jacobian of <paramref name="function"/> at <paramref name="x"/>: J[i…, j…] = ∂fᵢ/∂xⱼ, of shape
    /// f(x).shape + x.shape. The function runs once; then reverse sweeps over the recorded graph, each carrying a batch
    /// of cotangents (PyTorch's <c>is_grads_batched</c>), give the rows, or forward sweeps, each carrying a batch of
    /// directions, give the columns.
    /// </summary>
    /// <param name="function">The function.</param>
    /// <param name="x">Where to evaluate it.</param>
    /// <param name="mode">Rows, columns, or (<see cref="JacobianMode.Auto"/>) whichever takes fewer sweeps.</param>
    /// <returns>The Jacobian.</returns>
    /// <exception cref="InvalidOperationException">The function's output does not depend on x.</exception>
    public static Tensor Jacobian(Func<Tensor, Tensor> function, Tensor x, JacobianMode mode = JacobianMode.Auto)
    {
        ArgumentNullException.ThrowIfNull(function);
        CheckTensors([x], "Jacobian", nameof(x));
        if (!Enum.IsDefined(mode))
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode, $"Jacobian: {mode} is not a JacobianMode.");
        }

        using var scope = new TransformScope("Jacobian");
        var view = scope.Inputs([x])[0];
        var output = scope.Run(inputs => function(inputs[0]), [view]);
        var forward = mode == JacobianMode.Forward || (mode == JacobianMode.Auto && x.Length < output.Length);
        using (scope.Quiet())
        {
            var jacobian = forward ? Columns(scope, view, output) : Rows(scope, view, output);
            return scope.Escape(jacobian);
        }
    }

    /// <summary>
    /// The Hessian of a function with a one-element output: H[i…, j…] = ∂²f/∂xᵢ∂xⱼ, of shape x.shape + x.shape. Forward
    /// over reverse: the gradient is recorded once, then forward sweeps over that recording, a batch of directions each,
    /// give the columns, without running the function again.
    /// </summary>
    /// <param name="function">The function; its output must have one element.</param>
    /// <param name="x">Where to evaluate it.</param>
    /// <returns>The Hessian.</returns>
    public static Tensor Hessian(Func<Tensor, Tensor> function, Tensor x)
    {
        ArgumentNullException.ThrowIfNull(function);
        CheckTensors([x], "Hessian", nameof(x));
        using var scope = new TransformScope("Hessian");
        var view = scope.Inputs([x])[0];
        var gradient = RecordedGradient(scope, "Hessian", function, view);
        using (scope.Quiet())
        {
            return scope.Escape(Columns(scope, view, gradient));
        }
    }

    /// <summary>
    /// The Hessian-vector product H·v of a function with a one-element output, forward over reverse: one recorded
    /// gradient and one forward sweep over it, about the cost of two gradients, with no Hessian formed.
    /// </summary>
    /// <param name="function">The function; its output must have one element.</param>
    /// <param name="x">Where to evaluate it.</param>
    /// <param name="v">The vector, of x's shape and type.</param>
    /// <returns>H·v, of x's shape.</returns>
    public static Tensor Hvp(Func<Tensor, Tensor> function, Tensor x, Tensor v)
    {
        ArgumentNullException.ThrowIfNull(function);
        CheckTensors([x], "Hvp", nameof(x));
        CheckLike(v, x, "Hvp", "v", "x");
        using var scope = new TransformScope("Hvp");
        var view = scope.Inputs([x])[0];
        var gradient = RecordedGradient(scope, "Hvp", function, view);
        using (scope.Quiet())
        {
            var product = scope.Tape.ForwardSweep([(scope.Tape.NodeIndexOf(view), v)], gradient) ?? Tensor.ZerosLike(x);
            return scope.Escape(product);
        }
    }

    /// <summary>f's gradient at the view, recorded on the scope's tape so that forward sweeps can run over it.</summary>
    private static Tensor RecordedGradient(TransformScope scope, string transform, Func<Tensor, Tensor> function, Tensor view)
    {
        var output = scope.Run(inputs => function(inputs[0]), [view]);
        RequireScalar(output, transform);
        return scope.Tape.Gradient(output, [view], createGraph: true)[0];
    }

    /// <summary>
    /// ∂output/∂view column by column: forward sweeps over the recording, each carrying a batch of unit directions (one
    /// per column) so that matrix products see many columns at once, then one transpose.
    /// </summary>
    private static Tensor Columns(TransformScope scope, Tensor view, Tensor output)
    {
        var seed = scope.Tape.NodeIndexOf(view);
        int n = view.Length, m = output.Length;

        // Batches are assembled by copying, which nothing records: only when no one differentiates the Jacobian.
        if (scope.RecordsGradients)
        {
            var columns = new Tensor[n];
            for (var j = 0; j < n; j++)
            {
                columns[j] = scope.Tape.ForwardSweep([(seed, Basis(view, j))], output) ?? Tensor.ZerosLike(output);
            }

            var stacked = Ops.Reshape(Ops.Stack(columns, 0), n, m);
            return Ops.Reshape(Ops.Transpose(stacked), [.. output.Shape.Dims, .. view.Shape.Dims]);
        }

        // Jᵀ, a batch of its rows per sweep.
        var transposed = InBatches(n, m, output.DType, (start, batch) => scope.Tape.ForwardSweep([(seed, BasisBlock(view, start, batch))], output, batch));
        return Ops.Reshape(Ops.Transpose(transposed), [.. output.Shape.Dims, .. view.Shape.Dims]);
    }

    /// <summary>
    /// A (count, width) matrix whose rows come a batch at a time from <paramref name="sweep"/> (given the first row and
    /// the batch's size; null for zero rows), each sweep's intermediates in a scratch arena recycled after it.
    /// </summary>
    private static Tensor InBatches(int count, int width, DType dtype, Func<int, int, Tensor?> sweep)
    {
        var matrix = Tensor.Zeros([count, width], dtype);
        var scratch = ScratchTapes.Rent();
        try
        {
            for (var start = 0; start < count; start += VectorsPerSweep)
            {
                var batch = Math.Min(VectorsPerSweep, count - start);
                using (scratch.Enter(record: false))
                {
                    sweep(start, batch)?.CopyBlockTo(matrix, start * width);
                }

                scratch.Reset();
            }
        }
        finally
        {
            ScratchTapes.Return(scratch);
        }

        return matrix;
    }

    /// <summary>Unit directions start … start + batch − 1 of <paramref name="like"/>'s shape, stacked on a leading axis, where results go now.</summary>
    private static Tensor BasisBlock(Tensor like, int start, int batch)
    {
        var block = Tensor.Uninitialized(like.DType, Shape.Create([batch, .. like.Shape.Dims]));
        ElementType.Dispatch(like.DType, new UnitRows(block, start, like.Length));
        return block;
    }

    private readonly struct UnitRows(Tensor block, int start, int width) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            var values = block.Raw<T>();
            values.Clear();
            for (var k = 0; k < values.Length / width; k++)
            {
                values[(k * width) + start + k] = T.One;
            }
        }
    }

    /// <summary>
    /// ∂output/∂view row by row: reverse sweeps over the recording, each carrying a batch of unit cotangents (one per
    /// row), so that matrix products see many rows at once and the walk over the nodes is shared. Per row, with rules
    /// written in ops, when the Jacobian itself is differentiated.
    /// </summary>
    private static Tensor Rows(TransformScope scope, Tensor view, Tensor output)
    {
        Tensor rows;
        if (scope.RecordsGradients)
        {
            var each = new Tensor[output.Length];
            for (var i = 0; i < each.Length; i++)
            {
                each[i] = scope.Tape.Gradient(output, [view], Basis(output, i), createGraph: true)[0];
            }

            rows = Ops.Stack(each, 0);
        }
        else
        {
            int[] target = [scope.Tape.NodeIndexOf(view)];
            rows = InBatches(output.Length, view.Length, output.DType, (start, batch) => scope.Tape.BatchedSweep(output, BasisBlock(output, start, batch), batch, target)[0]);
        }

        return Ops.Reshape(rows, [.. output.Shape.Dims, .. view.Shape.Dims]);
    }

    /// <summary>The index-th unit tensor of <paramref name="like"/>'s shape and type, owned.</summary>
    private static Tensor Basis(Tensor like, int index)
    {
        var values = new double[like.Length];
        values[index] = 1;
        return Tensor.FromArray(values, like.DType, like.Shape.Dims);
    }
}
