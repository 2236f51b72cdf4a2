using System.Numerics;
using System.Runtime.InteropServices;

using AutoGrad.Autodiff;
using AutoGrad.Kernels;
using AutoGrad.Tensors;

using static AutoGrad.Operations.OpSamples;

using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace AutoGrad.Operations;

/// <summary>Broadcasting add, subtract, multiply and divide, with their scalar forms and negation.</summary>
public static partial class Ops
{
    /// <summary>a + b with NumPy broadcasting. ∂/∂a = sum_to(g, a.shape), ∂/∂b = sum_to(g, b.shape).</summary>
    /// <param name="a">The first operand.</param>
    /// <param name="b">The second operand.</param>
    /// <returns>The sum, of the broadcast shape.</returns>
    public static Tensor Add(Tensor a, Tensor b) => Binary(s_add, a, b);

    /// <summary>a − b with broadcasting. ∂/∂a = sum_to(g), ∂/∂b = −sum_to(g).</summary>
    /// <param name="a">The minuend.</param>
    /// <param name="b">The subtrahend.</param>
    /// <returns>The difference, of the broadcast shape.</returns>
    public static Tensor Subtract(Tensor a, Tensor b) => Binary(s_subtract, a, b);

    /// <summary>a ⊙ b (elementwise) with broadcasting. ∂/∂a = sum_to(g ⊙ b), ∂/∂b = sum_to(g ⊙ a).</summary>
    /// <param name="a">The first factor.</param>
    /// <param name="b">The second factor.</param>
    /// <returns>The product, of the broadcast shape.</returns>
    public static Tensor Multiply(Tensor a, Tensor b) => Binary(s_multiply, a, b);

    /// <summary>a ⊘ b (elementwise) with broadcasting. ∂/∂a = sum_to(g ⊘ b), ∂/∂b = −sum_to(g ⊙ y ⊘ b).</summary>
    /// <param name="a">The dividend.</param>
    /// <param name="b">The divisor.</param>
    /// <returns>The quotient, of the broadcast shape.</returns>
    public static Tensor Divide(Tensor a, Tensor b) => Binary(s_divide, a, b);

    /// <summary>
    /// The larger of a and b, elementwise with broadcasting; NaN propagates. ∂a = sum_to(g where a &gt; b), ∂b likewise;
    /// at a tie each gets half (PyTorch's choice, so the two gradients still sum to g).
    /// </summary>
    /// <param name="a">The first tensor.</param>
    /// <param name="b">The second tensor.</param>
    /// <returns>The elementwise maximum, of the broadcast shape.</returns>
    public static Tensor Maximum(Tensor a, Tensor b) => Binary(s_maximum, a, b);

    /// <summary>The smaller of a and b, elementwise with broadcasting; NaN propagates; half the gradient each at a tie.</summary>
    /// <param name="a">The first tensor.</param>
    /// <param name="b">The second tensor.</param>
    /// <returns>The elementwise minimum, of the broadcast shape.</returns>
    public static Tensor Minimum(Tensor a, Tensor b) => Binary(s_minimum, a, b);

    /// <summary>x + s. ∂/∂x = g.</summary>
    /// <param name="x">The tensor.</param>
    /// <param name="s">The scalar.</param>
    /// <returns>The sum.</returns>
    public static Tensor Add(Tensor x, double s) => ScalarOp(ScalarArithmetic.Add, x, s, "Add");

    /// <summary>x − s. ∂/∂x = g.</summary>
    /// <param name="x">The tensor.</param>
    /// <param name="s">The scalar.</param>
    /// <returns>The difference.</returns>
    public static Tensor Subtract(Tensor x, double s) => ScalarOp(ScalarArithmetic.Add, x, -s, "Subtract");

    /// <summary>s − x. ∂/∂x = −g.</summary>
    /// <param name="s">The scalar.</param>
    /// <param name="x">The tensor.</param>
    /// <returns>The difference.</returns>
    public static Tensor Subtract(double s, Tensor x) => ScalarOp(ScalarArithmetic.SubtractFrom, x, s, "Subtract");

    /// <summary>x · s. ∂/∂x = s·g.</summary>
    /// <param name="x">The tensor.</param>
    /// <param name="s">The scalar.</param>
    /// <returns>The product.</returns>
    public static Tensor Multiply(Tensor x, double s) => ScalarOp(ScalarArithmetic.Multiply, x, s, "Multiply");

    /// <summary>x / s. ∂/∂x = g / s.</summary>
    /// <param name="x">The tensor.</param>
    /// <param name="s">The scalar divisor.</param>
    /// <returns>The quotient.</returns>
    public static Tensor Divide(Tensor x, double s) => ScalarOp(ScalarArithmetic.DivideBy, x, s, "Divide");

    /// <summary>s / x. ∂/∂x = −g ⊙ y ⊘ x.</summary>
    /// <param name="s">The scalar dividend.</param>
    /// <param name="x">The tensor divisor.</param>
    /// <returns>The quotient.</returns>
    public static Tensor Divide(double s, Tensor x) => ScalarOp(ScalarArithmetic.DivideInto, x, s, "Divide");

    /// <summary>−x. ∂/∂x = −g.</summary>
    /// <param name="x">The tensor.</param>
    /// <returns>The negation.</returns>
    public static Tensor Negate(Tensor x) => ScalarOp(ScalarArithmetic.SubtractFrom, x, 0, "Negate");

    private static Tensor Binary(Op op, Tensor a, Tensor b)
    {
        Check.NotNull(a, op.Name, nameof(a));
        Check.NotNull(b, op.Name, nameof(b));
        Check.SameType(a, b, op.Name);
        Shape shape;
        if (a.Shape == b.Shape || b.Length == 1 && a.Rank >= b.Rank)
        {
            shape = a.Shape;
        }
        else if (a.Length == 1 && b.Rank >= a.Rank)
        {
            shape = b.Shape;
        }
        else
        {
            var dims = Broadcast.ResultDims(a.Shape.Dims, b.Shape.Dims)
                ?? throw new ShapeMismatchException($"{op.Name}: shapes {a.Shape} and {b.Shape} cannot be broadcast together.");
            shape = Shape.FromOwned(dims, op.Name, a.Shape, b.Shape);
        }

        var y = Tensor.Uninitialized(a.DType, shape);
        ElementType.Dispatch(a.DType, new BinaryForward(op, a, b, y));

        Tape.Record(op, y, a, b);
        return y;
    }

    private readonly struct BinaryForward(Op op, Tensor a, Tensor b, Tensor y) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            ReadOnlySpan<T> x1 = a.Raw<T>(), x2 = b.Raw<T>();
            var d = y.Raw<T>();
            ReadOnlySpan<int> da = a.Shape.Dims, db = b.Shape.Dims, dy = y.Shape.Dims;
            if (op == s_add)
            {
                Broadcast.Binary<T, BinaryKernels.Add<T>>(x1, da, x2, db, d, dy);
            }
            else if (op == s_subtract)
            {
                Broadcast.Binary<T, BinaryKernels.Subtract<T>>(x1, da, x2, db, d, dy);
            }
            else if (op == s_multiply)
            {
                Broadcast.Binary<T, BinaryKernels.Multiply<T>>(x1, da, x2, db, d, dy);
            }
            else if (op == s_maximum)
            {
                Broadcast.Binary<T, BinaryKernels.Maximum<T>>(x1, da, x2, db, d, dy);
            }
            else if (op == s_minimum)
            {
                Broadcast.Binary<T, BinaryKernels.Minimum<T>>(x1, da, x2, db, d, dy);
            }
            else
            {
                Broadcast.Binary<T, BinaryKernels.Divide<T>>(x1, da, x2, db, d, dy);
            }
        }
    }

    private static Tensor ScalarOp(ScalarArithmetic kind, Tensor x, double s, string name)
    {
        Check.NotNull(x, name, nameof(x));
        Check.Finite(s, name, nameof(s));
        var y = Tensor.Uninitialized(x.DType, x.Shape);
        ElementType.Dispatch(x.DType, new ScalarForward(kind, x, s, y));

        Tape.Record(s_scalarArithmetic, y, x, null, null, new NodeArgs { Axis = (int)kind, Scalar = s });
        return y;
    }

    private readonly struct ScalarForward(ScalarArithmetic kind, Tensor xTensor, double sValue, Tensor yTensor) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            ReadOnlySpan<T> x = xTensor.Raw<T>();
            var s = T.CreateTruncating(sValue);
            Span<T> y = yTensor.Raw<T>();
            switch (kind)
            {
                case ScalarArithmetic.Add:
                    TensorPrimitives.Add(x, s, y);
                    break;
                case ScalarArithmetic.SubtractFrom:
                    TensorPrimitives.Subtract(s, x, y);
                    break;
                case ScalarArithmetic.Multiply:
                    TensorPrimitives.Multiply(x, s, y);
                    break;
                case ScalarArithmetic.DivideBy:
                    TensorPrimitives.Divide(x, s, y);
                    break;
                default:
                    TensorPrimitives.Divide(s, x, y);
                    break;
            }
        }
    }

    /// <summary>Writes sum_to(f, input shape) as the gradient of input node <paramref name="node"/>, negated when asked.</summary>
    private static void ReduceInto<T>(Tape tape, int node, ReadOnlySpan<T> full, ReadOnlySpan<int> fullDims, Tensor input, bool negate = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!negate || input.Length == full.Length)
        {
            // g summed to the input's shape (g itself when nothing was broadcast), written into the input's slot or
            // added to what is there in the same pass (a parameter used many times, a bias shared by the steps of a
            // recurrence, a residual connection) instead of into scratch and then added in a second pass.
            var slot = tape.BeginSummedGradient<T>(node, out var accumulate);
            if (!negate)
            {
                Broadcast.SumTo(full, fullDims, slot, input.Shape.Dims, accumulate);
            }
            else if (accumulate)
            {
                TensorPrimitives.Subtract(slot, full, slot);
            }
            else
            {
                TensorPrimitives.Negate(full, slot);
            }

            return;
        }

        // A broadcast subtrahend: its sums negated in scratch (or in its fresh slot), then added.
        var target = tape.BeginGradient<T>(node);
        Broadcast.SumTo(full, fullDims, target.Span, input.Shape.Dims);
        TensorPrimitives.Negate(target.Span, target.Span);
        tape.Commit(target);
    }

    /// <summary>The gradient g ⊙ other (or g ⊘ other) for input node <paramref name="node"/>, reduced to the input's shape.</summary>
    private static void ProductInto<T>(Tape tape, int node, ReadOnlySpan<T> g, ReadOnlySpan<int> gDims, Tensor other, Tensor input, bool divide)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!divide && input.Length == g.Length && other.Length == g.Length)
        {
            // Nothing broadcast: g ⊙ other goes straight into the input's slot, or is added to it in the same pass
            // ((g·other) + slot, rounded as the product and the sum were before, in two passes).
            var slot = tape.BeginSummedGradient<T>(node, out var accumulate);
            if (accumulate)
            {
                TensorPrimitives.MultiplyAdd(g, other.Raw<T>(), slot, slot);
            }
            else
            {
                TensorPrimitives.Multiply(g, other.Raw<T>(), slot);
            }

            return;
        }

        var target = tape.BeginGradient<T>(node);
        var full = input.Length == g.Length ? target.Span : tape.Scratch<T>(g.Length);
        if (divide)
        {
            Broadcast.Binary<T, BinaryKernels.Divide<T>>(g, gDims, other.Raw<T>(), other.Shape.Dims, full, gDims);
        }
        else
        {
            Broadcast.Binary<T, BinaryKernels.Multiply<T>>(g, gDims, other.Raw<T>(), other.Shape.Dims, full, gDims);
        }

        if (input.Length != g.Length)
        {
            Broadcast.SumTo<T>(full, gDims, target.Span, input.Shape.Dims);
        }

        tape.Commit(target);
    }

    private enum ScalarArithmetic
    {
        Add,
        SubtractFrom,
        Multiply,
        DivideBy,
        DivideInto,
    }

    private static readonly Op s_add = new Op<AddRule>("Add", readsInputs: false);
    private static readonly Op s_subtract = new Op<AddRule>("Subtract", readsInputs: false);
    private static readonly Op s_multiply = new Op<MultiplyRule>("Multiply");
    private static readonly Op s_divide = new Op<DivideRule>("Divide");
    private static readonly Op s_scalarArithmetic = new Op<ScalarArithmeticRule>("ScalarArithmetic");
    private static readonly Op s_maximum = new Op<ExtremumRule<BinaryKernels.GreaterWeight<float>, BinaryKernels.GreaterWeight<double>>>("Maximum");
    private static readonly Op s_minimum = new Op<ExtremumRule<BinaryKernels.LessWeight<float>, BinaryKernels.LessWeight<double>>>("Minimum");

    /// <summary>
    /// Maximum's and Minimum's rule: each input gets g weighted by how much of the output it is (1, ½ at a tie, or 0),
    /// reduced to its shape. The weights are a constant (a step function), so the rule in ops differentiates again.
    /// </summary>
    private readonly struct ExtremumRule<TWeight32, TWeight64> : IBackwardRule
        where TWeight32 : IBinaryKernel<float>
        where TWeight64 : IBinaryKernel<double>
    {
        // ẏ = ȧ ⊙ w(a) + ḃ ⊙ w(b), with the same step weights as the gradient.
        public static Tensor Jvp(in Node node, InputTangents tangents) => DiagonalInputJvp(node, tangents) ?? TangentSum(
            node,
            tangents.A is { } ta ? ta * Weights(node.A!, node.B!, node.Output) : null,
            tangents.B is { } tb ? tb * Weights(node.B!, node.A!, node.Output) : null);

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(
            node.InA >= 0 ? ReduceTo(upstream * Weights(node.A!, node.B!, node.Output), node.A!) : null,
            node.InB >= 0 ? ReduceTo(upstream * Weights(node.B!, node.A!, node.Output), node.B!) : null);

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var g = tape.Upstream<T>(index);
            var dims = node.Output.Shape.Dims;
            if (node.InA >= 0)
            {
                WeightedInto(tape, node.InA, g, dims, node.A!, node.B!);
            }

            if (node.InB >= 0)
            {
                WeightedInto(tape, node.InB, g, dims, node.B!, node.A!);
            }
        }

        /// <summary>sum_to(g ⊙ weights of input against other) as input node <paramref name="inputNode"/>'s gradient.</summary>
        private static void WeightedInto<T>(Tape tape, int inputNode, ReadOnlySpan<T> g, ReadOnlySpan<int> dims, Tensor input, Tensor other)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var weighted = tape.Scratch<T>(g.Length);
            WeightsInto<T>(input, other, weighted, dims);
            TensorPrimitives.Multiply(weighted, g, weighted);
            ReduceInto(tape, inputNode, (ReadOnlySpan<T>)weighted, dims, input);
        }

        /// <summary>The weights of <paramref name="input"/> against <paramref name="other"/>, a constant of the output's shape.</summary>
        private static Tensor Weights(Tensor input, Tensor other, Tensor output)
        {
            var weights = Tensor.Uninitialized(output.DType, output.Shape);
            ElementType.Dispatch(output.DType, new WeightsForward(input, other, weights));
            return weights;
        }

        private readonly struct WeightsForward(Tensor input, Tensor other, Tensor weights) : IElementAction
        {
            public void Run<T>()
                where T : unmanaged, IFloatingPointIeee754<T> => WeightsInto<T>(input, other, weights.Raw<T>(), weights.Shape.Dims);
        }

        private static void WeightsInto<T>(Tensor input, Tensor other, Span<T> weights, ReadOnlySpan<int> dims)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            if (typeof(T) == typeof(float))
            {
                Broadcast.Binary<float, TWeight32>(input.Raw<float>(), input.Shape.Dims, other.Raw<float>(), other.Shape.Dims, MemoryMarshal.Cast<T, float>(weights), dims);
            }
            else
            {
                Broadcast.Binary<double, TWeight64>(input.Raw<double>(), input.Shape.Dims, other.Raw<double>(), other.Shape.Dims, MemoryMarshal.Cast<T, double>(weights), dims);
            }
        }
    }

    /// <summary>Add and Subtract: the gradient reduced to each input's shape, negated for a subtrahend.</summary>
    private readonly struct AddRule : IBackwardRule
    {
        public static string? Onnx(in Node node, IOnnxGraph graph) => OnnxBinary(node.Op == s_subtract ? "Sub" : "Add", node, graph);

        // ẏ = ȧ + ḃ, each broadcast to the output's shape.
        public static Tensor Jvp(in Node node, InputTangents tangents) =>
            TangentSum(node, tangents.A, tangents.B is { } tb && node.Op == s_subtract ? -tb : tangents.B);

        public static Tensor? JvpBatch(in Node node, InputTangents tangents, int batch)
        {
            var subtract = node.Op == s_subtract;
            return ElementwiseJvpBatch(node, tangents, batch, ta => ta, tb => subtract ? -tb : tb);
        }

        public static InputGradients? VjpBatch(in Node node, Tensor upstream, int batch)
        {
            var subtract = node.Op == s_subtract;
            return ElementwiseVjpBatch(node, upstream, g => g, g => subtract ? -g : g);
        }

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(
            node.InA >= 0 ? ReduceTo(upstream, node.A!) : null,
            node.InB >= 0 ? (node.Op == s_subtract ? -ReduceTo(upstream, node.B!) : ReduceTo(upstream, node.B!)) : null);

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var g = tape.Upstream<T>(index);
            var dims = node.Output.Shape.Dims;
            if (node.InA >= 0)
            {
                ReduceInto(tape, node.InA, g, dims, node.A!);
            }

            if (node.InB >= 0)
            {
                ReduceInto(tape, node.InB, g, dims, node.B!, negate: node.Op == s_subtract);
            }
        }
    }

    private readonly struct MultiplyRule : IBackwardRule
    {
        public static string? Onnx(in Node node, IOnnxGraph graph) => OnnxBinary("Mul", node, graph);

        // ẏ = ȧ ⊙ b + a ⊙ ḃ.
        public static Tensor Jvp(in Node node, InputTangents tangents) =>
            DiagonalInputJvp(node, tangents) ?? TangentSum(node, tangents.A is { } ta ? ta * node.B! : null, tangents.B is { } tb ? node.A! * tb : null);

        public static Tensor? JvpBatch(in Node node, InputTangents tangents, int batch)
        {
            Tensor a = node.A!, b = node.B!;
            return ElementwiseJvpBatch(node, tangents, batch, ta => ta * b, tb => a * tb);
        }

        public static InputGradients? VjpBatch(in Node node, Tensor upstream, int batch)
        {
            Tensor a = node.A!, b = node.B!;
            return ElementwiseVjpBatch(node, upstream, g => g * b, g => g * a);
        }

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(
            node.InA >= 0 ? ReduceTo(upstream * node.B!, node.A!) : null,
            node.InB >= 0 ? ReduceTo(upstream * node.A!, node.B!) : null);

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var g = tape.Upstream<T>(index);
            var dims = node.Output.Shape.Dims;
            if (node.InA >= 0)
            {
                ProductInto(tape, node.InA, g, dims, node.B!, node.A!, divide: false);
            }

            if (node.InB >= 0)
            {
                ProductInto(tape, node.InB, g, dims, node.A!, node.B!, divide: false);
            }
        }
    }

    private readonly struct DivideRule : IBackwardRule
    {
        public static string? Onnx(in Node node, IOnnxGraph graph) => OnnxBinary("Div", node, graph);

        // ẏ = ȧ / b − ḃ ⊙ a / b² = (ȧ − ḃ ⊙ y) / b.
        public static Tensor Jvp(in Node node, InputTangents tangents) => DiagonalInputJvp(node, tangents) ?? TangentSum(
            node,
            tangents.A is { } ta ? ta / node.B! : null,
            tangents.B is { } tb ? -(tb * node.Output / node.B!) : null);

        public static InputGradients? VjpBatch(in Node node, Tensor upstream, int batch)
        {
            Tensor b = node.B!, y = node.Output;
            return ElementwiseVjpBatch(node, upstream, g => g / b, g => -(g * y / b));
        }

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(
            node.InA >= 0 ? ReduceTo(upstream / node.B!, node.A!) : null,
            node.InB >= 0 ? -ReduceTo(upstream * node.A! / (node.B! * node.B!), node.B!) : null);

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var g = tape.Upstream<T>(index);
            var dims = node.Output.Shape.Dims;
            if (node.InA >= 0)
            {
                ProductInto(tape, node.InA, g, dims, node.B!, node.A!, divide: true);
            }

            if (node.InB >= 0)
            {
                // ∂(a/b)/∂b = −a/b² = −y/b, so the gradient is −sum_to(g ⊙ y ⊘ b).
                var gy = tape.Scratch<T>(g.Length);
                TensorPrimitives.Multiply(g, node.Output.Raw<T>(), gy);
                Broadcast.Binary<T, BinaryKernels.Divide<T>>(gy, dims, node.B!.Raw<T>(), node.B.Shape.Dims, gy, dims);
                ReduceInto<T>(tape, node.InB, gy, dims, node.B, negate: true);
            }
        }
    }

    private readonly struct ScalarArithmeticRule : IBackwardRule
    {
        public static string? Onnx(in Node node, IOnnxGraph graph)
        {
            var x = graph.Value(node.A!);
            var s = node.Args.Scalar;
            return (ScalarArithmetic)node.Args.Axis switch
            {
                ScalarArithmetic.Add => graph.Node("Add", [x, OnnxScalar(s, node.A!, graph)]),
                ScalarArithmetic.SubtractFrom when s == 0 => graph.Node("Neg", [x]),
                ScalarArithmetic.SubtractFrom => graph.Node("Sub", [OnnxScalar(s, node.A!, graph), x]),
                ScalarArithmetic.Multiply => graph.Node("Mul", [x, OnnxScalar(s, node.A!, graph)]),
                ScalarArithmetic.DivideBy => graph.Node("Div", [x, OnnxScalar(s, node.A!, graph)]),
                _ => graph.Node("Div", [OnnxScalar(s, node.A!, graph), x]),
            };
        }

        // Elementwise in one input: the Jacobian is diagonal, so its product with the tangent is the gradient rule's.
        public static Tensor Jvp(in Node node, InputTangents tangents) => DiagonalJvp<ScalarArithmeticRule>(node, tangents);
        public static Tensor? JvpBatch(in Node node, InputTangents tangents, int batch) => DiagonalJvpBatch<ScalarArithmeticRule>(node, tangents, batch);
        public static InputGradients? VjpBatch(in Node node, Tensor upstream, int batch) => DiagonalVjpBatch(node, upstream);

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new((ScalarArithmetic)node.Args.Axis switch
        {
            ScalarArithmetic.Add => upstream,
            ScalarArithmetic.SubtractFrom => -upstream,
            ScalarArithmetic.Multiply => upstream * node.Args.Scalar,
            ScalarArithmetic.DivideBy => upstream / node.Args.Scalar,
            _ => -(upstream * node.Args.Scalar) / (node.A! * node.A!),
        });

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var g = tape.Upstream<T>(index);
            var target = tape.BeginGradient<T>(node.InA);
            var s = T.CreateTruncating(node.Args.Scalar);
            switch ((ScalarArithmetic)node.Args.Axis)
            {
                case ScalarArithmetic.Add:
                    g.CopyTo(target.Span);
                    break;
                case ScalarArithmetic.SubtractFrom:
                    TensorPrimitives.Negate(g, target.Span);
                    break;
                case ScalarArithmetic.Multiply:
                    TensorPrimitives.Multiply(g, s, target.Span);
                    break;
                case ScalarArithmetic.DivideBy:
                    TensorPrimitives.Divide(g, s, target.Span);
                    break;
                default:
                    // ∂(s/x)/∂x = −s/x² = −y/x.
                    TensorPrimitives.Multiply(g, node.Output.Raw<T>(), target.Span);
                    TensorPrimitives.Divide(target.Span, node.A!.Raw<T>(), target.Span);
                    TensorPrimitives.Negate(target.Span, target.Span);
                    break;
            }

            tape.Commit(target);
        }
    }

    /// <summary>The op table's rows for this file's ops, with their gradient checks (see <see cref="OpCatalog"/>).</summary>
    [OpFamily(10)]
    private static IEnumerable<OpInfo> ArithmeticRows()
    {
        (int[] A, int[] B)[] pairs = [([3, 4], [3, 4]), ([3, 1], [1, 4]), ([], [2, 3]), ([1, 10], [10]), ([2, 3, 4], [3, 1])];
        int[][] shapes = [[], [5], [2, 3, 4]];
        yield return new OpInfo
        {
            Family = "Arithmetic",
            Call = "`Add(a, b)`, `a + b`",
            Forward = "a + b",
            Gradient = "∂a = sum_to(g), ∂b = sum_to(g)",
            BadInputs = [
                Bad<ShapeMismatchException>("add shapes", () => M32 + V3, "Add", "(3, 2)", "(3,)"),
                Bad<DTypeMismatchException>("mix add", () => F23 + M23, "Add", "float32", "float64"),
                Bad<ArgumentNullException>("add null", () => Add(null!, M23), "Add", "'a'"),
            ],
            Overflows = [Overflow("broadcast", () => Add(Column, Row), "(65537, 1)", "(1, 65537)", "(65537, 65537)")],
            Samples = [.. pairs.Select(p => Gradient("Add", v => v[0] + v[1], N(1, p.A), N(2, p.B)))],
        };
        yield return new OpInfo
        {
            Family = "Arithmetic",
            Call = "`Subtract(a, b)`, `a - b`",
            Forward = "a − b",
            Gradient = "∂a = sum_to(g), ∂b = −sum_to(g)",
            BadInputs = [Bad<DTypeMismatchException>("subtract types", () => F23 - M23, "Subtract", "float32", "float64")],
            Overflows = [Overflow("broadcast", () => Column - Row, "(65537, 1)", "(1, 65537)")],
            Samples = [.. pairs.Select(p => Gradient("Subtract", v => v[0] - v[1], N(3, p.A), N(4, p.B)))],
        };
        yield return new OpInfo
        {
            Family = "Arithmetic",
            Call = "`Multiply(a, b)`, `a * b`",
            Forward = "a ⊙ b",
            Gradient = "∂a = sum_to(g ⊙ b), ∂b = sum_to(g ⊙ a)",
            BadInputs = [Bad<ShapeMismatchException>("multiply shapes", () => M23 * M32, "Multiply", "(2, 3)", "(3, 2)")],
            Overflows = [Overflow("broadcast", () => Column * Row, "(65537, 1)", "(1, 65537)")],
            Samples = [.. pairs.Select(p => Gradient("Multiply", v => v[0] * v[1], N(5, p.A), N(6, p.B)))],
        };
        yield return new OpInfo
        {
            Family = "Arithmetic",
            Call = "`Divide(a, b)`, `a / b`",
            Forward = "a ⊘ b",
            Gradient = "∂a = sum_to(g ⊘ b), ∂b = −sum_to(g ⊙ y ⊘ b)",
            BadInputs = [Bad<ShapeMismatchException>("divide shapes", () => M32 / V3, "Divide", "(3, 2)", "(3,)")],
            Overflows = [Overflow("broadcast", () => Divide(Column, Row), "(65537, 1)", "(1, 65537)")],
            Samples = [.. pairs.Select(p => Gradient("Divide", v => v[0] / v[1], N(7, p.A), U(8, 0.5, 2, p.B)))],
        };
        yield return new OpInfo
        {
            Family = "Arithmetic",
            Call = "`Maximum(a, b)`, `Minimum(a, b)`",
            Forward = "the larger (smaller) of a and b, broadcast; NaN propagates",
            Gradient = "∂a = sum_to(g where a wins), ∂b likewise; half each at a tie",
            BadInputs = [
                Bad<ShapeMismatchException>("maximum shapes", () => Maximum(M32, V3), "Maximum", "(3, 2)", "(3,)"),
                Bad<DTypeMismatchException>("minimum types", () => Minimum(F23, M23), "Minimum", "float32", "float64"),
            ],
            Overflows = [Overflow("broadcast", () => Maximum(Column, Row), "(65537, 1)", "(1, 65537)")],
            Samples =
            [
                .. pairs.Select(p => Gradient("Maximum", v => Maximum(v[0], v[1]), N(81, p.A), N(82, p.B))),
                .. pairs.Select(p => Gradient("Minimum", v => Minimum(v[0], v[1]), N(83, p.A), N(84, p.B))),
            ],
        };
        yield return new OpInfo
        {
            Family = "Arithmetic",
            Call = "`x + s`, `x - s`, `s - x`, `x * s`, `x / s`, `s / x`",
            Forward = "scalar forms",
            Gradient = "g, g, −g, s·g, g / s, −g ⊙ y ⊘ x",
            BadInputs = [
                Bad<ArgumentOutOfRangeException>("scalar nan", () => M23 * double.NaN, "Multiply", "NaN"),
                Bad<ArgumentOutOfRangeException>("add scalar nan", () => M23 + double.NaN, "Add", "NaN"),
                Bad<ArgumentOutOfRangeException>("divide scalar infinite", () => double.NegativeInfinity / M23, "Divide", "-Infinity"),
            ],
            CannotGrowBecause = "elementwise",
            Samples = [Gradient("ScalarArithmetic", v => (3 / v[0]) + (2 * v[0]) - (v[0] / 4) + (1 - v[0]) - 5, U(9, 0.5, 2, 2, 3))],
        };
        yield return new OpInfo
        {
            Family = "Arithmetic",
            Call = "`Negate(x)`, `-x`",
            Forward = "−x",
            Gradient = "−g",
            BadInputs = [Bad<ArgumentNullException>("negate null", () => Negate(null!), "Negate", "'x'")],
            CannotGrowBecause = "elementwise",
            Samples = [.. shapes.Select(s => Gradient("Negate", v => -v[0], N(10, s)))],
        };
    }
}
