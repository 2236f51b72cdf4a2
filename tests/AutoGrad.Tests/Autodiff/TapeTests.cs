namespace AutoGrad.Tests.Autodiff;

public class TapeTests
{
    [Fact]
    public void Fan_out_accumulates_gradients()
    {
        // y = x·x + x  →  dy/dx = 2x + 1
        var x = Tensor.FromArray([3.0, -2.0]);
        using var tape = new Tape();
        tape.Watch(x);
        var y = Ops.Sum((x * x) + x);
        var g = tape.Gradient(y, x)[0];
        Assert.Equal([7.0, -3.0], g.ToDoubleArray());
    }

    [Fact]
    public void Inputs_that_do_not_influence_the_output_get_zero_gradients()
    {
        var x = Tensor.FromArray([1.0, 2.0]);
        var unused = Tensor.FromArray([5.0, 6.0, 7.0]);
        using var tape = new Tape();
        tape.Watch(x);
        tape.Watch(unused);
        var y = Ops.Sum(x * 3);
        var g = tape.Gradient(y, x, unused);
        Assert.Equal([3.0, 3.0], g[0].ToDoubleArray());
        Assert.Equal(unused.Shape, g[1].Shape);
        Assert.Equal([0.0, 0.0, 0.0], g[1].ToDoubleArray());
    }

    [Fact]
    public void Untracked_inputs_are_reported_not_silently_zeroed()
    {
        var x = Tensor.FromArray([1.0]);
        var constant = Tensor.FromArray([2.0]);
        using var tape = new Tape();
        tape.Watch(x);
        var y = Ops.Sum(x * constant);
        var e = Assert.Throws<InvalidOperationException>(() => tape.Gradient(y, constant));
        Assert.Contains("not tracked", e.Message);
        Assert.Contains("Watch", e.Message);
    }

    [Fact]
    public void Non_scalar_outputs_take_an_explicit_upstream_gradient()
    {
        var x = Tensor.FromArray([1.0, 2.0, 3.0]);
        using var tape = new Tape();
        tape.Watch(x);
        var y = x * x;
        var e = Assert.Throws<ShapeMismatchException>(() => tape.Gradient(y, x));
        Assert.Contains("(3,)", e.Message);
        var v = Tensor.FromArray([1.0, 10.0, 100.0]);
        var g = tape.Gradient(y, [x], v)[0];
        Assert.Equal([2.0, 40.0, 600.0], g.ToDoubleArray());
    }

    [Fact]
    public void Gradients_are_computed_once_unless_the_graph_is_retained()
    {
        var x = Tensor.FromArray([2.0]);
        using var tape = new Tape();
        tape.Watch(x);
        var y = Ops.Sum(x * x * x);
        var first = tape.Gradient(y, [x], retainGraph: true)[0];
        var second = tape.Gradient(y, x)[0];
        Assert.Equal(12.0, first[0]);
        Assert.Equal(12.0, second[0]);
        var e = Assert.Throws<InvalidOperationException>(() => tape.Gradient(y, x));
        Assert.Contains("retainGraph", e.Message);

        tape.Reset();
        var z = Ops.Sum(x * 5);
        Assert.Throws<InvalidOperationException>(() => tape.Gradient(z, x)); // Reset forgot the watch
        tape.Watch(x);
        Assert.Equal(5.0, tape.Gradient(Ops.Sum(x * 5), x)[0][0]);
    }

    [Fact]
    public void Backward_accumulates_into_Grad_of_parameters()
    {
        var w = Tensor.FromArray([1.0, -1.0]);
        w.RequiresGrad = true;
        var x = Tensor.FromArray([3.0, 4.0]);
        using var tape = new Tape();
        for (var step = 0; step < 2; step++)
        {
            tape.Reset();
            var loss = Ops.Sum(w * x);
            tape.Backward(loss);
        }

        Assert.Equal([6.0, 8.0], w.Grad!.ToDoubleArray());
        Assert.False(w.Grad.IsTapeOwned);
    }

    [Fact]
    public void Returned_gradients_outlive_the_tape()
    {
        var x = Tensor.FromArray([1.0, 2.0]);
        Tensor g;
        using (var tape = new Tape())
        {
            tape.Watch(x);
            g = tape.Gradient(Ops.Sum(Ops.Exp(x)), x)[0];
        }

        Assert.Equal(Math.Exp(2), g[1], 12);
    }

    [Fact]
    public void A_disposed_tape_refuses_work_with_a_clear_message()
    {
        var x = Tensor.FromArray([1.0]);
        var tape = new Tape();
        tape.Watch(x);
        var y = Ops.Sum(x * 2);
        tape.Dispose();
        Assert.Null(Tape.Current);
        var e = Assert.Throws<ObjectDisposedException>(() => tape.Gradient(y, x));
        Assert.Contains("disposed", e.Message);
        Assert.Throws<ObjectDisposedException>(() => tape.Watch(x));
    }

    [Fact]
    public void Tensors_of_two_live_tapes_cannot_be_mixed()
    {
        var x = Tensor.FromArray([1.0]);
        using var outer = new Tape();
        outer.Watch(x);
        var fromOuter = x * 2;
        using var inner = new Tape();
        Assert.Same(inner, Tape.Current);
        var e = Assert.Throws<InvalidOperationException>(() => fromOuter + 1);
        Assert.Contains("another tape", e.Message);
        Assert.Contains("ScalarArithmetic", e.Message);
    }

    [Fact]
    public void Nested_tapes_restore_the_outer_one_on_dispose()
    {
        using var outer = new Tape();
        using (var inner = new Tape())
        {
            Assert.Same(inner, Tape.Current);
        }

        Assert.Same(outer, Tape.Current);
    }

    [Fact]
    public void Nothing_is_recorded_for_untracked_computations()
    {
        var a = Tensor.FromArray([1.0, 2.0]);
        using var tape = new Tape();
        _ = Ops.Exp(a) * 3;
        Assert.Equal(0, tape.NodeCount);
        tape.Watch(a);
        _ = Ops.Exp(a) * 3;
        Assert.Equal(3, tape.NodeCount); // the watched input, Exp, the scalar multiply
    }

    [Fact]
    public void Backward_forms_no_gradient_for_inputs_that_need_none()
    {
        // A data batch is not tracked, so Affine's dx = g·Wᵀ is never computed: the arena holds only what is needed.
        var x = TestData.Normal(1, 100, 784);
        var w = TestData.Normal(2, 784, 50);
        var b = TestData.Normal(3, 50);
        w.RequiresGrad = b.RequiresGrad = true;
        using var tape = new Tape();
        var loss = Ops.Sum(Ops.Affine(x, w, b));
        var before = tape.ArenaBytesInUse;
        tape.Backward(loss);
        var used = tape.ArenaBytesInUse - before;

        // The seed and the Affine output's gradient; W's and b's gradients are written straight into their Grad, and
        // dx (100 × 784 doubles, 627 KB) is never formed.
        var needed = (1 + (100 * 50)) * sizeof(double);
        Assert.InRange(used, needed, needed + 1024);
        Assert.Equal(100.0, b.Grad![0], 12); // Σ over the 100 rows of an upstream gradient of ones
    }

    [Fact]
    public void Gradient_with_respect_to_an_intermediate_result()
    {
        var x = Tensor.FromArray([0.5, 1.5]);
        using var tape = new Tape();
        tape.Watch(x);
        var h = x * x;
        var y = Ops.Sum(Ops.Exp(h));
        var g = tape.Gradient(y, h, x);
        Assert.Equal(Math.Exp(0.25), g[0][0], 12);
        Assert.Equal(2 * 1.5 * Math.Exp(2.25), g[1][1], 12);
    }

    [Fact]
    public void ZeroGrad_lets_backward_write_gradients_in_place_and_reads_as_zero_meanwhile()
    {
        var w = Tensor.FromArray([1.0, 2.0]);
        w.RequiresGrad = true;
        var x = Tensor.FromArray([3.0, 4.0]);
        using var tape = new Tape();
        tape.Backward(Ops.Sum(w * x));
        var buffer = w.Grad!;
        Assert.Equal([3.0, 4.0], buffer.ToDoubleArray());

        w.ZeroGrad();
        Assert.Equal([0.0, 0.0], w.Grad!.ToDoubleArray()); // a read clears it

        w.ZeroGrad();
        tape.Reset();
        tape.Backward(Ops.Sum(w * x * 2));
        Assert.Same(buffer, w.Grad); // the same memory, overwritten rather than added to
        Assert.Equal([6.0, 8.0], w.Grad.ToDoubleArray());

        tape.Reset();
        tape.Backward(Ops.Sum(w * x)); // no ZeroGrad: accumulates, as in PyTorch
        Assert.Equal([9.0, 12.0], w.Grad.ToDoubleArray());
    }

    [Fact]
    public void A_zeroed_parameter_the_loss_does_not_use_reads_as_zero_after_backward()
    {
        var used = Tensor.FromArray([1.0]);
        var unused = Tensor.FromArray([5.0]);
        used.RequiresGrad = unused.RequiresGrad = true;
        using var tape = new Tape();
        tape.Backward(Ops.Sum((used * 3) + (unused * 7)));
        used.ZeroGrad();
        unused.ZeroGrad();
        tape.Reset();
        tape.Watch(unused);
        tape.Backward(Ops.Sum(used * 2));
        Assert.Equal(2.0, used.Grad![0]);
        Assert.Equal(0.0, unused.Grad![0]);
    }

    [Fact]
    public void Fan_out_into_a_parameter_written_in_place_still_accumulates()
    {
        var w = Tensor.FromArray([2.0]);
        w.RequiresGrad = true;
        using var tape = new Tape();
        tape.Backward(Ops.Sum(w * w));
        w.ZeroGrad();
        tape.Reset();
        tape.Backward(Ops.Sum((w * w) + (w * 3))); // d/dw = 2w + 3 = 7, from three uses of w
        Assert.Equal(7.0, w.Grad![0]);
    }

    [Fact]
    public void Detach_stops_the_gradient_and_NoGrad_records_nothing()
    {
        var x = Tensor.FromArray([3.0]);
        using var tape = new Tape();
        tape.Watch(x);
        var y = Ops.Sum(x * x.Detach());
        Assert.Equal(3.0, tape.Gradient(y, x)[0][0]); // x·c with c = x held constant, not 2x

        tape.Reset();
        tape.Watch(x);
        var before = tape.NodeCount;
        Tensor z;
        using (Tape.NoGrad())
        {
            z = Ops.Exp(x) * 2;
            Assert.Null(Tape.Current);
        }

        Assert.Same(tape, Tape.Current);
        Assert.Equal(before, tape.NodeCount);
        Assert.False(z.IsTapeOwned); // results under NoGrad own their memory
        Assert.Equal(2 * Math.Exp(3), z[0], 12);
    }

    [Fact]
    public Task A_tape_in_an_async_method_keeps_recording_across_awaits() => Task.Run(RecordSixtyFourStepsAcrossAwaits);

    private static async Task RecordSixtyFourStepsAcrossAwaits()
    {
        // Before, the current tape was thread-static: after Task.Yield() the method resumed on a pool thread where
        // another (or no) tape was current, and 63 of 64 steps threw "computed on another tape".
        var x = Tensor.FromArray([0.5, -0.25]);
        using var tape = new Tape();
        tape.Watch(x);
        var y = x;
        var threads = new HashSet<int>();
        for (var step = 0; step < 64; step++)
        {
            y = Ops.Sin(y) + (x * 0.01);
            await Task.Delay(1); // no synchronization context here: resumes on whichever pool thread is free
            threads.Add(Environment.CurrentManagedThreadId);
            Assert.Same(tape, Tape.Current);
        }

        var loss = Ops.Sum(y);
        var analytic = tape.Gradient(loss, x)[0].ToDoubleArray();

        // The same chain, recorded synchronously, gives the same gradient to the last bit.
        using var reference = new Tape();
        reference.Watch(x);
        var z = x;
        for (var step = 0; step < 64; step++)
        {
            z = Ops.Sin(z) + (x * 0.01);
        }

        Assert.Equal(reference.Gradient(Ops.Sum(z), x)[0].ToDoubleArray(), analytic);
        Assert.Equal(1 + (3 * 64) + 1, tape.NodeCount); // x, then Sin, Multiply and Add per step, and Sum
        Assert.NotEmpty(threads);
    }

    [Fact]
    public async Task Pool_threads_never_see_another_flows_tape()
    {
        // Before, a pool thread that had run part of an async method kept that method's (later disposed) arena as
        // its own and threw ObjectDisposedException('AutoGrad.Arena') in unrelated work.
        for (var round = 0; round < 20; round++)
        {
            await Task.Run(RecordAcrossAnAwait);
        }

        var results = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => Task.Run(() =>
        {
            var y = Ops.Exp(Tensor.FromArray([i * 0.01]));
            return (Tape.Current, y.IsTapeOwned, y.ToDoubleArray()[0]);
        })));

        Assert.All(results, r => Assert.Null(r.Current));
        Assert.All(results, r => Assert.False(r.IsTapeOwned));
        Assert.Equal(Math.Exp(0.63), results[63].Item3);
    }

    private static async Task RecordAcrossAnAwait()
    {
        using var tape = new Tape();
        var x = tape.Watch(Tensor.FromArray([1.0]));
        var y = Ops.Exp(x);
        await Task.Delay(1);
        Assert.Equal(Math.E, tape.Gradient(Ops.Sum(y), x)[0].ToDoubleArray()[0]);
    }

    [Fact]
    public void Tapes_disposed_out_of_order_leave_no_disposed_tape_current()
    {
        var t1 = new Tape();
        var t2 = new Tape();
        t1.Dispose();
        Assert.Same(t2, Tape.Current); // t2 still records
        var x = t2.Watch(Tensor.FromArray([2.0]));
        Assert.Equal(4.0, t2.Gradient(Ops.Sum(x * x), x)[0].ToDoubleArray()[0]);

        t2.Dispose();
        Assert.Null(Tape.Current); // not t1, which is disposed
        var y = Ops.Exp(Tensor.FromArray([0.0]));
        Assert.False(y.IsTapeOwned);
        Assert.Equal(1.0, y.ToDoubleArray()[0]);
    }

    [Fact]
    public void A_no_grad_scope_ending_after_its_tape_is_disposed_restores_the_outer_tape()
    {
        using var outer = new Tape();
        var inner = new Tape();
        var scope = Tape.NoGrad();
        inner.Dispose();
        scope.Dispose();
        Assert.Same(outer, Tape.Current);
    }
}
