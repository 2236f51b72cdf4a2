using System.IO.Compression;

using AutoGrad.Nn.Data;

namespace AutoGrad.Tests.Nn.Data;

public sealed class IdxReaderTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("autograd-idx-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Reads_plain_and_gzipped_files(bool gzip)
    {
        var path = Write("images", [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], gzip);
        var idx = IdxReader.Read(path);
        Assert.Equal([2, 2, 3], idx.Dims);
        Assert.Equal(Enumerable.Range(1, 12).Select(i => (byte)i), idx.Data);
    }

    [Fact]
    public void Rejects_bad_magic_type_sizes_and_truncation()
    {
        Assert.Contains("magic", Assert.Throws<IdxFormatException>(() => IdxReader.Read(Write("a", [1, 0, 8, 1, 0, 0, 0, 1, 5]))).Message);
        Assert.Contains("0x0D", Assert.Throws<IdxFormatException>(() => IdxReader.Read(Write("b", [0, 0, 0x0D, 1, 0, 0, 0, 1, 5]))).Message);
        Assert.Contains("holds 1 bytes", Assert.Throws<IdxFormatException>(() => IdxReader.Read(Write("c", [0, 0, 8, 1, 0, 0, 0, 2, 5]))).Message);
        Assert.Contains("truncated", Assert.Throws<IdxFormatException>(() => IdxReader.Read(Write("d", [0, 0, 8, 1, 0, 0, 0, 2, 5], gzip: true))).Message);
        Assert.Contains("beyond", Assert.Throws<IdxFormatException>(() => IdxReader.Read(Write("e", [0, 0, 8, 1, 0, 0, 0, 1, 5, 6], gzip: true))).Message);
        Assert.Contains("more elements", Assert.Throws<IdxFormatException>(() => IdxReader.Read(Write("f", [0, 0, 8, 2, 0x7F, 0, 0, 0, 0x7F, 0, 0, 0]))).Message);
        Assert.Contains("ends before", Assert.Throws<IdxFormatException>(() => IdxReader.Read(Write("g", [0, 0, 8]))).Message);
    }

    [Fact]
    public void A_2_MB_gzip_declaring_2_GB_of_images_is_refused_against_its_5_labels_before_reading()
    {
        // 2.1 GB declared, 2 MB of incompressible gzip (so the deflate bound alone allows it): the labels file's 5
        // labels disagree, and that is found from the two headers, before the images are read or allocated.
        var noise = new byte[2 << 20];
        new Random(3).NextBytes(noise);
        Write("train-images-idx3-ubyte", [0, 0, 8, 3, .. BigEndian(2_700_000), .. BigEndian(28), .. BigEndian(28), .. noise], gzip: true);
        Write("train-labels-idx1-ubyte", [0, 0, 8, 1, .. BigEndian(5), 1, 2, 3, 4, 5]);
        var before = GC.GetAllocatedBytesForCurrentThread();

        var e = Assert.Throws<IdxFormatException>(() => Dataset.FromIdxDirectory(_folder, "hostile"));

        Assert.Contains("(2700000, 28, 28)", e.Message);
        Assert.Contains("(5,)", e.Message);
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 16 << 20);
    }

    [Fact]
    public void A_gzip_claiming_more_than_deflate_can_expand_to_is_refused_at_its_header()
    {
        var path = Write("images", [0, 0, 8, 3, .. BigEndian(100_000), .. BigEndian(28), .. BigEndian(28), 1, 2, 3], gzip: true);
        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Contains("compressed size", Assert.Throws<IdxFormatException>(() => IdxReader.Read(path)).Message);
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 1 << 20);
    }

    [Theory]
    [InlineData(0, 28, 28)]
    [InlineData(2, 0, 28)]
    [InlineData(2, 28, 0)]
    public void A_set_with_no_images_or_empty_images_is_refused_naming_the_file(int count, int rows, int columns)
    {
        var images = Write("t10k-images-idx3-ubyte", [0, 0, 8, 3, .. BigEndian(count), .. BigEndian(rows), .. BigEndian(columns)]);
        Write("t10k-labels-idx1-ubyte", [0, 0, 8, 1, .. BigEndian(count), .. new byte[count]]);
        Write("train-images-idx3-ubyte", [0, 0, 8, 3, .. BigEndian(1), .. BigEndian(1), .. BigEndian(1), 7]);
        Write("train-labels-idx1-ubyte", [0, 0, 8, 1, .. BigEndian(1), 3]);

        var e = Assert.Throws<IdxFormatException>(() => Dataset.FromIdxDirectory(_folder, "empty"));

        Assert.Contains(images, e.Message);
        Assert.Contains($"({count}, {rows}, {columns})", e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }

    private static byte[] BigEndian(int value) => [(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value];

    private string Write(string name, byte[] bytes, bool gzip = false)
    {
        var path = Path.Combine(_folder, name + (gzip ? ".gz" : string.Empty));
        if (gzip)
        {
            using var file = File.Create(path);
            using var zip = new GZipStream(file, CompressionLevel.Fastest);
            zip.Write(bytes);
        }
        else
        {
            File.WriteAllBytes(path, bytes);
        }

        return path;
    }
}
