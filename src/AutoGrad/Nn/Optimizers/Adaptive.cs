using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

using AutoGrad.Tensors;

using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace AutoGrad.Nn.Optimizers;

/// <summary>AdaGrad: h ← h + g²; p ← p − η·g / (√h + ε), ε = 1e-7 as in the book.</summary>
/// <param name="parameters">The parameters.</param>
/// <param name="learningRate">η.</param>
/// <param name="weightDecay">L2 penalty λ.</param>
/// <param name="epsilon">ε.</param>
public sealed class AdaGrad(IEnumerable<Tensor> parameters, double learningRate = 0.01, double weightDecay = 0, double epsilon = 1e-7)
    : Optimizer(parameters, learningRate, weightDecay, stateSlots: 1)
{
    private readonly double _epsilon = RequirePositive(epsilon, nameof(AdaGrad), nameof(epsilon));

    /// <inheritdoc/>
    protected override void Update<T>(int index, int start, Span<T> parameter, Span<T> gradient)
    {
        ApplyWeightDecay<T>(parameter, gradient);
        var h = State<T>(0, index, start, parameter.Length);
        TensorPrimitives.MultiplyAdd(gradient, gradient, h, h);
        ScaledStep<T>(parameter, gradient, h, T.CreateTruncating(LearningRate), T.CreateTruncating(_epsilon));
    }

    /// <summary>p ← p − η·g / (√h + ε), using g as scratch.</summary>
    internal static void ScaledStep<T>(Span<T> parameter, Span<T> gradient, ReadOnlySpan<T> h, T learningRate, T epsilon)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        TensorPrimitives.Multiply(gradient, learningRate, gradient);
        DivideBySqrtPlus<T>(gradient, h, epsilon);
        TensorPrimitives.Subtract(parameter, gradient, parameter);
    }

    /// <summary>h ← h + s·g², vectorized.</summary>
    internal static void MultiplyAddSquare<T>(ReadOnlySpan<T> g, T s, Span<T> h)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            var vg = MemoryMarshal.Cast<T, Vector<T>>(g);
            var vh = MemoryMarshal.Cast<T, Vector<T>>(h);
            for (var v = 0; v < vh.Length; v++)
            {
                vh[v] += vg[v] * vg[v] * s;
            }

            i = vh.Length * Vector<T>.Count;
        }

        for (; i < h.Length; i++)
        {
            h[i] += s * g[i] * g[i];
        }
    }

    /// <summary>x ← x / (√h + ε), vectorized.</summary>
    internal static void DivideBySqrtPlus<T>(Span<T> x, ReadOnlySpan<T> h, T epsilon)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            var vx = MemoryMarshal.Cast<T, Vector<T>>(x);
            var vh = MemoryMarshal.Cast<T, Vector<T>>(h);
            var e = new Vector<T>(epsilon);
            for (var v = 0; v < vx.Length; v++)
            {
                vx[v] /= Vector.SquareRoot(vh[v]) + e;
            }

            i = vx.Length * Vector<T>.Count;
        }

        for (; i < x.Length; i++)
        {
            x[i] /= T.Sqrt(h[i]) + epsilon;
        }
    }
}

/// <summary>RMSprop (the book's form): h ← ρ·h + (1 − ρ)·g²; p ← p − η·g / (√h + ε).</summary>
/// <param name="parameters">The parameters.</param>
/// <param name="learningRate">η.</param>
/// <param name="decay">ρ.</param>
/// <param name="weightDecay">L2 penalty λ.</param>
/// <param name="epsilon">ε.</param>
public sealed class RmsProp(IEnumerable<Tensor> parameters, double learningRate = 0.01, double decay = 0.99, double weightDecay = 0, double epsilon = 1e-7)
    : Optimizer(parameters, learningRate, weightDecay, stateSlots: 1)
{
    private readonly double _decay = RequireFraction(decay, nameof(RmsProp), nameof(decay));
    private readonly double _epsilon = RequirePositive(epsilon, nameof(RmsProp), nameof(epsilon));

    /// <inheritdoc/>
    protected override void Update<T>(int index, int start, Span<T> parameter, Span<T> gradient)
    {
        ApplyWeightDecay<T>(parameter, gradient);
        var h = State<T>(0, index, start, parameter.Length);
        var rho = T.CreateTruncating(_decay);
        TensorPrimitives.Multiply(h, rho, h);
        AdaGrad.MultiplyAddSquare<T>(gradient, T.One - rho, h);

        AdaGrad.ScaledStep<T>(parameter, gradient, h, T.CreateTruncating(LearningRate), T.CreateTruncating(_epsilon));
    }
}

/// <summary>
/// Adam as PyTorch defines it: m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²; p ← p − η·m̂ / (√v̂ + ε) with the
/// bias corrections m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ). With <paramref name="decoupledWeightDecay"/> it is AdamW:
/// p ← p − η·λ·p before the step, instead of adding λ·p to the gradient.
/// </summary>
/// <param name="parameters">The parameters.</param>
/// <param name="learningRate">η.</param>
/// <param name="beta1">β₁.</param>
/// <param name="beta2">β₂.</param>
/// <param name="epsilon">ε.</param>
/// <param name="weightDecay">λ.</param>
/// <param name="decoupledWeightDecay">Use AdamW's decoupled decay.</param>
public class Adam(
    IEnumerable<Tensor> parameters,
    double learningRate = 0.001,
    double beta1 = 0.9,
    double beta2 = 0.999,
    double epsilon = 1e-8,
    double weightDecay = 0,
    bool decoupledWeightDecay = false)
    : Optimizer(parameters, learningRate, decoupledWeightDecay ? 0 : weightDecay, stateSlots: 2)
{
    private readonly double _beta1 = RequireFraction(beta1, nameof(Adam), nameof(beta1));
    private readonly double _beta2 = RequireFraction(beta2, nameof(Adam), nameof(beta2));
    private readonly double _epsilon = RequirePositive(epsilon, nameof(Adam), nameof(epsilon));

    // The decoupled (AdamW) decay; the L2 form goes to the base class instead, which checks it there.
    private readonly double _decoupledDecay = decoupledWeightDecay ? RequireNonNegative(weightDecay, nameof(AdamW), nameof(weightDecay)) : 0;

    /// <inheritdoc/>
    protected override void Update<T>(int index, int start, Span<T> parameter, Span<T> gradient)
    {
        if (_decoupledDecay > 0)
        {
            TensorPrimitives.Multiply(parameter, T.CreateTruncating(1 - (LearningRate * _decoupledDecay)), parameter);
        }

        ApplyWeightDecay<T>(parameter, gradient);
        var m = State<T>(0, index, start, parameter.Length);
        var v = State<T>(1, index, start, parameter.Length);
        T b1 = T.CreateTruncating(_beta1), b2 = T.CreateTruncating(_beta2);
        // PyTorch's order of operations (torch.optim.Adam, single-tensor form): step = η / (1 − β₁ᵗ),
        // denominator = √v / √(1 − β₂ᵗ) + ε, p ← p − step·(m / denominator). Two divisions and a square root per
        // element rather than four of each kind's work (SimpleConvNet's Adam: 6% of the step).
        var step = T.CreateTruncating(LearningRate / (1 - Math.Pow(_beta1, Steps)));
        var root2 = T.CreateTruncating(Math.Sqrt(1 - Math.Pow(_beta2, Steps)));
        var eps = T.CreateTruncating(_epsilon);
        T c1 = T.One - b1, c2 = T.One - b2;
        var i = 0;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
        {
            // The same operations per element, on 512-bit vectors (Vector<T> stays 256 bits wide on AVX-512 machines):
            // half the square roots and divisions issued.
            var vp = MemoryMarshal.Cast<T, Vector512<T>>(parameter);
            var vg = MemoryMarshal.Cast<T, Vector512<T>>(gradient);
            var vm = MemoryMarshal.Cast<T, Vector512<T>>(m);
            var vv = MemoryMarshal.Cast<T, Vector512<T>>(v);
            Vector512<T> vb1 = Vector512.Create(b1), vb2 = Vector512.Create(b2), vc1 = Vector512.Create(c1), vc2 = Vector512.Create(c2);
            Vector512<T> vstep = Vector512.Create(step), vroot2 = Vector512.Create(root2), veps = Vector512.Create(eps);
            for (var k = 0; k < vp.Length; k++)
            {
                var g = vg[k];
                var mk = (vm[k] * vb1) + (g * vc1);
                var vk = (vv[k] * vb2) + (g * g * vc2);
                vm[k] = mk;
                vv[k] = vk;
                vp[k] -= vstep * (mk / ((Vector512.Sqrt(vk) / vroot2) + veps));
            }

            i = vp.Length * Vector512<T>.Count;
        }
        else if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            var vp = MemoryMarshal.Cast<T, Vector<T>>(parameter);
            var vg = MemoryMarshal.Cast<T, Vector<T>>(gradient);
            var vm = MemoryMarshal.Cast<T, Vector<T>>(m);
            var vv = MemoryMarshal.Cast<T, Vector<T>>(v);
            Vector<T> vb1 = new(b1), vb2 = new(b2), vc1 = new(c1), vc2 = new(c2), vstep = new(step), vroot2 = new(root2), veps = new(eps);
            for (var k = 0; k < vp.Length; k++)
            {
                var g = vg[k];
                var mk = (vm[k] * vb1) + (g * vc1);
                var vk = (vv[k] * vb2) + (g * g * vc2);
                vm[k] = mk;
                vv[k] = vk;
                vp[k] -= vstep * (mk / ((Vector.SquareRoot(vk) / vroot2) + veps));
            }

            i = vp.Length * Vector<T>.Count;
        }

        for (; i < parameter.Length; i++)
        {
            var g = gradient[i];
            m[i] = (b1 * m[i]) + (c1 * g);
            v[i] = (b2 * v[i]) + (c2 * g * g);
            parameter[i] -= step * (m[i] / ((T.Sqrt(v[i]) / root2) + eps));
        }
    }
}

/// <summary>AdamW: Adam with decoupled weight decay (Loshchilov and Hutter), PyTorch's default λ = 0.01.</summary>
/// <param name="parameters">The parameters.</param>
/// <param name="learningRate">η.</param>
/// <param name="weightDecay">λ.</param>
/// <param name="beta1">β₁.</param>
/// <param name="beta2">β₂.</param>
/// <param name="epsilon">ε.</param>
public sealed class AdamW(IEnumerable<Tensor> parameters, double learningRate = 0.001, double weightDecay = 0.01, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8)
    : Adam(parameters, learningRate, beta1, beta2, epsilon, weightDecay, decoupledWeightDecay: true);
