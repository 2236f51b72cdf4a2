using System.Buffers;
using System.Numerics;

using AutoGrad.Autodiff;
using AutoGrad.Kernels;
using AutoGrad.Tensors;

using static AutoGrad.Operations.OpSamples;

namespace AutoGrad.Operations;

/// <summary>Choosing elements: <c>Where</c> by a condition, the comparisons that make conditions, and <c>ArgMax</c>/<c>ArgMin</c>.</summary>
public static partial class Ops
{
    private static readonly Op s_where = new Op<WhereRule>("Where", readsInputs: false);

    private enum Comparison
    {
        Greater,
        Less,
        Equal,
    }

    /// <summary>
    /// a where <paramref name="condition"/> is true, else b, with the three shapes broadcast together (NumPy's and
    /// PyTorch's <c>where</c>). ∂a = sum_to(g where condition, 0 elsewhere), ∂b = sum_to(g where not). The gradient is
    /// selected, not multiplied by the mask (PyTorch's rule), so an infinite upstream gradient leaves exactly 0 on the
    /// branch not taken. As in PyTorch, a branch whose own derivative is infinite where it is not taken (<c>Log</c> at 0)
    /// still turns that 0 into NaN further back: make its input safe first (<c>Log(Where(c, x, 1.0))</c>).
    /// </summary>
    /// <param name="condition">Where to take <paramref name="a"/>; from a comparison or <see cref="BoolTensor.FromArray"/>.</param>
    /// <param name="a">The values where the condition holds.</param>
    /// <param name="b">The values elsewhere; the same element type as <paramref name="a"/>.</param>
    /// <returns>The selection, of the broadcast shape.</returns>
    /// <exception cref="ShapeMismatchException">The three shapes cannot be broadcast together.</exception>
    public static Tensor Where(BoolTensor condition, Tensor a, Tensor b)
    {
        NotNullMask(condition, "Where", nameof(condition));
        Check.NotNull(a, "Where", nameof(a));
        Check.NotNull(b, "Where", nameof(b));
        Check.SameType(a, b, "Where");
        var dims = Broadcast.ResultDims(condition.Shape.Dims, a.Shape.Dims) is { } first ? Broadcast.ResultDims(first, b.Shape.Dims) : null;
        if (dims is null)
        {
            throw new ShapeMismatchException($"Where: condition {condition.Shape}, a {a.Shape} and b {b.Shape} cannot be broadcast together.");
        }

        var y = Tensor.Uninitialized(a.DType, Shape.FromOwned(dims, "Where", a.Shape, b.Shape));
        ElementType.Dispatch(a.DType, new WhereForward(condition, a, b, y));
        Tape.Record(s_where, y, a, b, null, NodeArgs.Of(condition));
        return y;
    }

    /// <summary>a where <paramref name="condition"/> is true, else the number <paramref name="b"/> (−∞ masks attention scores, for example).</summary>
    /// <param name="condition">Where to take <paramref name="a"/>.</param>
    /// <param name="a">The values where the condition holds.</param>
    /// <param name="b">The value elsewhere (infinite allowed, NaN refused).</param>
    /// <returns>The selection, of the broadcast shape.</returns>
    public static Tensor Where(BoolTensor condition, Tensor a, double b)
    {
        Check.NotNull(a, "Where", nameof(a));
        Check.NotNaN(b, "Where", nameof(b));
        return Where(condition, a, Tensor.Full(b, [], a.DType));
    }

    /// <summary>The number <paramref name="a"/> where <paramref name="condition"/> is true, else b.</summary>
    /// <param name="condition">Where to take <paramref name="a"/>.</param>
    /// <param name="a">The value where the condition holds (infinite allowed, NaN refused).</param>
    /// <param name="b">The values elsewhere.</param>
    /// <returns>The selection, of the broadcast shape.</returns>
    public static Tensor Where(BoolTensor condition, double a, Tensor b)
    {
        Check.NotNull(b, "Where", nameof(b));
        Check.NotNaN(a, "Where", nameof(a));
        return Where(condition, Tensor.Full(a, [], b.DType), b);
    }

    /// <summary>
    /// x with <paramref name="value"/> wherever <paramref name="mask"/> is true, PyTorch's <c>masked_fill</c>: the mask
    /// broadcasts to x's shape, which the result keeps (−∞ hides attention scores before a softmax). ∂/∂x = g where the
    /// mask is false, 0 where it is true (a <see cref="Where(BoolTensor, double, Tensor)"/>).
    /// </summary>
    /// <param name="x">The tensor.</param>
    /// <param name="mask">Where to write the value; broadcasts to x's shape.</param>
    /// <param name="value">The value (infinite allowed, NaN refused).</param>
    /// <returns>A new tensor of x's shape.</returns>
    public static Tensor MaskedFill(Tensor x, BoolTensor mask, double value)
    {
        Check.NotNull(x, "MaskedFill", nameof(x));
        NotNullMask(mask, "MaskedFill", nameof(mask));
        Check.NotNaN(value, "MaskedFill", nameof(value));
        if (Broadcast.ResultDims(mask.Shape.Dims, x.Shape.Dims) is not { } dims || !dims.AsSpan().SequenceEqual(x.Shape.Dims))
        {
            throw new ShapeMismatchException($"MaskedFill: mask {mask.Shape} does not broadcast to x's shape {x.Shape}.");
        }

        return Where(mask, value, x);
    }

    /// <summary>
    /// The causal mask of <paramref name="size"/> positions: true at (i, j) where j &gt; i, the later positions a
    /// position must not attend to (<c>MaskedFill(scores, CausalMask(t), double.NegativeInfinity)</c>; PyTorch's
    /// <c>torch.triu(torch.ones(t, t), diagonal=1).bool()</c>).
    /// </summary>
    /// <param name="size">The number of positions, at least 0.</param>
    /// <returns>A (size, size) mask.</returns>
    public static BoolTensor CausalMask(int size)
    {
        if (size < 0 || (long)size * size > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, $"CausalMask: size {size} must be between 0 and {(int)Math.Sqrt(Array.MaxLength)} (a (size, size) mask).");
        }

        var data = new bool[size * size];
        for (var i = 0; i < size; i++)
        {
            data.AsSpan((i * size) + i + 1, size - i - 1).Fill(true);
        }

        return BoolTensor.FromArray(data, size, size);
    }

    /// <summary>Elementwise a &gt; b with broadcasting; false wherever either is NaN. Not differentiable.</summary>
    /// <param name="a">The first tensor.</param>
    /// <param name="b">The second tensor.</param>
    /// <returns>The mask, of the broadcast shape.</returns>
    public static BoolTensor Greater(Tensor a, Tensor b) => Compare(a, b, Comparison.Greater, "Greater");

    /// <summary>Elementwise x &gt; s; false where x is NaN.</summary>
    /// <param name="x">The tensor.</param>
    /// <param name="s">The number (compared in the tensor's element type).</param>
    /// <returns>The mask, of x's shape.</returns>
    public static BoolTensor Greater(Tensor x, double s) => Compare(x, s, Comparison.Greater, "Greater");

    /// <summary>Elementwise a &lt; b with broadcasting; false wherever either is NaN. Not differentiable.</summary>
    /// <param name="a">The first tensor.</param>
    /// <param name="b">The second tensor.</param>
    /// <returns>The mask, of the broadcast shape.</returns>
    public static BoolTensor Less(Tensor a, Tensor b) => Compare(a, b, Comparison.Less, "Less");

    /// <summary>Elementwise x &lt; s; false where x is NaN.</summary>
    /// <param name="x">The tensor.</param>
    /// <param name="s">The number (compared in the tensor's element type).</param>
    /// <returns>The mask, of x's shape.</returns>
    public static BoolTensor Less(Tensor x, double s) => Compare(x, s, Comparison.Less, "Less");

    /// <summary>Elementwise a = b with broadcasting; false wherever either is NaN (IEEE 754). Not differentiable.</summary>
    /// <param name="a">The first tensor.</param>
    /// <param name="b">The second tensor.</param>
    /// <returns>The mask, of the broadcast shape.</returns>
    public static BoolTensor Equal(Tensor a, Tensor b) => Compare(a, b, Comparison.Equal, "Equal");

    /// <summary>Elementwise x = s; false where x is NaN.</summary>
    /// <param name="x">The tensor.</param>
    /// <param name="s">The number (compared in the tensor's element type).</param>
    /// <returns>The mask, of x's shape.</returns>
    public static BoolTensor Equal(Tensor x, double s) => Compare(x, s, Comparison.Equal, "Equal");

    /// <summary>
    /// The position of the largest element along <paramref name="axis"/>, or in the flattened tensor when it is null.
    /// The first position wins a tie, and a NaN counts as larger than everything (the first NaN wins), as in PyTorch
    /// and NumPy. Not differentiable.
    /// </summary>
    /// <param name="x">The tensor.</param>
    /// <param name="axis">The axis to search (negative counts from the end), or null for the flattened tensor.</param>
    /// <param name="keepDims">Keep the searched axis (all axes, when it is null) with size 1.</param>
    /// <returns>The positions, of the reduced shape.</returns>
    /// <exception cref="ArgumentException">The searched axis is empty.</exception>
    public static IntTensor ArgMax(Tensor x, int? axis = null, bool keepDims = false) => ArgExtremum(x, axis, keepDims, "ArgMax", minimum: false);

    /// <summary>The position of the smallest element along <paramref name="axis"/> (first on a tie; the first NaN wins). Not differentiable.</summary>
    /// <param name="x">The tensor.</param>
    /// <param name="axis">The axis to search, or null for the flattened tensor.</param>
    /// <param name="keepDims">Keep the searched axis with size 1.</param>
    /// <returns>The positions, of the reduced shape.</returns>
    /// <exception cref="ArgumentException">The searched axis is empty.</exception>
    public static IntTensor ArgMin(Tensor x, int? axis = null, bool keepDims = false) => ArgExtremum(x, axis, keepDims, "ArgMin", minimum: true);

    private static void NotNullMask(BoolTensor? mask, string op, string name)
    {
        if (mask is null)
        {
            throw new ArgumentNullException(name, $"{op}: argument '{name}' is null.");
        }
    }

    private static BoolTensor Compare(Tensor a, Tensor b, Comparison kind, string op)
    {
        Check.NotNull(a, op, nameof(a));
        Check.NotNull(b, op, nameof(b));
        Check.SameType(a, b, op);
        var dims = a.Shape == b.Shape ? a.Shape.Dims.ToArray() : Broadcast.ResultDims(a.Shape.Dims, b.Shape.Dims)
            ?? throw new ShapeMismatchException($"{op}: shapes {a.Shape} and {b.Shape} cannot be broadcast together.");
        var shape = Shape.FromOwned(dims, op, a.Shape, b.Shape);
        var result = new bool[shape.ElementCount];
        ElementType.Dispatch(a.DType, new CompareForward(kind, a, b, result, shape));
        return new BoolTensor(result, shape);
    }

    private static BoolTensor Compare(Tensor x, double s, Comparison kind, string op)
    {
        Check.NotNull(x, op, nameof(x));
        Check.NotNaN(s, op, nameof(s));
        var result = new bool[x.Length];
        ElementType.Dispatch(x.DType, new CompareToNumber(kind, x, s, result));
        return new BoolTensor(result, x.Shape);
    }

    private static bool Compares<T>(Comparison kind, T a, T b)
        where T : IFloatingPointIeee754<T> => kind switch
        {
            Comparison.Greater => a > b,
            Comparison.Less => a < b,
            _ => a == b,
        };

    private static IntTensor ArgExtremum(Tensor x, int? axis, bool keepDims, string op, bool minimum)
    {
        Check.NotNull(x, op, nameof(x));
        var a = axis is int given ? x.Shape.NormalizeAxis(given, op) : AllAxes;
        var (outer, n, inner) = ReductionView(x.Shape, a);
        if (n == 0)
        {
            throw new ArgumentException($"{op}: cannot search an empty axis of shape {x.Shape}.", nameof(x));
        }

        var positions = new int[outer * inner];
        ElementType.Dispatch(x.DType, new ArgExtremumForward(x, outer, n, inner, minimum, positions));
        return new IntTensor(positions, ReducedShape(x.Shape, a, keepDims));
    }

    /// <summary><paramref name="source"/> repeated to <paramref name="dims"/>, in a rented array when it must be expanded.</summary>
    private static ReadOnlySpan<T> ExpandedTo<T>(ReadOnlySpan<T> source, ReadOnlySpan<int> sourceDims, ReadOnlySpan<int> dims, int length, ref T[]? rented)
    {
        if (source.Length == length)
        {
            return source;
        }

        rented = ArrayPool<T>.Shared.Rent(length);
        var expanded = rented.AsSpan(0, length);
        Broadcast.Expand(source, sourceDims, expanded, dims);
        return expanded;
    }

    private static void Return<T>(T[]? rented)
    {
        if (rented is not null)
        {
            ArrayPool<T>.Shared.Return(rented);
        }
    }

    private readonly struct WhereForward(BoolTensor condition, Tensor a, Tensor b, Tensor y) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var dims = y.Shape.Dims;
            var d = y.Raw<T>();
            T[]? ra = null, rb = null;
            bool[]? rc = null;
            var av = ExpandedTo<T>(a.Raw<T>(), a.Shape.Dims, dims, d.Length, ref ra);
            var bv = ExpandedTo<T>(b.Raw<T>(), b.Shape.Dims, dims, d.Length, ref rb);
            var cv = ExpandedTo(condition.AsReadOnlySpan(), condition.Shape.Dims, dims, d.Length, ref rc);
            for (var i = 0; i < d.Length; i++)
            {
                d[i] = cv[i] ? av[i] : bv[i];
            }

            Return(ra);
            Return(rb);
            Return(rc);
        }
    }

    private readonly struct CompareForward(Comparison kind, Tensor a, Tensor b, bool[] result, Shape shape) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var dims = shape.Dims;
            T[]? ra = null, rb = null;
            var av = ExpandedTo<T>(a.Raw<T>(), a.Shape.Dims, dims, result.Length, ref ra);
            var bv = ExpandedTo<T>(b.Raw<T>(), b.Shape.Dims, dims, result.Length, ref rb);
            for (var i = 0; i < result.Length; i++)
            {
                result[i] = Compares(kind, av[i], bv[i]);
            }

            Return(ra);
            Return(rb);
        }
    }

    private readonly struct CompareToNumber(Comparison kind, Tensor x, double s, bool[] result) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            ReadOnlySpan<T> values = x.Raw<T>();
            var number = T.CreateTruncating(s);
            for (var i = 0; i < result.Length; i++)
            {
                result[i] = Compares(kind, values[i], number);
            }
        }
    }

    private readonly struct ArgExtremumForward(Tensor x, int outer, int n, int inner, bool minimum, int[] positions) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            ReadOnlySpan<T> values = x.Raw<T>();
            for (var o = 0; o < outer; o++)
            {
                for (var i = 0; i < inner; i++)
                {
                    var at = (o * n * inner) + i;
                    var best = values[at];
                    var where = 0;
                    for (var k = 1; k < n && !T.IsNaN(best); k++)
                    {
                        var v = values[at + (k * inner)];
                        if (T.IsNaN(v) || (minimum ? v < best : v > best))
                        {
                            best = v;
                            where = k;
                        }
                    }

                    positions[(o * inner) + i] = where;
                }
            }
        }
    }

    /// <summary>Where's rule: g goes to a where the condition holds and to b elsewhere, reduced to each input's shape.</summary>
    private readonly struct WhereRule : IBackwardRule
    {
        // The condition is a constant; one that changes with the batch would serve one batch size only.
        public static string? Onnx(in Node node, IOnnxGraph graph)
        {
            var condition = node.Args.State<BoolTensor>();
            if (condition.Shape != graph.OtherRecording.Args.State<BoolTensor>().Shape)
            {
                throw new NotSupportedException($"Where: the condition {condition.Shape} changes with the batch size, so it cannot be a constant of an ONNX graph.");
            }

            return graph.Node("Where", [graph.Booleans(condition), graph.Value(node.A!), graph.Value(node.B!)]);
        }

        // Each element's tangent from the input it came from.
        public static Tensor Jvp(in Node node, InputTangents tangents)
        {
            var condition = node.Args.State<BoolTensor>();
            return (tangents.A, tangents.B) switch
            {
                (null, null) => Tensor.ZerosLike(node.Output),
                _ => TangentSum(node, Where(condition, tangents.A ?? Tensor.ZerosLike(node.A!), tangents.B ?? Tensor.ZerosLike(node.B!))),
            };
        }

        public static InputGradients Differentiate(in Node node, Tensor upstream)
        {
            var condition = node.Args.State<BoolTensor>();
            return new(
                node.InA >= 0 ? ReduceTo(Where(condition, upstream, 0.0), node.A!) : null,
                node.InB >= 0 ? ReduceTo(Where(condition, 0.0, upstream), node.B!) : null);
        }

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var condition = node.Args.State<BoolTensor>();
            var g = tape.Upstream<T>(index);
            var dims = node.Output.Shape.Dims;
            bool[]? rented = null;
            var taken = ExpandedTo(condition.AsReadOnlySpan(), condition.Shape.Dims, dims, g.Length, ref rented);
            if (node.InA >= 0)
            {
                SelectedInto(tape, node.InA, g, dims, taken, when: true, node.A!);
            }

            if (node.InB >= 0)
            {
                SelectedInto(tape, node.InB, g, dims, taken, when: false, node.B!);
            }

            Return(rented);
        }

        private static void SelectedInto<T>(Tape tape, int inputNode, ReadOnlySpan<T> g, ReadOnlySpan<int> dims, ReadOnlySpan<bool> taken, bool when, Tensor input)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var selected = tape.Scratch<T>(g.Length);
            for (var i = 0; i < g.Length; i++)
            {
                selected[i] = taken[i] == when ? g[i] : T.Zero;
            }

            ReduceInto(tape, inputNode, (ReadOnlySpan<T>)selected, dims, input);
        }
    }

    /// <summary>A seeded mask for the descriptors' samples: true at about two thirds of the positions.</summary>
    private static BoolTensor SampleMask(params int[] shape)
    {
        var count = 1;
        foreach (var d in shape)
        {
            count *= d;
        }

        return BoolTensor.FromArray([.. Enumerable.Range(0, count).Select(i => (i * 7) % 3 != 0)], shape);
    }

    /// <summary>The op table's rows for this file's ops (see <see cref="OpCatalog"/>).</summary>
    [OpFamily(45)]
    private static IEnumerable<OpInfo> SelectionRows()
    {
        yield return new OpInfo
        {
            Family = "Selection",
            Call = "`Where(condition, a, b)`",
            Forward = "a where condition, else b (all three broadcast; a or b may be a number)",
            Gradient = "∂a = sum_to(g where condition, else 0), ∂b = sum_to(g where not)",
            BadInputs = [
                Bad<ShapeMismatchException>("where shapes", () => Where(SampleMask(2, 3), M32, M32), "Where", "(2, 3)", "(3, 2)"),
                Bad<DTypeMismatchException>("where types", () => Where(SampleMask(2, 3), F23, M23), "Where", "float32", "float64"),
                Bad<ArgumentNullException>("where null condition", () => Where(null!, M23, M23), "Where", "'condition'"),
                Bad<ArgumentOutOfRangeException>("where NaN", () => Where(SampleMask(2, 3), M23, double.NaN), "Where", "NaN"),
            ],
            Overflows = [Overflow("broadcast", () => Where(SampleMask(1), Column, Row), "(65537, 1)", "(1, 65537)")],
            Samples =
            [
                Gradient("Where", v => Where(SampleMask(3, 4), v[0], v[1]), N(91, 3, 4), N(92, 3, 4)),
                Gradient("Where", v => Where(SampleMask(3, 1), v[0], v[1]), N(93, 1, 4), N(94, 3, 4)),
                Gradient("Where", v => Where(SampleMask(2, 3, 4), v[0], v[1]), N(95, 3, 1), N(96, 4)),
                Gradient("Where", v => Softmax(Where(SampleMask(2, 3), v[0], double.NegativeInfinity)), N(97, 2, 3)),
                Gradient("Where", v => Where(SampleMask(4), 0.5, v[0]), N(98, 2, 4)),
            ],
        };
        yield return new OpInfo
        {
            Family = "Selection",
            Call = "`MaskedFill(x, mask, value)`",
            Forward = "x with the value where the mask (broadcast to x's shape) is true",
            Gradient = "g where the mask is false, 0 where it is true",
            BadInputs = [
                Bad<ShapeMismatchException>("masked fill shapes", () => MaskedFill(V3, SampleMask(2, 3), 0), "MaskedFill", "(2, 3)", "(3,)"),
                Bad<ArgumentOutOfRangeException>("masked fill NaN", () => MaskedFill(M23, SampleMask(2, 3), double.NaN), "MaskedFill", "NaN"),
                Bad<ArgumentNullException>("masked fill null mask", () => MaskedFill(M23, null!, 0), "MaskedFill", "'mask'"),
            ],
            CannotGrowBecause = "the mask broadcasts to x's shape, which the result keeps",
            Samples =
            [
                Gradient("MaskedFill", v => MaskedFill(v[0], SampleMask(3, 4), 2.5) * v[0], N(99, 3, 4)),
                Gradient("MaskedFill", v => Softmax(MaskedFill(v[0], CausalMask(4), double.NegativeInfinity)), N(100, 2, 4, 4)),
            ],
        };
        yield return new OpInfo
        {
            Family = "Selection",
            Call = "`CausalMask(size)`",
            Forward = "a (size, size) `BoolTensor`, true where j > i",
            Gradient = "none: not differentiable",
            BadInputs = [Bad<ArgumentOutOfRangeException>("causal size", () => CausalMask(-1), "CausalMask", "-1")],
            CannotGrowBecause = "its size is checked against the largest array",
            Values =
            [
                Value("CausalMask", "three positions", () => CausalMask(3), "BoolTensor([[false, true, true], [false, false, true], [false, false, false]], shape=(3, 3))"),
                Value("CausalMask", "none", () => CausalMask(0).Shape.ToString(), "(0, 0)"),
            ],
        };
        yield return new OpInfo
        {
            Family = "Selection",
            Call = "`Greater(a, b)`, `Less(a, b)`, `Equal(a, b)`, `a > b`, `a < b`",
            Forward = "elementwise a > b, a < b, a = b (broadcast, or against a number) as a `BoolTensor`; false where NaN",
            Gradient = "none: not differentiable",
            BadInputs = [
                Bad<ShapeMismatchException>("compare shapes", () => Greater(M32, V3), "Greater", "(3, 2)", "(3,)"),
                Bad<DTypeMismatchException>("compare types", () => Less(F23, M23), "Less", "float32", "float64"),
                Bad<ArgumentOutOfRangeException>("compare with NaN", () => Equal(M23, double.NaN), "Equal", "NaN"),
                Bad<ArgumentNullException>("compare null", () => Greater(null!, 0.0), "Greater", "'x'"),
            ],
            Overflows = [Overflow("broadcast", () => Greater(Column, Row), "(65537, 1)", "(1, 65537)")],
            Values =
            [
                Value("Greater", "ties and NaN", () => Greater(Tensor.FromArray([1.0, 2, double.NaN, -1]), Tensor.FromArray([1.0, 1, 0, double.NaN])), "BoolTensor([false, true, false, false], shape=(4,))"),
                Value("Greater", "broadcast (2, 1) with (3,)", () => Tensor.FromArray([1f, 2], 2, 1) > Tensor.FromArray([0f, 1, 2]), "BoolTensor([[true, false, false], [true, true, false]], shape=(2, 3))"),
                Value("Less", "against a number", () => Tensor.FromArray([-1f, 0, 1, float.NegativeInfinity]) < 0, "BoolTensor([true, false, false, true], shape=(4,))"),
                Value("Equal", "NaN is not equal to itself", () => Equal(Tensor.FromArray([0.0, -0.0, double.NaN]), Tensor.FromArray([-0.0, 0.0, double.NaN])), "BoolTensor([true, true, false], shape=(3,))"),
                Value("Equal", "against a number", () => Equal(Tensor.FromArray([0.1f, 0.2f]), 0.1), "BoolTensor([true, false], shape=(2,))"),
            ],
        };
        yield return new OpInfo
        {
            Family = "Selection",
            Call = "`ArgMax(x, axis, keepDims)`, `ArgMin(x, axis, keepDims)`",
            Forward = "the first position of the maximum (minimum) along the axis, or in the flattened tensor, as an `IntTensor`; the first NaN wins",
            Gradient = "none: not differentiable",
            BadInputs = [
                Bad<ArgumentException>("argmax of nothing", () => ArgMax(Empty, 0), "ArgMax", "(0, 3)"),
                Bad<ArgumentOutOfRangeException>("argmin axis", () => ArgMin(M23, 2), "ArgMin", "2"),
                Bad<ArgumentNullException>("argmax null", () => ArgMax(null!), "ArgMax", "'x'"),
            ],
            CannotGrowBecause = "a reduction",
            Values =
            [
                Value("ArgMax", "rows, ties go first", () => ArgMax(Tensor.FromArray([3.0, 1, 3, 0, 5, 5], 2, 3), 1), "IntTensor([0, 1], shape=(2,))"),
                Value("ArgMax", "columns, kept", () => ArgMax(Tensor.FromArray([3f, 1, 3, 0, 5, 5], 2, 3), 0, keepDims: true), "IntTensor([[0, 1, 1]], shape=(1, 3))"),
                Value("ArgMax", "flattened, NaN wins", () => ArgMax(Tensor.FromArray([1.0, double.NaN, 7, double.NaN], 2, 2)), "IntTensor(1, shape=())"),
                Value("ArgMin", "middle axis of (2, 3, 2)", () => ArgMin(Tensor.FromArray([4.0, 0, 2, 9, 2, -1, 0, 0, 0, 0, -3, 0], 2, 3, 2), -2), "IntTensor([[1, 2], [2, 0]], shape=(2, 2))"),
                Value("ArgMin", "NaN wins, -inf loses to it", () => ArgMin(Tensor.FromArray([float.NegativeInfinity, float.NaN])), "IntTensor(1, shape=())"),
            ],
        };
    }
}
