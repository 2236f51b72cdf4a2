using System.Buffers;
using System.Numerics;

using AutoGrad.Autodiff;
using AutoGrad.Tensors;

using static AutoGrad.Operations.OpSamples;

using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace AutoGrad.Operations;

/// <summary>Recurrent cells: the LSTM's and the GRU's gates fused with their hand-written backward, and the cells around them.</summary>
public static partial class Ops
{
    private static readonly Op s_lstmGates = new Op<LstmGatesRule>("LstmGates");
    private static readonly Op s_gruGates = new Op<GruGatesRule>("GruGates");

    /// <summary>
    /// One LSTM step after its matrix product, as the book's LSTM layer: with A = x·Wx + h·Wh + b split into the gates
    /// f, g, i, o (in that order, H columns each), f, i, o = σ(·), g = tanh(·), c' = f ⊙ c + g ⊙ i and
    /// h' = o ⊙ tanh(c'). The result stacks h' and c' as (2, N, H), so each is a view (<see cref="Slice"/>).
    /// A fused op: with gh and gc the gradients of h' and c', dc' = gc + gh ⊙ o ⊙ (1 − tanh²(c')), dc = dc' ⊙ f,
    /// and dA = (dc' ⊙ c ⊙ f(1 − f), dc' ⊙ i ⊙ (1 − g²), dc' ⊙ g ⊙ i(1 − i), gh ⊙ tanh(c') ⊙ o(1 − o)), proven equal
    /// to the same computation from Sigmoid, Tanh, Narrow and Stack.
    /// </summary>
    /// <param name="gates">A, (N, 4H).</param>
    /// <param name="c">The cell state, (N, H).</param>
    /// <returns>(2, N, H): h' then c'.</returns>
    public static Tensor LstmGates(Tensor gates, Tensor c)
    {
        Check.NotNull(gates, "LstmGates", nameof(gates));
        Check.NotNull(c, "LstmGates", nameof(c));
        Check.SameType(gates, c, "LstmGates");
        if (gates.Rank != 2 || c.Rank != 2 || gates.Shape[0] != c.Shape[0] || gates.Shape[1] != 4 * c.Shape[1])
        {
            throw new ShapeMismatchException($"LstmGates: gates {gates.Shape} must be (N, 4H) for a cell state (N, H), got c {c.Shape}.");
        }

        int rows = c.Shape[0], width = c.Shape[1];
        var y = Tensor.Uninitialized(c.DType, Shape.FromDims([2, rows, width], "LstmGates", c.Shape));
        ElementType.Dispatch(c.DType, new LstmGatesForward(gates, c, y));
        Tape.Record(s_lstmGates, y, gates, c);
        return y;
    }

    /// <summary>
    /// One LSTM step, PyTorch's <c>LSTMCell</c> with the book's gate order: the four gates as one matrix product,
    /// A = x·Wx + h·Wh + b, then <see cref="LstmGates"/>.
    /// </summary>
    /// <param name="x">The input, (N, D).</param>
    /// <param name="h">The hidden state, (N, H).</param>
    /// <param name="c">The cell state, (N, H).</param>
    /// <param name="inputWeight">Wx, (D, 4H).</param>
    /// <param name="hiddenWeight">Wh, (H, 4H).</param>
    /// <param name="bias">b, (4H,).</param>
    /// <returns>h' and c', each (N, H).</returns>
    public static Tensor[] LstmCell(Tensor x, Tensor h, Tensor c, Tensor inputWeight, Tensor hiddenWeight, Tensor bias)
    {
        Check.NotNull(x, "LstmCell", nameof(x));
        Check.NotNull(h, "LstmCell", nameof(h));
        Check.NotNull(inputWeight, "LstmCell", nameof(inputWeight));
        Check.NotNull(hiddenWeight, "LstmCell", nameof(hiddenWeight));
        if (x.Rank != 2 || h.Rank != 2 || inputWeight.Rank != 2 || hiddenWeight.Rank != 2 || inputWeight.Shape[0] != x.Shape[1]
            || hiddenWeight.Shape[0] != h.Shape[1] || inputWeight.Shape[1] != 4 * h.Shape[1] || hiddenWeight.Shape[1] != 4 * h.Shape[1])
        {
            throw new ShapeMismatchException(
                $"LstmCell: x {x.Shape}, h {h.Shape}, Wx {inputWeight.Shape} and Wh {hiddenWeight.Shape} must be (N, D), (N, H), (D, 4H) and (H, 4H).");
        }

        var both = LstmGates(Affine(x, inputWeight, bias) + MatMul(h, hiddenWeight), c);
        int rows = c.Shape[0], width = c.Shape[1];
        return [Reshape(Slice(both, 0, 1), rows, width), Reshape(Slice(both, 1, 1), rows, width)];
    }

    /// <summary>
    /// One GRU step after its two matrix products, PyTorch's <c>GRUCell</c> formulation and gate order (r, z, n, H
    /// columns each): with Aₓ = x·Wx + bx and Aₕ = h·Wh + bh, r = σ(Aₓr + Aₕr), z = σ(Aₓz + Aₕz),
    /// n = tanh(Aₓn + r ⊙ Aₕn) and h' = (1 − z) ⊙ n + z ⊙ h. A fused op: with dn = g ⊙ (1 − z) ⊙ (1 − n²),
    /// dr = dn ⊙ Aₕn ⊙ r(1 − r) and dz = g ⊙ (h − n) ⊙ z(1 − z), dAₓ = (dr, dz, dn), dAₕ = (dr, dz, dn ⊙ r) and
    /// dh = g ⊙ z, proven equal to the same computation from Sigmoid, Tanh and Narrow.
    /// </summary>
    /// <param name="inputGates">Aₓ, (N, 3H).</param>
    /// <param name="hiddenGates">Aₕ, (N, 3H).</param>
    /// <param name="h">The hidden state, (N, H).</param>
    /// <returns>h', (N, H).</returns>
    public static Tensor GruGates(Tensor inputGates, Tensor hiddenGates, Tensor h)
    {
        Check.NotNull(inputGates, "GruGates", nameof(inputGates));
        Check.NotNull(hiddenGates, "GruGates", nameof(hiddenGates));
        Check.NotNull(h, "GruGates", nameof(h));
        Check.SameType(inputGates, h, "GruGates");
        Check.SameType(hiddenGates, h, "GruGates");
        if (h.Rank != 2 || inputGates.Shape != hiddenGates.Shape || inputGates.Rank != 2 || inputGates.Shape[0] != h.Shape[0] || inputGates.Shape[1] != 3 * h.Shape[1])
        {
            throw new ShapeMismatchException($"GruGates: the gates {inputGates.Shape} and {hiddenGates.Shape} must both be (N, 3H) for a hidden state (N, H), got h {h.Shape}.");
        }

        var y = Tensor.Uninitialized(h.DType, h.Shape);
        ElementType.Dispatch(h.DType, new GruGatesForward(inputGates, hiddenGates, h, y));
        Tape.Record(s_gruGates, y, inputGates, hiddenGates, h);
        return y;
    }

    /// <summary>
    /// One GRU step, PyTorch's <c>GRUCell</c>: the input's and the hidden state's gates as one matrix product each,
    /// then <see cref="GruGates"/>.
    /// </summary>
    /// <param name="x">The input, (N, D).</param>
    /// <param name="h">The hidden state, (N, H).</param>
    /// <param name="inputWeight">Wx, (D, 3H).</param>
    /// <param name="hiddenWeight">Wh, (H, 3H).</param>
    /// <param name="inputBias">bx, (3H,).</param>
    /// <param name="hiddenBias">bh, (3H,).</param>
    /// <returns>h', (N, H).</returns>
    public static Tensor GruCell(Tensor x, Tensor h, Tensor inputWeight, Tensor hiddenWeight, Tensor inputBias, Tensor hiddenBias)
    {
        Check.NotNull(x, "GruCell", nameof(x));
        Check.NotNull(h, "GruCell", nameof(h));
        Check.NotNull(inputWeight, "GruCell", nameof(inputWeight));
        Check.NotNull(hiddenWeight, "GruCell", nameof(hiddenWeight));
        if (x.Rank != 2 || h.Rank != 2 || inputWeight.Rank != 2 || hiddenWeight.Rank != 2 || inputWeight.Shape[0] != x.Shape[1]
            || hiddenWeight.Shape[0] != h.Shape[1] || inputWeight.Shape[1] != 3 * h.Shape[1] || hiddenWeight.Shape[1] != 3 * h.Shape[1])
        {
            throw new ShapeMismatchException(
                $"GruCell: x {x.Shape}, h {h.Shape}, Wx {inputWeight.Shape} and Wh {hiddenWeight.Shape} must be (N, D), (N, H), (D, 3H) and (H, 3H).");
        }

        return GruGates(Affine(x, inputWeight, inputBias), Affine(h, hiddenWeight, hiddenBias), h);
    }

    /// <summary>GruGates from primitives (its composition check).</summary>
    private static Tensor ComposedGruGates(Tensor ax, Tensor ah, Tensor h)
    {
        var width = h.Shape[1];
        var r = Sigmoid(Narrow(ax, 1, 0, width) + Narrow(ah, 1, 0, width));
        var z = Sigmoid(Narrow(ax, 1, width, width) + Narrow(ah, 1, width, width));
        var n = Tanh(Narrow(ax, 1, 2 * width, width) + (r * Narrow(ah, 1, 2 * width, width)));
        return ((1 - z) * n) + (z * h);
    }

    private readonly struct GruGatesForward(Tensor inputGates, Tensor hiddenGates, Tensor h, Tensor y) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            ReadOnlySpan<T> ax = inputGates.Raw<T>(), ah = hiddenGates.Raw<T>(), hs = h.Raw<T>();
            var output = y.Raw<T>();
            int rows = h.Shape[0], width = h.Shape[1];
            var scratch = ArrayPool<T>.Shared.Rent(3 * width);
            try
            {
                var act = scratch.AsSpan(0, 3 * width);
                for (var n = 0; n < rows; n++)
                {
                    GruRowActivations(ax.Slice(n * 3 * width, 3 * width), ah.Slice(n * 3 * width, 3 * width), act, width);
                    ReadOnlySpan<T> z = act.Slice(width, width), candidate = act.Slice(2 * width, width), hRow = hs.Slice(n * width, width);
                    var row = output.Slice(n * width, width);
                    for (var j = 0; j < width; j++)
                    {
                        row[j] = ((T.One - z[j]) * candidate[j]) + (z[j] * hRow[j]);
                    }
                }
            }
            finally
            {
                ArrayPool<T>.Shared.Return(scratch);
            }
        }
    }

    /// <summary>
    /// One row's GRU activations into <paramref name="into"/>, vectorized as the Sigmoid and Tanh ops compute them:
    /// r = σ(Aₓr + Aₕr), z = σ(Aₓz + Aₕz), n = tanh(Aₓn + r ⊙ Aₕn), in that order.
    /// </summary>
    private static void GruRowActivations<T>(ReadOnlySpan<T> ax, ReadOnlySpan<T> ah, Span<T> into, int width)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var gates = into[..(2 * width)];
        TensorPrimitives.Add(ax[..(2 * width)], ah[..(2 * width)], gates);
        TensorPrimitives.Sigmoid(gates, gates);
        var candidate = into.Slice(2 * width, width);
        TensorPrimitives.Multiply(into[..width], ah.Slice(2 * width, width), candidate);
        TensorPrimitives.Add(candidate, ax.Slice(2 * width, width), candidate);
        TensorPrimitives.Tanh(candidate, candidate);
    }

    /// <summary>GruGates' rule (see <see cref="GruGates"/>), the gates recomputed from Aₓ and Aₕ.</summary>
    private readonly struct GruGatesRule : IBackwardRule
    {
        // ṙ = r(1 − r)(ȧₓ + ȧₕ)ᵣ, ż likewise, ṅ = (1 − n²)(ȧₓₙ + ṙ ⊙ aₕₙ + r ⊙ ȧₕₙ), ḣ' = ż ⊙ (h − n) + (1 − z) ⊙ ṅ + z ⊙ ḣ.
        public static Tensor Jvp(in Node node, InputTangents tangents)
        {
            Tensor ax = node.A!, ah = node.B!, h = node.C!;
            var width = h.Shape[1];
            var tax = tangents.A ?? Tensor.ZerosLike(ax);
            var tah = tangents.B ?? Tensor.ZerosLike(ah);
            var r = Sigmoid(Narrow(ax, 1, 0, width) + Narrow(ah, 1, 0, width));
            var z = Sigmoid(Narrow(ax, 1, width, width) + Narrow(ah, 1, width, width));
            var hiddenN = Narrow(ah, 1, 2 * width, width);
            var n = Tanh(Narrow(ax, 1, 2 * width, width) + (r * hiddenN));
            var dr = r * (1 - r) * (Narrow(tax, 1, 0, width) + Narrow(tah, 1, 0, width));
            var dz = z * (1 - z) * (Narrow(tax, 1, width, width) + Narrow(tah, 1, width, width));
            var dn = (1 - (n * n)) * (Narrow(tax, 1, 2 * width, width) + (dr * hiddenN) + (r * Narrow(tah, 1, 2 * width, width)));
            var tangent = (dz * (h - n)) + ((1 - z) * dn);
            return tangents.C is { } th ? tangent + (z * th) : tangent;
        }

        public static InputGradients Differentiate(in Node node, Tensor upstream)
        {
            Tensor ax = node.A!, ah = node.B!, h = node.C!;
            var width = h.Shape[1];
            var r = Sigmoid(Narrow(ax, 1, 0, width) + Narrow(ah, 1, 0, width));
            var z = Sigmoid(Narrow(ax, 1, width, width) + Narrow(ah, 1, width, width));
            var hiddenN = Narrow(ah, 1, 2 * width, width);
            var n = Tanh(Narrow(ax, 1, 2 * width, width) + (r * hiddenN));
            var dn = upstream * (1 - z) * (1 - (n * n));
            var dr = dn * hiddenN * r * (1 - r);
            var dz = upstream * (h - n) * z * (1 - z);
            return new(
                node.InA >= 0 ? Concat([dr, dz, dn], 1) : null,
                node.InB >= 0 ? Concat([dr, dz, dn * r], 1) : null,
                node.InC >= 0 ? upstream * z : null);
        }

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            Tensor ax = node.A!, ah = node.B!, h = node.C!;
            int rows = h.Shape[0], width = h.Shape[1];
            ReadOnlySpan<T> axs = ax.Raw<T>(), ahs = ah.Raw<T>(), hs = h.Raw<T>(), g = tape.Upstream<T>(index);
            var dax = node.InA >= 0 ? tape.BeginGradient<T>(node.InA) : default;
            var dah = node.InB >= 0 ? tape.BeginGradient<T>(node.InB) : default;
            var dh = node.InC >= 0 ? tape.BeginGradient<T>(node.InC) : default;
            Span<T> daxs = node.InA >= 0 ? dax.Span : default, dahs = node.InB >= 0 ? dah.Span : default, dhs = node.InC >= 0 ? dh.Span : default;
            var scratch = ArrayPool<T>.Shared.Rent(3 * width);
            try
            {
                var act = scratch.AsSpan(0, 3 * width);
                for (var n = 0; n < rows; n++)
                {
                    var gate = n * 3 * width;
                    GruRowActivations(axs.Slice(gate, 3 * width), ahs.Slice(gate, 3 * width), act, width);
                    for (var j = 0; j < width; j++)
                    {
                        T r = act[j], z = act[width + j], candidate = act[(2 * width) + j], hiddenN = ahs[gate + (2 * width) + j];
                        var at = (n * width) + j;
                        var dn = g[at] * (T.One - z) * (T.One - (candidate * candidate));
                        var dr = dn * hiddenN * r * (T.One - r);
                        var dz = g[at] * (hs[at] - candidate) * z * (T.One - z);
                        if (!daxs.IsEmpty)
                        {
                            daxs[gate + j] = dr;
                            daxs[gate + width + j] = dz;
                            daxs[gate + (2 * width) + j] = dn;
                        }

                        if (!dahs.IsEmpty)
                        {
                            dahs[gate + j] = dr;
                            dahs[gate + width + j] = dz;
                            dahs[gate + (2 * width) + j] = dn * r;
                        }

                        if (!dhs.IsEmpty)
                        {
                            dhs[at] = g[at] * z;
                        }
                    }
                }
            }
            finally
            {
                ArrayPool<T>.Shared.Return(scratch);
            }

            if (node.InA >= 0)
            {
                tape.Commit(dax);
            }

            if (node.InB >= 0)
            {
                tape.Commit(dah);
            }

            if (node.InC >= 0)
            {
                tape.Commit(dh);
            }
        }
    }

    /// <summary>LstmGates from primitives (its composition check).</summary>
    private static Tensor ComposedLstmGates(Tensor gates, Tensor c)
    {
        var width = c.Shape[1];
        var f = Sigmoid(Narrow(gates, 1, 0, width));
        var g = Tanh(Narrow(gates, 1, width, width));
        var i = Sigmoid(Narrow(gates, 1, 2 * width, width));
        var o = Sigmoid(Narrow(gates, 1, 3 * width, width));
        var next = (f * c) + (g * i);
        return Stack([o * Tanh(next), next]);
    }

    /// <summary>
    /// LstmGates' rule for one row, in vectors: dc' = gc + gh·o(1 − t²) with t = tanh c', then the gates' gradients
    /// into <paramref name="dGates"/> (f, g, i, o quarters) and dc = dc'·f into <paramref name="dc"/>, each skipped when
    /// empty.
    /// </summary>
    private static void LstmGatesRowGradient<T>(ReadOnlySpan<T> act, ReadOnlySpan<T> tanhNext, ReadOnlySpan<T> c, ReadOnlySpan<T> gh, ReadOnlySpan<T> gc, Span<T> dGates, Span<T> dc, int width)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ReadOnlySpan<T> f = act[..width], g = act.Slice(width, width), i = act.Slice(2 * width, width), o = act.Slice(3 * width, width);
        var j = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            var one = Vector<T>.One;
            for (; j + Vector<T>.Count <= width; j += Vector<T>.Count)
            {
                Vector<T> vf = new(f[j..]), vg = new(g[j..]), vi = new(i[j..]), vo = new(o[j..]), vt = new(tanhNext[j..]), vh = new(gh[j..]);
                var dNext = new Vector<T>(gc[j..]) + (vh * vo * (one - (vt * vt)));
                if (!dGates.IsEmpty)
                {
                    (dNext * new Vector<T>(c[j..]) * vf * (one - vf)).CopyTo(dGates[j..]);
                    (dNext * vi * (one - (vg * vg))).CopyTo(dGates[(width + j)..]);
                    (dNext * vg * vi * (one - vi)).CopyTo(dGates[((2 * width) + j)..]);
                    (vh * vt * vo * (one - vo)).CopyTo(dGates[((3 * width) + j)..]);
                }

                if (!dc.IsEmpty)
                {
                    (dNext * vf).CopyTo(dc[j..]);
                }
            }
        }

        for (; j < width; j++)
        {
            var dNext = gc[j] + (gh[j] * o[j] * (T.One - (tanhNext[j] * tanhNext[j])));
            if (!dGates.IsEmpty)
            {
                dGates[j] = dNext * c[j] * f[j] * (T.One - f[j]);
                dGates[width + j] = dNext * i[j] * (T.One - (g[j] * g[j]));
                dGates[(2 * width) + j] = dNext * g[j] * i[j] * (T.One - i[j]);
                dGates[(3 * width) + j] = gh[j] * tanhNext[j] * o[j] * (T.One - o[j]);
            }

            if (!dc.IsEmpty)
            {
                dc[j] = dNext * f[j];
            }
        }
    }

    /// <summary>
    /// One row's four LSTM gates, vectorized as the Sigmoid and Tanh ops compute them: σ of the f, i and o quarters
    /// of <paramref name="row"/> and tanh of the g quarter, into <paramref name="into"/> in the same order.
    /// </summary>
    private static void GateActivations<T>(ReadOnlySpan<T> row, Span<T> into, int width)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        TensorPrimitives.Sigmoid(row[..width], into[..width]);
        TensorPrimitives.Tanh(row.Slice(width, width), into.Slice(width, width));
        TensorPrimitives.Sigmoid(row[(2 * width)..], into[(2 * width)..]);
    }

    private readonly struct LstmGatesForward(Tensor gates, Tensor c, Tensor y) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            ReadOnlySpan<T> a = gates.Raw<T>(), cs = c.Raw<T>();
            var output = y.Raw<T>();
            int rows = c.Shape[0], width = c.Shape[1], half = rows * width;
            var scratch = ArrayPool<T>.Shared.Rent(4 * width);
            try
            {
                var act = scratch.AsSpan(0, 4 * width);
                for (var n = 0; n < rows; n++)
                {
                    GateActivations(a.Slice(n * 4 * width, 4 * width), act, width);
                    ReadOnlySpan<T> f = act[..width], g = act.Slice(width, width), i = act.Slice(2 * width, width), o = act.Slice(3 * width, width);
                    Span<T> next = output.Slice(half + (n * width), width), h = output.Slice(n * width, width);
                    TensorPrimitives.Multiply(f, cs.Slice(n * width, width), next);
                    TensorPrimitives.MultiplyAdd(g, i, next, next);
                    TensorPrimitives.Tanh(next, h);
                    TensorPrimitives.Multiply(o, h, h);
                }
            }
            finally
            {
                ArrayPool<T>.Shared.Return(scratch);
            }
        }
    }

    /// <summary>LstmGates' rule (see <see cref="LstmGates"/>), the gates recomputed from A.</summary>
    private readonly struct LstmGatesRule : IBackwardRule
    {
        // The book's gate order f, g, i, o: c' = σ(f)·c + tanh(g)·σ(i), h = σ(o)·tanh(c'), stacked as (2, N, H).
        public static string? Onnx(in Node node, IOnnxGraph graph)
        {
            var gates = graph.Value(node.A!);
            long width = node.B!.Shape[1];
            string Gate(int k, string activation) =>
                graph.Node(activation, [graph.Node("Slice", [gates, graph.Int64s(k * width), graph.Int64s((k + 1) * width), graph.Int64s(1)])]);

            string f = Gate(0, "Sigmoid"), g = Gate(1, "Tanh"), i = Gate(2, "Sigmoid"), o = Gate(3, "Sigmoid");
            var next = graph.Node("Add", [graph.Node("Mul", [f, graph.Value(node.B!)]), graph.Node("Mul", [g, i])]);
            var h = graph.Node("Mul", [o, graph.Node("Tanh", [next])]);
            var axis = graph.Int64s(0);
            return graph.Node("Concat", [graph.Node("Unsqueeze", [h, axis]), graph.Node("Unsqueeze", [next, axis])], ("axis", 0L));
        }

        // ḟ = f(1 − f)Ȧ_f, ġ = (1 − g²)Ȧ_g, i̇ and ȯ like ḟ; ċ' = ḟ ⊙ c + f ⊙ ċ + ġ ⊙ i + g ⊙ i̇,
        // ḣ' = ȯ ⊙ tanh c' + o ⊙ (1 − tanh² c') ⊙ ċ'; stacked as the output is, (h', c').
        public static Tensor Jvp(in Node node, InputTangents tangents)
        {
            Tensor gates = node.A!, c = node.B!;
            int rows = c.Shape[0], width = c.Shape[1];
            var ta = tangents.A ?? Tensor.ZerosLike(gates);
            var f = Sigmoid(Narrow(gates, 1, 0, width));
            var g = Tanh(Narrow(gates, 1, width, width));
            var i = Sigmoid(Narrow(gates, 1, 2 * width, width));
            var o = Sigmoid(Narrow(gates, 1, 3 * width, width));
            var tanhNext = Tanh((f * c) + (g * i));
            var dNext = (f * (1 - f) * Narrow(ta, 1, 0, width) * c) + (g * i * (1 - i) * Narrow(ta, 1, 2 * width, width)) + ((1 - (g * g)) * Narrow(ta, 1, width, width) * i);
            if (tangents.B is { } tc)
            {
                dNext += f * tc;
            }

            var dh = (o * (1 - o) * Narrow(ta, 1, 3 * width, width) * tanhNext) + (o * (1 - (tanhNext * tanhNext)) * dNext);
            return Concat([Reshape(dh, 1, rows, width), Reshape(dNext, 1, rows, width)], 0);
        }

        public static InputGradients Differentiate(in Node node, Tensor upstream)
        {
            Tensor gates = node.A!, c = node.B!;
            int rows = c.Shape[0], width = c.Shape[1];
            var f = Sigmoid(Narrow(gates, 1, 0, width));
            var g = Tanh(Narrow(gates, 1, width, width));
            var i = Sigmoid(Narrow(gates, 1, 2 * width, width));
            var o = Sigmoid(Narrow(gates, 1, 3 * width, width));
            var tanhNext = Tanh((f * c) + (g * i));
            var gh = Reshape(Slice(upstream, 0, 1), rows, width);
            var gc = Reshape(Slice(upstream, 1, 1), rows, width);
            var dNext = gc + (gh * o * (1 - (tanhNext * tanhNext)));
            Tensor? dGates = null;
            if (node.InA >= 0)
            {
                dGates = Concat([dNext * c * f * (1 - f), dNext * i * (1 - (g * g)), dNext * g * i * (1 - i), gh * tanhNext * o * (1 - o)], 1);
            }

            return new(dGates, node.InB >= 0 ? dNext * f : null);
        }

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            Tensor gates = node.A!, c = node.B!;
            int rows = c.Shape[0], width = c.Shape[1], half = rows * width;
            ReadOnlySpan<T> a = gates.Raw<T>(), cs = c.Raw<T>(), upstream = tape.Upstream<T>(index);
            var dGates = node.InA >= 0 ? tape.BeginGradient<T>(node.InA) : default;
            var dc = node.InB >= 0 ? tape.BeginGradient<T>(node.InB) : default;
            var scratch = ArrayPool<T>.Shared.Rent(5 * width);
            try
            {
                Span<T> act = scratch.AsSpan(0, 4 * width), tanhNext = scratch.AsSpan(4 * width, width);
                for (var n = 0; n < rows; n++)
                {
                    // The activations and tanh c' again, then the rule's arithmetic, all in vectors.
                    GateActivations(a.Slice(n * 4 * width, 4 * width), act, width);
                    var cRow = cs.Slice(n * width, width);
                    TensorPrimitives.Multiply(act[..width], cRow, tanhNext);
                    TensorPrimitives.MultiplyAdd(act.Slice(width, width), act.Slice(2 * width, width), tanhNext, tanhNext);
                    TensorPrimitives.Tanh(tanhNext, tanhNext);
                    var dRow = node.InA >= 0 ? dGates.Span.Slice(n * 4 * width, 4 * width) : default;
                    var dcRow = node.InB >= 0 ? dc.Span.Slice(n * width, width) : default;
                    LstmGatesRowGradient(act, tanhNext, cRow, upstream.Slice(n * width, width), upstream.Slice(half + (n * width), width), dRow, dcRow, width);
                }
            }
            finally
            {
                ArrayPool<T>.Shared.Return(scratch);
            }

            if (node.InA >= 0)
            {
                tape.Commit(dGates);
            }

            if (node.InB >= 0)
            {
                tape.Commit(dc);
            }
        }
    }

    /// <summary>The op table's rows for this file's ops, with their gradient checks (see <see cref="OpCatalog"/>).</summary>
    [OpFamily(98)]
    private static IEnumerable<OpInfo> RecurrentRows()
    {
        int[][] shapes = [[3, 2], [1, 5], [4, 1]];
        yield return new OpInfo
        {
            Family = "Recurrent",
            Call = "`LstmGates(A, c)`",
            Forward = "f, g, i, o = σ, tanh, σ, σ of A's quarters; c' = f ⊙ c + g ⊙ i, h' = o ⊙ tanh(c'); (2, N, H)",
            Gradient = "dc' = gc + gh ⊙ o(1 − tanh²c'), dc = dc' ⊙ f, dA = (dc' ⊙ c ⊙ f(1 − f), dc' ⊙ i(1 − g²), dc' ⊙ g ⊙ i(1 − i), gh ⊙ tanh c' ⊙ o(1 − o))",
            Fused = true,
            BadInputs = [
                Bad<ShapeMismatchException>("lstm gates shape", () => LstmGates(M23, M32), "LstmGates", "(2, 3)", "(3, 2)"),
                Bad<DTypeMismatchException>("lstm gates types", () => LstmGates(Tensor.Zeros([2, 4], DType.Float64), Tensor.Zeros([2, 1])), "LstmGates", "float64", "float32"),
            ],
            CannotGrowBecause = "half the gates' elements, twice",
            Samples = [.. shapes.Select(s => Gradient("LstmGates", v => LstmGates(v[0], v[1]), N(270, s[0], 4 * s[1]), N(271, s[0], s[1])))],
            Compositions = [.. shapes.Select(s => Composition("LstmGates", v => LstmGates(v[0], v[1]), v => ComposedLstmGates(v[0], v[1]), N(272, s[0], 4 * s[1]), N(273, s[0], s[1])))],
        };
        yield return new OpInfo
        {
            Family = "Recurrent",
            Call = "`GruGates(Aₓ, Aₕ, h)`",
            Forward = "r, z = σ(Aₓ + Aₕ) quarters, n = tanh(Aₓn + r ⊙ Aₕn), h' = (1 − z) ⊙ n + z ⊙ h (PyTorch's order r, z, n)",
            Gradient = "dn = g(1 − z)(1 − n²), dr = dn ⊙ Aₕn ⊙ r(1 − r), dz = g(h − n) ⊙ z(1 − z); dAₓ = (dr, dz, dn), dAₕ = (dr, dz, dn ⊙ r), dh = g ⊙ z",
            Fused = true,
            BadInputs = [
                Bad<ShapeMismatchException>("gru gates shape", () => GruGates(M23, M23, M23), "GruGates", "(2, 3)"),
            ],
            CannotGrowBecause = "h's shape",
            Samples = [.. shapes.Select(s => Gradient("GruGates", v => GruGates(v[0], v[1], v[2]), N(280, s[0], 3 * s[1]), N(281, s[0], 3 * s[1]), N(282, s[0], s[1])))],
            Compositions = [.. shapes.Select(s => Composition("GruGates", v => GruGates(v[0], v[1], v[2]), v => ComposedGruGates(v[0], v[1], v[2]), N(283, s[0], 3 * s[1]), N(284, s[0], 3 * s[1]), N(285, s[0], s[1])))],
        };
        yield return new OpInfo
        {
            Family = "Recurrent",
            Call = "`GruCell(x, h, Wx, Wh, bx, bh)`",
            Forward = "GruGates(x·Wx + bx, h·Wh + bh, h)",
            Gradient = "through Affine and GruGates",
            BadInputs = [Bad<ShapeMismatchException>("gru cell weights", () => GruCell(M23, M23, M32, M32, V2, V2), "GruCell", "Wx (3, 2)", "(2, 3)")],
            CannotGrowBecause = "its result is GruGates'",
            Samples = [Gradient("GruCell", v => GruCell(v[0], v[1], v[2], v[3], v[4], v[5]), N(286, 3, 4), N(287, 3, 2), N(288, 4, 6), N(289, 2, 6), N(290, 6), N(291, 6))],
        };
        yield return new OpInfo
        {
            Family = "Recurrent",
            Call = "`LstmCell(x, h, c, Wx, Wh, b)`",
            Forward = "LstmGates(x·Wx + h·Wh + b, c), as h' and c'",
            Gradient = "through Affine, MatMul and LstmGates",
            BadInputs = [
                Bad<ShapeMismatchException>("lstm cell weights", () => LstmCell(M23, M23, M23, M32, M32, V3), "LstmCell", "Wx (3, 2)", "(2, 3)"),
            ],
            CannotGrowBecause = "its result is LstmGates'",
            Samples = [
                Gradient("LstmCell", v => LstmCell(v[0], v[1], v[2], v[3], v[4], v[5]) is var s ? (s[0] * 2) + s[1] : v[0], N(274, 3, 4), N(275, 3, 2), N(276, 3, 2), N(277, 4, 8), N(278, 2, 8), N(279, 8)),
            ],
        };
    }
}
