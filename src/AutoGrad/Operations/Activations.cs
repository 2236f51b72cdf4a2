using System.Numerics;

using AutoGrad.Autodiff;
using AutoGrad.Tensors;

using static AutoGrad.Operations.OpSamples;

using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace AutoGrad.Operations;

/// <summary>Activation functions beyond the book's Relu and Sigmoid, and clamping: Gelu, LeakyRelu, Elu, Selu, Silu, Softplus, Mish, Softsign, Clamp, HardTanh.</summary>
public static partial class Ops
{
    private static readonly Op s_gelu = new Op<GeluRule>("Gelu");

    private static readonly Op s_leakyRelu = new Op<ActivationRule<LeakyReluFn>>("LeakyRelu");
    private static readonly Op s_elu = new Op<ActivationRule<EluFn>>("Elu");
    private static readonly Op s_selu = new Op<ActivationRule<SeluFn>>("Selu");
    private static readonly Op s_silu = new Op<ActivationRule<SiluFn>>("Silu");
    private static readonly Op s_softplus = new Op<ActivationRule<SoftplusFn>>("Softplus");
    private static readonly Op s_mish = new Op<ActivationRule<MishFn>>("Mish");
    private static readonly Op s_softsign = new Op<ActivationRule<SoftsignFn>>("Softsign");
    private static readonly Op s_clamp = new Op<ClampRule>("Clamp");
    private static readonly Op s_hardTanh = new Op<ClampRule>("HardTanh");

    /// <summary>SELU's α and scale (Klambauer et al. 2017), to the digits PyTorch uses.</summary>
    private const double SeluAlpha = 1.6732632423543772848170429916717;

    /// <inheritdoc cref="SeluAlpha"/>
    private const double SeluScale = 1.0507009873554804934193349852946;

    private static readonly double s_sqrt2 = Math.Sqrt(2);
    private static readonly double s_sqrt2OverPi = Math.Sqrt(2 / Math.PI);
    private static readonly double s_inverseSqrt2Pi = 1 / Math.Sqrt(2 * Math.PI);

    /// <summary>
    /// The Gaussian error linear unit, x·Φ(x) = ½x(1 + erf(x/√2)), as PyTorch's <c>gelu</c>; with
    /// <paramref name="tanhApproximation"/>, ½x(1 + tanh(√(2/π)(x + 0.044715x³))), PyTorch's <c>approximate='tanh'</c>.
    /// ∂/∂x = g ⊙ (Φ(x) + x·φ(x)), φ the standard normal density (or the derivative of the tanh form).
    /// </summary>
    /// <param name="x">The tensor.</param>
    /// <param name="tanhApproximation">Use the tanh approximation (GPT-2, BERT) instead of the exact erf form.</param>
    /// <returns>The activation, x's shape.</returns>
    public static Tensor Gelu(Tensor x, bool tanhApproximation = false)
    {
        Check.NotNull(x, "Gelu", nameof(x));
        var y = Tensor.Uninitialized(x.DType, x.Shape);
        var phi = ElementType.Dispatch<GeluForward, Tensor?>(x.DType, new GeluForward(x, y, tanhApproximation, keepPhi: Tape.MayRecord(x)));

        // Recorded in float32, the exact form keeps Φ(x) for its backward rule, which then needs only the density.
        Tape.Record(s_gelu, y, x, null, null, phi is null ? new NodeArgs { Scalar = tanhApproximation ? 1 : 0 } : NodeArgs.Of(phi));
        return y;
    }

    /// <summary>x for x &gt; 0, slope·x otherwise. ∂/∂x = g (x &gt; 0) or slope·g; at exactly 0, slope (PyTorch's choice).</summary>
    /// <param name="x">The tensor.</param>
    /// <param name="slope">The slope for negative inputs, finite (PyTorch's default 0.01).</param>
    /// <returns>The activation.</returns>
    public static Tensor LeakyRelu(Tensor x, double slope = 0.01)
    {
        Check.Finite(slope, "LeakyRelu", nameof(slope));
        return Activate<LeakyReluFn>(s_leakyRelu, x, slope);
    }

    /// <summary>x for x &gt; 0, α(eˣ − 1) otherwise. ∂/∂x = g, or g ⊙ α eˣ.</summary>
    /// <param name="x">The tensor.</param>
    /// <param name="alpha">α, finite (PyTorch's default 1).</param>
    /// <returns>The activation.</returns>
    public static Tensor Elu(Tensor x, double alpha = 1)
    {
        Check.Finite(alpha, "Elu", nameof(alpha));
        return Activate<EluFn>(s_elu, x, alpha);
    }

    /// <summary>scale·Elu(x, α) with SELU's fixed α ≈ 1.6733 and scale ≈ 1.0507 (self-normalizing nets).</summary>
    /// <param name="x">The tensor.</param>
    /// <returns>The activation.</returns>
    public static Tensor Selu(Tensor x) => Activate<SeluFn>(s_selu, x, 0);

    /// <summary>x·σ(x) (SiLU, "swish"). ∂/∂x = g ⊙ σ(x)(1 + x(1 − σ(x))).</summary>
    /// <param name="x">The tensor.</param>
    /// <returns>The activation.</returns>
    public static Tensor Silu(Tensor x) => Activate<SiluFn>(s_silu, x, 0);

    /// <summary>ln(1 + eˣ), as max(x, 0) + ln(1 + e^−|x|): finite and exact at |x| = 1000. ∂/∂x = g ⊙ σ(x).</summary>
    /// <param name="x">The tensor.</param>
    /// <returns>The activation.</returns>
    public static Tensor Softplus(Tensor x) => Activate<SoftplusFn>(s_softplus, x, 0);

    /// <summary>x·tanh(softplus(x)). ∂/∂x = g ⊙ (tanh s + x(1 − tanh² s)σ(x)), s = softplus(x).</summary>
    /// <param name="x">The tensor.</param>
    /// <returns>The activation.</returns>
    public static Tensor Mish(Tensor x) => Activate<MishFn>(s_mish, x, 0);

    /// <summary>x / (1 + |x|). ∂/∂x = g ⊘ (1 + |x|)².</summary>
    /// <param name="x">The tensor.</param>
    /// <returns>The activation.</returns>
    public static Tensor Softsign(Tensor x) => Activate<SoftsignFn>(s_softsign, x, 0);

    /// <summary>
    /// x limited to [min, max]. ∂/∂x = g strictly inside (min &lt; x &lt; max) and 0 elsewhere, the boundaries included
    /// (a subgradient; PyTorch's hardtanh makes the same choice, its clamp passes g at the boundaries). NaN stays NaN.
    /// </summary>
    /// <param name="x">The tensor.</param>
    /// <param name="min">The lower bound, finite.</param>
    /// <param name="max">The upper bound, finite and not below <paramref name="min"/>.</param>
    /// <returns>The clamped tensor.</returns>
    public static Tensor Clamp(Tensor x, double min, double max) => ClampCore(s_clamp, x, min, max);

    /// <summary>Clamp to [min, max] as an activation, PyTorch's hardtanh (default [−1, 1]); the same gradient as <see cref="Clamp"/>.</summary>
    /// <param name="x">The tensor.</param>
    /// <param name="min">The lower bound.</param>
    /// <param name="max">The upper bound.</param>
    /// <returns>The activation.</returns>
    public static Tensor HardTanh(Tensor x, double min = -1, double max = 1) => ClampCore(s_hardTanh, x, min, max);

    private static Tensor ClampCore(Op op, Tensor x, double min, double max)
    {
        Check.NotNull(x, op.Name, nameof(x));
        Check.Finite(min, op.Name, nameof(min));
        Check.Finite(max, op.Name, nameof(max));
        if (min > max)
        {
            throw new ArgumentOutOfRangeException(nameof(max), max, $"{op.Name}: max {max} is below min {min}.");
        }

        var y = Tensor.Uninitialized(x.DType, x.Shape);
        ElementType.Dispatch(x.DType, new ClampForward(x, min, max, y));

        Tape.Record(op, y, x, null, null, NodeArgs.Of(new ClampBounds(min, max)));
        return y;
    }

    private readonly struct ClampForward(Tensor x, double min, double max, Tensor y) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T> =>
            TensorPrimitives.Clamp<T>(x.Raw<T>(), T.CreateTruncating(min), T.CreateTruncating(max), y.Raw<T>());
    }

    /// <summary>Clamp's bounds, as its backward rule reads them.</summary>
    private sealed record ClampBounds(double Min, double Max);

    private readonly struct ClampRule : IBackwardRule
    {
        // Clip with the finite bounds only (an infinite one is no bound).
        public static string? Onnx(in Node node, IOnnxGraph graph)
        {
            var bounds = node.Args.State<ClampBounds>();
            var x = node.A!;
            string Bound(double value) => double.IsInfinity(value) ? string.Empty : OnnxScalar(value, x, graph);
            return graph.Node("Clip", [graph.Value(x), Bound(bounds.Min), Bound(bounds.Max)]);
        }

        public static Tensor Jvp(in Node node, InputTangents tangents) => DiagonalJvp<ClampRule>(node, tangents);
        public static Tensor? JvpBatch(in Node node, InputTangents tangents, int batch) => DiagonalJvpBatch<ClampRule>(node, tangents, batch);
        public static InputGradients? VjpBatch(in Node node, Tensor upstream, int batch) => DiagonalVjpBatch(node, upstream);

        public static InputGradients Differentiate(in Node node, Tensor upstream)
        {
            var (min, max) = node.Args.State<ClampBounds>();
            return new(upstream * Constant(node.A!, v => v > min && v < max ? 1 : 0));
        }

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var bounds = node.Args.State<ClampBounds>();
            T min = T.CreateTruncating(bounds.Min), max = T.CreateTruncating(bounds.Max);
            var x = node.A!.Raw<T>();
            var g = tape.Upstream<T>(index);
            var target = tape.BeginGradient<T>(node.InA);
            for (var i = 0; i < x.Length; i++)
            {
                target.Span[i] = x[i] > min && x[i] < max ? g[i] : T.Zero;
            }

            tape.Commit(target);
        }
    }

    /// <summary>Applies <typeparamref name="TFn"/> elementwise in float64 and records it with its parameter.</summary>
    private static Tensor Activate<TFn>(Op op, Tensor x, double parameter)
        where TFn : struct, IActivation
    {
        Check.NotNull(x, op.Name, nameof(x));
        var y = Tensor.Uninitialized(x.DType, x.Shape);
        ElementType.Dispatch(x.DType, new ActivateForward<TFn>(x, y, parameter));

        Tape.Record(op, y, x, null, null, new NodeArgs { Scalar = parameter });
        return y;
    }

    private readonly struct ActivateForward<TFn>(Tensor xTensor, Tensor yTensor, double parameter) : IElementAction
        where TFn : struct, IActivation
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            ReadOnlySpan<T> x = xTensor.Raw<T>();
            Span<T> y = yTensor.Raw<T>();
            for (var i = 0; i < x.Length; i++)
            {
                y[i] = T.CreateTruncating(TFn.Value(double.CreateTruncating(x[i]), parameter));
            }
        }
    }

    /// <summary>An activation as three functions of x and one parameter: its value, its slope, and its slope in ops.</summary>
    private interface IActivation
    {
        static abstract double Value(double x, double parameter);

        static abstract double Slope(double x, double parameter);

        /// <summary>The slope written with ops, so that <c>createGraph</c> can differentiate it again.</summary>
        static abstract Tensor SlopeInOps(Tensor x, double parameter);

        /// <summary>The activation as ONNX (see <see cref="Op.Onnx"/>); null where it has no form written yet.</summary>
        static virtual string? Onnx(in Node node, IOnnxGraph graph) => null;
    }

    private readonly struct ActivationRule<TFn> : IBackwardRule
        where TFn : struct, IActivation
    {
        public static string? Onnx(in Node node, IOnnxGraph graph) => TFn.Onnx(node, graph);

        public static Tensor Jvp(in Node node, InputTangents tangents) => DiagonalJvp<ActivationRule<TFn>>(node, tangents);
        public static Tensor? JvpBatch(in Node node, InputTangents tangents, int batch) => DiagonalJvpBatch<ActivationRule<TFn>>(node, tangents, batch);
        public static InputGradients? VjpBatch(in Node node, Tensor upstream, int batch) => DiagonalVjpBatch(node, upstream);

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(upstream * TFn.SlopeInOps(node.A!, node.Args.Scalar));

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var x = node.A!.Raw<T>();
            var g = tape.Upstream<T>(index);
            var parameter = node.Args.Scalar;
            var target = tape.BeginGradient<T>(node.InA);
            for (var i = 0; i < x.Length; i++)
            {
                target.Span[i] = g[i] * T.CreateTruncating(TFn.Slope(double.CreateTruncating(x[i]), parameter));
            }

            tape.Commit(target);
        }
    }

    private readonly struct LeakyReluFn : IActivation
    {
        public static double Value(double x, double slope) => x > 0 ? x : slope * x;

        public static double Slope(double x, double slope) => x > 0 ? 1 : slope;

        public static Tensor SlopeInOps(Tensor x, double slope) => Constant(x, v => v > 0 ? 1 : slope);

        public static string? Onnx(in Node node, IOnnxGraph graph) => graph.Node("LeakyRelu", [graph.Value(node.A!)], ("alpha", node.Args.Scalar));
    }

    private readonly struct EluFn : IActivation
    {
        public static double Value(double x, double alpha) => x > 0 ? x : alpha * Expm1Of(x);

        public static double Slope(double x, double alpha) => x > 0 ? 1 : alpha * Math.Exp(x);

        public static Tensor SlopeInOps(Tensor x, double alpha)
        {
            var positive = Constant(x, v => v > 0 ? 1 : 0);
            return positive + ((1 - positive) * alpha * Exp(x));
        }
    }

    private readonly struct SeluFn : IActivation
    {
        public static double Value(double x, double unused) => SeluScale * EluFn.Value(x, SeluAlpha);

        public static double Slope(double x, double unused) => SeluScale * EluFn.Slope(x, SeluAlpha);

        public static Tensor SlopeInOps(Tensor x, double unused) => SeluScale * EluFn.SlopeInOps(x, SeluAlpha);
    }

    private readonly struct SiluFn : IActivation
    {
        public static double Value(double x, double unused) => x * Logistic(x);

        public static double Slope(double x, double unused)
        {
            var s = Logistic(x);
            return s * (1 + (x * (1 - s)));
        }

        public static Tensor SlopeInOps(Tensor x, double unused)
        {
            var s = Sigmoid(x);
            return s * (1 + (x * (1 - s)));
        }
    }

    private readonly struct SoftplusFn : IActivation
    {
        public static double Value(double x, double unused) => Math.Max(x, 0) + Log1pOf(Math.Exp(-Math.Abs(x)));

        public static double Slope(double x, double unused) => Logistic(x);

        public static Tensor SlopeInOps(Tensor x, double unused) => Sigmoid(x);
    }

    private readonly struct MishFn : IActivation
    {
        public static double Value(double x, double unused) => x * Math.Tanh(SoftplusFn.Value(x, 0));

        public static double Slope(double x, double unused)
        {
            var t = Math.Tanh(SoftplusFn.Value(x, 0));
            return t + (x * (1 - (t * t)) * Logistic(x));
        }

        public static Tensor SlopeInOps(Tensor x, double unused)
        {
            var t = Tanh(Softplus(x));
            return t + (x * (1 - (t * t)) * Sigmoid(x));
        }
    }

    private readonly struct SoftsignFn : IActivation
    {
        public static double Value(double x, double unused) => x / (1 + Math.Abs(x));

        public static double Slope(double x, double unused)
        {
            var d = 1 + Math.Abs(x);
            return 1 / (d * d);
        }

        public static Tensor SlopeInOps(Tensor x, double unused) => Reciprocal(Square(1 + Abs(x)));
    }

    /// <summary>σ(x) = 1/(1 + e^−x), without overflow for large |x|.</summary>
    private static double Logistic(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));

    // Computed in float64 for either element type: the erf and the cube are where float32 would lose digits.
    /// <summary>The forward pass; returns Φ(x) when it was asked to keep it and the float32 kernel ran, else null.</summary>
    private readonly struct GeluForward(Tensor xTensor, Tensor yTensor, bool tanhApproximation, bool keepPhi) : IElementFunction<Tensor?>
    {
        public Tensor? Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            ReadOnlySpan<T> x = xTensor.Raw<T>();
            Span<T> y = yTensor.Raw<T>();
            if (!tanhApproximation && typeof(T) == typeof(float) && Kernels.GeluSingle.IsSupported)
            {
                var xs = System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(x);
                var ys = System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(y);
                if (!keepPhi)
                {
                    Kernels.GeluSingle.Forward(xs, ys);
                    return null;
                }

                var phi = Tensor.Uninitialized(xTensor.DType, xTensor.Shape);
                Kernels.GeluSingle.Forward(xs, ys, phi.Raw<float>());
                return phi;
            }

            if (!tanhApproximation)
            {
                GeluBlocks(x, y, derivative: false);
                return null;
            }

            for (var i = 0; i < x.Length; i++)
            {
                var v = double.CreateTruncating(x[i]);
                y[i] = T.CreateTruncating(0.5 * v * (1 + Math.Tanh(s_sqrt2OverPi * (v + (0.044715 * v * v * v)))));
            }

            return null;
        }
    }

    /// <summary>
    /// The erf form's values ½x(1 + erf(x/√2)), or its derivative ½(1 + erf(x/√2)) + x·φ(x), into
    /// <paramref name="y"/>, in float64 blocks through the vector erf (<see cref="Kernels.ErrorFunction"/>).
    /// </summary>
    private static void GeluBlocks<T>(ReadOnlySpan<T> x, Span<T> y, bool derivative)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<double> values = stackalloc double[256], erf = stackalloc double[256], density = stackalloc double[256];
        for (var start = 0; start < x.Length; start += values.Length)
        {
            var count = Math.Min(values.Length, x.Length - start);
            Span<double> v = values[..count], e = erf[..count], d = density[..count];
            ConvertToDouble(x.Slice(start, count), v);
            TensorPrimitives.Multiply(v, 1 / s_sqrt2, e);
            Kernels.ErrorFunction.Erf(e, e);
            TensorPrimitives.Add(e, 1.0, e);
            TensorPrimitives.Multiply(e, 0.5, e);
            if (derivative)
            {
                // Φ(x) + x·e^(−x²/2)/√(2π).
                TensorPrimitives.Multiply(v, v, d);
                TensorPrimitives.Multiply(d, -0.5, d);
                TensorPrimitives.Exp(d, d);
                TensorPrimitives.Multiply(d, v, d);
                TensorPrimitives.MultiplyAdd(d, s_inverseSqrt2Pi, e, e);
            }
            else
            {
                TensorPrimitives.Multiply(e, v, e);
            }

            ConvertFromDouble(e, y.Slice(start, count));
        }
    }

    /// <summary>dGelu/dx at v: Φ(v) + v·φ(v), or for the tanh form ½(1 + t) + ½v(1 − t²)·√(2/π)(1 + 3·0.044715v²).</summary>
    private static double GeluDerivative(double v, bool tanhApproximation)
    {
        if (tanhApproximation)
        {
            var t = Math.Tanh(s_sqrt2OverPi * (v + (0.044715 * v * v * v)));
            return (0.5 * (1 + t)) + (0.5 * v * (1 - (t * t)) * s_sqrt2OverPi * (1 + (3 * 0.044715 * v * v)));
        }

        return (0.5 * (1 + ErfOf(v / s_sqrt2))) + (v * s_inverseSqrt2Pi * Math.Exp(-0.5 * v * v));
    }

    private readonly struct GeluRule : IBackwardRule
    {
        // Opset 20 has Gelu; before it, its definition: x·Φ(x) = ½x(1 + erf(x/√2)), or the tanh form.
        public static string? Onnx(in Node node, IOnnxGraph graph)
        {
            var x = node.A!;
            var value = graph.Value(x);
            var tanh = node.Args.Scalar != 0;
            if (graph.Opset >= 20)
            {
                return graph.Node("Gelu", [value], ("approximate", tanh ? "tanh" : "none"));
            }

            string inner;
            if (tanh)
            {
                var cubed = graph.Node("Mul", [graph.Node("Mul", [value, value]), value]);
                var sum = graph.Node("Add", [value, graph.Node("Mul", [cubed, OnnxScalar(0.044715, x, graph)])]);
                inner = graph.Node("Tanh", [graph.Node("Mul", [sum, OnnxScalar(Math.Sqrt(2 / Math.PI), x, graph)])]);
            }
            else
            {
                inner = graph.Node("Erf", [graph.Node("Div", [value, OnnxScalar(Math.Sqrt(2), x, graph)])]);
            }

            var half = graph.Node("Mul", [value, OnnxScalar(0.5, x, graph)]);
            return graph.Node("Mul", [half, graph.Node("Add", [inner, OnnxScalar(1, x, graph)])]);
        }

        public static Tensor Jvp(in Node node, InputTangents tangents) => DiagonalJvp<GeluRule>(node, tangents);
        public static Tensor? JvpBatch(in Node node, InputTangents tangents, int batch) => DiagonalJvpBatch<GeluRule>(node, tangents, batch);
        public static InputGradients? VjpBatch(in Node node, Tensor upstream, int batch) => DiagonalVjpBatch(node, upstream);

        public static InputGradients Differentiate(in Node node, Tensor upstream)
        {
            var x = node.A!;
            if (node.Args.Scalar != 0)
            {
                var inner = s_sqrt2OverPi * (x + (0.044715 * x * x * x));
                var t = Tanh(inner);
                return new(upstream * ((0.5 * (1 + t)) + (0.5 * x * (1 - (t * t)) * s_sqrt2OverPi * (1 + (3 * 0.044715 * x * x)))));
            }

            return new(upstream * ((0.5 * (1 + Erf(x / s_sqrt2))) + (x * s_inverseSqrt2Pi * Exp(-0.5 * x * x))));
        }

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var x = node.A!.Raw<T>();
            var g = tape.Upstream<T>(index);
            var tanhApproximation = node.Args.Scalar != 0;
            var target = tape.BeginGradient<T>(node.InA);
            if (tanhApproximation)
            {
                for (var i = 0; i < x.Length; i++)
                {
                    target.Span[i] = g[i] * T.CreateTruncating(GeluDerivative(double.CreateTruncating(x[i]), tanhApproximation));
                }
            }
            else if (node.Args.HasReference && typeof(T) == typeof(float))
            {
                Kernels.GeluSingle.BackwardFromPhi(
                    System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(x), node.Args.State<Tensor>().Raw<float>(),
                    System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(g), System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(target.Span));
            }
            else if (typeof(T) == typeof(float) && Kernels.GeluSingle.IsSupported)
            {
                Kernels.GeluSingle.Backward(
                    System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(x), System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(g),
                    System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(target.Span));
            }
            else
            {
                GeluBlocks(x, target.Span, derivative: true);
                TensorPrimitives.Multiply(target.Span, g, target.Span);
            }

            tape.Commit(target);
        }
    }

    /// <summary>A row for an elementwise activation: checked on (2, 3, 4), the same values flattened, and 30 more values away from 0.</summary>
    private static OpInfo ActivationRow(string call, string forward, string gradient, string name, Func<Tensor[], Tensor> f, Func<Tensor> input, OpBadInput bad) => new()
    {
        Family = "Activations",
        Call = call,
        Forward = forward,
        Gradient = gradient,
        BadInputs = [bad],
        CannotGrowBecause = "elementwise",
        Samples = [Gradient(name, f, input), Gradient(name, f, () => Reshape(input(), -1)), Gradient(name, f, Away(73, 30))],
    };

    /// <summary>The op table's rows for this file's ops, with their gradient checks (see <see cref="OpCatalog"/>).</summary>
    [OpFamily(25)]
    private static IEnumerable<OpInfo> ActivationsRows()
    {
        int[][] shapes = [[], [5], [2, 3, 4]];
        yield return new OpInfo
        {
            Family = "Activations",
            Call = "`Gelu(x, tanhApproximation)`",
            Forward = "½x(1 + erf(x/√2)); tanh form ½x(1 + tanh(√(2/π)(x + 0.044715x³)))",
            Gradient = "g ⊙ (Φ(x) + x·φ(x)), φ the normal density; the tanh form's own derivative",
            BadInputs = [Bad<ArgumentNullException>("gelu null", () => Gelu(null!), "Gelu", "'x'")],
            CannotGrowBecause = "elementwise",
            Samples =
            [
                .. shapes.Select(s => Gradient("Gelu", v => Gelu(v[0]), N(58, s))),
                .. shapes.Select(s => Gradient("Gelu", v => Gelu(v[0], tanhApproximation: true), N(59, s))),
                Gradient("Gelu", v => Gelu(v[0]), U(60, -8, 8, 50)),
            ],
        };
        yield return new OpInfo
        {
            Family = "Activations",
            Call = "`Clamp(x, min, max)`, `HardTanh(x, min, max)`",
            Forward = "x limited to [min, max]",
            Gradient = "g strictly inside (min, max), 0 elsewhere (the boundaries included)",
            BadInputs = [
                Bad<ArgumentOutOfRangeException>("clamp bounds", () => Clamp(M23, 1, -1), "Clamp", "max -1", "min 1"),
                Bad<ArgumentOutOfRangeException>("hardtanh nan", () => HardTanh(M23, double.NaN), "HardTanh", "min"),
            ],
            CannotGrowBecause = "elementwise",
            Samples =
            [
                Gradient("Clamp", v => Clamp(v[0], -0.5, 0.8), Away(79, 2, 3, 4)),
                Gradient("HardTanh", v => HardTanh(v[0]), Away(80, 3, 5)),
            ],
        };
        yield return ActivationRow("`LeakyRelu(x, slope)`", "x for x > 0, slope·x otherwise", "g, or slope·g (slope at exactly 0)", "LeakyRelu", v => LeakyRelu(v[0], 0.1), Away(66, 2, 3, 4), Bad<ArgumentOutOfRangeException>("leaky slope nan", () => LeakyRelu(M23, double.NaN), "LeakyRelu", "slope"));
        yield return ActivationRow("`Elu(x, alpha)`", "x for x > 0, α(eˣ − 1) otherwise", "g, or g ⊙ α eˣ", "Elu", v => Elu(v[0], 1.5), Away(67, 2, 3, 4), Bad<ArgumentOutOfRangeException>("elu alpha infinite", () => Elu(M23, double.PositiveInfinity), "Elu", "alpha"));
        yield return ActivationRow("`Selu(x)`", "scale·Elu(x, α), α ≈ 1.6733, scale ≈ 1.0507", "scale·(g, or g ⊙ α eˣ)", "Selu", v => Selu(v[0]), Away(68, 2, 3, 4), Bad<ArgumentNullException>("selu null", () => Selu(null!), "Selu", "'x'"));
        yield return ActivationRow("`Silu(x)`", "x·σ(x)", "g ⊙ σ(x)(1 + x(1 − σ(x)))", "Silu", v => Silu(v[0]), N(69, 2, 3, 4), Bad<ArgumentNullException>("silu null", () => Silu(null!), "Silu", "'x'"));
        yield return ActivationRow("`Softplus(x)`", "max(x, 0) + ln(1 + e^−\\|x\\|), finite at \\|x\\| = 1000", "g ⊙ σ(x)", "Softplus", v => Softplus(v[0]), N(70, 2, 3, 4), Bad<ArgumentNullException>("softplus null", () => Softplus(null!), "Softplus", "'x'"));
        yield return ActivationRow("`Mish(x)`", "x·tanh(softplus(x))", "g ⊙ (tanh s + x(1 − tanh² s)σ(x)), s = softplus(x)", "Mish", v => Mish(v[0]), N(71, 2, 3, 4), Bad<ArgumentNullException>("mish null", () => Mish(null!), "Mish", "'x'"));
        yield return ActivationRow("`Softsign(x)`", "x / (1 + \\|x\\|)", "g ⊘ (1 + \\|x\\|)²", "Softsign", v => Softsign(v[0]), Away(72, 2, 3, 4), Bad<ArgumentNullException>("softsign null", () => Softsign(null!), "Softsign", "'x'"));
    }
}
