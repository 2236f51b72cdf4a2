using System.Text.Json;

using AutoGrad.Tensors;

namespace AutoGrad.Nn.Serialization;

/// <summary>
/// The JSON header of a safetensors file, read in one forward pass with <see cref="Utf8JsonReader"/> (no document
/// tree), so the work and memory stay proportional to the header's bytes: a 100 MB header of 1.68 million empty
/// tensors had cost 1.4 GB through <see cref="JsonDocument"/>. The rules are the reference implementation's.
/// </summary>
internal static class SafeTensorsHeader
{
    /// <summary>The most dimensions a tensor may declare (PyTorch's limit); a longer shape is an attack, not a model.</summary>
    public const int MaxRank = 64;

    /// <summary>Parses the header into entries in header order, checking each against the data's length.</summary>
    /// <param name="header">The header bytes.</param>
    /// <param name="file">The file, for messages.</param>
    /// <param name="dataLength">The bytes after the header.</param>
    /// <param name="metadata">Where to keep __metadata__'s entries, or null to check them only.</param>
    /// <returns>The tensors' entries.</returns>
    public static List<SafeTensors.Entry> Parse(byte[] header, string file, long dataLength, Dictionary<string, string>? metadata = null)
    {
        var reader = new Utf8JsonReader(header, new JsonReaderOptions { MaxDepth = 4 });
        Read(ref reader, file);
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw Fail(file, "the header is not a JSON object");
        }

        var entries = new List<SafeTensors.Entry>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var scratch = new List<long>(MaxRank);
        var seenMetadata = false;
        while (Read(ref reader, file) == JsonTokenType.PropertyName)
        {
            var name = reader.GetString()!;
            if (name == "__metadata__")
            {
                if (seenMetadata)
                {
                    throw Fail(file, "__metadata__ appears twice");
                }

                seenMetadata = true;
                ReadMetadata(ref reader, file, metadata);
                continue;
            }

            if (!names.Add(name))
            {
                throw new CheckpointFormatException($"safetensors: {file} names '{name}' twice.");
            }

            entries.Add(ParseEntry(ref reader, file, name, dataLength, scratch));
        }

        if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
        {
            throw Fail(file, "the header holds more than one JSON object");
        }

        return entries;
    }

    /// <summary>__metadata__ is a map of strings to strings, each key once; kept in <paramref name="into"/> when given.</summary>
    private static void ReadMetadata(ref Utf8JsonReader reader, string file, Dictionary<string, string>? into)
    {
        if (Read(ref reader, file) != JsonTokenType.StartObject)
        {
            throw Fail(file, "__metadata__ is not an object of strings");
        }

        var keys = new HashSet<string>(StringComparer.Ordinal);
        while (Read(ref reader, file) == JsonTokenType.PropertyName)
        {
            var key = reader.GetString()!;
            if (!keys.Add(key))
            {
                throw Fail(file, $"__metadata__ has the key '{key}' twice");
            }

            if (Read(ref reader, file) != JsonTokenType.String)
            {
                throw Fail(file, $"__metadata__ '{key}' is not a string");
            }

            into?.Add(key, reader.GetString()!);
        }
    }

    /// <summary>The dtypes read by conversion, by their safetensors names.</summary>
    private static readonly (string Name, TorchStorageType Type)[] s_converted =
    [
        ("F16", Storage(TorchElement.Float16)), ("BF16", Storage(TorchElement.BFloat16)), ("I64", Storage(TorchElement.Int64)),
        ("I32", Storage(TorchElement.Int32)), ("I16", Storage(TorchElement.Int16)), ("I8", Storage(TorchElement.Int8)),
        ("U8", Storage(TorchElement.UInt8)), ("BOOL", Storage(TorchElement.Bool)),
    ];

    private static TorchStorageType Storage(TorchElement element) => TorchStorageType.All.First(type => type.Element == element);

    private static SafeTensors.Entry ParseEntry(ref Utf8JsonReader reader, string file, string name, long dataLength, List<long> scratch)
    {
        if (Read(ref reader, file) != JsonTokenType.StartObject)
        {
            throw Malformed(file, name, "it is not an object");
        }

        DType? dtype = null;
        TorchStorageType? stored = null;
        int[]? dims = null;
        long begin = -1, end = -1;
        var offsetCount = -1;
        while (Read(ref reader, file) == JsonTokenType.PropertyName)
        {
            // Keys and the dtype are compared as UTF-8 in place: a string per key would cost more than the entry.
            if (reader.ValueTextEquals("dtype"u8))
            {
                if (dtype is not null || Read(ref reader, file) != JsonTokenType.String)
                {
                    throw Malformed(file, name, dtype is null ? "dtype is not a string" : "dtype appears twice");
                }

                // F32 and F64 are read as they are; the narrower and integer types PyTorch writes are converted (see
                // TorchStorageType: float16 and bfloat16 widened to float32, integers and booleans to exact float64).
                if (reader.ValueTextEquals("F32"u8) || reader.ValueTextEquals("F64"u8))
                {
                    dtype = reader.ValueTextEquals("F32"u8) ? DType.Float32 : DType.Float64;
                }
                else
                {
                    foreach (var (typeName, type) in s_converted)
                    {
                        if (reader.ValueTextEquals(typeName))
                        {
                            (dtype, stored) = (type.Target, type);
                        }
                    }

                    if (stored is null)
                    {
                        throw new CheckpointFormatException(
                            $"safetensors: '{name}' in {file} has dtype {reader.GetString()}; supported: F32, F64, F16, BF16, I64, I32, I16, I8, U8, BOOL.");
                    }
                }
            }
            else if (reader.ValueTextEquals("shape"u8))
            {
                if (dims is not null)
                {
                    throw Malformed(file, name, "shape appears twice");
                }

                ReadIntegers(ref reader, file, name, "shape", MaxRank, scratch);
                dims = new int[scratch.Count];
                for (var i = 0; i < dims.Length; i++)
                {
                    dims[i] = scratch[i] <= int.MaxValue ? (int)scratch[i] : throw Malformed(file, name, $"dimension {scratch[i]} is too large");
                }
            }
            else if (reader.ValueTextEquals("data_offsets"u8))
            {
                if (offsetCount >= 0)
                {
                    throw Malformed(file, name, "data_offsets appears twice");
                }

                ReadIntegers(ref reader, file, name, "data_offsets", 2, scratch);
                offsetCount = scratch.Count;
                begin = offsetCount > 0 ? scratch[0] : -1;
                end = offsetCount > 1 ? scratch[1] : -1;
            }
            else
            {
                // Unknown fields are ignored, as the reference implementation does.
                Read(ref reader, file);
                reader.Skip();
            }
        }

        if (dtype is null || dims is null || offsetCount < 0)
        {
            throw Malformed(file, name, "it lacks dtype, shape or data_offsets");
        }

        long count = 1;
        foreach (var d in dims)
        {
            count = Math.Min(count * d, (long)Array.MaxLength + 1);
        }

        if (count > Array.MaxLength)
        {
            throw new CheckpointFormatException($"safetensors: '{name}' in {file} has an impossible shape {Shape.Format(dims)}.");
        }

        var bytes = count * (stored?.ElementSize ?? dtype.Value.SizeInBytes());
        if (offsetCount != 2 || end > dataLength || end - begin != bytes)
        {
            throw new CheckpointFormatException(
                $"safetensors: '{name}' in {file} has data_offsets [{begin}, {end}] that do not hold {Shape.Format(dims)} {dtype.Value.Name()} ({bytes} bytes) within the {dataLength} data bytes.");
        }

        return new SafeTensors.Entry(name, dtype.Value, dims, begin, bytes, stored);
    }

    /// <summary>An array of at most <paramref name="most"/> non-negative integers.</summary>
    private static void ReadIntegers(ref Utf8JsonReader reader, string file, string name, string what, int most, List<long> values)
    {
        if (Read(ref reader, file) != JsonTokenType.StartArray)
        {
            throw Malformed(file, name, $"{what} is not an array");
        }

        values.Clear();
        while (Read(ref reader, file) == JsonTokenType.Number)
        {
            if (values.Count == most)
            {
                throw Malformed(file, name, $"{what} has more than {most} entries");
            }

            if (!reader.TryGetInt64(out var value) || value < 0)
            {
                throw Malformed(file, name, $"{what} holds {System.Text.Encoding.UTF8.GetString(reader.ValueSpan)}, not a non-negative integer");
            }

            values.Add(value);
        }

        if (reader.TokenType != JsonTokenType.EndArray)
        {
            throw Malformed(file, name, $"{what} holds something other than integers");
        }
    }

    private static JsonTokenType Read(ref Utf8JsonReader reader, string file)
    {
        try
        {
            return reader.Read() ? reader.TokenType : throw Fail(file, "the header ends early");
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException($"safetensors: the header of {file} is not valid JSON: {e.Message}", e);
        }
    }

    private static CheckpointFormatException Fail(string file, string what) => new($"safetensors: the header of {file} is malformed: {what}.");

    private static CheckpointFormatException Malformed(string file, string name, string what) =>
        new($"safetensors: the header entry '{name}' in {file} is malformed: {what}.");
}
