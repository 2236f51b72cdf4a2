using AutoGrad.Nn.Optimizers;
using AutoGrad.Nn.Serialization;

namespace AutoGrad.Tests.Autodiff;

/// <summary>
/// Data written between forward and backward is caught, as PyTorch catches in-place changes: every write the
/// library hands out bumps <see cref="Tensor.Version"/>, nodes remember the versions of the inputs their backward
/// rules read, and a loss's labels are checksummed.
/// </summary>
public sealed class InPlaceChangeTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("autograd-version-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Changing_an_input_after_the_forward_pass_fails_the_backward_naming_op_and_tensor()
    {
        // Before: y = Σ x² computed with x = [2, 3], then x[0] = 100, gave dL/dx = [200, 6] instead of [4, 6].
        var x = Tensor.FromArray([2.0, 3.0]);
        using var tape = new Tape();
        tape.Watch(x);
        var y = Ops.Sum(x * x);
        x.AsSpan<double>()[0] = 100;

        var e = Assert.Throws<InvalidOperationException>(() => tape.Gradient(y, x));
        Assert.Contains("Multiply", e.Message);
        Assert.Contains("(2,)", e.Message);
        Assert.Contains("version 1", e.Message);
    }

    [Fact]
    public void An_optimizer_step_between_two_retained_backward_sweeps_is_refused()
    {
        // Before: the second sweep read the updated w and gave [0, −4] for the gradient at [2, 4].
        var w = Tensor.FromArray([2.0, 4.0]);
        w.RequiresGrad = true;
        var optimizer = new Sgd([w], learningRate: 0.5);
        using var tape = new Tape();
        var loss = Ops.Sum(w * w);
        tape.Backward(loss, outputGradient: null, retainGraph: true);
        Assert.Equal([4.0, 8.0], w.Grad!.ToDoubleArray());
        optimizer.Step();

        Assert.Throws<InvalidOperationException>(() => tape.Backward(loss));
        Assert.Equal([0.0, 0.0], w.ToDoubleArray());
    }

    [Fact]
    public void A_change_to_an_input_whose_rule_does_not_read_it_is_allowed()
    {
        // d Σ (x + c) / dx = 1 whatever x and c hold, so PyTorch allows the change, and so does the tape; Multiply's
        // rule reads c, so the same change under a product is refused.
        var x = Tensor.FromArray([1.0, 2.0]);
        var c = Tensor.FromArray([5.0, 6.0]);
        using var tape = new Tape();
        tape.Watch(x);
        var sum = Ops.Sum(x + c);
        var product = Ops.Sum(x * c);
        c.AsSpan<double>()[1] = 7;

        Assert.Equal([1.0, 1.0], tape.Gradient(sum, [x], retainGraph: true)[0].ToDoubleArray());
        Assert.Throws<InvalidOperationException>(() => tape.Gradient(product, [x], retainGraph: true));
        Assert.Throws<InvalidOperationException>(() => tape.Gradient(product, [x], createGraph: true));
    }

    [Fact]
    public void Changed_labels_fail_the_backward_instead_of_giving_a_wrong_gradient_or_a_raw_exception()
    {
        var x = Tensor.FromArray(new[,] { { 1.0, 2, 3 }, { 1, 0, 0 } });
        foreach (var label in new[] { 0, 99 })
        {
            var labels = new[] { 2, 0 };
            using var tape = new Tape();
            tape.Watch(x);
            var loss = Ops.SoftmaxWithLoss(x, labels);
            labels[1] = label == 0 ? 1 : label; // a different class, or one out of range

            var e = Assert.Throws<InvalidOperationException>(() => tape.Gradient(loss, x));
            Assert.Contains("SoftmaxWithLoss", e.Message);
            Assert.Contains("labels", e.Message);
        }
    }

    [Fact]
    public void Every_write_the_library_hands_out_bumps_the_version()
    {
        var model = new TwoLayerNet(3, 2, 2, seed: 1);
        var w = model.Parameters().First();
        var v0 = w.Version;

        w.AsSpan<float>()[0] = 1;
        Assert.Equal(v0 + 1, w.Version);
        w.Fill(0.5);
        Assert.Equal(v0 + 2, w.Version);

        var path = Path.Combine(_folder, "m.safetensors");
        Checkpoint.Save(model, path);
        Checkpoint.Load(model, path);
        Assert.True(w.Version > v0 + 2, "a load writes the parameter");

        var before = w.Version;
        w.Grad = Tensor.Full(1, w.Shape.Dims, w.DType);
        new Sgd(model.Parameters(), 0.1).Step();
        Assert.True(w.Version > before, "an optimizer update writes the parameter");

        var version = w.Version;
        Assert.True(float.IsFinite(w.AsReadOnlySpan<float>()[0] + w.ToFloatArray()[0] + (float)w[0, 0]));
        Assert.Equal(version, w.Version); // reading is not writing
    }
}
