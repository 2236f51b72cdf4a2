using AutoGrad.Data;
using AutoGrad.Nn;
using AutoGrad.Optimizers;
using AutoGrad.Training;

namespace AutoGrad.Tests.Integration;

/// <summary>After warm-up a training step allocates under 1 KB of managed memory, and 10,000 steps leave memory flat.</summary>
[Collection(nameof(RunsAlone))]
public class SteadyStateMemoryTests
{
    [Theory]
    [InlineData("sgd")]
    [InlineData("adam")]
    public void Ten_thousand_steps_allocate_under_1_KB_each_and_keep_memory_flat(string optimizerName)
    {
        var (train, _) = Dataset.Digits().Split(0.8, seed: 1);
        var model = new MultiLayerNet(64, [32, 32], 10, seed: 1);
        Optimizer optimizer = optimizerName == "sgd" ? new Sgd(model.Parameters(), 0.1) : new Adam(model.Parameters(), 0.001);
        var loader = new DataLoader(train, 32, seed: 1);
        using var tape = new Tape();
        void Step()
        {
            var batch = loader.Next();
            Trainer.Step(model, optimizer, tape, batch.Features, batch.Labels);
        }

        for (var i = 0; i < 200; i++)
        {
            Step();
        }

        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            Step();
        }

        var perStep = (GC.GetAllocatedBytesForCurrentThread() - allocatedBefore) / 10_000.0;
        var heapGrowth = GC.GetTotalMemory(forceFullCollection: true) - heapBefore;
        Assert.True(perStep < 1024, $"{perStep:F0} bytes allocated per step");
        Assert.True(heapGrowth < 64 * 1024, $"the heap grew by {heapGrowth} bytes over 10,000 steps");
        Assert.InRange(tape.ArenaBytesInUse, 1, 1 << 20); // the arena holds one step, not ten thousand
    }
}

/// <summary>Tests that measure the whole process's heap must not share it with tests running beside them.</summary>
[CollectionDefinition(nameof(RunsAlone), DisableParallelization = true)]
public class RunsAlone;
