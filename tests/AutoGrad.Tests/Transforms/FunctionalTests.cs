using static AutoGrad.Tests.TestData;

namespace AutoGrad.Tests.Transforms;

/// <summary>The function transforms, against closed forms, finite differences of gradients, and each other.</summary>
public class FunctionalTests
{
    /// <summary>Rosenbrock's function in n dimensions: Σ 100(xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)².</summary>
    private static Tensor Rosenbrock(Tensor x)
    {
        var n = x.Shape[0];
        var head = Ops.Slice(x, 0, n - 1);
        var tail = Ops.Slice(x, 1, n - 1);
        return Ops.Sum((100 * Ops.Square(tail - Ops.Square(head))) + Ops.Square(1 - head));
    }

    private static double[] RosenbrockGradient(double[] x)
    {
        var g = new double[x.Length];
        for (var i = 0; i + 1 < x.Length; i++)
        {
            var d = x[i + 1] - (x[i] * x[i]);
            g[i] += (-400 * x[i] * d) - (2 * (1 - x[i]));
            g[i + 1] += 200 * d;
        }

        return g;
    }

    private static double[,] RosenbrockHessian(double[] x)
    {
        var n = x.Length;
        var h = new double[n, n];
        for (var i = 0; i + 1 < n; i++)
        {
            h[i, i] += (1200 * x[i] * x[i]) - (400 * x[i + 1]) + 2;
            h[i, i + 1] += -400 * x[i];
            h[i + 1, i] += -400 * x[i];
            h[i + 1, i + 1] += 200;
        }

        return h;
    }

    [Fact]
    public void Jvp_gives_the_value_and_the_directional_derivative()
    {
        var x = Normal(1, 3, 4);
        var v = Normal(2, 3, 4);
        var (y, dy) = Functional.Jvp(Ops.Sin, x, v);
        AssertClose(Ops.Sin(x).ToDoubleArray(), y.ToDoubleArray(), 0);
        AssertClose((Ops.Cos(x) * v).ToDoubleArray(), dy.ToDoubleArray(), 1e-15, 1e-16);

        // Two primals: J₁·v₁ + J₂·v₂ for a·b = v₁ ⊙ b + a ⊙ v₂.
        var b = Normal(3, 3, 4);
        var w = Normal(4, 3, 4);
        var (_, product) = Functional.Jvp(p => p[0] * p[1], [x, b], [v, w]);
        AssertClose(((v * b) + (x * w)).ToDoubleArray(), product.ToDoubleArray(), 1e-15, 1e-16);
    }

    [Fact]
    public void Vjp_gives_a_pullback_that_serves_many_cotangents()
    {
        var x = Normal(5, 4);
        var (y, pullback) = Functional.Vjp(Ops.Tanh, x);
        AssertClose(Ops.Tanh(x).ToDoubleArray(), y.ToDoubleArray(), 0);
        for (var seed = 10; seed < 13; seed++)
        {
            var u = Normal(seed, 4);
            var expected = (u * (1 - Ops.Square(Ops.Tanh(x)))).ToDoubleArray();
            AssertClose(expected, pullback(u).ToDoubleArray(), 1e-14, 1e-16);
        }

        var e = Assert.Throws<ShapeMismatchException>(() => pullback(Normal(1, 5)));
        Assert.Contains("Vjp", e.Message);
        Assert.Contains("(5,)", e.Message);
        Assert.Contains("(4,)", e.Message);
    }

    [Fact]
    public void Grad_and_value_and_grad_of_rosenbrock_match_the_closed_form()
    {
        double[] point = [-1.2, 1.0, 0.5, 2.0];
        var x = Tensor.FromArray(point);
        var g = Functional.Grad(Rosenbrock)(x);
        AssertClose(RosenbrockGradient(point), g.ToDoubleArray(), 1e-14);
        var (value, gradient) = Functional.ValueAndGrad(Rosenbrock)(x);
        Assert.Equal(Rosenbrock(x).Item(), value.Item(), 14);
        AssertClose(RosenbrockGradient(point), gradient.ToDoubleArray(), 1e-14);
        Assert.False(gradient.IsTapeOwned);
    }

    [Fact]
    public void Hessian_of_rosenbrock_matches_the_closed_form_and_finite_differences_of_gradients()
    {
        double[] point = [-1.2, 1.0, 0.5, 2.0, -0.3];
        var h = Functional.Hessian(Rosenbrock, Tensor.FromArray(point));
        Assert.Equal(Shape.Create([5, 5]), h.Shape);
        var expected = RosenbrockHessian(point);
        for (var i = 0; i < 5; i++)
        {
            for (var j = 0; j < 5; j++)
            {
                Assert.Equal(expected[i, j], h[i, j], 11);
            }
        }

        AssertHessianMatchesDifferencesOfGradients(Rosenbrock, Tensor.FromArray(point), h);
    }

    [Fact]
    public void Hessian_of_a_small_mlp_loss_matches_finite_differences_of_gradients()
    {
        // 4-6-3 net with tanh on 5 samples; the Hessian with respect to the second layer's weights (18 × 18).
        var data = Normal(20, 5, 4);
        var w1 = Normal(21, 4, 6);
        var b1 = Normal(22, 6);
        var b2 = Normal(23, 3);
        int[] labels = [0, 2, 1, 1, 0];
        Tensor Loss(Tensor w2) => Ops.SoftmaxWithLoss(Ops.Affine(Ops.Tanh(Ops.Affine(data, w1, b1)), w2, b2), labels);
        var w = Normal(24, 6, 3);
        var h = Functional.Hessian(Loss, w);
        Assert.Equal(Shape.Create([6, 3, 6, 3]), h.Shape);
        AssertHessianMatchesDifferencesOfGradients(Loss, w, Ops.Reshape(h, 18, 18));

        // Symmetric, as a Hessian is, to rounding.
        var flat = Ops.Reshape(h, 18, 18);
        AssertClose(Ops.Transpose(flat).ToDoubleArray(), flat.ToDoubleArray(), 1e-12, 1e-15);
    }

    [Fact]
    public void Hvp_equals_the_hessian_times_the_vector()
    {
        var x = Normal(30, 6);
        var v = Normal(31, 6);
        var h = Functional.Hessian(Rosenbrock, x);
        var hv = Functional.Hvp(Rosenbrock, x, v);
        AssertClose(Ops.MatMul(h, v).ToDoubleArray(), hv.ToDoubleArray(), 1e-13, 1e-12);
    }

    [Theory]
    [InlineData(JacobianMode.Reverse)]
    [InlineData(JacobianMode.Forward)]
    [InlineData(JacobianMode.Auto)]
    public void Jacobian_of_softmax_is_diag_y_minus_y_y_transposed(JacobianMode mode)
    {
        var x = Normal(40, 5);
        var j = Functional.Jacobian(v => Ops.Softmax(v, 0), x, mode);
        var y = Ops.Softmax(x, 0).ToDoubleArray();
        Assert.Equal(Shape.Create([5, 5]), j.Shape);
        for (var r = 0; r < 5; r++)
        {
            for (var c = 0; c < 5; c++)
            {
                Assert.Equal((r == c ? y[r] : 0) - (y[r] * y[c]), j[r, c], 15);
            }
        }
    }

    [Fact]
    public void Jacobian_modes_agree_on_a_tall_and_a_wide_function_of_matrices()
    {
        var x = Normal(41, 2, 3);
        var w = Normal(42, 3, 4);
        Tensor Tall(Tensor v) => Ops.Tanh(Ops.Reshape(Ops.MatMul(v, w), 2, 2, 2));
        Tensor Wide(Tensor v) => Ops.Sum(Ops.Exp(v), 0);
        foreach (var f in new Func<Tensor, Tensor>[] { Tall, Wide })
        {
            var reverse = Functional.Jacobian(f, x, JacobianMode.Reverse);
            var forward = Functional.Jacobian(f, x, JacobianMode.Forward);
            Assert.Equal(Shape.Create([.. f(x).Shape.Dims, 2, 3]), reverse.Shape);
            Assert.Equal(reverse.Shape, forward.Shape);
            AssertClose(reverse.ToDoubleArray(), forward.ToDoubleArray(), 1e-14, 1e-15);
        }
    }

    [Fact]
    public void Batched_forward_sweeps_and_batched_reverse_sweeps_give_the_same_jacobian()
    {
        // 143 inputs and 206 outputs: two batches of directions and two of cotangents, through every op with a batched
        // rule (products with the tangent or cotangent on either side, Affine in its input and its weights, elementwise
        // kernels, softmax, a loss, reshape, permute) and ops without one (slice, sum, concat), which run one vector at
        // a time. Rows on both sides of the batch boundary are checked against a plain sweep each.
        var w = Normal(43, 11, 7);
        var left = Normal(44, 5, 13);
        var b = Normal(45, 7);
        var b11 = Normal(47, 11);
        int[] labels = [1, 0, 6, 2, 3, 5, 4, 1, 0, 2, 6, 3, 5];
        Tensor F(Tensor v)
        {
            var h = Ops.Tanh(Ops.Affine(v, w, b));                          // (13, 7)
            var scores = Ops.MatMul(left, Ops.Sigmoid(v)) * 0.5;            // (5, 11)
            var soft = Ops.Softmax(Ops.Permute(Ops.Affine(h, Ops.Slice(Ops.Transpose(w), 0, 7), b11), 1, 0), 0);
            var loss = Ops.SoftmaxWithLoss(h, labels);
            return Ops.Concat([Ops.Reshape(soft, -1), Ops.Reshape(scores, -1), Ops.Reshape(loss, 1), Ops.Sum(h, 0)], 0);
        }

        var x = Normal(46, 13, 11);
        var reverse = Functional.Jacobian(F, x, JacobianMode.Reverse);
        var forward = Functional.Jacobian(F, x, JacobianMode.Forward);
        Assert.Equal(Shape.Create([206, 13, 11]), reverse.Shape);
        AssertClose(reverse.ToDoubleArray(), forward.ToDoubleArray(), 1e-12, 1e-14);
        foreach (var row in new[] { 0, 127, 128, 205 })
        {
            using var tape = new Tape();
            var watched = tape.Watch(x);
            var output = F(watched);
            var unit = new double[output.Length];
            unit[row] = 1;
            var plain = tape.Gradient(output, [watched], Tensor.FromArray(unit, DType.Float64, output.Shape.Dims))[0];
            AssertClose(plain.ToDoubleArray(), reverse.ToDoubleArray().AsSpan(row * x.Length, x.Length), 1e-13, 1e-15);
        }
    }

    [Fact]
    public void Newton_s_method_driven_by_the_hessian_finds_rosenbrock_s_minimum()
    {
        // Undamped Newton from the classic start (−1.2, 1): each step solves H·d = −∇f.
        var x = Tensor.FromArray([-1.2, 1.0]);
        var iterations = 0;
        while (iterations < 20 && Functional.Grad(Rosenbrock)(x).ToDoubleArray().Max(Math.Abs) > 1e-12)
        {
            var g = Functional.Grad(Rosenbrock)(x).ToDoubleArray();
            var h = Functional.Hessian(Rosenbrock, x);
            double a = h[0, 0], b = h[0, 1], c = h[1, 0], d = h[1, 1];
            var det = (a * d) - (b * c);
            var step = new[] { -((d * g[0]) - (b * g[1])) / det, -((a * g[1]) - (c * g[0])) / det };
            x = x + Tensor.FromArray(step);
            iterations++;
        }

        Assert.InRange(iterations, 1, 10);
        Assert.Equal(1.0, x[0], 12);
        Assert.Equal(1.0, x[1], 12);
    }

    [Fact]
    public void Forward_over_forward_through_jvp_gives_the_second_derivative_of_tanh()
    {
        double[] points = [-1.5, -0.2, 0.4, 2.0];
        var x = Tensor.FromArray(points);
        var ones = Tensor.Ones([4], DType.Float64);
        var (first, second) = Functional.Jvp(p => Functional.Jvp(Ops.Tanh, p, ones).Tangent, x, ones);
        for (var i = 0; i < points.Length; i++)
        {
            var t = Math.Tanh(points[i]);
            Assert.Equal(1 - (t * t), first[i], 14);
            Assert.Equal(-2 * t * (1 - (t * t)), second[i], 14);
        }
    }

    [Fact]
    public void Transforms_compose_grad_of_grad_jacobian_of_grad_and_hessian_agree()
    {
        var x = Tensor.FromArray([0.7]);
        var third = Functional.Grad(Functional.Grad(v => Ops.Sum(Ops.Pow(v, 3))))(x);
        Assert.Equal(6 * 0.7, third[0], 13);

        var point = Normal(50, 4);
        var hessian = Functional.Hessian(Rosenbrock, point);
        var viaJacobianReverse = Functional.Jacobian(Functional.Grad(Rosenbrock), point, JacobianMode.Reverse);
        var viaJacobianForward = Functional.Jacobian(Functional.Grad(Rosenbrock), point, JacobianMode.Forward);
        AssertClose(hessian.ToDoubleArray(), viaJacobianReverse.ToDoubleArray(), 1e-13, 1e-12);
        AssertClose(hessian.ToDoubleArray(), viaJacobianForward.ToDoubleArray(), 1e-13, 1e-12);

        // A Hessian inside a caller's tape is a tensor on it: its trace differentiates again (a third derivative).
        using var tape = new Tape();
        var cube = tape.Watch(Tensor.FromArray([0.4, -0.9]));
        var h = Functional.Hessian(v => Ops.Sum(Ops.Pow(v, 4)), cube);
        var trace = Ops.Sum(h * Tensor.FromArray(new double[,] { { 1, 0 }, { 0, 1 } }));
        var d = tape.Gradient(trace, cube)[0];
        Assert.Equal(24 * 0.4, d[0], 12);
        Assert.Equal(24 * -0.9, d[1], 12);
    }

    [Fact]
    public void Bad_input_gets_the_transform_s_own_exception()
    {
        var x = Normal(60, 2, 3);
        var jvp = Assert.Throws<ShapeMismatchException>(() => Functional.Jvp(Ops.Exp, x, Normal(61, 3, 2)));
        Assert.Contains("Jvp", jvp.Message);
        Assert.Contains("(3, 2)", jvp.Message);
        Assert.Contains("(2, 3)", jvp.Message);
        var type = Assert.Throws<ShapeMismatchException>(() => Functional.Jvp(Ops.Exp, x, Tensor.Zeros([2, 3])));
        Assert.Contains("float32", type.Message);
        Assert.Throws<ArgumentException>(() => Functional.Jvp(v => v[0], [x], []));

        var grad = Assert.Throws<ShapeMismatchException>(() => Functional.Grad(Ops.Exp)(x));
        Assert.Contains("Grad", grad.Message);
        Assert.Contains("(2, 3)", grad.Message);
        var hessian = Assert.Throws<ShapeMismatchException>(() => Functional.Hessian(Ops.Exp, x));
        Assert.Contains("Hessian", hessian.Message);

        var constant = Assert.Throws<InvalidOperationException>(() => Functional.Grad(v => Ops.Sum(v.Clone()))(x));
        Assert.Contains("Grad", constant.Message);
        Assert.Contains("does not depend", constant.Message);
        Assert.Contains("Jacobian", Assert.Throws<InvalidOperationException>(() => Functional.Jacobian(_ => Tensor.Ones([2]), x)).Message);
        Assert.Contains("returned null", Assert.Throws<InvalidOperationException>(() => Functional.Grad((Tensor _) => null!)(x)).Message);

        var hvp = Assert.Throws<ShapeMismatchException>(() => Functional.Hvp(v => Ops.Sum(v), x, Normal(62, 6)));
        Assert.Contains("Hvp", hvp.Message);
        Assert.Contains("(6,)", hvp.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Functional.Jacobian(Ops.Exp, x, (JacobianMode)7));
    }

    private static void AssertHessianMatchesDifferencesOfGradients(Func<Tensor, Tensor> f, Tensor x, Tensor hessian)
    {
        const double step = 1e-6;
        var n = x.Length;
        var h = Ops.Reshape(hessian, n, n);
        for (var j = 0; j < n; j++)
        {
            var e = new double[n];
            e[j] = step;
            var direction = Tensor.FromArray(e, x.Shape.Dims);
            var plus = Functional.Grad(f)(x + direction).ToDoubleArray();
            var minus = Functional.Grad(f)(x - direction).ToDoubleArray();
            for (var i = 0; i < n; i++)
            {
                var numeric = (plus[i] - minus[i]) / (2 * step);
                Assert.True(Math.Abs(numeric - h[i, j]) <= 1e-5 + (1e-6 * Math.Abs(numeric)), $"H[{i}, {j}] = {h[i, j]}, differences of gradients give {numeric}");
            }
        }
    }
}
