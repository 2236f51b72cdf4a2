using static AutoGrad.Tests.TestData;

namespace AutoGrad.Tests.Autodiff;

/// <summary>
/// The forward-mode slot beside each op's backward rules (<see cref="Op.Jvp"/>): filled for every op; here Add, Multiply and
/// the elementwise unary ops, each checked against a central difference along the tangent on both sides of zero (the
/// catalog-wide checks are <see cref="ForwardModeTests"/>).
/// </summary>
public class ForwardRuleSlotTests
{
    [Fact]
    public void Exp_add_and_multiply_give_the_directional_derivative()
    {
        var a = Normal(1, 2, 3);
        var b = Normal(2, 3);
        var ta = Normal(3, 2, 3);
        var tb = Normal(4, 3);

        AssertJvp(v => Ops.Exp(v[0]), [a], [ta], t => new InputTangents(t[0]));
        AssertJvp(v => v[0] + v[1], [a, b], [ta, tb], t => new InputTangents(t[0], t[1]));
        AssertJvp(v => v[0] + v[1], [a, b], [null, tb], t => new InputTangents(null, t[1]));
        AssertJvp(v => v[0] * v[1], [a, b], [ta, tb], t => new InputTangents(t[0], t[1]));
        AssertJvp(v => v[0] * v[1], [a, b], [ta, null], t => new InputTangents(t[0], null));
    }

    public static TheoryData<string> UnaryOps => ["Sign", "Sin", "Cos", "Erf", "Square", "Reciprocal", "Rsqrt", "Log1p", "Expm1", "Exp", "Log", "Sqrt", "Abs", "Relu", "Sigmoid", "Tanh", "Pow"];

    [Theory]
    [MemberData(nameof(UnaryOps))]
    public void Every_elementwise_unary_op_gives_the_directional_derivative(string op)
    {
        Func<Tensor, Tensor> f = op switch
        {
            "Sign" => Ops.Sign,
            "Sin" => Ops.Sin,
            "Cos" => Ops.Cos,
            "Erf" => Ops.Erf,
            "Square" => Ops.Square,
            "Reciprocal" => Ops.Reciprocal,
            "Rsqrt" => Ops.Rsqrt,
            "Log1p" => Ops.Log1p,
            "Expm1" => Ops.Expm1,
            "Exp" => Ops.Exp,
            "Log" => Ops.Log,
            "Sqrt" => Ops.Sqrt,
            "Abs" => Ops.Abs,
            "Relu" => Ops.Relu,
            "Sigmoid" => Ops.Sigmoid,
            _ => x => Ops.Pow(x, 2.5),
        };

        // Away from every kink and pole: 0.5 … 2.5, and for the ops defined there, the same values negated.
        var positive = Ops.Abs(Normal(5, 3, 4)) + 0.5;
        AssertJvp(v => f(v[0]), [positive], [Normal(6, 3, 4)], t => new InputTangents(t[0]));
        if (op is not ("Rsqrt" or "Log" or "Sqrt" or "Pow" or "Log1p"))
        {
            AssertJvp(v => f(v[0]), [-positive], [Normal(7, 3, 4)], t => new InputTangents(t[0]));
        }

        // No tangent: a zero one.
        using var tape = new Tape();
        var x = tape.Watch(positive);
        var y = f(x);
        Assert.All(tape.NodeOf(y).Op.Jvp(tape.NodeOf(y), new InputTangents(null)).ToDoubleArray(), v => Assert.Equal(0.0, v));
    }

    private static void AssertJvp(Func<Tensor[], Tensor> f, Tensor[] inputs, Tensor?[] tangents, Func<Tensor?[], InputTangents> pack)
    {
        using var tape = new Tape();
        foreach (var x in inputs)
        {
            tape.Watch(x);
        }

        var y = f(inputs);
        var jvp = tape.NodeOf(y).Op.Jvp(tape.NodeOf(y), pack(tangents)).ToDoubleArray();

        // (f(x + εv) − f(x − εv)) / 2ε, with no tangent meaning no change in that input.
        const double epsilon = 1e-6;
        var plus = f([.. inputs.Select((x, i) => tangents[i] is { } t ? x + (t * epsilon) : x)]).ToDoubleArray();
        var minus = f([.. inputs.Select((x, i) => tangents[i] is { } t ? x - (t * epsilon) : x)]).ToDoubleArray();
        for (var k = 0; k < jvp.Length; k++)
        {
            Assert.Equal((plus[k] - minus[k]) / (2 * epsilon), jvp[k], 1e-8);
        }
    }
}
