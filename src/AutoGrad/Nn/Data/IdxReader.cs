using System.Buffers.Binary;
using System.IO.Compression;

using AutoGrad.Tensors;

namespace AutoGrad.Nn.Data;

/// <summary>The contents of an IDX file: its dimensions and its unsigned bytes, row-major.</summary>
/// <param name="Dims">The dimensions, outermost first.</param>
/// <param name="Data">The elements.</param>
public sealed record IdxArray(int[] Dims, byte[] Data);

/// <summary>Thrown for an IDX file that is truncated, corrupt or not IDX at all.</summary>
public sealed class IdxFormatException : IOException
{
    /// <summary>Creates the exception.</summary>
    public IdxFormatException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What is wrong, naming the file.</param>
    public IdxFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="innerException">The cause.</param>
    public IdxFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Reads the IDX format of MNIST and Fashion-MNIST (gzipped or not): two zero bytes, a type byte (0x08 for
/// unsigned bytes, the only type those sets use), a dimension count, big-endian 32-bit dimensions, then the data.
/// </summary>
public static class IdxReader
{
    private const byte UnsignedByte = 0x08;
    private const int MaxDimensions = 8;

    /// <summary>
    /// Deflate expands at most about 1032 to 1, so a gzipped file can hold no more than this many bytes of data per
    /// byte of its own; a larger claim is rejected before anything is allocated for it.
    /// </summary>
    private const long MaxDeflateRatio = 1032;

    /// <summary>Reads a file, decompressing it when it is gzipped (detected by content, not by name).</summary>
    /// <param name="path">The file.</param>
    /// <returns>The array.</returns>
    /// <exception cref="IdxFormatException">The file is not valid IDX of unsigned bytes.</exception>
    public static IdxArray Read(string path)
    {
        using var file = Open(path);
        return new IdxArray(file.Dims, file.ReadData());
    }

    /// <summary>Reads IDX from a stream.</summary>
    /// <param name="stream">The stream, positioned at the magic number.</param>
    /// <param name="name">The name to use in messages.</param>
    /// <param name="length">The stream's length when known, to reject impossible sizes before allocating.</param>
    /// <returns>The array.</returns>
    public static IdxArray Read(Stream stream, string name, long? length = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var file = new IdxFile(stream, null, name, length, null);
        return new IdxArray(file.Dims, file.ReadData());
    }

    /// <summary>
    /// Opens a file and reads its header only, so a caller can check the declared sizes (against a partner file,
    /// say) before the data is read and allocated.
    /// </summary>
    /// <param name="path">The file, gzipped or not.</param>
    /// <returns>The open file; dispose it.</returns>
    internal static IdxFile Open(string path)
    {
        var file = File.OpenRead(path);
        try
        {
            Span<byte> head = stackalloc byte[2];
            var gzipped = file.Read(head) == 2 && head[0] == 0x1F && head[1] == 0x8B;
            file.Position = 0;
            return gzipped
                ? new IdxFile(new GZipStream(file, CompressionMode.Decompress), file, path, null, file.Length * MaxDeflateRatio)
                : new IdxFile(file, file, path, file.Length, null);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>An IDX stream whose header has been read and checked; <see cref="ReadData"/> reads the rest.</summary>
    internal sealed class IdxFile : IDisposable
    {
        private readonly Stream _stream;
        private readonly Stream? _owned;

        /// <summary>Reads and checks the header.</summary>
        /// <param name="stream">The (decompressed) content, at the magic number.</param>
        /// <param name="owned">The file to close on dispose, if any.</param>
        /// <param name="name">The name for messages.</param>
        /// <param name="length">The exact content length, when known.</param>
        /// <param name="bound">An upper bound on the content length (a gzip file's size times the deflate limit).</param>
        public IdxFile(Stream stream, Stream? owned, string name, long? length, long? bound)
        {
            _stream = stream;
            _owned = owned;
            Name = name;
            try
            {
                Dims = Guard(() => ReadHeader(stream, name, length, bound), name);
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        /// <summary>The file's name, for messages.</summary>
        public string Name { get; }

        /// <summary>The declared dimensions.</summary>
        public int[] Dims { get; }

        /// <summary>Reads the data the header declares, in bounded chunks, and checks that nothing follows it.</summary>
        /// <returns>The bytes.</returns>
        public byte[] ReadData() => Guard(() => ReadBody(_stream, Name, Dims), Name);

        /// <inheritdoc/>
        public void Dispose()
        {
            // A caller's stream (Read(Stream, …)) stays open; a file this reader opened is closed with its gzip layer.
            if (_owned is null)
            {
                return;
            }

            if (!ReferenceEquals(_stream, _owned))
            {
                _stream.Dispose();
            }

            _owned.Dispose();
        }

        private static T Guard<T>(Func<T> read, string name)
        {
            try
            {
                return read();
            }
            catch (InvalidDataException e)
            {
                // A corrupt compressed stream surfaces as the reader's own error.
                throw new IdxFormatException($"IDX: {name} is not a valid compressed stream: {e.Message}", e);
            }
        }
    }

    private static int[] ReadHeader(Stream stream, string name, long? length, long? bound)
    {
        Span<byte> magic = stackalloc byte[4];
        ReadExactly(stream, magic, name, "the magic number");
        if (magic[0] != 0 || magic[1] != 0)
        {
            throw new IdxFormatException($"IDX: {name} does not start with the IDX magic number (00 00 type rank), found {Convert.ToHexString(magic)}.");
        }

        if (magic[2] != UnsignedByte)
        {
            throw new IdxFormatException($"IDX: {name} holds element type 0x{magic[2]:X2}; only unsigned bytes (0x08) are supported.");
        }

        int rank = magic[3];
        if (rank is 0 or > MaxDimensions)
        {
            throw new IdxFormatException($"IDX: {name} declares {rank} dimensions; expected 1 to {MaxDimensions}.");
        }

        var dims = new int[rank];
        Span<byte> dim = stackalloc byte[4];
        long count = 1;
        for (var i = 0; i < rank; i++)
        {
            ReadExactly(stream, dim, name, $"dimension {i}");
            var size = BinaryPrimitives.ReadInt32BigEndian(dim);
            if (size < 0)
            {
                throw new IdxFormatException($"IDX: {name} declares a negative dimension {size}.");
            }

            dims[i] = size;
            count *= size;
            if (count > Array.MaxLength)
            {
                throw new IdxFormatException($"IDX: {name} declares {Shape.Format(dims.AsSpan(0, i + 1))}, more elements than an array can hold.");
            }
        }

        var header = 4 + (4 * rank);
        if (length is long known && known - header != count)
        {
            throw new IdxFormatException($"IDX: {name} declares {Shape.Format(dims)} ({count} bytes) but holds {known - header} bytes of data.");
        }

        if (bound is long most && count > most - header)
        {
            throw new IdxFormatException($"IDX: {name} declares {Shape.Format(dims)} ({count} bytes), more than its compressed size can hold (at most {most - header}).");
        }

        return dims;
    }

    private static byte[] ReadBody(Stream stream, string name, int[] dims)
    {
        var count = Shape.Product(dims);
        var data = ReadData(stream, count, name, dims);
        if (stream.ReadByte() >= 0)
        {
            throw new IdxFormatException($"IDX: {name} has data beyond the {count} bytes that {Shape.Format(dims)} declares.");
        }

        return data;
    }

    /// <summary>Reads in chunks, so a file that claims more than it holds fails at its end without a huge allocation first.</summary>
    private static byte[] ReadData(Stream stream, int count, string name, int[] dims)
    {
        const int chunk = 1 << 20;
        var data = new byte[Math.Min(count, chunk)];
        var filled = 0;
        while (filled < count)
        {
            if (filled == data.Length)
            {
                Array.Resize(ref data, (int)Math.Min(count, 2L * data.Length));
            }

            var read = stream.Read(data, filled, data.Length - filled);
            if (read == 0)
            {
                throw new IdxFormatException($"IDX: {name} is truncated: {Shape.Format(dims)} needs {count} bytes of data, found {filled}.");
            }

            filled += read;
        }

        return data;
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer, string name, string what)
    {
        try
        {
            stream.ReadExactly(buffer);
        }
        catch (EndOfStreamException e)
        {
            throw new IdxFormatException($"IDX: {name} ends before {what}.", e);
        }
    }
}
