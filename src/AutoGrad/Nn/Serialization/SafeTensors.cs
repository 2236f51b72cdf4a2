using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace AutoGrad.Serialization;

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
            stream.Write(tensor.DType == DType.Float32
                ? MemoryMarshal.AsBytes(tensor.AsReadOnlySpan<float>())
                : MemoryMarshal.AsBytes(tensor.AsReadOnlySpan<double>()));
        }
    }

    /// <summary>Reads every tensor of a safetensors file, in header order.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The named tensors, each owning its memory.</returns>
    /// <exception cref="CheckpointFormatException">The file is truncated, corrupt, or uses a dtype other than F32/F64.</exception>
    public static IReadOnlyList<(string Name, Tensor Tensor)> Load(string path)
    {
        using var stream = File.OpenRead(path);
        return Read(stream, path);
    }

    /// <summary>Reads a safetensors stream (it must be seekable, so that its length is known).</summary>
    /// <param name="stream">The stream, at the start of the file.</param>
    /// <param name="name">The name for messages.</param>
    /// <returns>The named tensors.</returns>
    public static IReadOnlyList<(string Name, Tensor Tensor)> Read(Stream stream, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
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
        var entries = ParseHeader(header, name, dataLength);
        var dataStart = stream.Position;
        var result = new List<(string, Tensor)>(entries.Count);
        foreach (var entry in entries)
        {
            stream.Position = dataStart + entry.Begin;
            var tensor = Tensor.Zeros(entry.Dims, entry.DType);
            stream.ReadExactly(entry.DType == DType.Float32
                ? MemoryMarshal.AsBytes(tensor.AsSpan<float>())
                : MemoryMarshal.AsBytes(tensor.AsSpan<double>()));
            result.Add((entry.Name, tensor));
        }

        return result;
    }

    private static List<Entry> ParseHeader(byte[] header, string file, long dataLength)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException($"safetensors: the header of {file} is not valid JSON: {e.Message}", e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new CheckpointFormatException($"safetensors: the header of {file} is not a JSON object.");
            }

            var entries = new List<Entry>();
            var names = new HashSet<string>();
            try
            {
                foreach (var property in document.RootElement.EnumerateObject())
                {
                    if (property.Name == "__metadata__")
                    {
                        continue;
                    }

                    if (!names.Add(property.Name))
                    {
                        throw new CheckpointFormatException($"safetensors: {file} names '{property.Name}' twice.");
                    }

                    entries.Add(ParseEntry(property, file, dataLength));
                }
            }
            catch (InvalidOperationException e)
            {
                // JsonDocument validates structure, not the UTF-8 of names; a corrupt name fails when it is read.
                throw new CheckpointFormatException($"safetensors: the header of {file} holds text that is not valid UTF-8: {e.Message}", e);
            }

            // Ranges must not overlap: sorted by start, each must end before the next begins.
            var sorted = entries.OrderBy(e => e.Begin).ToList();
            for (var i = 1; i < sorted.Count; i++)
            {
                if (sorted[i].Begin < sorted[i - 1].Begin + sorted[i - 1].ByteCount)
                {
                    throw new CheckpointFormatException($"safetensors: in {file} the data of '{sorted[i].Name}' overlaps '{sorted[i - 1].Name}'.");
                }
            }

            return entries;
        }
    }

    private static Entry ParseEntry(JsonProperty property, string file, long dataLength)
    {
        var name = property.Name;
        try
        {
            var value = property.Value;
            var dtypeName = value.GetProperty("dtype").GetString();
            var dtype = dtypeName switch
            {
                "F32" => DType.Float32,
                "F64" => DType.Float64,
                _ => throw new CheckpointFormatException($"safetensors: '{name}' in {file} has dtype {dtypeName}; only F32 and F64 are supported."),
            };
            var dims = value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
            var offsets = value.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            long count = 1;
            foreach (var d in dims)
            {
                count = d < 0 ? -1 : count * d;
                if (count < 0 || count > Array.MaxLength)
                {
                    throw new CheckpointFormatException($"safetensors: '{name}' in {file} has an impossible shape {Shape.Format(dims)}.");
                }
            }

            var bytes = count * dtype.SizeInBytes();
            if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] > dataLength || offsets[1] - offsets[0] != bytes)
            {
                throw new CheckpointFormatException(
                    $"safetensors: '{name}' in {file} has data_offsets [{string.Join(", ", offsets)}] that do not hold {Shape.Format(dims)} {dtype.Name()} ({bytes} bytes) within the {dataLength} data bytes.");
            }

            return new Entry(name, dtype, dims, offsets[0], bytes);
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new CheckpointFormatException($"safetensors: the header entry '{name}' in {file} is malformed: {e.Message}", e);
        }
    }

    private sealed record Entry(string Name, DType DType, int[] Dims, long Begin, long ByteCount);
}
