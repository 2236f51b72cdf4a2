namespace AutoGrad.Tensors;

/// <summary>
/// A per-thread table of the dimension arrays of recent shapes, so that ops making the same output shape step after
/// step share one array instead of allocating it each time (DeepConvNet's step makes twelve). Set-associative: a
/// shape's hash picks one of <see cref="Sets"/> sets of <see cref="Ways"/> arrays, replaced in turn, so a net's
/// dozen or so recurring shapes all stay (a direct-mapped table of 64 lost some to collisions every step).
/// </summary>
internal static class RecentShapes
{
    private const int Sets = 16;
    private const int Ways = 8;

    [ThreadStatic]
    private static int[]?[]? s_table;

    [ThreadStatic]
    private static byte[]? s_nextWay;

    /// <summary>An array equal to <paramref name="dims"/>: a recent one, or a new one that is remembered.</summary>
    public static int[] Intern(ReadOnlySpan<int> dims)
    {
        var hash = (uint)dims.Length;
        foreach (var d in dims)
        {
            hash = (hash * 0x9E3779B1u) ^ (uint)d;
        }

        var table = s_table ??= new int[]?[Sets * Ways];
        var set = (int)((hash ^ (hash >> 16)) % Sets);
        var ways = table.AsSpan(set * Ways, Ways);
        foreach (var recent in ways)
        {
            if (recent is not null && dims.SequenceEqual(recent))
            {
                return recent;
            }
        }

        var next = s_nextWay ??= new byte[Sets];
        var created = dims.ToArray();
        ways[next[set]] = created;
        next[set] = (byte)((next[set] + 1) % Ways);
        return created;
    }
}
