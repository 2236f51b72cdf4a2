using AutoGrad.Kernels;

namespace AutoGrad.Tests.Kernels;

/// <summary>The worker pool: every item runs once, also when an item starts a parallel run of its own.</summary>
public class WorkerPoolTests
{
    [Fact]
    public void A_parallel_run_started_inside_an_item_runs_on_that_thread_and_the_outer_run_still_runs_every_item_once()
    {
        // The calling thread holds the pool while its items run; an item it runs itself that starts a parallel run (a
        // large matrix product inside a convolution's block) must not take the pool over from the outer run.
        const int outer = 64, inner = 200;
        var outerCounts = new int[outer];
        var innerSums = new long[outer];
        WorkerPool.Run(new Outer(outerCounts, innerSums, inner), outer, 2);
        Assert.All(outerCounts, count => Assert.Equal(1, count));
        Assert.All(innerSums, sum => Assert.Equal((long)inner * (inner - 1) / 2, sum));
    }

    [Fact]
    public void Back_to_back_short_runs_each_run_every_item_once_whether_the_worker_is_spinning_asleep_or_late()
    {
        // Short jobs, some after a pause long enough for the worker to fall asleep: the caller often drains every item
        // before the worker wakes and withdraws its slot; the worker must then neither run an item twice nor count
        // itself into the next job (which would let that job return before its items ran).
        for (var run = 0; run < 3000; run++)
        {
            if (run % 500 == 0)
            {
                Thread.Sleep(5);
            }

            var items = 1 + (run % 7);
            var counts = new int[items];
            WorkerPool.Run(new Count(counts), items, 2);
            Assert.All(counts, count => Assert.Equal(1, count));
        }
    }

    private sealed class Count(int[] counts) : IParallelWork
    {
        public void Execute(int item) => Interlocked.Increment(ref counts[item]);
    }

    private sealed class Outer(int[] counts, long[] sums, int inner) : IParallelWork
    {
        public void Execute(int item)
        {
            Interlocked.Increment(ref counts[item]);
            var values = new int[inner];
            WorkerPool.Run(new Inner(values), inner, 2);
            sums[item] = values.Sum(v => (long)v);

            // Long enough that the other thread is still in the outer run while this one starts its inner one.
            Thread.SpinWait(2000);
        }
    }

    private sealed class Inner(int[] values) : IParallelWork
    {
        public void Execute(int item) => values[item] = item;
    }
}
