using System.Diagnostics;

/// <summary>The peer's clock: warm-up runs, then the median of timed ones.</summary>
internal static class Timing
{
    /// <summary>The median of <paramref name="repeats"/> timed runs after a few untimed ones, in ms.</summary>
    public static double MedianMs(Action run, int repeats)
    {
        for (var i = 0; i < Math.Max(3, repeats / 5); i++)
        {
            run();
        }

        var times = new List<double>();
        for (var i = 0; i < repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            run();
            times.Add(clock.Elapsed.TotalMilliseconds);
        }

        times.Sort();
        return times[times.Count / 2];
    }
}
