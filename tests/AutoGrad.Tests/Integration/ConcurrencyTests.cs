using AutoGrad.Nn.Data;
using AutoGrad.Nn.Optimizers;
using AutoGrad.Nn.Training;

namespace AutoGrad.Tests.Integration;

/// <summary>Independent tapes on different threads give exactly the results of running them one after another.</summary>
public class ConcurrencyTests
{
    [Fact]
    public void Eight_threads_training_their_own_models_match_sequential_runs_bit_for_bit()
    {
        var (train, _) = Dataset.Digits().Split(0.8, seed: 1);
        const int runs = 8;
        var sequential = Enumerable.Range(0, runs).Select(seed => Train(train, seed)).ToArray();

        var parallel = new double[runs][];
        var threads = Enumerable.Range(0, runs).Select(seed => new Thread(() => parallel[seed] = Train(train, seed))).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        for (var i = 0; i < runs; i++)
        {
            Assert.Equal(sequential[i].Select(BitConverter.DoubleToInt64Bits), parallel[i].Select(BitConverter.DoubleToInt64Bits));
        }
    }

    [Fact]
    public void Two_threads_backpropagating_into_one_shared_model_both_count_in_every_trial()
    {
        // Each thread records the same loss on its own tape and calls Backward; the parameters' Grad must end at
        // exactly twice one sweep's gradient. Before, in 100 of 200 trials one sweep's in-place write replaced the
        // other's (1x instead of 2x). The barrier lines the two sweeps up as closely as threads allow.
        var model = new TwoLayerNet(64, 32, 10, seed: 3);
        var features = Tensor.RandomNormal([16, 64], seed: 4);
        var labels = Enumerable.Range(0, 16).Select(i => i % 10).ToArray();
        model.ZeroGrad();
        OneSweep(model, features, labels);
        var once = model.Parameters().Select(p => p.Grad!.ToFloatArray()).ToArray();

        for (var trial = 0; trial < 200; trial++)
        {
            model.ZeroGrad();
            using var barrier = new Barrier(2);
            var threads = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
            {
                barrier.SignalAndWait();
                OneSweep(model, features, labels);
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());

            var parameters = model.Parameters().ToArray();
            for (var p = 0; p < parameters.Length; p++)
            {
                var twice = once[p].Select(v => v + v).ToArray();
                Assert.True(twice.SequenceEqual(parameters[p].Grad!.ToFloatArray()), $"trial {trial}, parameter {p}: Grad is not twice one sweep's");
            }
        }
    }

    private static void OneSweep(Module model, Tensor features, int[] labels)
    {
        using var tape = new Tape();
        tape.Backward(Ops.SoftmaxWithLoss(model.Forward(features), labels));
    }

    [Fact]
    public void A_model_in_eval_mode_serves_many_threads_at_once()
    {
        // Batch norm and dropout are the modules with state; in eval mode they only read it.
        var (train, test) = Dataset.Digits().Split(0.8, seed: 1);
        var model = new MultiLayerNet(64, [128, 128], 10, seed: 1, batchNorm: true, dropout: 0.2);
        var optimizer = new Adam(model.Parameters(), 0.001);
        var loader = new DataLoader(train, 100, seed: 1);
        using (var tape = new Tape())
        {
            for (var step = 0; step < 30; step++)
            {
                var batch = loader.Next();
                Trainer.Step(model, optimizer, tape, batch.Features, batch.Labels);
            }
        }

        model.Eval();
        var inputs = Tensor.FromArray(test.Features, test.Count, test.FeatureCount);
        float[] Infer()
        {
            // Each thread records on its own tape: eval-mode forward passes share parameters but nothing they write.
            using var tape = new Tape();
            var result = Ops.Softmax(model.Forward(inputs));
            return result.ToFloatArray();
        }

        var expected = Infer();
        var results = new float[8][];
        var threads = Enumerable.Range(0, results.Length).Select(i => new Thread(() => results[i] = Infer())).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        Assert.All(results, r => Assert.Equal(expected, r));
        Assert.True(Trainer.Accuracy(model, test, DType.Float32) > 0.8);
    }

    /// <summary>60 steps of a net wide enough for its GEMMs to use the worker pool when they get it.</summary>
    private static double[] Train(Dataset train, int seed)
    {
        var model = new MultiLayerNet(64, [256, 256], 10, seed: seed);
        var optimizer = new Adam(model.Parameters(), 0.001);
        var loader = new DataLoader(train, 200, seed: seed);
        var losses = new double[60];
        using var tape = new Tape();
        for (var step = 0; step < losses.Length; step++)
        {
            var batch = loader.Next();
            losses[step] = Trainer.Step(model, optimizer, tape, batch.Features, batch.Labels).Loss.ToScalar();
        }

        return losses;
    }
}
