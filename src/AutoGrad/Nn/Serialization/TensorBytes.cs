using System.Buffers.Binary;
using System.Runtime.InteropServices;

using AutoGrad.Tensors;

namespace AutoGrad.Nn.Serialization;

/// <summary>
/// A tensor's elements to and from a stream as little-endian bytes, in chunks: a span of bytes cannot be longer than
/// 2 GiB, while a float32 tensor can hold 8 GiB, so the whole tensor is never viewed as one byte span.
/// </summary>
internal static class TensorBytes
{
    /// <summary>Elements per chunk: 4 MiB of float32, small enough for any span, large enough to stream at disk speed.</summary>
    private const int ChunkElements = 1 << 20;

    /// <summary>Writes every element, little-endian.</summary>
    public static void Write(Stream stream, Tensor tensor)
    {
        ElementType.Dispatch(tensor.DType, new Transfer(stream, tensor, write: true, bigEndian: false));
    }

    /// <summary>Fills every element of <paramref name="tensor"/> (which owns its memory) from the stream.</summary>
    /// <param name="stream">The source.</param>
    /// <param name="tensor">The destination.</param>
    /// <param name="bigEndian">Whether the stored bytes are big-endian.</param>
    /// <exception cref="EndOfStreamException">The stream ends early.</exception>
    public static void Read(Stream stream, Tensor tensor, bool bigEndian)
    {
        ElementType.Dispatch(tensor.DType, new Transfer(stream, tensor, write: false, bigEndian));
    }

    /// <summary>Writes a tensor's elements to the stream, or reads them from it.</summary>
    private readonly struct Transfer(Stream stream, Tensor tensor, bool write, bool bigEndian) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            if (write)
            {
                Write(stream, tensor.AsReadOnlySpan<T>());
            }
            else
            {
                Read(stream, tensor.AsSpan<T>(), bigEndian);
            }
        }
    }

    /// <summary>
    /// Reads <paramref name="count"/> elements from a stream of unknown length into an array that grows (doubling from
    /// one chunk) only as data arrives, so a header that claims gigabytes costs nothing until they are really there.
    /// </summary>
    /// <exception cref="EndOfStreamException">The stream ends early.</exception>
    public static T[] ReadGrowing<T>(Stream stream, int count, bool bigEndian)
        where T : unmanaged
    {
        var data = GC.AllocateUninitializedArray<T>(Math.Min(count, ChunkElements));
        var filled = 0;
        while (filled < count)
        {
            if (filled == data.Length)
            {
                Array.Resize(ref data, (int)Math.Min(count, 2L * data.Length));
            }

            var length = Math.Min(ChunkElements, data.Length - filled);
            Read(stream, data.AsSpan(filled, length), bigEndian);
            filled += length;
        }

        return data;
    }

    private static void Write<T>(Stream stream, ReadOnlySpan<T> values)
        where T : unmanaged
    {
        for (var start = 0; start < values.Length; start += ChunkElements)
        {
            stream.Write(MemoryMarshal.AsBytes(values.Slice(start, Math.Min(ChunkElements, values.Length - start))));
        }
    }

    private static void Read<T>(Stream stream, Span<T> values, bool bigEndian)
        where T : unmanaged
    {
        for (var start = 0; start < values.Length; start += ChunkElements)
        {
            var chunk = values.Slice(start, Math.Min(ChunkElements, values.Length - start));
            var bytes = MemoryMarshal.AsBytes(chunk);
            stream.ReadExactly(bytes);

            if (bigEndian == BitConverter.IsLittleEndian)
            {
                if (typeof(T) == typeof(float))
                {
                    BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, int>(bytes), MemoryMarshal.Cast<byte, int>(bytes));
                }
                else
                {
                    BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, long>(bytes), MemoryMarshal.Cast<byte, long>(bytes));
                }
            }
        }
    }
}
