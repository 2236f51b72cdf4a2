namespace AutoGrad.Tests.Operations;

/// <summary>Values the descriptors' gradient checks cannot give: each activation against a reference implementation.</summary>
public class ActivationsTests
{
    [Fact]
    public void Gelu_matches_its_definition_in_both_forms()
    {
        // Reference: ½x(1 + erf(x/√2)) and ½x(1 + tanh(√(2/π)(x + 0.044715x³))) in CPython (math.erf, math.tanh), the
        // formulas PyTorch's gelu uses for approximate='none' and 'tanh'.
        (double X, double Exact, double Tanh)[] points =
        [
            (1, 0.8413447460685429, 0.8411919906082768), (-1, -0.15865525393145707, -0.15880800939172324),
            (0.5, 0.34573123063700656, 0.34571400982514394), (3, 2.99595030590511, 2.996362607918227),
            (-3, -0.00404969409489031, -0.0036373920817729943),
        ];
        var x = Tensor.FromArray(points.Select(p => p.X).ToArray());
        var exact = Ops.Gelu(x).ToDoubleArray();
        var tanh = Ops.Gelu(x, tanhApproximation: true).ToDoubleArray();
        for (var i = 0; i < points.Length; i++)
        {
            Assert.Equal(points[i].Exact, exact[i], 1e-15);
            Assert.Equal(points[i].Tanh, tanh[i], 1e-15);
        }

        Assert.Equal(0.8413447f, Ops.Gelu(Tensor.FromArray([1f])).ToFloatArray()[0], 1e-7f);
    }

    public static TheoryData<string, double[]> References => new()
    {
        // Reference: the defining formulas in CPython (math.expm1, math.log1p, math.tanh) at x = −2, −0.5, 0.5, 3;
        // LeakyRelu with slope 0.1 and Elu with α = 1.5, as the descriptors' samples use.
        { "LeakyRelu", [-0.2, -0.05, 0.5, 3.0] },
        { "Elu", [-1.296997075145081, -0.5902040104310499, 0.5, 3.0] },
        { "Selu", [-1.520166468595695, -0.6917581878028713, 0.5253504936777402, 3.1521029620664414] },
        { "Silu", [-0.2384058440442351, -0.18877033439907273, 0.3112296656009273, 2.8577223804673] },
        { "Softplus", [0.1269280110429725, 0.4740769841801067, 0.9740769841801067, 3.048587351573742] },
        { "Mish", [-0.2525014826957089, -0.22074377465173, 0.3752452113048951, 2.9865350049679575] },
        { "Softsign", [-0.6666666666666666, -0.3333333333333333, 0.3333333333333333, 0.75] },
    };

    [Theory]
    [MemberData(nameof(References))]
    public void Each_activation_matches_its_definition(string op, double[] expected)
    {
        var x = Tensor.FromArray([-2.0, -0.5, 0.5, 3.0]);
        var y = op switch
        {
            "LeakyRelu" => Ops.LeakyRelu(x, 0.1),
            "Elu" => Ops.Elu(x, 1.5),
            "Selu" => Ops.Selu(x),
            "Silu" => Ops.Silu(x),
            "Softplus" => Ops.Softplus(x),
            "Mish" => Ops.Mish(x),
            _ => Ops.Softsign(x),
        };
        var actual = y.ToDoubleArray();
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], actual[i], Math.Abs(expected[i]) * 1e-15);
        }
    }

    [Fact]
    public void Softplus_is_exact_and_finite_at_the_extremes()
    {
        // ln(1 + e^1000) = 1000 and ln(1 + e^−1000) underflows to 0; at ±20 the e^−20 term still counts (PyTorch's
        // default threshold of 20 returns x itself above it, 2e-9 off).
        var y = Ops.Softplus(Tensor.FromArray([1000.0, -1000, 20, -20])).ToDoubleArray();
        Assert.Equal([1000.0, 0.0, 20.000000002061153, 2.061153620314381e-09], y);
        var gradient = GradientOfSum(v => Ops.Softplus(v), [1000.0, -1000]);
        Assert.Equal([1.0, 0.0], gradient);
    }

    [Fact]
    public void Clamp_passes_the_gradient_strictly_inside_only()
    {
        // [−2, −0.5, 0.3, 0.8, 2, NaN] clamped to [−0.5, 0.8]; g passes at 0.3 only (the bounds themselves get 0).
        double[] values = [-2, -0.5, 0.3, 0.8, 2, double.NaN];
        var y = Ops.Clamp(Tensor.FromArray(values), -0.5, 0.8).ToDoubleArray();
        Assert.Equal([-0.5, -0.5, 0.3, 0.8, 0.8], y[..5]);
        Assert.True(double.IsNaN(y[5]));
        Assert.Equal([0.0, 0, 1, 0, 0, 0], GradientOfSum(v => Ops.Clamp(v, -0.5, 0.8), values));
        Assert.Equal([-1.0, 0.5, 1], Ops.HardTanh(Tensor.FromArray([-3.0, 0.5, 3])).ToDoubleArray());
    }

    private static double[] GradientOfSum(Func<Tensor, Tensor> f, double[] values)
    {
        var x = Tensor.FromArray(values);
        using var tape = new Tape();
        tape.Watch(x);
        return tape.Gradient(Ops.Sum(f(x)), x)[0].ToDoubleArray();
    }
}
