namespace AutoGrad.Kernels;

/// <summary>A piece of elementwise work over positions [start, start + length) of some arrays.</summary>
internal interface IChunkJob
{
    void Run(int start, int length);
}

/// <summary>
/// Splits elementwise work over a large tensor into fixed chunks that the worker threads share (<see cref="WorkerPool"/>):
/// a ReLU or a pooling over a convolution's output (millions of values) is memory-bound, and one core cannot use the
/// bandwidth two can. Every element is computed by the same code whatever the split, so results do not depend on the
/// thread count. Below <see cref="MinimumLength"/> the work runs at once on the calling thread.
/// </summary>
internal static class Chunks
{
    /// <summary>Shorter work runs on one thread: under 1 MB of floats the hand-off costs more than it saves.</summary>
    public const int MinimumLength = 1 << 18;

    /// <summary>Elements per chunk: a multiple of every vector width, so vector loops split at the same places.</summary>
    public const int ChunkLength = 1 << 15;

    /// <summary>
    /// Runs <paramref name="job"/> over units [0, <paramref name="length"/>), in chunks on the worker threads when
    /// the work is long. A unit is one element, or <paramref name="unitSize"/> elements (a row of a pooling).
    /// </summary>
    public static void Run<TJob>(TJob job, int length, int unitSize = 1)
        where TJob : struct, IChunkJob
    {
        if ((long)length * unitSize < MinimumLength || Parallelism.MaxThreads == 1)
        {
            job.Run(0, length);
            return;
        }

        var work = Work<TJob>.ForThisThread();
        work.Job = job;
        work.Length = length;
        work.Chunk = Math.Max(1, ChunkLength / unitSize);
        try
        {
            // The last chunk takes the remainder, so it is never shorter than a vector (a vector loop's tail is then
            // the same elements as in one pass over the whole span).
            WorkerPool.Run(work, length / work.Chunk, Parallelism.MaxThreads);
        }
        finally
        {
            work.Job = default;
        }
    }

    /// <summary>The shared work item: one instance per calling thread and job type, reused, so a call allocates nothing.</summary>
    private sealed class Work<TJob> : IParallelWork
        where TJob : struct, IChunkJob
    {
        [ThreadStatic]
        private static Work<TJob>? s_instance;

        public TJob Job { get; set; }

        public int Length { get; set; }

        /// <summary>Units per chunk.</summary>
        public int Chunk { get; set; }

        public static Work<TJob> ForThisThread() => s_instance ??= new Work<TJob>();

        public void Execute(int item)
        {
            var start = item * Chunk;
            var end = item == (Length / Chunk) - 1 ? Length : start + Chunk;
            Job.Run(start, end - start);
        }
    }
}
