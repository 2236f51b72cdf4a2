using System.IO.Compression;

using AutoGrad.Nn.Data;
using AutoGrad.Nn.Serialization;

namespace AutoGrad.Tests.Nn.Serialization;

/// <summary>
/// Seeded mutations of valid files thrown at each reader: every one must load or fail with the reader's own exception
/// type, and no attempt may allocate much more than the file holds (hostile sizes are refused before allocating).
/// </summary>
public class ReaderFuzzTests
{
    private const int Mutations = 3000;

    /// <summary>Generous for parser overhead (zip buffers, JSON), far below what a believed hostile size would cost.</summary>
    private const long AllocationLimit = 8 << 20;

    [Fact]
    public void Idx_reader() => Fuzz(ValidIdx(), bytes => IdxReader.Read(new MemoryStream(bytes), "fuzz", bytes.Length), typeof(IdxFormatException), seed: 1);

    [Fact]
    public void Gzipped_idx_reader() => Fuzz(Gzip(ValidIdx()), bytes => IdxReader.Read(new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress), "fuzz"), typeof(IdxFormatException), seed: 2);

    [Fact]
    public void Safetensors_reader() => Fuzz(ValidSafetensors(), bytes => SafeTensors.Read(new MemoryStream(bytes), "fuzz"), typeof(CheckpointFormatException), seed: 3);

    [Fact]
    public void Npz_reader() => Fuzz(ValidNpz(), bytes => Npz.Read(new MemoryStream(bytes), "fuzz"), typeof(CheckpointFormatException), seed: 4);

    [Fact]
    public void Torch_reader() => Fuzz(
        File.ReadAllBytes(Path.Combine(RepositoryFiles.Root, "tests/AutoGrad.Tests/Nn/Serialization/Fixtures/torch-state-dict.pt")),
        bytes => TorchFile.Read(new MemoryStream(bytes), "fuzz"),
        typeof(CheckpointFormatException),
        seed: 5);

    private static void Fuzz(byte[] valid, Action<byte[]> read, Type expected, int seed)
    {
        read(valid); // the original loads
        var random = new SeededRandom(seed);
        var loaded = 0;
        var failures = new List<string>();
        for (var i = 0; i < Mutations; i++)
        {
            var mutated = Mutate(valid, random);
            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                read(mutated);
                loaded++;
            }
            catch (Exception e) when (e.GetType() == expected)
            {
            }
            catch (Exception e)
            {
                failures.Add($"mutation {i}: {e.GetType().Name}: {e.Message}");
            }

            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (allocated > AllocationLimit)
            {
                failures.Add($"mutation {i}: allocated {allocated} bytes for a {mutated.Length}-byte file");
            }
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures.Take(10)));
        Assert.InRange(loaded, 1, Mutations - 1); // some mutations still load (data bytes), most do not
    }

    /// <summary>One of: flip a few bytes, truncate, append junk, or write an extreme value into the first 64 bytes.</summary>
    private static byte[] Mutate(byte[] valid, SeededRandom random)
    {
        var bytes = (byte[])valid.Clone();
        switch (random.NextInt(4))
        {
            case 0:
                for (var k = 1 + random.NextInt(8); k > 0; k--)
                {
                    bytes[random.NextInt(bytes.Length)] ^= (byte)(1 + random.NextInt(255));
                }

                return bytes;
            case 1:
                return bytes[..random.NextInt(bytes.Length)];
            case 2:
                return [.. bytes, .. Enumerable.Range(0, 1 + random.NextInt(64)).Select(_ => (byte)random.NextInt(256))];
            default:
                var at = random.NextInt(Math.Min(64, bytes.Length - 4));
                var value = random.NextInt(3) switch { 0 => uint.MaxValue, 1 => 0x7FFFFFFFu, _ => (uint)random.NextInt(int.MaxValue) };
                BitConverter.GetBytes(value).CopyTo(bytes, at);
                return bytes;
        }
    }

    private static byte[] ValidIdx() => [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 4, .. Enumerable.Range(0, 32).Select(i => (byte)i)];

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var zip = new GZipStream(output, CompressionLevel.Fastest))
        {
            zip.Write(data);
        }

        return output.ToArray();
    }

    private static byte[] ValidSafetensors()
    {
        using var stream = new MemoryStream();
        SafeTensors.Write(stream, [("weight", Tensor.RandomNormal([3, 4], seed: 1)), ("bias", Tensor.Zeros([4], DType.Float64))]);
        return stream.ToArray();
    }

    private static byte[] ValidNpz()
    {
        using var stream = new MemoryStream();
        Npz.Write(stream, [("W1", Tensor.RandomNormal([3, 4], seed: 1)), ("b1", Tensor.Zeros([4], DType.Float64))]);
        return stream.ToArray();
    }
}
