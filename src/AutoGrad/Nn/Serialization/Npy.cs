using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace AutoGrad.Serialization;

/// <summary>
/// NumPy's <c>.npy</c> format, version 1.0 to 3.0: the magic <c>\x93NUMPY</c>, a version, a header length, a Python
/// dict literal (<c>descr</c>, <c>fortran_order</c>, <c>shape</c>), then the raw data. Float32 and float64 only.
/// </summary>
public static partial class Npy
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
        stream.Write(tensor.DType == DType.Float32
            ? MemoryMarshal.AsBytes(tensor.AsReadOnlySpan<float>())
            : MemoryMarshal.AsBytes(tensor.AsReadOnlySpan<double>()));
    }

    /// <summary>Reads one <c>.npy</c> array of float32 or float64 (either byte order, C or Fortran order).</summary>
    /// <param name="stream">The stream, at the magic number.</param>
    /// <param name="name">The name for messages.</param>
    /// <param name="available">The bytes the stream holds, when known, to reject impossible shapes before allocating.</param>
    /// <returns>The tensor, in C order.</returns>
    /// <exception cref="CheckpointFormatException">The data is not valid <c>.npy</c> of a supported dtype.</exception>
    public static Tensor Read(Stream stream, string name, long? available = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
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
        var count = Shape.Create(dims).ElementCount;
        var bytes = (long)count * dtype.SizeInBytes();
        if (available is long known && bytes > known - 8 - headerLength)
        {
            throw new CheckpointFormatException($"npy: {name} declares {Shape.Format(dims)} ({bytes} bytes) but holds at most {known - 8 - headerLength}.");
        }

        // Fortran order is the C order of the reversed shape, transposed back.
        var storedDims = fortran ? dims.Reverse().ToArray() : dims;
        var tensor = Tensor.Zeros(storedDims, dtype);
        var raw = dtype == DType.Float32 ? MemoryMarshal.AsBytes(tensor.AsSpan<float>()) : MemoryMarshal.AsBytes(tensor.AsSpan<double>());
        ReadExactly(stream, raw, name);
        if (bigEndian != !BitConverter.IsLittleEndian)
        {
            if (dtype == DType.Float32)
            {
                BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, int>(raw), MemoryMarshal.Cast<byte, int>(raw));
            }
            else
            {
                BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, long>(raw), MemoryMarshal.Cast<byte, long>(raw));
            }
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
        var descr = DescrPattern().Match(header);
        var order = FortranPattern().Match(header);
        var shape = ShapePattern().Match(header);
        if (!descr.Success || !order.Success || !shape.Success)
        {
            throw new CheckpointFormatException($"npy: the header of {name} lacks descr, fortran_order or shape: {header.Trim()}");
        }

        var code = descr.Groups[1].Value;
        var dtype = code[1..] switch
        {
            "f4" => DType.Float32,
            "f8" => DType.Float64,
            _ => throw new CheckpointFormatException($"npy: {name} has dtype '{code}'; only float32 ('<f4') and float64 ('<f8') are supported."),
        };
        var dims = shape.Groups[1].Value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(d => int.TryParse(d, NumberStyles.None, CultureInfo.InvariantCulture, out var v)
                ? v
                : throw new CheckpointFormatException($"npy: {name} has an unreadable shape ({shape.Groups[1].Value})."))
            .ToArray();
        return (dtype, code[0] == '>', order.Groups[1].Value == "True", dims);
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

    [GeneratedRegex(@"'descr'\s*:\s*'([<>|=][a-z]\d+)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
