using System.IO.Compression;

using AutoGrad.Data;

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
