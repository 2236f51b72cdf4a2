using System.Numerics;

using AutoGrad.Autodiff;
using AutoGrad.Kernels;
using AutoGrad.Tensors;

using static AutoGrad.Operations.OpSamples;

using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace AutoGrad.Operations;

/// <summary>Elementwise functions of one tensor: exp, log, pow, sqrt, abs, relu, sigmoid, tanh.</summary>
public static unsafe partial class Ops
{
    private static readonly Op s_exp = new Op<ExpRule>("Exp", readsInputs: false);
    private static readonly Op s_log = new Op<LogRule>("Log");
    private static readonly Op s_pow = new Op<PowRule>("Pow");
    private static readonly Op s_sqrt = new Op<SqrtRule>("Sqrt", readsInputs: false);
    private static readonly Op s_abs = new Op<AbsRule>("Abs");
    private static readonly Op s_relu = new Op<ReluRule>("Relu");
    private static readonly Op s_sigmoid = new Op<SigmoidRule>("Sigmoid", readsInputs: false);
    private static readonly Op s_tanh = new Op<TanhRule>("Tanh", readsInputs: false);
    private static readonly Op s_sign = new Op<SignRule>("Sign", readsInputs: false);
    private static readonly Op s_sin = new Op<SinRule>("Sin");
    private static readonly Op s_cos = new Op<CosRule>("Cos");
    private static readonly Op s_erf = new Op<ErfRule>("Erf");
    private static readonly Op s_square = new Op<SquareRule>("Square");
    private static readonly Op s_reciprocal = new Op<ReciprocalRule>("Reciprocal", readsInputs: false);
    private static readonly Op s_rsqrt = new Op<RsqrtRule>("Rsqrt", readsInputs: false);
    private static readonly Op s_log1p = new Op<Log1pRule>("Log1p");
    private static readonly Op s_expm1 = new Op<Expm1Rule>("Expm1", readsInputs: false);

    /// <summary>eˣ. ∂/∂x = g ⊙ y.</summary>
    /// <param name="x">The tensor.</param>
    /// <returns>The exponential.</returns>
    public static Tensor Exp(Tensor x) => Unary<ExpMap>(s_exp, x);

    /// <summary>ln x. ∂/∂x = g ⊘ x.</summary>
    /// <param name="x">The tensor.</param>
    /// <returns>The natural logarithm (NaN below 0, −∞ at 0, as IEEE 754 says).</returns>
    public static Tensor Log(Tensor x) => Unary<LogMap>(s_log, x);

    /// <summary>√x. ∂/∂x = g ⊘ (2y).</summary>
    /// <param name="x">The tensor.</param>
    /// <returns>The square root.</returns>
    public static Tensor Sqrt(Tensor x) => Unary<SqrtMap>(s_sqrt, x);

    /// <summary>|x|. ∂/∂x = g ⊙ sign(x), with sign(0) = 0.</summary>
    /// <param name="x">The tensor.</param>
    /// <returns>The absolute value.</returns>
    public static Tensor Abs(Tensor x) => Unary<AbsMap>(s_abs, x);

    /// <summary>max(x, 0). ∂/∂x = g where x &gt; 0, else 0: the gradient at exactly 0 is 0, as in PyTorch.</summary>
    /// <param name="x">The tensor.</param>
    /// <returns>The rectified tensor.</returns>
    public static Tensor Relu(Tensor x) => Unary<ReluMap>(s_relu, x);

    /// <summary>1 / (1 + e⁻ˣ), exact to 0 and 1 at the extremes (no overflow for |x| of 1000). ∂/∂x = g ⊙ y ⊙ (1 − y).</summary>
    /// <param name="x">The tensor.</param>
    /// <returns>The logistic sigmoid.</returns>
    public static Tensor Sigmoid(Tensor x) => Unary<SigmoidMap>(s_sigmoid, x);

    /// <summary>tanh x. ∂/∂x = g ⊙ (1 − y²).</summary>
    /// <param name="x">The tensor.</param>
    /// <returns>The hyperbolic tangent.</returns>
    public static Tensor Tanh(Tensor x) => Unary<TanhMap>(s_tanh, x);

    /// <summary>sin x. ∂/∂x = g ⊙ cos x.</summary>
    /// <param name="x">The tensor, in radians.</param>
    /// <returns>The sine.</returns>
    public static Tensor Sin(Tensor x) => Unary<SinMap>(s_sin, x);

    /// <summary>cos x. ∂/∂x = −g ⊙ sin x.</summary>
    /// <param name="x">The tensor, in radians.</param>
    /// <returns>The cosine.</returns>
    public static Tensor Cos(Tensor x) => Unary<CosMap>(s_cos, x);

    /// <summary>The error function, erf x = (2/√π) ∫₀ˣ e^(−t²) dt, to float64's last digit or so. ∂/∂x = g ⊙ (2/√π) e^(−x²).</summary>
    /// <param name="x">The tensor.</param>
    /// <returns>erf x, in (−1, 1).</returns>
    public static Tensor Erf(Tensor x) => Unary<ErfMap>(s_erf, x);

    /// <summary>x². ∂/∂x = 2g ⊙ x.</summary>
    /// <param name="x">The tensor.</param>
    /// <returns>The square.</returns>
    public static Tensor Square(Tensor x) => Unary<SquareMap>(s_square, x);

    /// <summary>1 / x. ∂/∂x = −g ⊙ y².</summary>
    /// <param name="x">The tensor.</param>
    /// <returns>The reciprocal (±∞ at ±0, as IEEE 754 says).</returns>
    public static Tensor Reciprocal(Tensor x) => Unary<ReciprocalMap>(s_reciprocal, x);

    /// <summary>1 / √x. ∂/∂x = −½ g ⊙ y³.</summary>
    /// <param name="x">The tensor.</param>
    /// <returns>The reciprocal square root.</returns>
    public static Tensor Rsqrt(Tensor x) => Unary<RsqrtMap>(s_rsqrt, x);

    /// <summary>ln(1 + x), exact for tiny x (where ln of 1 + x would lose every digit). ∂/∂x = g ⊘ (1 + x).</summary>
    /// <param name="x">The tensor, above −1.</param>
    /// <returns>ln(1 + x).</returns>
    public static Tensor Log1p(Tensor x) => Unary<Log1pMap>(s_log1p, x);

    /// <summary>eˣ − 1, exact for tiny x. ∂/∂x = g ⊙ (y + 1).</summary>
    /// <param name="x">The tensor.</param>
    /// <returns>eˣ − 1.</returns>
    public static Tensor Expm1(Tensor x) => Unary<Expm1Map>(s_expm1, x);

    /// <summary>−1, 0 or 1 by the sign of x (NaN stays NaN). ∂/∂x = 0: a step carries no gradient, so it builds masks.</summary>
    /// <param name="x">The tensor.</param>
    /// <returns>The signs.</returns>
    public static Tensor Sign(Tensor x) => Unary<SignMap>(s_sign, x);

    /// <summary>xᵖ for a scalar exponent. ∂/∂x = g ⊙ p·xᵖ⁻¹.</summary>
    /// <param name="x">The base.</param>
    /// <param name="exponent">The exponent, finite.</param>
    /// <returns>The power.</returns>
    public static Tensor Pow(Tensor x, double exponent)
    {
        Check.NotNull(x, "Pow", nameof(x));
        Check.Finite(exponent, "Pow", nameof(exponent));
        var y = Tensor.Uninitialized(x.DType, x.Shape);
        ElementType.Dispatch(x.DType, new PowForward(x, exponent, y));

        Tape.Record(s_pow, y, x, null, null, new NodeArgs { Scalar = exponent });
        return y;
    }

    private static Tensor Unary<TMap>(Op op, Tensor x)
        where TMap : struct, IUnaryMap
    {
        Check.NotNull(x, op.Name, nameof(x));
        var y = Tensor.Uninitialized(x.DType, x.Shape);

        // Some TensorPrimitives functions (Sigmoid) reject empty spans; an empty tensor maps to an empty one.
        if (x.Length > 0)
        {
            ElementType.Dispatch(x.DType, new UnaryForward<TMap>(x, y));
        }

        Tape.Record(op, y, x);
        return y;
    }

    private readonly struct PowForward(Tensor x, double exponent, Tensor y) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Pow<T>(x.Raw<T>(), T.CreateTruncating(exponent), y.Raw<T>());
    }

    /// <summary>An elementwise forward function, written once for both element types.</summary>
    private interface IUnaryMap
    {
        static abstract void Apply<T>(ReadOnlySpan<T> x, Span<T> y)
            where T : unmanaged, IFloatingPointIeee754<T>;
    }

    private readonly struct UnaryForward<TMap>(Tensor x, Tensor y) : IElementAction
        where TMap : struct, IUnaryMap
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T> => Chunks.Run(new UnaryChunk<T, TMap>(x.RawSegment<T>(), y.RawSegment<T>()), x.Length);
    }

    /// <summary>A unary map over a chunk of a large tensor (see <see cref="Chunks"/>).</summary>
    private readonly struct UnaryChunk<T, TMap>(ArraySegment<T> x, ArraySegment<T> y) : IChunkJob
        where T : unmanaged, IFloatingPointIeee754<T>
        where TMap : struct, IUnaryMap
    {
        public void Run(int start, int length) => TMap.Apply<T>(x.AsSpan(start, length), y.AsSpan(start, length));
    }

    private readonly struct ExpMap : IUnaryMap
    {
        public static void Apply<T>(ReadOnlySpan<T> x, Span<T> y)
            where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Exp(x, y);
    }

    private readonly struct LogMap : IUnaryMap
    {
        public static void Apply<T>(ReadOnlySpan<T> x, Span<T> y)
            where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Log(x, y);
    }

    private readonly struct SqrtMap : IUnaryMap
    {
        public static void Apply<T>(ReadOnlySpan<T> x, Span<T> y)
            where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Sqrt(x, y);
    }

    private readonly struct AbsMap : IUnaryMap
    {
        public static void Apply<T>(ReadOnlySpan<T> x, Span<T> y)
            where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Abs(x, y);
    }

    private readonly struct ReluMap : IUnaryMap
    {
        public static void Apply<T>(ReadOnlySpan<T> x, Span<T> y)
            where T : unmanaged, IFloatingPointIeee754<T> => ReluForward(x, y);
    }

    private readonly struct SigmoidMap : IUnaryMap
    {
        public static void Apply<T>(ReadOnlySpan<T> x, Span<T> y)
            where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Sigmoid(x, y);
    }

    private readonly struct TanhMap : IUnaryMap
    {
        public static void Apply<T>(ReadOnlySpan<T> x, Span<T> y)
            where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Tanh(x, y);
    }

    private readonly struct SinMap : IUnaryMap
    {
        public static void Apply<T>(ReadOnlySpan<T> x, Span<T> y)
            where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Sin(x, y);
    }

    private readonly struct CosMap : IUnaryMap
    {
        public static void Apply<T>(ReadOnlySpan<T> x, Span<T> y)
            where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Cos(x, y);
    }

    private readonly struct ErfMap : IUnaryMap
    {
        public static void Apply<T>(ReadOnlySpan<T> x, Span<T> y)
            where T : unmanaged, IFloatingPointIeee754<T> => ErfForward(x, y);
    }

    private readonly struct SquareMap : IUnaryMap
    {
        public static void Apply<T>(ReadOnlySpan<T> x, Span<T> y)
            where T : unmanaged, IFloatingPointIeee754<T> => SquareForward(x, y);
    }

    private readonly struct ReciprocalMap : IUnaryMap
    {
        public static void Apply<T>(ReadOnlySpan<T> x, Span<T> y)
            where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Reciprocal(x, y);
    }

    private readonly struct RsqrtMap : IUnaryMap
    {
        public static void Apply<T>(ReadOnlySpan<T> x, Span<T> y)
            where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.ReciprocalSqrt(x, y);
    }

    private readonly struct Log1pMap : IUnaryMap
    {
        public static void Apply<T>(ReadOnlySpan<T> x, Span<T> y)
            where T : unmanaged, IFloatingPointIeee754<T> => Log1pForward(x, y);
    }

    private readonly struct Expm1Map : IUnaryMap
    {
        public static void Apply<T>(ReadOnlySpan<T> x, Span<T> y)
            where T : unmanaged, IFloatingPointIeee754<T> => Expm1Forward(x, y);
    }

    private readonly struct SignMap : IUnaryMap
    {
        public static void Apply<T>(ReadOnlySpan<T> x, Span<T> y)
            where T : unmanaged, IFloatingPointIeee754<T> => SignForward(x, y);
    }

    private static void SignForward<T>(ReadOnlySpan<T> x, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (var i = 0; i < x.Length; i++)
        {
            y[i] = T.IsNaN(x[i]) ? x[i] : T.CreateTruncating(T.Sign(x[i]));
        }
    }

    private static void SquareForward<T>(ReadOnlySpan<T> x, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Multiply(x, x, y);

    // .NET's LogP1 and ExpM1 compute log(x + 1) and exp(x) − 1 directly, which lose every digit for tiny x; these
    // use the classic corrections (Goldberg's for log1p, Kahan's for expm1), accurate to a few ulp, in float64.
    private static void Log1pForward<T>(ReadOnlySpan<T> x, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T> => MapInFloat64(x, y, &Log1pOf);

    private static void Expm1Forward<T>(ReadOnlySpan<T> x, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T> => MapInFloat64(x, y, &Expm1Of);

    /// <summary>ln(1 + x): ln(u)·x/(u − 1) with u = 1 + x rounded, which cancels u's rounding error.</summary>
    internal static double Log1pOf(double x)
    {
        var u = 1 + x;
        return u == 1 ? x : double.IsInfinity(u) ? u : Math.Log(u) * x / (u - 1);
    }

    /// <summary>eˣ − 1: (u − 1)·x/ln u with u = eˣ rounded.</summary>
    internal static double Expm1Of(double x)
    {
        var u = Math.Exp(x);
        if (u == 1)
        {
            return x;
        }

        var um1 = u - 1;
        return um1 == -1 ? -1 : double.IsInfinity(u) ? u : um1 * x / Math.Log(u);
    }

    /// <summary>y = f(x) elementwise, computed in float64 for either element type (scalar special functions).</summary>
    private static void MapInFloat64<T>(ReadOnlySpan<T> x, Span<T> y, delegate*<double, double> f)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (var i = 0; i < x.Length; i++)
        {
            y[i] = T.CreateTruncating(f(double.CreateTruncating(x[i])));
        }
    }

    private static void ErfForward<T>(ReadOnlySpan<T> x, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // In float64 for either element type, a block at a time through the vector kernel.
        Span<double> block = stackalloc double[256];
        for (var start = 0; start < x.Length; start += block.Length)
        {
            var count = Math.Min(block.Length, x.Length - start);
            var values = block[..count];
            ConvertToDouble(x.Slice(start, count), values);
            Kernels.ErrorFunction.Erf(values, values);
            ConvertFromDouble<T>(values, y.Slice(start, count));
        }
    }

    /// <summary>erf x in float64 (<see cref="Kernels.ErrorFunction"/>: fdlibm's approximations, within an ulp).</summary>
    internal static double ErfOf(double x) => Kernels.ErrorFunction.Erf(x);

    /// <summary>Widens (or copies) <paramref name="x"/> into <paramref name="into"/>.</summary>
    internal static void ConvertToDouble<T>(ReadOnlySpan<T> x, Span<double> into)
        where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.ConvertTruncating(x, into);

    /// <summary>Narrows (or copies) float64 <paramref name="values"/> into <paramref name="into"/>.</summary>
    internal static void ConvertFromDouble<T>(ReadOnlySpan<double> values, Span<T> into)
        where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.ConvertTruncating(values, into);

    private static void ReluForward<T>(ReadOnlySpan<T> x, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Max(x, T.Zero, y);

    /// <summary>The derivative of a step is 0 almost everywhere: no gradient flows, so the input's slot stays empty (zero).</summary>
    private readonly struct SignRule : IBackwardRule
    {
        public static string? Onnx(in Node node, IOnnxGraph graph) => OnnxUnary("Sign", node, graph);

        public static Tensor Jvp(in Node node, InputTangents tangents) => DiagonalJvp<SignRule>(node, tangents);
        public static Tensor? JvpBatch(in Node node, InputTangents tangents, int batch) => DiagonalJvpBatch<SignRule>(node, tangents, batch);
        public static InputGradients? VjpBatch(in Node node, Tensor upstream, int batch) => DiagonalVjpBatch(node, upstream);

        public static InputGradients Differentiate(in Node node, Tensor upstream) => default;

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
        }
    }

    private readonly struct SinRule : IBackwardRule
    {
        public static string? Onnx(in Node node, IOnnxGraph graph) => OnnxUnary("Sin", node, graph);

        public static Tensor Jvp(in Node node, InputTangents tangents) => DiagonalJvp<SinRule>(node, tangents);
        public static Tensor? JvpBatch(in Node node, InputTangents tangents, int batch) => DiagonalJvpBatch<SinRule>(node, tangents, batch);
        public static InputGradients? VjpBatch(in Node node, Tensor upstream, int batch) => DiagonalVjpBatch(node, upstream);

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(upstream * Cos(node.A!));

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var target = tape.BeginGradient<T>(node.InA);
            TensorPrimitives.Cos(node.A!.Raw<T>(), target.Span);
            TensorPrimitives.Multiply(target.Span, tape.Upstream<T>(index), target.Span);
            tape.Commit(target);
        }
    }

    private readonly struct CosRule : IBackwardRule
    {
        public static string? Onnx(in Node node, IOnnxGraph graph) => OnnxUnary("Cos", node, graph);

        public static Tensor Jvp(in Node node, InputTangents tangents) => DiagonalJvp<CosRule>(node, tangents);
        public static Tensor? JvpBatch(in Node node, InputTangents tangents, int batch) => DiagonalJvpBatch<CosRule>(node, tangents, batch);
        public static InputGradients? VjpBatch(in Node node, Tensor upstream, int batch) => DiagonalVjpBatch(node, upstream);

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(-(upstream * Sin(node.A!)));

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var target = tape.BeginGradient<T>(node.InA);
            TensorPrimitives.Sin(node.A!.Raw<T>(), target.Span);
            TensorPrimitives.Multiply(target.Span, tape.Upstream<T>(index), target.Span);
            TensorPrimitives.Negate(target.Span, target.Span);
            tape.Commit(target);
        }
    }

    private readonly struct ErfRule : IBackwardRule
    {
        public static string? Onnx(in Node node, IOnnxGraph graph) => OnnxUnary("Erf", node, graph);

        public static Tensor Jvp(in Node node, InputTangents tangents) => DiagonalJvp<ErfRule>(node, tangents);
        public static Tensor? JvpBatch(in Node node, InputTangents tangents, int batch) => DiagonalJvpBatch<ErfRule>(node, tangents, batch);
        public static InputGradients? VjpBatch(in Node node, Tensor upstream, int batch) => DiagonalVjpBatch(node, upstream);

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(upstream * (2 / Math.Sqrt(Math.PI)) * Exp(-(node.A! * node.A!)));

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            // (2/√π) e^(−x²) ⊙ g
            var target = tape.BeginGradient<T>(node.InA);
            var x = node.A!.Raw<T>();
            TensorPrimitives.Multiply(x, x, target.Span);
            TensorPrimitives.Negate(target.Span, target.Span);
            TensorPrimitives.Exp(target.Span, target.Span);
            TensorPrimitives.Multiply(target.Span, T.CreateTruncating(2 / Math.Sqrt(Math.PI)), target.Span);
            TensorPrimitives.Multiply(target.Span, tape.Upstream<T>(index), target.Span);
            tape.Commit(target);
        }
    }

    private readonly struct SquareRule : IBackwardRule
    {
        public static string? Onnx(in Node node, IOnnxGraph graph) => graph.Node("Mul", [graph.Value(node.A!), graph.Value(node.A!)]);

        public static Tensor Jvp(in Node node, InputTangents tangents) => DiagonalJvp<SquareRule>(node, tangents);
        public static Tensor? JvpBatch(in Node node, InputTangents tangents, int batch) => DiagonalJvpBatch<SquareRule>(node, tangents, batch);
        public static InputGradients? VjpBatch(in Node node, Tensor upstream, int batch) => DiagonalVjpBatch(node, upstream);

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(upstream * 2 * node.A!);

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var target = tape.BeginGradient<T>(node.InA);
            TensorPrimitives.Multiply(node.A!.Raw<T>(), tape.Upstream<T>(index), target.Span);
            TensorPrimitives.Multiply(target.Span, T.CreateTruncating(2), target.Span);
            tape.Commit(target);
        }
    }

    private readonly struct ReciprocalRule : IBackwardRule
    {
        public static string? Onnx(in Node node, IOnnxGraph graph) => OnnxUnary("Reciprocal", node, graph);

        public static Tensor Jvp(in Node node, InputTangents tangents) => DiagonalJvp<ReciprocalRule>(node, tangents);
        public static Tensor? JvpBatch(in Node node, InputTangents tangents, int batch) => DiagonalJvpBatch<ReciprocalRule>(node, tangents, batch);
        public static InputGradients? VjpBatch(in Node node, Tensor upstream, int batch) => DiagonalVjpBatch(node, upstream);

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(-(upstream * node.Output * node.Output));

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            // −g ⊙ y²
            var target = tape.BeginGradient<T>(node.InA);
            var y = node.Output.Raw<T>();
            TensorPrimitives.Multiply(y, y, target.Span);
            TensorPrimitives.Multiply(target.Span, tape.Upstream<T>(index), target.Span);
            TensorPrimitives.Negate(target.Span, target.Span);
            tape.Commit(target);
        }
    }

    private readonly struct RsqrtRule : IBackwardRule
    {
        public static string? Onnx(in Node node, IOnnxGraph graph) => graph.Node("Reciprocal", [OnnxUnary("Sqrt", node, graph)]);

        public static Tensor Jvp(in Node node, InputTangents tangents) => DiagonalJvp<RsqrtRule>(node, tangents);
        public static Tensor? JvpBatch(in Node node, InputTangents tangents, int batch) => DiagonalJvpBatch<RsqrtRule>(node, tangents, batch);
        public static InputGradients? VjpBatch(in Node node, Tensor upstream, int batch) => DiagonalVjpBatch(node, upstream);

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(upstream * -0.5 * node.Output * node.Output * node.Output);

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            // −½ g ⊙ y³
            var target = tape.BeginGradient<T>(node.InA);
            var y = node.Output.Raw<T>();
            TensorPrimitives.Multiply(y, y, target.Span);
            TensorPrimitives.Multiply(target.Span, y, target.Span);
            TensorPrimitives.Multiply(target.Span, tape.Upstream<T>(index), target.Span);
            TensorPrimitives.Multiply(target.Span, T.CreateTruncating(-0.5), target.Span);
            tape.Commit(target);
        }
    }

    private readonly struct Log1pRule : IBackwardRule
    {
        public static string? Onnx(in Node node, IOnnxGraph graph) => graph.Node("Log", [graph.Node("Add", [graph.Value(node.A!), OnnxScalar(1, node.A!, graph)])]);

        public static Tensor Jvp(in Node node, InputTangents tangents) => DiagonalJvp<Log1pRule>(node, tangents);
        public static Tensor? JvpBatch(in Node node, InputTangents tangents, int batch) => DiagonalJvpBatch<Log1pRule>(node, tangents, batch);
        public static InputGradients? VjpBatch(in Node node, Tensor upstream, int batch) => DiagonalVjpBatch(node, upstream);

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(upstream / (node.A! + 1));

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var target = tape.BeginGradient<T>(node.InA);
            TensorPrimitives.Add(node.A!.Raw<T>(), T.One, target.Span);
            TensorPrimitives.Divide(tape.Upstream<T>(index), target.Span, target.Span);
            tape.Commit(target);
        }
    }

    private readonly struct Expm1Rule : IBackwardRule
    {
        public static string? Onnx(in Node node, IOnnxGraph graph) => graph.Node("Sub", [OnnxUnary("Exp", node, graph), OnnxScalar(1, node.A!, graph)]);

        public static Tensor Jvp(in Node node, InputTangents tangents) => DiagonalJvp<Expm1Rule>(node, tangents);
        public static Tensor? JvpBatch(in Node node, InputTangents tangents, int batch) => DiagonalJvpBatch<Expm1Rule>(node, tangents, batch);
        public static InputGradients? VjpBatch(in Node node, Tensor upstream, int batch) => DiagonalVjpBatch(node, upstream);

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(upstream * (node.Output + 1));

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var target = tape.BeginGradient<T>(node.InA);
            TensorPrimitives.Add(node.Output.Raw<T>(), T.One, target.Span);
            TensorPrimitives.Multiply(target.Span, tape.Upstream<T>(index), target.Span);
            tape.Commit(target);
        }
    }

    private readonly struct ExpRule : IBackwardRule
    {
        public static string? Onnx(in Node node, IOnnxGraph graph) => OnnxUnary("Exp", node, graph);

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(upstream * node.Output);

        public static Tensor Jvp(in Node node, InputTangents tangents) => DiagonalJvp<ExpRule>(node, tangents);

        public static Tensor? JvpBatch(in Node node, InputTangents tangents, int batch) => DiagonalJvpBatch<ExpRule>(node, tangents, batch);
        public static InputGradients? VjpBatch(in Node node, Tensor upstream, int batch) => DiagonalVjpBatch(node, upstream);

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var target = tape.BeginGradient<T>(node.InA);
            TensorPrimitives.Multiply(tape.Upstream<T>(index), node.Output.Raw<T>(), target.Span);
            tape.Commit(target);
        }
    }

    private readonly struct LogRule : IBackwardRule
    {
        public static string? Onnx(in Node node, IOnnxGraph graph) => OnnxUnary("Log", node, graph);

        public static Tensor Jvp(in Node node, InputTangents tangents) => DiagonalJvp<LogRule>(node, tangents);
        public static Tensor? JvpBatch(in Node node, InputTangents tangents, int batch) => DiagonalJvpBatch<LogRule>(node, tangents, batch);
        public static InputGradients? VjpBatch(in Node node, Tensor upstream, int batch) => DiagonalVjpBatch(node, upstream);

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(upstream / node.A!);

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var target = tape.BeginGradient<T>(node.InA);
            TensorPrimitives.Divide(tape.Upstream<T>(index), node.A!.Raw<T>(), target.Span);
            tape.Commit(target);
        }
    }

    private readonly struct SqrtRule : IBackwardRule
    {
        public static string? Onnx(in Node node, IOnnxGraph graph) => OnnxUnary("Sqrt", node, graph);

        public static Tensor Jvp(in Node node, InputTangents tangents) => DiagonalJvp<SqrtRule>(node, tangents);
        public static Tensor? JvpBatch(in Node node, InputTangents tangents, int batch) => DiagonalJvpBatch<SqrtRule>(node, tangents, batch);
        public static InputGradients? VjpBatch(in Node node, Tensor upstream, int batch) => DiagonalVjpBatch(node, upstream);

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(upstream * 0.5 / node.Output);

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var target = tape.BeginGradient<T>(node.InA);
            TensorPrimitives.Divide(tape.Upstream<T>(index), node.Output.Raw<T>(), target.Span);
            TensorPrimitives.Multiply(target.Span, T.CreateTruncating(0.5), target.Span);
            tape.Commit(target);
        }
    }

    private readonly struct AbsRule : IBackwardRule
    {
        public static string? Onnx(in Node node, IOnnxGraph graph) => OnnxUnary("Abs", node, graph);

        public static Tensor Jvp(in Node node, InputTangents tangents) => DiagonalJvp<AbsRule>(node, tangents);
        public static Tensor? JvpBatch(in Node node, InputTangents tangents, int batch) => DiagonalJvpBatch<AbsRule>(node, tangents, batch);
        public static InputGradients? VjpBatch(in Node node, Tensor upstream, int batch) => DiagonalVjpBatch(node, upstream);

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(upstream * Constant(node.A!, v => Math.Sign(v)));

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var target = tape.BeginGradient<T>(node.InA);
            Elementwise.AbsBackward<T>(node.A!.RawSegment<T>(), tape.UpstreamSegment<T>(index), target.Segment);
            tape.Commit(target);
        }
    }

    private readonly struct ReluRule : IBackwardRule
    {
        public static string? Onnx(in Node node, IOnnxGraph graph) => OnnxUnary("Relu", node, graph);

        public static Tensor Jvp(in Node node, InputTangents tangents) => DiagonalJvp<ReluRule>(node, tangents);
        public static Tensor? JvpBatch(in Node node, InputTangents tangents, int batch) => DiagonalJvpBatch<ReluRule>(node, tangents, batch);
        public static InputGradients? VjpBatch(in Node node, Tensor upstream, int batch) => DiagonalVjpBatch(node, upstream);

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(upstream * Constant(node.A!, v => v > 0 ? 1 : 0));

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var target = tape.BeginGradient<T>(node.InA);
            Elementwise.ReluBackward<T>(node.A!.RawSegment<T>(), tape.UpstreamSegment<T>(index), target.Segment);
            tape.Commit(target);
        }
    }

    private readonly struct SigmoidRule : IBackwardRule
    {
        public static string? Onnx(in Node node, IOnnxGraph graph) => OnnxUnary("Sigmoid", node, graph);

        public static Tensor Jvp(in Node node, InputTangents tangents) => DiagonalJvp<SigmoidRule>(node, tangents);
        public static Tensor? JvpBatch(in Node node, InputTangents tangents, int batch) => DiagonalJvpBatch<SigmoidRule>(node, tangents, batch);
        public static InputGradients? VjpBatch(in Node node, Tensor upstream, int batch) => DiagonalVjpBatch(node, upstream);

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(upstream * node.Output * (1 - node.Output));

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var target = tape.BeginGradient<T>(node.InA);
            Elementwise.SigmoidBackward<T>(node.Output.RawSegment<T>(), tape.UpstreamSegment<T>(index), target.Segment);
            tape.Commit(target);
        }
    }

    private readonly struct TanhRule : IBackwardRule
    {
        public static string? Onnx(in Node node, IOnnxGraph graph) => OnnxUnary("Tanh", node, graph);

        public static Tensor Jvp(in Node node, InputTangents tangents) => DiagonalJvp<TanhRule>(node, tangents);
        public static Tensor? JvpBatch(in Node node, InputTangents tangents, int batch) => DiagonalJvpBatch<TanhRule>(node, tangents, batch);
        public static InputGradients? VjpBatch(in Node node, Tensor upstream, int batch) => DiagonalVjpBatch(node, upstream);

        public static InputGradients Differentiate(in Node node, Tensor upstream) => new(upstream * (1 - (node.Output * node.Output)));

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var target = tape.BeginGradient<T>(node.InA);
            Elementwise.TanhBackward<T>(node.Output.RawSegment<T>(), tape.UpstreamSegment<T>(index), target.Segment);
            tape.Commit(target);
        }
    }

    private readonly struct PowRule : IBackwardRule
    {
        public static string? Onnx(in Node node, IOnnxGraph graph) => graph.Node("Pow", [graph.Value(node.A!), OnnxScalar(node.Args.Scalar, node.A!, graph)]);

        public static Tensor Jvp(in Node node, InputTangents tangents) => DiagonalJvp<PowRule>(node, tangents);
        public static Tensor? JvpBatch(in Node node, InputTangents tangents, int batch) => DiagonalJvpBatch<PowRule>(node, tangents, batch);
        public static InputGradients? VjpBatch(in Node node, Tensor upstream, int batch) => DiagonalVjpBatch(node, upstream);

        // x⁰ is the constant 1: its gradient is 0 everywhere, also at x = 0 where 0·0⁻¹ would be NaN (PyTorch: 0).
        public static InputGradients Differentiate(in Node node, Tensor upstream) => node.Args.Scalar == 0
            ? new(upstream * 0)
            : new(upstream * node.Args.Scalar * Pow(node.A!, node.Args.Scalar - 1));

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var p = node.Args.Scalar;
            var target = tape.BeginGradient<T>(node.InA);
            if (p == 0)
            {
                target.Span.Clear();
                tape.Commit(target);
                return;
            }

            TensorPrimitives.Pow(node.A!.Raw<T>(), T.CreateTruncating(p - 1), target.Span);
            TensorPrimitives.Multiply(target.Span, T.CreateTruncating(p), target.Span);
            TensorPrimitives.Multiply(target.Span, tape.Upstream<T>(index), target.Span);
            tape.Commit(target);
        }
    }

    /// <summary>The op table's rows for this file's ops, with their gradient checks (see <see cref="OpCatalog"/>).</summary>
    [OpFamily(20)]
    private static IEnumerable<OpInfo> UnaryRows()
    {
        int[][] shapes = [[], [5], [2, 3, 4]];
        yield return new OpInfo
        {
            Family = "Unary",
            Call = "`Exp(x)`",
            Forward = "eˣ",
            Gradient = "g ⊙ y",
            BadInputs = [Bad<ArgumentNullException>("null", () => Exp(null!), "Exp", "'x'")],
            CannotGrowBecause = "elementwise",
            Samples = [.. shapes.Select(s => Gradient("Exp", v => Exp(v[0]), N(11, s)))],
        };
        yield return new OpInfo
        {
            Family = "Unary",
            Call = "`Log(x)`",
            Forward = "ln x",
            Gradient = "g ⊘ x",
            BadInputs = [Bad<ArgumentNullException>("log null", () => Log(null!), "Log", "'x'")],
            CannotGrowBecause = "elementwise",
            Samples = [.. shapes.Select(s => Gradient("Log", v => Log(v[0]), U(12, 0.5, 3, s)))],
        };
        yield return new OpInfo
        {
            Family = "Unary",
            Call = "`Pow(x, p)`",
            Forward = "xᵖ (scalar p)",
            Gradient = "g ⊙ p·xᵖ⁻¹",
            BadInputs = [
                Bad<ArgumentOutOfRangeException>("pow infinite", () => Pow(M23, double.PositiveInfinity), "Pow", "exponent"),
                Bad<ArgumentOutOfRangeException>("pow nan", () => Pow(M23, double.NaN), "Pow", "NaN"),
            ],
            CannotGrowBecause = "elementwise",
            Samples = [.. shapes.Select(s => Gradient("Pow", v => Pow(v[0], 3), N(13, s)))],
        };
        yield return new OpInfo
        {
            Family = "Unary",
            Call = "`Sqrt(x)`",
            Forward = "√x",
            Gradient = "g ⊘ (2y)",
            BadInputs = [Bad<ArgumentNullException>("sqrt null", () => Sqrt(null!), "Sqrt", "'x'")],
            CannotGrowBecause = "elementwise",
            Samples = [.. shapes.Select(s => Gradient("Sqrt", v => Sqrt(v[0]), U(14, 0.5, 3, s)))],
        };
        yield return new OpInfo
        {
            Family = "Unary",
            Call = "`Abs(x)`",
            Forward = "\\|x\\|",
            Gradient = "g ⊙ sign(x), sign(0) = 0",
            BadInputs = [Bad<ArgumentNullException>("abs null", () => Abs(null!), "Abs", "'x'")],
            CannotGrowBecause = "elementwise",
            Samples = [.. shapes.Select(s => Gradient("Abs", v => Abs(v[0]), Away(15, s)))],
        };
        yield return new OpInfo
        {
            Family = "Unary",
            Call = "`Sin(x)`, `Cos(x)`",
            Forward = "sin x, cos x",
            Gradient = "g ⊙ cos x, −g ⊙ sin x",
            BadInputs = [
                Bad<ArgumentNullException>("sin null", () => Sin(null!), "Sin", "'x'"),
                Bad<ArgumentNullException>("cos null", () => Cos(null!), "Cos", "'x'"),
            ],
            CannotGrowBecause = "elementwise",
            Samples = [.. shapes.SelectMany(s => new[] { Gradient("Sin", v => Sin(v[0]), N(54, s)), Gradient("Cos", v => Cos(v[0]), N(55, s)) })],
        };
        yield return new OpInfo
        {
            Family = "Unary",
            Call = "`Sign(x)`",
            Forward = "−1, 0 or 1",
            Gradient = "0 (a step: use it for masks)",
            BadInputs = [Bad<ArgumentNullException>("sign null", () => Sign(null!), "Sign", "'x'")],
            CannotGrowBecause = "elementwise",
            Samples = [.. shapes.Select(s => Gradient("Sign", v => Sign(v[0]) * v[0], Away(16, s)))],
        };
        yield return new OpInfo
        {
            Family = "Unary",
            Call = "`Relu(x)`",
            Forward = "max(x, 0)",
            Gradient = "g where x > 0, else 0 (the gradient at exactly 0 is 0)",
            BadInputs = [Bad<ArgumentNullException>("relu null", () => Relu(null!), "Relu", "'x'")],
            CannotGrowBecause = "elementwise",
            Samples = [.. shapes.Select(s => Gradient("Relu", v => Relu(v[0]), Away(17, s)))],
        };
        yield return new OpInfo
        {
            Family = "Unary",
            Call = "`Sigmoid(x)`",
            Forward = "1 / (1 + e⁻ˣ), no overflow at \\|x\\| = 1000",
            Gradient = "g ⊙ y ⊙ (1 − y)",
            BadInputs = [Bad<ArgumentNullException>("sigmoid null", () => Sigmoid(null!), "Sigmoid", "'x'")],
            CannotGrowBecause = "elementwise",
            Samples = [.. shapes.Select(s => Gradient("Sigmoid", v => Sigmoid(v[0]), N(18, s)))],
        };
        yield return new OpInfo
        {
            Family = "Unary",
            Call = "`Tanh(x)`",
            Forward = "tanh x",
            Gradient = "g ⊙ (1 − y²)",
            BadInputs = [Bad<ArgumentNullException>("tanh null", () => Tanh(null!), "Tanh", "'x'")],
            CannotGrowBecause = "elementwise",
            Samples = [.. shapes.Select(s => Gradient("Tanh", v => Tanh(v[0]), N(19, s)))],
        };
        yield return new OpInfo
        {
            Family = "Unary",
            Call = "`Erf(x)`",
            Forward = "(2/√π) ∫₀ˣ e^(−t²) dt",
            Gradient = "g ⊙ (2/√π) e^(−x²)",
            BadInputs = [Bad<ArgumentNullException>("erf null", () => Erf(null!), "Erf", "'x'")],
            CannotGrowBecause = "elementwise",
            Samples = [.. shapes.Select(s => Gradient("Erf", v => Erf(v[0]), N(56, s))), Gradient("Erf", v => Erf(v[0]), U(57, -5, 5, 40))],
        };
        yield return new OpInfo
        {
            Family = "Unary",
            Call = "`Square(x)`",
            Forward = "x²",
            Gradient = "2g ⊙ x",
            BadInputs = [Bad<ArgumentNullException>("square null", () => Square(null!), "Square", "'x'")],
            CannotGrowBecause = "elementwise",
            Samples = [.. shapes.Select(s => Gradient("Square", v => Square(v[0]), N(61, s)))],
        };
        yield return new OpInfo
        {
            Family = "Unary",
            Call = "`Reciprocal(x)`",
            Forward = "1 / x",
            Gradient = "−g ⊙ y²",
            BadInputs = [Bad<ArgumentNullException>("reciprocal null", () => Reciprocal(null!), "Reciprocal", "'x'")],
            CannotGrowBecause = "elementwise",
            Samples = [.. shapes.Select(s => Gradient("Reciprocal", v => Reciprocal(v[0]), U(62, 0.5, 3, s)))],
        };
        yield return new OpInfo
        {
            Family = "Unary",
            Call = "`Rsqrt(x)`",
            Forward = "1 / √x",
            Gradient = "−½ g ⊙ y³",
            BadInputs = [Bad<ArgumentNullException>("rsqrt null", () => Rsqrt(null!), "Rsqrt", "'x'")],
            CannotGrowBecause = "elementwise",
            Samples = [.. shapes.Select(s => Gradient("Rsqrt", v => Rsqrt(v[0]), U(63, 0.5, 3, s)))],
        };
        yield return new OpInfo
        {
            Family = "Unary",
            Call = "`Log1p(x)`",
            Forward = "ln(1 + x), exact for tiny x",
            Gradient = "g ⊘ (1 + x)",
            BadInputs = [Bad<ArgumentNullException>("log1p null", () => Log1p(null!), "Log1p", "'x'")],
            CannotGrowBecause = "elementwise",
            Samples = [.. shapes.Select(s => Gradient("Log1p", v => Log1p(v[0]), U(64, -0.5, 3, s)))],
        };
        yield return new OpInfo
        {
            Family = "Unary",
            Call = "`Expm1(x)`",
            Forward = "eˣ − 1, exact for tiny x",
            Gradient = "g ⊙ (y + 1)",
            BadInputs = [Bad<ArgumentNullException>("expm1 null", () => Expm1(null!), "Expm1", "'x'")],
            CannotGrowBecause = "elementwise",
            Samples = [.. shapes.Select(s => Gradient("Expm1", v => Expm1(v[0]), N(65, s)))],
        };
    }
}
