using AutoGrad.Data;
using AutoGrad.Nn;
using AutoGrad.Optimizers;
using AutoGrad.Training;

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
