using System.Reflection;

namespace AutoGrad.Tests.Operations;

/// <summary>Bad input throws an exception whose message names the op and the offending shapes or values.</summary>
public class BadInputTests
{
    private static readonly Tensor s_m23 = Tensor.Zeros([2, 3], DType.Float64);
    private static readonly Tensor s_v2 = Tensor.Zeros([2], DType.Float64);

    /// <summary>The ops' cases live in their descriptors (<see cref="OpInfo.BadInputs"/>); these are the tensors' and the tape's.</summary>
    public static TheoryData<string, Type, Func<object>, string[]> Cases
    {
        get
        {
            var data = new TheoryData<string, Type, Func<object>, string[]>();
            foreach (var bad in OpCatalog.All.SelectMany(row => row.BadInputs))
            {
                data.Add(bad.Description, bad.Exception, bad.Call, [.. bad.MessageFragments]);
            }

            foreach (var row in s_tensorAndTapeCases)
            {
                data.Add((string)row[0], (Type)row[1], (Func<object>)row[2], (string[])row[3]);
            }

            return data;
        }
    }

    private static readonly TheoryData<string, Type, Func<object>, string[]> s_tensorAndTapeCases = new()
    {
        { "from array", typeof(ArgumentException), () => Tensor.FromArray([1f, 2f, 3f], 2, 2), ["FromArray", "3 values", "(2, 2)"] },

        // Tensors.
        { "negative dimension", typeof(ArgumentException), () => Tensor.Zeros([2, -1]), ["(2, -1)", "negative"] },
        { "random std", typeof(ArgumentException), () => Tensor.RandomNormal([2], 1, std: double.NaN), ["RandomNormal", "std NaN"] },
        { "random range", typeof(ArgumentException), () => Tensor.RandomUniform([2], 1, low: 1, high: 1), ["RandomUniform", "1"] },
        { "arange step", typeof(ArgumentException), () => Tensor.Arange(0, 1, 0), ["Arange", "step 0"] },
        { "scalar of matrix", typeof(InvalidOperationException), () => s_m23.ToScalar(), ["ToScalar", "(2, 3)"] },
        { "span type", typeof(InvalidOperationException), () => s_m23.ToFloatArray().Length + s_m23.AsSpan<float>().Length, ["float64", "float32"] },

        // The tape (the README's "How the tape behaves" documents each of these).
        { "watch null", typeof(ArgumentNullException), () => TapeCall(static (tape, _) => tape.Watch(null!)), ["Watch", "null"] },
        { "gradient of a vector", typeof(ShapeMismatchException), () => TapeCall(static (tape, x) => tape.Gradient(Ops.Exp(x), x)), ["Gradient", "(2,)", "outputGradient"] },
        { "gradient seed shape", typeof(ShapeMismatchException), () => TapeCall(static (tape, x) => tape.Gradient(Ops.Exp(x), [x], Tensor.Zeros([3], DType.Float64))), ["Gradient", "(3,)", "(2,)"] },
        { "gradient seed nan", typeof(ArgumentException), () => TapeCall(static (tape, x) => tape.Gradient(Ops.Exp(x), [x], Tensor.FromArray([1, double.NaN]))), ["Gradient", "outputGradient", "NaN"] },
        { "gradient of untracked input", typeof(InvalidOperationException), () => TapeCall(static (tape, x) => tape.Gradient(Ops.Sum(Ops.Exp(x)), s_v2)), ["Gradient", "not tracked", "Watch"] },
        { "gradient twice", typeof(InvalidOperationException), () => TapeCall(static (tape, x) => { var y = Ops.Sum(x); tape.Gradient(y, x); return tape.Gradient(y, x); }), ["Gradient", "already", "retainGraph"] },
        { "backward twice", typeof(InvalidOperationException), () => TapeCall(static (tape, x) => { var y = Ops.Sum(x); tape.Backward(y); tape.Backward(y); return y; }), ["Backward", "already", "retainGraph"] },
        { "two tapes", typeof(InvalidOperationException), () => TwoTapes(), ["Add", "tape"] },
        { "after reset", typeof(InvalidOperationException), () => TapeCall(static (tape, x) => { var y = Ops.Exp(x); tape.Reset(); return Ops.Log(y); }), ["Log", "reset"] },
    };

    /// <summary>The public op names of <see cref="Ops"/> (operators excluded: they forward to named ops).</summary>
    public static TheoryData<string> PublicOps => [.. typeof(Ops).GetMethods(BindingFlags.Public | BindingFlags.Static).Where(m => !m.IsSpecialName).Select(m => m.Name).Distinct().Order()];

    [Theory]
    [MemberData(nameof(PublicOps))]
    public void Every_public_op_has_a_case(string op)
    {
        var named = Cases.Select(row => ((string[])row[3])[0]).ToHashSet();
        Assert.Contains(op, named);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Throws_a_specific_exception_naming_op_and_shapes(string name, Type type, Func<object> call, string[] fragments)
    {
        var e = Assert.Throws(type, () => call());
        foreach (var fragment in fragments)
        {
            Assert.True(e.Message.Contains(fragment, StringComparison.Ordinal), $"{name}: '{fragment}' missing from: {e.Message}");
        }
    }

    private static object TapeCall(Func<Tape, Tensor, object> body)
    {
        using var tape = new Tape();
        return body(tape, tape.Watch(Tensor.FromArray([1.0, 2.0])));
    }

    private static object TwoTapes()
    {
        using var outer = new Tape();
        var a = outer.Watch(Tensor.FromArray([1.0, 2.0]));
        var fromOuter = Ops.Exp(a);
        using var inner = new Tape();
        var b = inner.Watch(Tensor.FromArray([1.0, 2.0]));
        return fromOuter + Ops.Exp(b);
    }

    [Fact]
    public void Using_tensors_of_a_disposed_tape_names_the_op()
    {
        Tensor y;
        using (var tape = new Tape())
        {
            y = Ops.Exp(Tensor.FromArray([1.0]));
        }

        var e = Assert.Throws<InvalidOperationException>(() => Ops.Log(y));
        Assert.Contains("Log", e.Message);
        Assert.Contains("disposed", e.Message);
    }
}
