using AutoGrad.Kernels;

namespace AutoGrad.Tests.Kernels;

/// <summary>Issue 17: the GEMM's blocking comes from the caches the machine reports, read from Linux's /sys.</summary>
public sealed class CacheSizesTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("autograd-cache-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private void Cache(int index, string level, string type, string size, string shared)
    {
        var path = Directory.CreateDirectory(Path.Combine(_folder, $"index{index}")).FullName;
        File.WriteAllText(Path.Combine(path, "level"), level + "\n");
        File.WriteAllText(Path.Combine(path, "type"), type + "\n");
        File.WriteAllText(Path.Combine(path, "size"), size + "\n");
        File.WriteAllText(Path.Combine(path, "shared_cpu_list"), shared + "\n");
    }

    [Fact]
    public void The_sizes_are_read_as_Linux_writes_them_and_the_L3_is_shared_out()
    {
        // This machine's: a Zen 5 VM whose 32 MB L3 two vCPUs share.
        Cache(0, "1", "Data", "48K", "0");
        Cache(1, "1", "Instruction", "32K", "0");
        Cache(2, "2", "Unified", "1024K", "0");
        Cache(3, "3", "Unified", "32768K", "0-1");
        Assert.Equal(new CacheInfo(48 << 10, 1 << 20, 16 << 20, FromMachine: true), CacheSizes.Read(_folder));
    }

    [Fact]
    public void A_missing_level_or_folder_gives_no_reading()
    {
        Cache(0, "1", "Data", "32K", "0");
        Cache(2, "2", "Unified", "1M", "0");
        Assert.Null(CacheSizes.Read(_folder));
        Assert.Null(CacheSizes.Read(Path.Combine(_folder, "none")));
    }

    [Theory]
    [InlineData("48K", 48 << 10)]
    [InlineData("1024K", 1 << 20)]
    [InlineData("32M", 32 << 20)]
    [InlineData("65536", 65536)]
    [InlineData("-5K", null)]
    [InlineData("lots", null)]
    public void Sizes_parse_with_their_units(string text, int? bytes) => Assert.Equal(bytes, CacheSizes.ParseSize(text));

    [Theory]
    [InlineData("0", 1)]
    [InlineData("0-1", 2)]
    [InlineData("0,2,4-7", 6)]
    [InlineData("3-1", 0)]
    public void Cpu_lists_count_their_cpus(string list, int count) => Assert.Equal(count, CacheSizes.CountCpus(list));

    [Fact]
    public void The_blocking_follows_the_caches_and_keeps_the_tuned_values_where_they_were_tuned()
    {
        // The Zen 5 sizes (also the fallback) give the constants tuned there: depth 256, 4096 columns, 96 rows.
        Assert.Equal(256, Gemm.DepthFor(CacheInfo.Fallback));
        Assert.Equal(4096, Gemm.ColumnsFor(CacheInfo.Fallback, 256));
        Assert.Equal(96, Gemm.RowsFor(CacheInfo.Fallback, 256));

        // A Skylake-SP Xeon core: 32 KB L1, 1 MB L2, 1.375 MB of L3: a shallower panel and a block that fits its share.
        var skylake = new CacheInfo(32 << 10, 1 << 20, 1408 << 10, FromMachine: true);
        Assert.Equal(160, Gemm.DepthFor(skylake));
        Assert.Equal(544, Gemm.ColumnsFor(skylake, 160));
        Assert.True(544 * 160 * 4 <= skylake.L3PerCore / 4);
        Assert.Equal(150, Gemm.RowsFor(skylake, 160));

        // A Sapphire Rapids core's 2 MB L2 (48 KB L1, so depth 256) holds twice the rows.
        Assert.Equal(192, Gemm.RowsFor(new CacheInfo(48 << 10, 2 << 20, 1920 << 10, FromMachine: true), 256));

        // Whatever the machine says, within bounds.
        Assert.Equal(64, Gemm.DepthFor(new CacheInfo(4 << 10, 1 << 20, 1 << 20, true)));
        Assert.Equal(8192, Gemm.ColumnsFor(new CacheInfo(48 << 10, 1 << 20, 512 << 20, true), 256));
        Assert.Equal(384, Gemm.RowsFor(new CacheInfo(48 << 10, 32 << 20, 1 << 20, true), 64));
        Assert.Equal(48, Gemm.RowsFor(new CacheInfo(48 << 10, 256 << 10, 1 << 20, true), 512));
        Assert.Equal(Gemm.DepthFor(CacheSizes.Current), Gemm.DepthBlock);
        Assert.Equal(Gemm.RowsFor(CacheSizes.Current, Gemm.DepthBlock), Gemm.RowBlock);
    }
}
