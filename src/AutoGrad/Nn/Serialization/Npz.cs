using System.IO.Compression;

using AutoGrad.Tensors;

namespace AutoGrad.Nn.Serialization;

/// <summary>
/// NumPy's <c>.npz</c>: a zip archive with one <c>NAME.npy</c> per array, as <c>numpy.savez</c> writes it (and as the
/// book's and DeZero's <c>save_weights</c> produce). Reads stored and deflated archives; writes deflated ones.
/// </summary>
public static class Npz
{
    /// <summary>Writes tensors to <paramref name="path"/> atomically.</summary>
    /// <param name="path">The file.</param>
    /// <param name="tensors">Named tensors; names must be unique.</param>
    public static void Save(string path, IEnumerable<(string Name, Tensor Tensor)> tensors)
    {
        var list = tensors.ToList();
        AtomicFile.Write(path, stream => Write(stream, list));
    }

    /// <summary>Writes tensors as an <c>.npz</c> archive to a stream.</summary>
    /// <param name="stream">The destination.</param>
    /// <param name="tensors">Named tensors.</param>
    public static void Write(Stream stream, IReadOnlyList<(string Name, Tensor Tensor)> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Select(t => t.Name).Distinct().Count() != tensors.Count)
        {
            throw new ArgumentException("npz: tensor names must be unique.", nameof(tensors));
        }

        using var archive = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
        foreach (var (name, tensor) in tensors)
        {
            var entry = archive.CreateEntry(name + ".npy", CompressionLevel.Optimal);
            entry.LastWriteTime = new DateTimeOffset(1980, 1, 1, 0, 0, 0, TimeSpan.Zero); // reproducible bytes
            using var output = entry.Open();
            Npy.Write(output, tensor);
        }
    }

    /// <summary>Reads every array of an <c>.npz</c> file, in archive order.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The named tensors (names without <c>.npy</c>).</returns>
    /// <exception cref="CheckpointFormatException">The archive or an array in it is corrupt or unsupported.</exception>
    public static IReadOnlyList<(string Name, Tensor Tensor)> Load(string path)
    {
        using var stream = File.OpenRead(path);
        return Read(stream, path);
    }

    /// <summary>Reads an <c>.npz</c> archive from a seekable stream.</summary>
    /// <param name="stream">The stream.</param>
    /// <param name="name">The name for messages.</param>
    /// <returns>The named tensors.</returns>
    public static IReadOnlyList<(string Name, Tensor Tensor)> Read(Stream stream, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        try
        {
            using var archive = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
            var result = new List<(string, Tensor)>();
            var names = new HashSet<string>();
            foreach (var entry in archive.Entries)
            {
                if (!entry.FullName.EndsWith(".npy", StringComparison.Ordinal))
                {
                    throw new CheckpointFormatException($"npz: {name} contains '{entry.FullName}', which is not an .npy array.");
                }

                var arrayName = entry.FullName[..^4];
                if (!names.Add(arrayName))
                {
                    throw new CheckpointFormatException($"npz: {name} contains '{arrayName}' twice.");
                }

                if (entry.IsEncrypted)
                {
                    throw new CheckpointFormatException($"npz: '{entry.FullName}' in {name} is encrypted; NumPy archives never are.");
                }

                // An entry's declared sizes come from the archive and may lie; deflate expands at most ~1032x, so the
                // array can be no larger than that times the bytes the archive really has.
                var available = Math.Min(entry.Length, (Math.Min(entry.CompressedLength, stream.Length) * 1032) + 1024);
                using var input = new Crc32ReadStream(entry.Open());
                var tensor = Npy.Read(input, $"{name}:{entry.FullName}", available);

                // As NumPy's zipfile does: the whole entry is read and its CRC-32 compared, so one flipped bit in the
                // weights fails the load instead of loading silently changed numbers.
                var trailing = input.Drain();
                if (input.Crc != entry.Crc32)
                {
                    throw new CheckpointFormatException(
                        $"npz: '{entry.FullName}' in {name} is corrupt: its CRC-32 is {input.Crc:x8}, the archive records {entry.Crc32:x8} (Bad CRC-32).");
                }

                if (trailing > 0 || input.BytesRead != entry.Length)
                {
                    throw new CheckpointFormatException(
                        $"npz: '{entry.FullName}' in {name} holds {input.BytesRead} bytes, {trailing} of them after the array; the archive records {entry.Length}.");
                }

                result.Add((arrayName, tensor));
            }

            return result;
        }
        catch (InvalidDataException e)
        {
            throw new CheckpointFormatException($"npz: {name} is not a valid zip archive: {e.Message}", e);
        }
    }
}
