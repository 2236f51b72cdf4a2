using FsCheck;
using FsCheck.Fluent;

using Microsoft.FSharp.Core;

using static AutoGrad.Tests.TestData;

namespace AutoGrad.Tests.Operations;

/// <summary>
/// Property tests with FsCheck (a fixed replay seed, so CI is repeatable): random broadcastable shape pairs for every
/// binary op, and random small graphs of ops, each checked against central differences in float64.
/// </summary>
public class PropertyTests
{
    // Quiet on success: FsCheck's "Ok, passed 60 tests." went to the process console, which the sample tests capture
    // while they run in parallel (it landed in the README example's expected output about one run in twenty).
    private static readonly Config s_config = Config.QuickThrowOnFailure
        .WithQuietOnSuccess(true)
        .WithMaxTest(60)
        .WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(20261122UL, 12345UL), FSharpOption<int>.None)));

    /// <summary>Two shapes that broadcast: the second is a suffix of the first with some dimensions set to 1, or the reverse.</summary>
    private static Gen<(int[] A, int[] B)> BroadcastablePair() =>
        from rank in Gen.Choose(0, 3)
        from dims in Gen.ArrayOf(Gen.Choose(1, 3), rank)
        from keep in Gen.Choose(0, rank)
        from ones in Gen.ArrayOf(Gen.Elements(true, false), rank)
        from swap in Gen.Elements(true, false)
        let other = dims[(rank - keep)..].Select((d, i) => ones[rank - keep + i] ? 1 : d).ToArray()
        select swap ? (other, dims) : (dims, other);

    [Fact]
    public void Every_binary_op_differentiates_correctly_for_random_broadcastable_shapes()
    {
        var seed = 0;
        FsCheck.Check.One(s_config, Prop.ForAll(BroadcastablePair().ToArbitrary(), pair =>
        {
            seed++;
            var a = Normal(seed, pair.A);
            var b = Uniform(seed + 1000, 0.5, 2, pair.B);
            return GradientChecker.Check(v => v[0] + v[1], [a, b]).Passed
                && GradientChecker.Check(v => v[0] - v[1], [a, b]).Passed
                && GradientChecker.Check(v => v[0] * v[1], [a, b]).Passed
                && GradientChecker.Check(v => v[0] / v[1], [a, b]).Passed;
        }));
    }

    /// <summary>Smooth steps a random graph is built from (no kinks, no domain edges), each of shape (2, 3) → (2, 3).</summary>
    private static readonly Func<Tensor, Tensor, Tensor>[] s_steps =
    [
        (h, w) => Ops.Tanh(h),
        (h, w) => Ops.Sigmoid(h) * w,
        (h, w) => Ops.Sin(h) + w,
        (h, w) => Ops.Cos(h * w),
        (h, w) => Ops.Exp(h * 0.3),
        (h, w) => Ops.Softmax(h, -1) * 3,
        (h, w) => Ops.LogSoftmax(h, 0),
        (h, w) => Ops.Pow(h, 2) - w,
        (h, w) => h / (Ops.Exp(w) + 1),
        (h, w) => Ops.Log(Ops.Sigmoid(h) + 0.5),
        (h, w) => Ops.BroadcastTo(Ops.Mean(h, 0, keepDims: true), 2, 3) + h,
        (h, w) => Ops.Reshape(Ops.Transpose(Ops.Reshape(h, 3, 2)), 2, 3) * w,
        (h, w) => Ops.MatMul(h, Ops.Transpose(w)) is var m ? Ops.MatMul(m, w) : h,
    ];

    [Fact]
    public void Random_small_graphs_of_ops_differentiate_correctly()
    {
        var graphs = from length in Gen.Choose(1, 5)
                     from steps in Gen.ArrayOf(Gen.Choose(0, s_steps.Length - 1), length)
                     from seed in Gen.Choose(1, 10_000)
                     select (Steps: steps, Seed: seed);
        FsCheck.Check.One(s_config, Prop.ForAll(graphs.ToArbitrary(), g =>
        {
            Tensor Graph(Tensor[] v)
            {
                var h = v[0];
                foreach (var step in g.Steps)
                {
                    h = s_steps[step](h, v[1]);
                }

                return Ops.Sum(h * h);
            }

            var result = GradientChecker.Check(Graph, [Normal(g.Seed, 2, 3), Uniform(g.Seed + 1, -1, 1, 2, 3)]);
            return result.Passed;
        }));
    }

    [Fact]
    public void The_harness_reports_a_gradient_that_is_wrong()
    {
        // Max at a tie routes the gradient to one position while finite differences split it: the property is false.
        Assert.ThrowsAny<Exception>(() => FsCheck.Check.One(s_config, Prop.ForAll(
            Gen.Choose(1, 5).ToArbitrary(),
            n => GradientChecker.Check(v => Ops.Max(v[0]), [Tensor.Full(1, [n + 1], DType.Float64)]).Passed)));
    }
}
