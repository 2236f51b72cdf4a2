using System.Buffers.Binary;
using System.Text;

using AutoGrad.Autodiff;
using AutoGrad.Operations;
using AutoGrad.Tensors;

namespace AutoGrad.Nn.Serialization;

/// <summary>
/// NumPy's <c>.npy</c> format, version 1.0 to 3.0: the magic <c>\x93NUMPY</c>, a version, a header length, a Python
/// dict literal (<c>descr</c>, <c>fortran_order</c>, <c>shape</c>), then the raw data. Float32 and float64 only.
/// </summary>
public static class Npy
{
    private static readonly byte[] s_magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Writes one tensor as version 1.0 <c>.npy</c> in C order, little-endian.</summary>
    /// <param name="stream">The destination.</param>
    /// <param name="tensor">The tensor.</param>
    public static void Write(Stream stream, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(tensor);
        var shape = tensor.Rank switch
        {
            0 => "()",
            1 => $"({tensor.Shape[0]},)",
            _ => "(" + string.Join(", ", tensor.Shape.Dims.ToArray()) + ")",
        };
        var dict = $"{{'descr': '{(tensor.DType == DType.Float32 ? "<f4" : "<f8")}', 'fortran_order': False, 'shape': {shape}, }}";

        // The header (magic, version, length, dict, newline) is padded with spaces to a multiple of 64 bytes.
        var total = s_magic.Length + 2 + 2 + dict.Length + 1;
        dict = dict.PadRight(dict.Length + ((64 - (total % 64)) % 64)) + "\n";
        stream.Write(s_magic);
        stream.Write([1, 0]);
        Span<byte> length = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(length, (ushort)dict.Length);
        stream.Write(length);
        stream.Write(Encoding.ASCII.GetBytes(dict));
        TensorBytes.Write(stream, tensor);
    }

    /// <summary>Reads one <c>.npy</c> array of float32 or float64 (either byte order, C or Fortran order).</summary>
    /// <param name="stream">The stream, at the magic number.</param>
    /// <param name="name">The name for messages.</param>
    /// <param name="available">
    /// The bytes the stream holds from here, when known, to reject impossible shapes before allocating. For a
    /// seekable stream it defaults to the stream's remaining length; for another stream the data is read in chunks
    /// that grow only as it arrives.
    /// </param>
    /// <returns>The tensor, in C order.</returns>
    /// <exception cref="CheckpointFormatException">The data is not valid <c>.npy</c> of a supported dtype.</exception>
    public static Tensor Read(Stream stream, string name, long? available = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        available ??= stream.CanSeek ? stream.Length - stream.Position : null;
        Span<byte> prefix = stackalloc byte[8];
        ReadExactly(stream, prefix, name);
        if (!prefix[..6].SequenceEqual(s_magic))
        {
            throw new CheckpointFormatException($"npy: {name} does not start with the NumPy magic number.");
        }

        int major = prefix[6];
        int headerLength;
        if (major == 1)
        {
            Span<byte> two = stackalloc byte[2];
            ReadExactly(stream, two, name);
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(two);
        }
        else if (major is 2 or 3)
        {
            Span<byte> four = stackalloc byte[4];
            ReadExactly(stream, four, name);
            var declared = BinaryPrimitives.ReadUInt32LittleEndian(four);
            if (declared > 1 << 20)
            {
                throw new CheckpointFormatException($"npy: {name} declares a header of {declared} bytes.");
            }

            headerLength = (int)declared;
        }
        else
        {
            throw new CheckpointFormatException($"npy: {name} has format version {major}.{prefix[7]}; versions 1 to 3 are supported.");
        }

        var header = new byte[headerLength];
        ReadExactly(stream, header, name);
        var (dtype, bigEndian, fortran, dims) = ParseHeader(Encoding.Latin1.GetString(header), name);
        long count = 1;
        foreach (var d in dims)
        {
            count = Math.Min(count * d, (long)Array.MaxLength + 1);
        }

        if (count > Array.MaxLength)
        {
            throw new CheckpointFormatException($"npy: {name} declares {Shape.Format(dims)}, more elements than a tensor can hold.");
        }

        var bytes = count * dtype.SizeInBytes();
        var dataOffset = 8 + (major == 1 ? 2 : 4) + headerLength;
        if (available is long known && bytes > known - dataOffset)
        {
            throw new CheckpointFormatException($"npy: {name} declares {Shape.Format(dims)} ({bytes} bytes) but holds at most {known - dataOffset}.");
        }

        // Fortran order is the C order of the reversed shape, transposed back.
        var storedDims = fortran ? dims.Reverse().ToArray() : dims;
        Tensor tensor;
        try
        {
            if (available is not null)
            {
                tensor = Tensor.Zeros(storedDims, dtype);
                TensorBytes.Read(stream, tensor, bigEndian);
            }
            else
            {
                tensor = ElementType.Dispatch<GrowingRead, Tensor>(dtype, new GrowingRead(stream, (int)count, bigEndian, Shape.Create(storedDims)));
            }
        }
        catch (EndOfStreamException e)
        {
            throw new CheckpointFormatException($"npy: {name} is truncated.", e);
        }

        if (!fortran || dims.Length < 2)
        {
            return tensor;
        }

        var reversed = Enumerable.Range(0, dims.Length).Reverse().ToArray();
        using (Tape.NoGrad())
        {
            return Ops.Permute(tensor, reversed);
        }
    }

    private static (DType DType, bool BigEndian, bool Fortran, int[] Dims) ParseHeader(string header, string name)
    {
        var (code, fortran, dims) = NpyHeader.Parse(header, name);
        var dtype = code switch
        {
            "<f4" or ">f4" or "=f4" => DType.Float32,
            "<f8" or ">f8" or "=f8" => DType.Float64,
            _ => throw new CheckpointFormatException($"npy: {name} has dtype '{code}'; only float32 ('<f4') and float64 ('<f8') are supported."),
        };
        var bigEndian = code[0] == '>' || (code[0] == '=' && !BitConverter.IsLittleEndian);
        return (dtype, bigEndian, fortran, dims);
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer, string name)
    {
        try
        {
            stream.ReadExactly(buffer);
        }
        catch (EndOfStreamException e)
        {
            throw new CheckpointFormatException($"npy: {name} is truncated.", e);
        }
    }

    /// <summary>Reads a tensor of unknown stored length in growing chunks (see <see cref="TensorBytes.ReadGrowing{T}"/>).</summary>
    private readonly struct GrowingRead(Stream stream, int count, bool bigEndian, Shape shape) : IElementFunction<Tensor>
    {
        public Tensor Run<T>()
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> => Tensor.Wrap(TensorBytes.ReadGrowing<T>(stream, count, bigEndian), shape);
    }
}
