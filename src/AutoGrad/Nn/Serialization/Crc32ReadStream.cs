using System.IO.Hashing;

namespace AutoGrad.Nn.Serialization;

/// <summary>
/// A read-only stream that passes another through and keeps the CRC-32 of every byte read, so a zip entry can be
/// checked against the CRC its archive records (System.IO.Compression's ZipArchive does not check it).
/// </summary>
internal sealed class Crc32ReadStream(Stream inner) : Stream
{
    private readonly Crc32 _crc = new();

    /// <summary>The bytes read so far.</summary>
    public long BytesRead { get; private set; }

    /// <summary>The CRC-32 of the bytes read so far.</summary>
    public uint Crc => _crc.GetCurrentHashAsUInt32();

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => BytesRead;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var read = inner.Read(buffer);
        _crc.Append(buffer[..read]);
        BytesRead += read;
        return read;
    }

    /// <summary>Reads to the end, so the CRC covers everything the entry holds.</summary>
    /// <returns>How many bytes were left.</returns>
    public long Drain()
    {
        Span<byte> scratch = stackalloc byte[4096];
        long left = 0;
        int read;
        while ((read = Read(scratch)) > 0)
        {
            left += read;
        }

        return left;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
