using static AutoGrad.Tests.TestData;

namespace AutoGrad.Tests.Transforms;

/// <summary>Gradient checkpointing: the same gradients as without, in every mode, for less kept memory.</summary>
public class CheckpointTests
{
    // Created owned (a factory, not an op), so no test's tape holds them.
    private static readonly Tensor[] s_weights = [.. Enumerable.Range(1, 4).Select(seed => Tensor.RandomNormal([6, 6], seed, std: 0.5, dtype: DType.Float64))];

    /// <summary>Two tanh layers: the segment a checkpoint wraps.</summary>
    private static Tensor Block(Tensor x, Tensor w1, Tensor w2) => Ops.Tanh(Ops.MatMul(Ops.Tanh(Ops.MatMul(x, w1)), w2));

    private static Tensor Net(Tensor x, Tensor[] w, bool checkpointed)
    {
        var h = x;
        for (var i = 0; i < w.Length; i += 2)
        {
            h = checkpointed ? Functional.Checkpoint(v => Block(v[0], v[1], v[2]), h, w[i], w[i + 1]) : Block(h, w[i], w[i + 1]);
        }

        return Ops.Sum(Ops.Square(h));
    }

    [Fact]
    public void Gradient_through_checkpoints_equals_the_plain_gradient_exactly()
    {
        var x = Normal(10, 5, 6);
        Tensor[][] results = [Gradients(false), Gradients(true)];
        for (var i = 0; i < results[0].Length; i++)
        {
            Assert.Equal(results[0][i].ToDoubleArray(), results[1][i].ToDoubleArray());
        }

        Tensor[] Gradients(bool checkpointed)
        {
            using var tape = new Tape();
            Tensor[] inputs = [tape.Watch(x), .. s_weights.Select(tape.Watch)];
            return tape.Gradient(Net(inputs[0], inputs[1..], checkpointed), inputs);
        }
    }

    [Fact]
    public void Backward_accumulates_parameter_gradients_through_checkpoints()
    {
        var x = Normal(11, 5, 6);
        double[][] Grads(bool checkpointed)
        {
            var parameters = s_weights.Select(w => w.Clone()).ToArray();
            foreach (var p in parameters)
            {
                p.RequiresGrad = true;
            }

            using (var tape = new Tape())
            {
                tape.Backward(Net(x, parameters, checkpointed));
            }

            // Implicit recording (no tape) goes through the same rules.
            var implicitLoss = Net(x, parameters, checkpointed);
            implicitLoss.Backward();
            return [.. parameters.Select(p => p.Grad!.ToDoubleArray())];
        }

        var plain = Grads(false);
        var checkpointed = Grads(true);
        for (var i = 0; i < plain.Length; i++)
        {
            Assert.Equal(plain[i], checkpointed[i]);
        }
    }

    [Fact]
    public void Second_derivatives_and_forward_mode_go_through_checkpoints()
    {
        var x = Normal(12, 2, 6);
        double[] HessianVector(bool checkpointed) =>
            Functional.Hvp(v => Net(v, s_weights, checkpointed), x, Normal(13, 2, 6)).ToDoubleArray();
        AssertClose(HessianVector(false), HessianVector(true), 1e-13, 1e-14);

        double[] Tangent(bool checkpointed) =>
            Functional.Jvp(v => Net(v, s_weights, checkpointed), x, Normal(14, 2, 6)).Tangent.ToDoubleArray();
        AssertClose(Tangent(false), Tangent(true), 1e-14, 1e-15);

        // Reverse over reverse on a tape with createGraph, directly.
        double[] SecondOrder(bool checkpointed)
        {
            using var tape = new Tape();
            var input = tape.Watch(x);
            var g = tape.Gradient(Net(input, s_weights, checkpointed), [input], createGraph: true)[0];
            return tape.Gradient(Ops.Sum(Ops.Square(g)), input)[0].ToDoubleArray();
        }

        AssertClose(SecondOrder(false), SecondOrder(true), 1e-13, 1e-14);
    }

    [Fact]
    public void A_checkpointed_segment_keeps_only_its_output_on_the_tape()
    {
        var x = Normal(15, 64, 6);
        long Kept(bool checkpointed)
        {
            using var tape = new Tape();
            tape.Watch(x);
            Net(x, s_weights, checkpointed);
            return tape.ArenaBytesInUse;
        }

        // Plain: four (64, 6) float64 intermediates per block; checkpointed: only each block's output, so three fewer per block.
        Assert.Equal(Kept(false) - (2 * 3 * 64 * 6 * sizeof(double)), Kept(true));
    }

    [Fact]
    public void A_parameter_read_but_not_passed_is_refused_and_so_is_a_changing_function()
    {
        var hidden = Normal(16, 6, 6);
        hidden.RequiresGrad = true;
        using var tape = new Tape();
        var x = tape.Watch(Normal(17, 2, 6));
        var y = Functional.Checkpoint(v => Ops.Sum(Ops.MatMul(v, hidden)), x);
        var e = Assert.Throws<InvalidOperationException>(() => tape.Backward(y));
        Assert.Contains("Checkpoint", e.Message);
        Assert.Contains("RequiresGrad", e.Message);
        Assert.Contains("(6, 6)", e.Message);

        // A segment that runs again (not the last one, whose forward recording serves) must give what it gave.
        tape.Reset();
        var z = tape.Watch(Normal(18, 2, 6));
        var calls = 0;
        var changing = Functional.Checkpoint(v => ++calls == 1 ? Ops.Sum(v) : Ops.Sum(v, 0), z);
        var last = Functional.Checkpoint(v => v * 2, changing);
        var changed = Assert.Throws<InvalidOperationException>(() => tape.Gradient(last, z));
        Assert.Contains("deterministic", changed.Message);
    }

    [Fact]
    public void The_segment_nearest_the_loss_uses_its_forward_recording_and_the_others_run_again()
    {
        var w = Normal(19, 3, 3);
        w.RequiresGrad = true;
        var x = Normal(20, 4, 3);
        int[] calls = [0, 0, 0];
        Func<Tensor[], Tensor> Counted(int segment) => v =>
        {
            calls[segment]++;
            return Ops.Tanh(Ops.MatMul(v[0], v[1]));
        };

        double[] Gradient(bool checkpointed, bool retain)
        {
            w.ZeroGrad();
            using var tape = new Tape();
            var h = tape.Watch(x);
            for (var segment = 0; segment < 3; segment++)
            {
                h = checkpointed ? Functional.Checkpoint(Counted(segment), h, w) : Counted(segment)([h, w]);
            }

            var loss = Ops.Sum(h * h);
            tape.Backward(loss, null, retainGraph: retain);
            if (retain)
            {
                // A second sweep finds the recording used up and runs the last segment again: same gradients, twice.
                tape.Backward(loss);
            }

            return w.Grad!.ToDoubleArray();
        }

        var plain = Gradient(checkpointed: false, retain: false);
        Array.Clear(calls);
        // w feeds every segment: its three gradients are summed in another order of roundings than the plain sweep's.
        AssertClose(plain, Gradient(checkpointed: true, retain: false), 1e-14);
        Assert.Equal([2, 2, 1], calls);
        Array.Clear(calls);
        AssertClose(plain.Select(g => 2 * g).ToArray(), Gradient(checkpointed: true, retain: true), 1e-14);
        Assert.Equal([3, 3, 2], calls);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void A_24_layer_mlp_checkpointed_every_4_layers_holds_at_most_a_third_of_the_arena_memory()
    {
        // Issue 18's measure: width 1024, batch 256, float32, ReLU layers; the arena memory in use at the end of a
        // step (the main tape's, plus for checkpoints the most a recomputation's scratch tape used), the second step of each.
        const int Layers = 24, Width = 1024, Every = 4;
        var parameters = Enumerable.Range(0, Layers).SelectMany(i => new[]
        {
            Tensor.RandomNormal([Width, Width], seed: i, std: Math.Sqrt(2.0 / Width)),
            Tensor.Zeros([Width]),
        }).ToArray();
        foreach (var p in parameters)
        {
            p.RequiresGrad = true;
        }

        var x = Tensor.RandomNormal([256, Width], seed: 99);
        static Tensor Layers4(Tensor[] v)
        {
            var h = v[0];
            for (var i = 1; i < v.Length; i += 2)
            {
                h = Ops.Relu(Ops.Affine(h, v[i], v[i + 1]));
            }

            return h;
        }

        long Held(bool checkpointed)
        {
            using var tape = new Tape();
            long held = 0;
            for (var step = 0; step < 2; step++)
            {
                tape.Reset();
                AutoGrad.Transforms.ScratchTapes.ResetPeak();
                foreach (var p in parameters)
                {
                    p.ZeroGrad();
                }

                var h = x;
                for (var start = 0; start < Layers; start += Every)
                {
                    Tensor[] inputs = [h, .. parameters.Skip(2 * start).Take(2 * Every)];
                    h = checkpointed ? Functional.Checkpoint(Layers4, inputs) : Layers4(inputs);
                }

                tape.Backward(Ops.Mean(Ops.Square(h)));

                // The main tape's arena only grows within a step, so its use at the end is its peak; a recomputation's
                // scratch tape is in use at the same time as it.
                held = tape.ArenaBytesInUse + AutoGrad.Transforms.ScratchTapes.PeakBytesInUse;
            }

            return held;
        }

        var plain = Held(false);
        var gradients = parameters.Select(p => p.Grad!.ToDoubleArray()).ToArray();
        var checkpointed = Held(true);

        // Measured: 102.8 MB plain, 32.5 MB checkpointed (17.8 MB of it the recomputation's scratch tape).
        Assert.True(checkpointed * 3 <= plain, $"checkpointed {checkpointed / 1e6:F1} MB ({AutoGrad.Transforms.ScratchTapes.PeakBytesInUse / 1e6:F1} MB scratch), plain {plain / 1e6:F1} MB");

        // The same gradients.
        for (var i = 0; i < parameters.Length; i += 7)
        {
            AssertClose(gradients[i], parameters[i].Grad!.ToDoubleArray(), 1e-5, 1e-7);
        }
    }
}
