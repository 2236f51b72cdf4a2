using AutoGrad.Nn.Optimizers;

using static AutoGrad.Tests.TestData;

namespace AutoGrad.Tests.Autodiff;

/// <summary>
/// Issue 16's implicit recording: with no tape current, ops on tensors with RequiresGrad record themselves, and
/// <c>loss.Backward()</c> fills each parameter's Grad, as in PyTorch. The gradients must be the explicit tape's, to the
/// last bit, since both run the same backward rules.
/// </summary>
public class ImplicitRecordingTests
{
    [Fact]
    public void A_regression_written_PyTorch_style_finds_the_line()
    {
        // y = 2x + 1 from four points, the book's loss, SGD: the new user's first program, without a tape.
        var x = Tensor.FromArray([1.0, 2.0, 3.0, 4.0]);
        var y = Tensor.FromArray([3.0, 5.0, 7.0, 9.0]);
        var w = Tensor.Zeros([1], DType.Float64);
        var b = Tensor.Zeros([1], DType.Float64);
        w.RequiresGrad = true;
        b.RequiresGrad = true;
        var optimizer = new Sgd([w, b], 0.01);
        double loss = 0;
        for (var step = 0; step < 3000; step++)
        {
            var l = Ops.MeanSquaredError((x * w) + b, y);
            optimizer.ZeroGrad();
            l.Backward();
            optimizer.Step();
            loss = l.ToScalar();
        }

        Assert.Equal(2.0, w.ToScalar(), 3);
        Assert.Equal(1.0, b.ToScalar(), 3);
        Assert.True(loss < 1e-6, $"loss {loss}");
    }

    [Fact]
    public void Xor_trains_with_a_module_and_Adam_without_a_tape()
    {
        var inputs = Tensor.FromArray(new double[,] { { 0, 0 }, { 0, 1 }, { 1, 0 }, { 1, 1 } });
        var targets = Tensor.FromArray(new double[,] { { 0 }, { 1 }, { 1 }, { 0 } });
        var model = new Sequential(new Linear(2, 8, seed: 1, dtype: DType.Float64), new Tanh(), new Linear(8, 1, seed: 2, dtype: DType.Float64));
        var optimizer = new Adam(model.Parameters(), 0.05);
        for (var step = 0; step < 500; step++)
        {
            var loss = Ops.SigmoidWithLoss(model.Forward(inputs), targets);
            optimizer.ZeroGrad();
            loss.Backward();
            optimizer.Step();
        }

        using (Tensor.NoGrad())
        {
            var predicted = Ops.Sigmoid(model.Forward(inputs)).ToDoubleArray();
            Assert.True(predicted[0] < 0.1 && predicted[1] > 0.9 && predicted[2] > 0.9 && predicted[3] < 0.1, string.Join(", ", predicted));
        }
    }

    [Fact]
    public void Implicit_gradients_equal_the_tapes_bit_for_bit()
    {
        // Fan-out, a third input (Affine's bias), many inputs (Concat), a view (Reshape), a custom op and a reduction.
        var x = Normal(1, 3, 4);
        var w = Normal(2, 4, 5);
        var bias = Normal(3, 5);
        static Tensor Loss(Tensor xx, Tensor ww, Tensor bb)
        {
            var h = Ops.Tanh(Ops.Affine(xx, ww, bb));
            var joined = Ops.Concat([h, h * h, Ops.Reshape(new Softplus().Apply(h), 3, 5)], 1);
            return Ops.Sum(joined * joined) + Ops.Sum(ww);
        }

        foreach (var p in new[] { x, w, bias })
        {
            p.RequiresGrad = true;
        }

        Loss(x, w, bias).Backward();
        var implicitGrads = new[] { x, w, bias }.Select(p => p.Grad!.ToDoubleArray()).ToArray();

        using var tape = new Tape();
        var explicitGrads = tape.Gradient(Loss(x, w, bias), x, w, bias).Select(g => g.ToDoubleArray()).ToArray();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(explicitGrads[i], implicitGrads[i]);
        }
    }

    [Fact]
    public void A_second_pass_through_a_freed_graph_is_refused_and_retainGraph_keeps_it()
    {
        var w = Tensor.FromArray([3.0]);
        w.RequiresGrad = true;
        var loss = Ops.Sum(w * w);
        loss.Backward(retainGraph: true);
        loss.Backward();
        Assert.Equal([12.0], w.Grad!.ToDoubleArray()); // 2w, twice

        var error = Assert.Throws<InvalidOperationException>(() => loss.Backward());
        Assert.Contains("freed by an earlier Backward", error.Message);
        Assert.Contains("retainGraph", error.Message);
    }

    [Fact]
    public void A_non_scalar_output_takes_its_upstream_gradient()
    {
        var w = Tensor.FromArray([1.0, 2.0, 3.0]);
        w.RequiresGrad = true;
        var y = w * w;
        Assert.Throws<ShapeMismatchException>(() => y.Backward());
        y.Backward(Tensor.FromArray([1.0, 10.0, 100.0]));
        Assert.Equal([2.0, 40.0, 600.0], w.Grad!.ToDoubleArray());
    }

    [Fact]
    public void NoGrad_and_Detach_stop_the_recording()
    {
        var w = Tensor.FromArray([2.0]);
        w.RequiresGrad = true;
        Tensor unrecorded;
        using (Tensor.NoGrad())
        {
            unrecorded = Ops.Sum(w * w);
        }

        var error = Assert.Throws<InvalidOperationException>(() => unrecorded.Backward());
        Assert.Contains("does not require grad", error.Message);

        // w·stop(w): only the first factor passes a gradient, d/dw = stop(w) = 2.
        Ops.Sum(w * w.Detach()).Backward();
        Assert.Equal([2.0], w.Grad!.ToDoubleArray());
    }

    [Fact]
    public void A_parameter_written_between_the_forward_and_the_backward_pass_is_refused()
    {
        var w = Tensor.FromArray([2.0]);
        w.RequiresGrad = true;
        var loss = Ops.Sum(Ops.Exp(w) * w);
        w.AsSpan<double>()[0] = 5;
        var error = Assert.Throws<InvalidOperationException>(() => loss.Backward());
        Assert.Contains("written after it was recorded", error.Message);
    }

    [Fact]
    public void A_parameter_no_op_read_keeps_a_null_gradient_as_in_PyTorch()
    {
        var used = Tensor.FromArray([1.0]);
        var unused = Tensor.FromArray([1.0]);
        used.RequiresGrad = true;
        unused.RequiresGrad = true;
        Ops.Sum(used * 3).Backward();
        Assert.Equal([3.0], used.Grad!.ToDoubleArray());
        Assert.Null(unused.Grad);
    }

    [Fact]
    public void With_a_tape_current_Backward_is_that_tapes_pass()
    {
        var w = Tensor.FromArray([3.0]);
        w.RequiresGrad = true;
        using var tape = new Tape();
        var loss = Ops.Sum(w * w * w);
        Assert.True(loss.IsTapeOwned);
        loss.Backward();
        Assert.Equal([27.0], w.Grad!.ToDoubleArray());
        Assert.Throws<InvalidOperationException>(() => loss.Backward()); // the tape's own "gradients were already computed"
    }

    [Fact]
    public void A_loss_recorded_without_a_tape_is_refused_by_a_tape_but_passes_back_by_itself()
    {
        var x = Tensor.FromArray([1.0, 2.0, 3.0, 4.0]);
        var y = Tensor.FromArray([3.0, 5.0, 7.0, 9.0]);
        var w = Tensor.Zeros([1], DType.Float64);
        w.RequiresGrad = true;
        var loss = Ops.MeanSquaredError(x * w, y);
        using var tape = new Tape();
        var error = Assert.Throws<InvalidOperationException>(() => tape.Backward(loss));
        Assert.Contains("recorded without a tape", error.Message);

        loss.Backward();
        Assert.Equal(-70.0, w.Grad!.ToScalar(), 12);
    }

    [Fact]
    public void A_tape_refuses_an_input_recorded_without_a_tape()
    {
        var w = Tensor.FromArray([2.0]);
        w.RequiresGrad = true;
        var hidden = Ops.Exp(w);
        using var tape = new Tape();
        var error = Assert.Throws<InvalidOperationException>(() => Ops.Sum(hidden * 3));
        Assert.Contains("recorded without a tape", error.Message);
        Assert.Contains("Detach()", error.Message);
        Assert.Equal(3 * Math.Exp(2), Ops.Sum(hidden.Detach() * 3).ToScalar(), 12);
    }

    [Fact]
    public void Results_recorded_without_a_tape_own_their_memory_and_stay_readable_after_the_pass()
    {
        var w = Tensor.FromArray([1.5]);
        w.RequiresGrad = true;
        var hidden = Ops.Exp(w);
        var loss = Ops.Sum(hidden * 2);
        loss.Backward();
        Assert.False(hidden.IsTapeOwned);
        Assert.Equal(Math.Exp(1.5), hidden.ToScalar(), 15);
        Assert.Equal(2 * Math.Exp(1.5), loss.ToScalar(), 14);
    }

    private sealed class Softplus() : CustomOp("Softplus")
    {
        public override Tensor Forward(IReadOnlyList<Tensor> inputs) => Ops.Log(Ops.Exp(inputs[0]) + 1);

        public override IReadOnlyList<Tensor?> Backward(IReadOnlyList<Tensor> inputs, Tensor output, Tensor outputGradient) =>
            [outputGradient * Ops.Sigmoid(inputs[0])];
    }
}
