namespace AutoGrad.Tests.Tensors;

/// <summary>
/// Recycled results: inside a scope, results reuse the tensor objects of the tape's last generation; outside, every
/// result is new, and what a net returns keeps expiring as any tape result does.
/// </summary>
public class ResultRecyclingTests
{
    [Fact]
    public void Results_in_a_scope_reuse_last_generations_objects_and_results_outside_it_are_new()
    {
        var x = Tensor.FromArray([-1.0, 2, -3, 4], 2, 2);
        using var tape = new Tape();
        Tensor first, outside;
        using (ResultRecycling.Begin())
        {
            first = Ops.Relu(x);
        }

        outside = Ops.Relu(x);
        tape.Reset();
        Assert.Empty(first.Storage); // a dead recycled result keeps no arena chunk alive
        Assert.NotEmpty(outside.Storage);

        var doubled = x * 2;
        Tensor second;
        using (ResultRecycling.Begin())
        {
            second = Ops.Relu(doubled);
        }

        var outsideAgain = Ops.Relu(x);
        Assert.Same(first, second);
        Assert.NotSame(outside, outsideAgain);
        Assert.Equal([0.0, 4, 0, 8], second.ToDoubleArray()); // the recycled object reads this generation's values
        Assert.Throws<InvalidOperationException>(() => outside.ToDoubleArray()); // a result outside expired as before
    }

    [Fact]
    public void Without_a_tape_a_scope_changes_nothing_and_results_own_their_memory()
    {
        var x = Tensor.FromArray([-1.0, 2], 2);
        Tensor a, b;
        using (ResultRecycling.Begin())
        {
            a = Ops.Relu(x);
            b = Ops.Relu(x);
        }

        Assert.NotSame(a, b);
        Assert.False(a.IsTapeOwned);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_nets_scores_still_expire_and_gradients_through_recycled_results_match_the_first_steps(bool deep)
    {
        // No dropout, so two steps on one batch compute the same function.
        Module model = deep
            ? new DeepConvNet(1, 8, 8, batchNorm: true, dropout: 0, seed: 3, dtype: DType.Float64)
            : new SimpleConvNet(1, 8, 8, seed: 3, dtype: DType.Float64);
        var images = Tensor.RandomUniform([4, 1, 8, 8], seed: 4, dtype: DType.Float64);

        int[] labels = [1, 7, 3, 0];
        using var tape = new Tape();
        var gradients = new List<double[]>();
        Tensor? earlierScores = null;
        for (var step = 0; step < 3; step++)
        {
            tape.Reset();
            var scores = model.Forward(images);
            if (earlierScores is not null)
            {
                Assert.NotSame(earlierScores, scores);
                Assert.Throws<InvalidOperationException>(() => earlierScores.ToDoubleArray());
            }

            earlierScores = scores;
            var loss = Ops.SoftmaxWithLoss(scores, labels);
            model.ZeroGrad();
            tape.Backward(loss);
            gradients.Add([.. model.Parameters().SelectMany(p => p.Grad!.ToDoubleArray())]);
        }

        // The first step made every object; the next ones recycled them. Same batch, same parameters: same gradients.
        Assert.Equal(gradients[0], gradients[1]);
        Assert.Equal(gradients[0], gradients[2]);
    }
}
