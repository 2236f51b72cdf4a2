using static AutoGrad.Tests.TestData;

namespace AutoGrad.Tests.Nn;

/// <summary>The recurrent layers over (N, T, D): against their cells step by step, carried states, and finite differences.</summary>
public class RecurrentTests
{
    [Fact]
    public void Lstm_equals_its_cell_applied_step_by_step()
    {
        var lstm = new Lstm(3, 2, seed: 1, dtype: DType.Float64);
        var x = Normal(2, 2, 4, 3);
        var y = lstm.Forward(x);
        Assert.Equal(new[] { 2, 4, 2 }, y.Shape.Dims.ToArray());

        var h = Tensor.Zeros([2, 2], DType.Float64);
        var c = Tensor.Zeros([2, 2], DType.Float64);
        var expected = new List<double>();
        var steps = new Tensor[4];
        for (var t = 0; t < 4; t++)
        {
            var xt = Ops.Reshape(Ops.Narrow(x, 1, t, 1), 2, 3);
            var next = Ops.LstmCell(xt, h, c, lstm.InputWeight, lstm.HiddenWeight, lstm.InputBias);
            (h, c) = (next[0], next[1]);
            steps[t] = h;
        }

        AssertClose(Ops.Stack(steps, 1).ToDoubleArray(), y.ToDoubleArray(), 0, 0);
        AssertClose(c.ToDoubleArray(), lstm.FinalCell!.ToDoubleArray(), 0, 0);
    }

    [Fact]
    public void Gru_equals_its_cell_applied_step_by_step()
    {
        var gru = new Gru(3, 2, seed: 3, dtype: DType.Float64);
        var x = Normal(4, 2, 3, 3);
        var h = Tensor.Zeros([2, 2], DType.Float64);
        var steps = new Tensor[3];
        for (var t = 0; t < 3; t++)
        {
            h = Ops.GruCell(Ops.Reshape(Ops.Narrow(x, 1, t, 1), 2, 3), h, gru.InputWeight, gru.HiddenWeight, gru.InputBias, gru.HiddenBias);
            steps[t] = h;
        }

        AssertClose(Ops.Stack(steps, 1).ToDoubleArray(), gru.Forward(x).ToDoubleArray(), 0, 0);
    }

    [Theory]
    [InlineData("lstm")]
    [InlineData("gru")]
    [InlineData("rnn")]
    public void A_stateful_layer_carries_its_states_so_two_halves_equal_the_whole(string kind)
    {
        RecurrentLayer Make(bool stateful) => kind switch
        {
            "lstm" => new Lstm(3, 4, stateful, seed: 5, dtype: DType.Float64),
            "gru" => new Gru(3, 4, stateful, seed: 5, dtype: DType.Float64),
            _ => new Rnn(3, 4, stateful, seed: 5, dtype: DType.Float64),
        };

        var x = Normal(6, 2, 6, 3);
        var whole = Make(stateful: false).Forward(x).ToDoubleArray();
        var halves = Make(stateful: true);
        var first = halves.Forward(Ops.Narrow(x, 1, 0, 3)).ToDoubleArray();
        var second = halves.Forward(Ops.Narrow(x, 1, 3, 3)).ToDoubleArray();

        // (N, T, H) row-major: each sample's first three steps, then its last three.
        var joined = new double[whole.Length];
        for (var n = 0; n < 2; n++)
        {
            Array.Copy(first, n * 12, joined, n * 24, 12);
            Array.Copy(second, n * 12, joined, (n * 24) + 12, 12);
        }

        AssertClose(whole, joined, 1e-15, 1e-15);

        // Reset, it starts from zeros again: its first half again.
        halves.ResetState();
        AssertClose(first, halves.Forward(Ops.Narrow(x, 1, 0, 3)).ToDoubleArray(), 0, 0);
    }

    [Theory]
    [InlineData("lstm")]
    [InlineData("gru")]
    [InlineData("rnn")]
    public void The_input_gradient_through_all_steps_matches_finite_differences(string kind)
    {
        RecurrentLayer layer = kind switch
        {
            "lstm" => new Lstm(3, 2, seed: 7, dtype: DType.Float64),
            "gru" => new Gru(3, 2, seed: 7, dtype: DType.Float64),
            _ => new Rnn(3, 2, seed: 7, dtype: DType.Float64),
        };
        var weights = Normal(8, 2, 4, 2);
        AssertGradientsMatch(v => Ops.Sum(layer.Forward(v[0], v[1]) * weights), Normal(9, 2, 4, 3), Normal(10, 2, 2));
    }

    [Fact]
    public void The_final_states_handed_out_are_copies_that_later_calls_leave_alone()
    {
        var lstm = new Lstm(3, 2, stateful: true, seed: 11, dtype: DType.Float64);
        lstm.Forward(Normal(12, 2, 3, 3));
        var hidden = lstm.FinalHidden!;
        var cell = lstm.FinalCell!;
        Assert.Same(hidden, lstm.FinalHidden);
        var (h, c) = (hidden.ToDoubleArray(), cell.ToDoubleArray());

        lstm.Forward(Normal(13, 2, 3, 3));
        Assert.Equal(h, hidden.ToDoubleArray());
        Assert.Equal(c, cell.ToDoubleArray());
        Assert.NotEqual(h, lstm.FinalHidden!.ToDoubleArray());

        lstm.ResetState();
        Assert.Null(lstm.FinalHidden);
        Assert.Null(lstm.FinalCell);
    }

    [Theory]
    [InlineData("lstm")]
    [InlineData("gru")]
    public void Three_stateful_calls_on_one_tape_back_propagate_as_one_call_over_the_whole_sequence(string kind)
    {
        // The carried state enters each call as a constant (truncated backpropagation): the weight's gradient of three
        // calls is that of three separate sequences started from the states the whole run passes along. The layer
        // overwrites its state buffer at each call, which must not disturb the tape's earlier nodes.
        RecurrentLayer Make() => kind == "lstm"
            ? new Lstm(3, 4, stateful: true, seed: 14, dtype: DType.Float64)
            : new Gru(3, 4, stateful: true, seed: 14, dtype: DType.Float64);
        var x = Normal(15, 2, 9, 3);
        var weights = Normal(16, 2, 3, 4);

        var layer = Make();
        double[] together;
        using (var tape = new Tape())
        {
            var loss = Ops.Sum(layer.Forward(Ops.Narrow(x, 1, 0, 3)) * weights)
                + Ops.Sum(layer.Forward(Ops.Narrow(x, 1, 3, 3)) * weights)
                + Ops.Sum(layer.Forward(Ops.Narrow(x, 1, 6, 3)) * weights);
            together = tape.Gradient(loss, [layer.HiddenWeight])[0].ToDoubleArray();
        }

        var apart = Make();
        var sum = new double[together.Length];
        for (var part = 0; part < 3; part++)
        {
            using var tape = new Tape();
            var g = tape.Gradient(Ops.Sum(apart.Forward(Ops.Narrow(x, 1, 3 * part, 3)) * weights), [apart.HiddenWeight])[0].ToDoubleArray();
            for (var i = 0; i < sum.Length; i++)
            {
                sum[i] += g[i];
            }
        }

        AssertClose(sum, together, 1e-13, 1e-13);
    }
}
