using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

using AutoGrad.Nn.Serialization;

namespace AutoGrad.Tests.Nn.Serialization;

/// <summary>
/// Files crafted to be read differently than NumPy or the safetensors reference would read them, or to make the
/// reader allocate what the file does not hold: each is refused with <see cref="CheckpointFormatException"/>.
/// </summary>
public sealed class HostileFileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("autograd-hostile-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    // ---- npz: CRC-32 and encryption ----

    [Theory]
    [InlineData(CompressionLevel.NoCompression)]
    [InlineData(CompressionLevel.Optimal)]
    public void Hundreds_of_single_bit_flips_never_load_changed_weights(CompressionLevel level)
    {
        // Before: a flipped bit in a stored entry's data loaded silently (one weight became −2.8e37). Every flip must
        // now either fail or load the very same numbers (a flip in a field no reader uses, such as a timestamp).
        var weights = Tensor.RandomNormal([16, 8], seed: 5);
        var valid = NpzBytes(("w", weights), level);
        var random = new SeededRandom(11);
        int failed = 0, unchanged = 0;
        for (var trial = 0; trial < 400; trial++)
        {
            var bytes = (byte[])valid.Clone();
            bytes[random.NextInt(bytes.Length)] ^= (byte)(1 << random.NextInt(8));
            try
            {
                var loaded = Npz.Read(new MemoryStream(bytes), "flipped");
                Assert.Equal(weights.ToFloatArray(), loaded.Single().Tensor.ToFloatArray());
                unchanged++;
            }
            catch (CheckpointFormatException)
            {
                failed++;
            }
        }

        // The data is most of the file, so most flips must be caught.
        Assert.True(failed > 300, $"{failed} flips caught, {unchanged} harmless");
    }

    [Fact]
    public void A_flip_in_a_stored_entry_names_the_bad_crc()
    {
        var bytes = NpzBytes(("w", Tensor.Ones([100])), CompressionLevel.NoCompression);
        var data = IndexOf(bytes, Encoding.ASCII.GetBytes("\x93NUMPY")) + 128 + 40; // inside the float data
        bytes[data] ^= 0x04;

        var e = Assert.Throws<CheckpointFormatException>(() => Npz.Read(new MemoryStream(bytes), "flipped.npz"));
        Assert.Contains("Bad CRC-32", e.Message);
        Assert.Contains("w.npy", e.Message);
    }

    [Fact]
    public void An_encrypted_entry_is_refused()
    {
        var bytes = NpzBytes(("w", Tensor.Ones([4])), CompressionLevel.NoCompression);

        // General-purpose flag bit 0 (encrypted), in the local header (offset 6) and the central directory (offset 8).
        bytes[IndexOf(bytes, [0x50, 0x4B, 0x03, 0x04]) + 6] |= 1;
        bytes[IndexOf(bytes, [0x50, 0x4B, 0x01, 0x02]) + 8] |= 1;

        var e = Assert.Throws<CheckpointFormatException>(() => Npz.Read(new MemoryStream(bytes), "locked.npz"));
        Assert.Contains("encrypted", e.Message);
    }

    // ---- npy: the header is a Python dict literal ----

    public static TheoryData<string, string> BadHeaders => new()
    {
        { "{'descr': '<f4', 'fortran_order': False, 'fortran_order': True, 'shape': (2, 3), }", "twice" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'shape': (3, 2), }", "twice" },
        { "{'descr': '<f4', 'descr': '<f8', 'fortran_order': False, 'shape': (6,), }", "twice" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (2,,,3), }", "non-negative integer" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (6), }", "not a tuple" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (-6,), }", "non-negative integer" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (06,), }", "leading zero" },
        { "{'descr': '<f4', 'fortran_order': 0, 'shape': (6,), }", "True or False" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'extra': 1, }", "not one of" },
        { "{'descr': '<f4', 'shape': (6,), }", "lacks" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (6,) 'x'}", "expected ','" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), } junk", "follows" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), ", "expected" },
    };

    [Theory]
    [MemberData(nameof(BadHeaders))]
    public void Npy_headers_that_are_not_the_dict_NumPy_expects_are_refused(string header, string reason)
    {
        var e = Assert.Throws<CheckpointFormatException>(() => Npy.Read(new MemoryStream(NpyBytes(header, 24)), "crafted.npy"));
        Assert.Contains(reason, e.Message);
        Assert.Contains("crafted.npy", e.Message);
    }

    [Theory]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", new[] { 2, 3 })]
    [InlineData("{\"shape\": (2, 3,), \"fortran_order\": False, \"descr\": \"<f4\"}", new[] { 2, 3 })]
    [InlineData("{'descr':'<f4','fortran_order':False,'shape':(6,)}", new[] { 6 })]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 6), }", new[] { 1, 1, 6 })]
    public void Every_spelling_of_a_valid_header_loads(string header, int[] shape)
    {
        var tensor = Npy.Read(new MemoryStream(NpyBytes(header, 24)), "valid.npy");
        Assert.Equal(shape, tensor.Shape.Dims.ToArray());
    }

    [Fact]
    public void A_scalar_shape_loads_one_value()
    {
        var tensor = Npy.Read(new MemoryStream(NpyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", 8)), "scalar.npy");
        Assert.Equal(0, tensor.Rank);
    }

    // ---- npy and IDX: declared sizes are checked before allocating ----

    [Fact]
    public void A_128_byte_npy_claiming_2_GB_allocates_nothing_of_the_sort()
    {
        // (536870000,) float32 is 2 GB; the file holds 40 bytes of data. Through a seekable stream the claim is
        // refused at the header; through a stream of unknown length it is read in growing chunks and found short.
        var bytes = NpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (536870000,), }", 40);
        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Contains("holds at most", Assert.Throws<CheckpointFormatException>(() => Npy.Read(new MemoryStream(bytes), "big.npy")).Message);
        Assert.Contains("truncated", Assert.Throws<CheckpointFormatException>(() => Npy.Read(new UnknownLengthStream(bytes), "big.npy")).Message);
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 16 << 20);
    }

    // ---- safetensors: the reference implementation's rules ----

    [Fact]
    public void Safetensors_with_a_hole_trailing_bytes_or_bad_metadata_are_refused()
    {
        var w = new float[4];
        Assert.Contains("hole", Refuse(Safetensors("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}}""", 20)));
        Assert.Contains("after the last tensor", Refuse(Safetensors("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 12)));
        Assert.Contains("overlaps", Refuse(Safetensors("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12)));
        Assert.Contains("not a string", Refuse(Safetensors("""{"__metadata__":{"format":1},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 8)));
        Assert.Contains("not an object", Refuse(Safetensors("""{"__metadata__":"pt","a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 8)));
        Assert.Contains("__metadata__ appears twice", Refuse(Safetensors("""{"__metadata__":{},"__metadata__":{},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 8)));
        Assert.Contains("twice", Refuse(Safetensors("""{"__metadata__":{"k":"1","k":"2"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 8)));
        Assert.Contains("more than 64", Refuse(Safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[" + string.Join(',', Enumerable.Repeat(1, 65)) + "],\"data_offsets\":[0,4]}}", 4)));
        Assert.Contains("shape appears twice", Refuse(Safetensors("""{"a":{"dtype":"F32","shape":[2],"shape":[2],"data_offsets":[0,8]}}""", 8)));
        Assert.Contains("not a non-negative integer", Refuse(Safetensors("""{"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}""", 8)));

        // The same layout without the flaw loads, in header order, with metadata and unknown fields ignored.
        var ok = SafeTensors.Read(new MemoryStream(Safetensors("""{"__metadata__":{"format":"pt"},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12],"x":[1]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 12)), "ok");
        Assert.Equal(["b", "a"], ok.Select(t => t.Name));
        Assert.Equal(w.Length - 2, ok[1].Tensor.Length);
    }

    [Fact]
    public void A_header_of_many_empty_tensors_costs_memory_in_proportion_to_its_size()
    {
        // 168,000 empty tensors in a 10 MB header (the hostile file had 1.68 million in 100 MB and cost 1.4 GB).
        var header = new StringBuilder("{");
        for (var i = 0; i < 168_000; i++)
        {
            header.Append(i == 0 ? string.Empty : ",").Append("\"t").Append(i).Append("\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}");
        }

        var bytes = Safetensors(header.Append('}').ToString(), 0);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var loaded = SafeTensors.Read(new MemoryStream(bytes), "many.safetensors");
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(168_000, loaded.Count);
        Assert.True(allocated < 8L * bytes.Length, $"{allocated} bytes allocated for a {bytes.Length}-byte file");
    }

    [Theory]
    [Trait("Category", "Slow")]
    [InlineData("big.safetensors")]
    [InlineData("big.npz")]
    public void A_tensor_of_more_than_2_GiB_saves_and_loads(string file)
    {
        // 600,000,000 float32 values are 2.4 GB: one byte span cannot hold them (MemoryMarshal.AsBytes overflowed),
        // so they are written and read in chunks. Values vary along the tensor so a misplaced chunk would show.
        const int count = 600_000_000;
        var values = new float[count];
        for (var i = 0; i < count; i += 1000)
        {
            values[i] = i;
        }

        values[^1] = -1;
        var path = Path.Combine(_folder, file);
        var tensor = Tensor.FromArray(values);
        values = null!;
        if (file.EndsWith(".npz", StringComparison.Ordinal))
        {
            Npz.Save(path, [("big", tensor)]);
        }
        else
        {
            SafeTensors.Save(path, [("big", tensor)]);
        }

        var loaded = (file.EndsWith(".npz", StringComparison.Ordinal) ? Npz.Load(path) : SafeTensors.Load(path)).Single().Tensor;
        File.Delete(path);

        Assert.Equal([count], loaded.Shape.Dims.ToArray());
        Assert.True(tensor.AsReadOnlySpan<float>().SequenceEqual(loaded.AsReadOnlySpan<float>()), "the loaded values differ");
        Assert.Equal(599_999_000f, loaded.AsReadOnlySpan<float>()[599_999_000]);
    }

    private static string Refuse(byte[] file) => Assert.Throws<CheckpointFormatException>(() => SafeTensors.Read(new MemoryStream(file), "crafted.safetensors")).Message;

    private static byte[] Safetensors(string json, int dataBytes)
    {
        var header = Encoding.UTF8.GetBytes(json);
        var bytes = new byte[8 + header.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        return bytes;
    }

    private static byte[] NpyBytes(string header, int dataBytes)
    {
        var text = Encoding.ASCII.GetBytes(header + "\n");
        var bytes = new byte[10 + text.Length + dataBytes];
        Encoding.Latin1.GetBytes("\x93NUMPY").CopyTo(bytes, 0);
        bytes[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)text.Length);
        text.CopyTo(bytes, 10);
        return bytes;
    }

    private static byte[] NpzBytes((string Name, Tensor Tensor) entry, CompressionLevel level)
    {
        using var stream = new MemoryStream();
        using (var archive = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            using var output = archive.CreateEntry(entry.Name + ".npy", level).Open();
            Npy.Write(output, entry.Tensor);
        }

        return stream.ToArray();
    }

    private static int IndexOf(byte[] haystack, ReadOnlySpan<byte> needle) => haystack.AsSpan().IndexOf(needle);

    /// <summary>A stream that cannot seek, as a network or decompression stream.</summary>
    private sealed class UnknownLengthStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();
    }
}
