using System.Globalization;

namespace AutoGrad.Kernels;

/// <summary>A core's data caches in bytes: its L1 and L2, and its share of the L3 (the L3 over the cores that share it).</summary>
/// <param name="L1Data">The level-1 data cache.</param>
/// <param name="L2">The level-2 cache.</param>
/// <param name="L3PerCore">The level-3 cache divided by the CPUs that share it.</param>
/// <param name="FromMachine">True when read from the machine, false for <see cref="CacheInfo.Fallback"/>.</param>
internal readonly record struct CacheInfo(int L1Data, int L2, int L3PerCore, bool FromMachine)
{
    /// <summary>
    /// The sizes assumed where the machine does not report them (not Linux, or no /sys): those of the AMD Zen 5 the
    /// GEMM's blocking was first tuned on (48 KB, 1 MB, 16 MB a core), so such machines keep that tuning.
    /// </summary>
    public static CacheInfo Fallback => new(48 << 10, 1 << 20, 16 << 20, FromMachine: false);
}

/// <summary>
/// The cache sizes the machine reports, read once from Linux's /sys/devices/system/cpu/cpu0/cache (one folder per
/// cache: level, type, size, shared_cpu_list), so kernels derive their blocking from the machine they run on rather
/// than from constants tuned on another.
/// </summary>
internal static class CacheSizes
{
    private const string Folder = "/sys/devices/system/cpu/cpu0/cache";

    /// <summary>This machine's caches, or <see cref="CacheInfo.Fallback"/> when it does not say.</summary>
    public static CacheInfo Current { get; } = Read(Folder) ?? CacheInfo.Fallback;

    /// <summary>The caches described under <paramref name="folder"/> (index0, index1, …), or null when any of the three levels is missing or unreadable.</summary>
    internal static CacheInfo? Read(string folder)
    {
        try
        {
            if (!Directory.Exists(folder))
            {
                return null;
            }

            int? l1 = null, l2 = null, l3 = null;
            foreach (var index in Directory.EnumerateDirectories(folder, "index*"))
            {
                var type = File.ReadAllText(Path.Combine(index, "type")).Trim();
                if (type == "Instruction")
                {
                    continue;
                }

                var size = ParseSize(File.ReadAllText(Path.Combine(index, "size")));
                switch (File.ReadAllText(Path.Combine(index, "level")).Trim())
                {
                    case "1":
                        l1 = size;
                        break;
                    case "2":
                        l2 = size;
                        break;
                    case "3":
                        var sharing = CountCpus(File.ReadAllText(Path.Combine(index, "shared_cpu_list")));
                        l3 = size is { } bytes && sharing > 0 ? bytes / sharing : null;
                        break;
                }
            }

            return l1 is > 0 && l2 is > 0 && l3 is > 0 ? new CacheInfo(l1.Value, l2.Value, l3.Value, FromMachine: true) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>"48K", "1024K", "32M" or plain bytes, as /sys writes sizes; null when it is none of these.</summary>
    internal static int? ParseSize(string text)
    {
        var trimmed = text.Trim();
        var scale = trimmed.EndsWith('K') ? 1L << 10 : trimmed.EndsWith('M') ? 1L << 20 : trimmed.EndsWith('G') ? 1L << 30 : 1;
        var digits = scale == 1 ? trimmed : trimmed[..^1];
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value * scale is > 0 and <= int.MaxValue
            ? (int)(value * scale)
            : null;
    }

    /// <summary>The CPUs in a list such as "0-1" or "0,2,4-7".</summary>
    internal static int CountCpus(string list)
    {
        var count = 0;
        foreach (var part in list.Trim().Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var ends = part.Split('-');
            if (!int.TryParse(ends[0], NumberStyles.None, CultureInfo.InvariantCulture, out var first)
                || !int.TryParse(ends[^1], NumberStyles.None, CultureInfo.InvariantCulture, out var last) || last < first)
            {
                return 0;
            }

            count += last - first + 1;
        }

        return count;
    }
}
