namespace AutoGrad.Kernels;

/// <summary>Work split into numbered items that may run on any thread in any order.</summary>
internal interface IParallelWork
{
    void Execute(int item);
}

/// <summary>
/// A small pool of background threads that share one job at a time with the calling thread, handing out items with
/// an interlocked counter. Unlike Parallel.For it allocates nothing per call, which keeps training steps
/// allocation-free. Idle workers spin for a short while before they sleep, so the back-to-back parallel phases of a
/// training step start in well under a microsecond instead of paying a kernel wake-up each time. A caller that finds
/// the pool busy (another thread's job, or its own job's item starting one) runs its job on its own thread instead of
/// waiting, and so does every caller for a while after the workers have kept missing their jobs
/// (<see cref="WorkerBackOff"/>).
/// </summary>
internal static class WorkerPool
{
    /// <summary>Spin iterations (each a short pause) before an idle worker sleeps: about 2–3 ms on the Zen 5 VM.</summary>
    private const int SpinIterations = 2000;

    private static readonly Lock s_gate = new();
    private static readonly object s_sleep = new();
    private static readonly List<Thread> s_workers = [];
    private static IParallelWork? s_work;
    private static int s_items;
    private static int s_next;
    private static int s_running;
    private static int s_generation;
    private static int s_sleepers;
    private static int s_wanted;
    private static Exception? s_failure;

    /// <summary>Runs still to go on the calling thread alone before the workers are offered work again.</summary>
    private static int s_serialRuns;

    /// <summary>Whether recent runs found the workers absent (see <see cref="WorkerBackOff"/>).</summary>
    private static readonly WorkerBackOff s_backOff = new();

    /// <summary>Runs items 0 … <paramref name="items"/> − 1 on up to <paramref name="threads"/> threads and returns when all are done.</summary>
    public static void Run(IParallelWork work, int items, int threads)
    {
        threads = Math.Min(threads, items);

        // The gate is a re-entrant lock: the thread that holds it for a run would enter again from one of that run's
        // items (a large matrix product inside a convolution's block) and overwrite the run's shared state, so such a
        // nested run stays on its thread like any other caller that finds the pool busy.
        if (threads <= 1 || s_gate.IsHeldByCurrentThread || !s_gate.TryEnter())
        {
            RunHere(work, items);
            return;
        }

        if (s_serialRuns > 0)
        {
            s_serialRuns--;
            s_gate.Exit();
            RunHere(work, items);
            return;
        }

        try
        {
            RunShared(work, items, threads);
        }
        finally
        {
            s_work = null;
            s_gate.Exit();
        }
    }

    private static void RunHere(IParallelWork work, int items)
    {
        for (var i = 0; i < items; i++)
        {
            work.Execute(i);
        }
    }

    private static void RunShared(IParallelWork work, int items, int threads)
    {
        while (s_workers.Count < threads - 1)
        {
            var worker = new Thread(WorkerLoop) { IsBackground = true, Name = $"AutoGrad worker {s_workers.Count + 1}" };
            s_workers.Add(worker);
            worker.Start();
        }

        // s_running before s_wanted: a worker may claim a slot the moment s_wanted is set (one that read the generation
        // just before this job replaced the last one), and its decrement must find the count set.
        s_work = work;
        s_items = items;
        s_next = 0;
        s_failure = null;
        Volatile.Write(ref s_running, threads - 1);
        Volatile.Write(ref s_wanted, threads - 1);

        // Publish the job (a full fence), then wake sleepers. A worker about to sleep increments s_sleepers (also a full
        // fence) before it checks the generation again, so either it sees the new job or we see it asleep.
        Interlocked.Increment(ref s_generation);
        if (Volatile.Read(ref s_sleepers) > 0)
        {
            lock (s_sleep)
            {
                Monitor.PulseAll(s_sleep);
            }
        }

        try
        {
            Drain(work);
        }
        finally
        {
            // Every item is claimed now. Slots no worker has taken yet (one still waking from sleep, or on a vCPU the
            // hypervisor has parked) are withdrawn rather than waited for: such a worker would arrive to find nothing
            // left. A worker that comes later sees no slot and goes back to waiting.
            var unclaimed = Interlocked.Exchange(ref s_wanted, 0);
            if (unclaimed > 0)
            {
                Interlocked.Add(ref s_running, -unclaimed);
            }

            s_serialRuns = s_backOff.Record(absent: unclaimed == threads - 1);

            // Even when this thread's items throw, the workers that did join must finish before the job can be replaced.
            var spin = default(SpinWait);
            while (Volatile.Read(ref s_running) > 0)
            {
                spin.SpinOnce(sleep1Threshold: -1);
            }
        }

        if (s_failure is not null)
        {
            throw new AggregateException("A parallel kernel failed on a worker thread.", s_failure);
        }
    }

    private static void Drain(IParallelWork work)
    {
        int item;
        while ((item = Interlocked.Increment(ref s_next) - 1) < s_items)
        {
            work.Execute(item);
        }
    }

    private static void WorkerLoop()
    {
        var seen = 0;
        while (true)
        {
            seen = AwaitJob(seen);

            // A job may want fewer workers than exist; the extra ones go back to waiting.
            if (Interlocked.Decrement(ref s_wanted) < 0)
            {
                continue;
            }

            try
            {
                Drain(s_work!);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref s_failure, e, null);
            }
            finally
            {
                Interlocked.Decrement(ref s_running);
            }
        }
    }

    /// <summary>Waits until the generation moves past <paramref name="seen"/>: spinning first, then asleep.</summary>
    private static int AwaitJob(int seen)
    {
        for (var i = 0; i < SpinIterations; i++)
        {
            var generation = Volatile.Read(ref s_generation);
            if (generation != seen)
            {
                return generation;
            }

            Thread.SpinWait(30);
        }

        lock (s_sleep)
        {
            Interlocked.Increment(ref s_sleepers);
            try
            {
                int generation;
                while ((generation = Volatile.Read(ref s_generation)) == seen)
                {
                    Monitor.Wait(s_sleep);
                }

                return generation;
            }
            finally
            {
                Interlocked.Decrement(ref s_sleepers);
            }
        }
    }
}
