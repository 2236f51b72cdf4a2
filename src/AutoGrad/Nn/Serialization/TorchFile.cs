using System.IO.Compression;
using System.Text;

using AutoGrad.Tensors;

namespace AutoGrad.Nn.Serialization;

/// <summary>
/// Reads the tensors of files written by PyTorch's <c>torch.save</c> (a zip archive holding a pickle and raw storages,
/// the format since PyTorch 1.6) without executing anything: the pickle is interpreted by a reader that knows only the
/// opcodes and the few globals torch.save uses for tensors, dicts, lists and tuples, and refuses every other one (a
/// pickle that would run code in Python is refused by name). Tensors keep their dotted names: a state dict's keys as
/// they are, nested containers joined with dots (<c>model.0.weight</c>, <c>list.1</c>).
/// </summary>
/// <remarks>
/// float32 and float64 load as they are; float16 and bfloat16 are widened to float32; integer and boolean tensors
/// (BatchNorm's <c>num_batches_tracked</c>) become float64, exactly (an int64 beyond 2⁵³ is refused). Values that are
/// not tensors (an epoch number, a learning rate) are skipped. A tensor saved alone is named <c>tensor</c>.
/// </remarks>
public static class TorchFile
{
    /// <summary>The deepest nesting of containers read: state dicts nest a few levels, a hostile pickle without end.</summary>
    private const int MaxDepth = 64;

    /// <summary>Reads every tensor of a <c>.pt</c> / <c>.pth</c> file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The named tensors in the file's order, each owning its memory.</returns>
    /// <exception cref="CheckpointFormatException">The file is not a torch.save archive, is corrupt, or asks for anything beyond tensors and containers.</exception>
    public static IReadOnlyList<(string Name, Tensor Tensor)> Load(string path)
    {
        using var stream = File.OpenRead(path);
        return Read(stream, path);
    }

    /// <summary>Reads a torch.save archive from a seekable stream.</summary>
    /// <param name="stream">The stream, at the start of the file.</param>
    /// <param name="name">The name for messages.</param>
    /// <returns>The named tensors.</returns>
    /// <exception cref="CheckpointFormatException">See <see cref="Load"/>.</exception>
    public static IReadOnlyList<(string Name, Tensor Tensor)> Read(Stream stream, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(name);
        // The legacy format is a bare pickle (PROTO first) where the current one is a zip (PK first).
        var start = stream.Position;
        int first = stream.ReadByte(), second = stream.ReadByte();
        stream.Position = start;
        if (first == 0x80 && second is >= 0 and <= 5)
        {
            throw new CheckpointFormatException(
                $"pt: {name} is in torch.save's legacy format (PyTorch before 1.6, or _use_new_zipfile_serialization=False); load it in PyTorch and save it again.");
        }

        try
        {
            using var archive = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
            var pickles = archive.Entries.Where(e => e.FullName == "data.pkl" || e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal)).ToList();
            if (pickles.Count != 1)
            {
                throw new CheckpointFormatException($"pt: {name} holds {pickles.Count} data.pkl records, not one: it is not a torch.save archive.");
            }

            var prefix = pickles[0].FullName[..^"data.pkl".Length];
            var bigEndian = archive.GetEntry(prefix + "byteorder") is { } order && ByteOrder(Text(order, stream, name), name);
            var root = TorchPickle.Load(Bytes(pickles[0], stream, name, expected: null), name);
            var records = new List<(string, TorchTensorRecord)>();
            Flatten(root, null, records, new HashSet<object>(ReferenceEqualityComparer.Instance), 0, name);

            var storages = new Dictionary<string, byte[]>();
            var result = new List<(string, Tensor)>(records.Count);
            var names = new HashSet<string>();
            foreach (var (tensorName, record) in records)
            {
                if (!names.Add(tensorName))
                {
                    throw new CheckpointFormatException($"pt: {name} names two tensors '{tensorName}' once their containers' keys are joined with dots.");
                }

                if (!storages.TryGetValue(record.Storage.Key, out var bytes))
                {
                    bytes = StorageBytes(archive, prefix, record.Storage, stream, name);
                    storages[record.Storage.Key] = bytes;
                }
                else if (bytes.LongLength != record.Storage.Count * record.Storage.Type.ElementSize)
                {
                    throw new CheckpointFormatException($"pt: {name} describes storage '{record.Storage.Key}' with two different sizes or types.");
                }

                result.Add((tensorName, record.Materialize(bytes, bigEndian, tensorName, name)));
            }

            return result;
        }
        catch (InvalidDataException e)
        {
            throw new CheckpointFormatException($"pt: {name} is not a valid zip archive: {e.Message}", e);
        }
    }

    /// <summary>Collects the tensors in dicts, lists and tuples, with dotted names; other values are not tensors and are skipped.</summary>
    private static void Flatten(object? value, string? path, List<(string, TorchTensorRecord)> records, HashSet<object> seen, int depth, string file)
    {
        if (value is PickleDict or List<object?> or PickleTuple)
        {
            // torch.save writes each container once; one reached twice is a cycle or a hostile fan-out of references.
            if (depth > MaxDepth || !seen.Add(value))
            {
                throw new CheckpointFormatException($"pt: the containers in {file} nest deeper than {MaxDepth} levels or repeat, which a state dict never does.");
            }
        }

        string Child(object key) => path is null ? $"{key}" : $"{path}.{key}";
        switch (value)
        {
            case TorchTensorRecord tensor:
                records.Add((path ?? "tensor", tensor));
                break;
            case PickleDict dict:
                foreach (var (key, item) in dict.Items)
                {
                    Flatten(item, Child(key), records, seen, depth + 1, file);
                }

                break;
            case List<object?> list:
                for (var i = 0; i < list.Count; i++)
                {
                    Flatten(list[i], Child(i), records, seen, depth + 1, file);
                }

                break;
            case PickleTuple tuple:
                for (var i = 0; i < tuple.Items.Length; i++)
                {
                    Flatten(tuple.Items[i], Child(i), records, seen, depth + 1, file);
                }

                break;
        }
    }

    /// <summary>A storage's record, which must hold exactly its elements.</summary>
    private static byte[] StorageBytes(ZipArchive archive, string prefix, TorchStorageRecord storage, Stream stream, string file)
    {
        var entry = archive.GetEntry($"{prefix}data/{storage.Key}")
            ?? throw new CheckpointFormatException($"pt: {file} refers to storage '{storage.Key}', which it does not hold.");
        long expected;
        try
        {
            expected = checked(storage.Count * storage.Type.ElementSize);
        }
        catch (OverflowException)
        {
            expected = long.MaxValue;
        }

        if (entry.Length != expected)
        {
            throw new CheckpointFormatException(
                $"pt: storage '{storage.Key}' in {file} holds {entry.Length} bytes, but {storage.Count} {storage.Type.Name} elements need {expected}.");
        }

        return Bytes(entry, stream, file, expected);
    }

    private static string Text(ZipArchiveEntry entry, Stream stream, string file) => Encoding.ASCII.GetString(Bytes(entry, stream, file, expected: null)).Trim();

    private static bool ByteOrder(string order, string file) => order switch
    {
        "little" => false,
        "big" => true,
        _ => throw new CheckpointFormatException($"pt: {file} records byte order '{order}', neither little nor big."),
    };

    /// <summary>
    /// An entry's bytes, checked against its CRC-32 and its recorded length. The recorded length may lie: no more is
    /// allocated than the archive can really hold (deflate expands at most about 1032 times).
    /// </summary>
    private static byte[] Bytes(ZipArchiveEntry entry, Stream stream, string file, long? expected)
    {
        if (entry.IsEncrypted)
        {
            throw new CheckpointFormatException($"pt: '{entry.FullName}' in {file} is encrypted; torch.save never encrypts.");
        }

        var available = Math.Min((Math.Min(entry.CompressedLength, stream.Length) * 1032) + 1024, int.MaxValue - 64);
        if (entry.Length > available || (expected is { } e && e != entry.Length))
        {
            throw new CheckpointFormatException($"pt: '{entry.FullName}' in {file} claims {entry.Length} bytes, more than the archive can hold or than its contents need.");
        }

        var bytes = new byte[entry.Length];
        using var input = new Crc32ReadStream(entry.Open());
        var read = input.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
        var trailing = input.Drain();
        if (read != bytes.Length || trailing > 0)
        {
            throw new CheckpointFormatException($"pt: '{entry.FullName}' in {file} holds {read + trailing} bytes; the archive records {entry.Length}.");
        }

        if (input.Crc != entry.Crc32)
        {
            throw new CheckpointFormatException(
                $"pt: '{entry.FullName}' in {file} is corrupt: its CRC-32 is {input.Crc:x8}, the archive records {entry.Crc32:x8} (Bad CRC-32).");
        }

        return bytes;
    }
}
