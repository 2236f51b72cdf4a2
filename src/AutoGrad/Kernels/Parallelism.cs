namespace AutoGrad.Kernels;

/// <summary>
/// How many threads AutoGrad's kernels may use. Results do not depend on it: every output element is computed by
/// one thread in a fixed order, so runs are bit-identical for any setting.
/// </summary>
public static class Parallelism
{
    private static int s_maxThreads = Environment.ProcessorCount;

    /// <summary>The most threads one kernel call uses, the calling thread included; 1 turns parallelism off.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public static int MaxThreads
    {
        get => s_maxThreads;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            s_maxThreads = value;
        }
    }
}
