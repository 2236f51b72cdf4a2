using System.Buffers.Binary;
using System.Text.Json;

using AutoGrad.Tensors;

namespace AutoGrad.Nn.Serialization;

/// <summary>
/// The safetensors format shared by PyTorch and Hugging Face users: an 8-byte little-endian header length, a JSON
/// header mapping each name to its dtype, shape and byte range, then the raw little-endian data.
/// Reading checks every length and range against the file before allocating for it.
/// </summary>
public static class SafeTensors
{
    /// <summary>Headers larger than this are rejected (the reference implementation's limit is 100 MB).</summary>
    public const int MaxHeaderBytes = 100_000_000;

    /// <summary>Writes tensors to <paramref name="path"/> atomically.</summary>
    /// <param name="path">The file.</param>
    /// <param name="tensors">Named tensors; names must be unique.</param>
    /// <param name="metadata">Optional string metadata (<c>__metadata__</c>).</param>
    public static void Save(string path, IEnumerable<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        AtomicFile.Write(path, stream => Write(stream, list, metadata));
    }

    /// <summary>Writes tensors to a stream.</summary>
    /// <param name="stream">The destination.</param>
    /// <param name="tensors">Named tensors; names must be unique.</param>
    /// <param name="metadata">Optional string metadata.</param>
    public static void Write(Stream stream, IReadOnlyList<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(tensors);
        var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata)
                {
                    json.WriteString(key, value);
                }

                json.WriteEndObject();
            }

            long offset = 0;
            var names = new HashSet<string>();
            foreach (var (name, tensor) in tensors)
            {
                if (!names.Add(name) || name == "__metadata__")
                {
                    throw new ArgumentException($"SafeTensors: the name '{name}' is used twice or reserved.", nameof(tensors));
                }

                var bytes = (long)tensor.Length * tensor.DType.SizeInBytes();
                json.WriteStartObject(name);
                json.WriteString("dtype", tensor.DType == DType.Float32 ? "F32" : "F64");
                json.WriteStartArray("shape");
                foreach (var d in tensor.Shape.Dims)
                {
                    json.WriteNumberValue(d);
                }

                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += bytes;
            }

            json.WriteEndObject();
        }

        // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
        while (header.Length % 8 != 0)
        {
            header.WriteByte((byte)' ');
        }

        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        stream.Write(length);
        stream.Write(header.GetBuffer().AsSpan(0, (int)header.Length));
        foreach (var (_, tensor) in tensors)
        {
            TensorBytes.Write(stream, tensor);
        }
    }

    /// <summary>Reads every tensor of a safetensors file, in header order.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The named tensors, each owning its memory.</returns>
    /// <exception cref="CheckpointFormatException">The file is truncated, corrupt, or uses a dtype AutoGrad cannot hold (F16 and BF16 are widened to float32; I64, I32, I16, I8, U8 and BOOL become exact float64).</exception>
    public static IReadOnlyList<(string Name, Tensor Tensor)> Load(string path)
    {
        using var stream = File.OpenRead(path);
        return Read(stream, path);
    }

    /// <summary>The string-to-string <c>__metadata__</c> of a safetensors file's header (empty when it has none).</summary>
    /// <param name="path">The file.</param>
    /// <returns>The metadata.</returns>
    /// <exception cref="CheckpointFormatException">The file is truncated or its header is not valid.</exception>
    public static IReadOnlyDictionary<string, string> LoadMetadata(string path)
    {
        using var stream = File.OpenRead(path);
        var (header, dataLength) = ReadHeader(stream, path);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        ParseHeader(header, path, dataLength, metadata);
        return metadata;
    }

    /// <summary>Reads a safetensors stream (it must be seekable, so that its length is known).</summary>
    /// <param name="stream">The stream, at the start of the file.</param>
    /// <param name="name">The name for messages.</param>
    /// <returns>The named tensors.</returns>
    public static IReadOnlyList<(string Name, Tensor Tensor)> Read(Stream stream, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var (header, dataLength) = ReadHeader(stream, name);
        var entries = ParseHeader(header, name, dataLength);
        var dataStart = stream.Position;
        var result = new List<(string, Tensor)>(entries.Count);
        foreach (var entry in entries)
        {
            stream.Position = dataStart + entry.Begin;
            Tensor tensor;
            try
            {
                tensor = entry.Stored is { } stored ? Converted(stream, entry, stored) : Tensor.Zeros(entry.Dims, entry.DType);
                if (entry.Stored is null)
                {
                    TensorBytes.Read(stream, tensor, bigEndian: false);
                }
            }
            catch (EndOfStreamException e)
            {
                throw new CheckpointFormatException($"safetensors: {name} is truncated in '{entry.Name}'.", e);
            }

            result.Add((entry.Name, tensor));
        }

        return result;
    }

    /// <summary>A tensor stored in a type AutoGrad converts (float16, bfloat16, integers, booleans): its bytes read and widened.</summary>
    private static Tensor Converted(Stream stream, Entry entry, TorchStorageType stored)
    {
        var bytes = new byte[entry.ByteCount];
        stream.ReadExactly(bytes);
        var values = new double[entry.ByteCount / stored.ElementSize];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = stored.Read(bytes, i, bigEndian: false);
        }

        return entry.Dims.Length == 0 ? Tensor.Scalar(values[0], entry.DType) : Tensor.FromArray(values, entry.DType, entry.Dims);
    }

    /// <summary>The header's bytes and the length of the data after it, with the stream left at the data.</summary>
    private static (byte[] Header, long DataLength) ReadHeader(Stream stream, string name)
    {
        var fileLength = stream.Length - stream.Position;
        Span<byte> prefix = stackalloc byte[8];
        if (fileLength < 8)
        {
            throw new CheckpointFormatException($"safetensors: {name} is {fileLength} bytes, shorter than the 8-byte header length.");
        }

        stream.ReadExactly(prefix);
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderBytes || (long)headerLength > fileLength - 8)
        {
            throw new CheckpointFormatException($"safetensors: {name} declares a header of {headerLength} bytes, but the file has {fileLength - 8} bytes after the length (limit {MaxHeaderBytes}).");
        }

        var header = new byte[headerLength];
        stream.ReadExactly(header);
        var dataLength = fileLength - 8 - (long)headerLength;
        return (header, dataLength);
    }

    private static List<Entry> ParseHeader(byte[] header, string file, long dataLength, Dictionary<string, string>? metadata = null)
    {
        List<Entry> entries;
        try
        {
            entries = SafeTensorsHeader.Parse(header, file, dataLength, metadata);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or ArgumentException)
        {
            throw new CheckpointFormatException($"safetensors: the header of {file} is not valid: {e.Message}", e);
        }

        // As the reference implementation: sorted by start, the ranges tile the data exactly, with no hole between
        // two tensors and no byte after the last (a hole or a tail is data no tensor accounts for).
        var sorted = entries.ToArray();
        Array.Sort(sorted, static (x, y) => x.Begin != y.Begin ? x.Begin.CompareTo(y.Begin) : x.ByteCount.CompareTo(y.ByteCount));
        long end = 0;
        foreach (var entry in sorted)
        {
            if (entry.Begin != end)
            {
                throw new CheckpointFormatException(entry.Begin < end
                    ? $"safetensors: in {file} the data of '{entry.Name}' overlaps the tensor before it."
                    : $"safetensors: in {file} there are {entry.Begin - end} bytes before '{entry.Name}' that no tensor holds (a hole at {end}).");
            }

            end = entry.Begin + entry.ByteCount;
        }

        if (end != dataLength)
        {
            throw new CheckpointFormatException($"safetensors: {file} has {dataLength - end} bytes after the last tensor's data ends at {end}.");
        }

        return entries;
    }

    /// <summary>One tensor of the header: its name, type, shape and byte range within the data.</summary>
    internal sealed record Entry(string Name, DType DType, int[] Dims, long Begin, long ByteCount, TorchStorageType? Stored = null);
}
