using System.Buffers.Binary;

using AutoGrad.Tensors;

namespace AutoGrad.Nn.Serialization;

/// <summary>
/// A torch storage type as <c>torch.save</c> names it (<c>torch.FloatStorage</c>, …): its element size, and how its
/// elements become AutoGrad's. Half and bfloat16 are widened to float32; integers and booleans become float64, which
/// holds every integer up to 2⁵³ exactly (a larger one is refused, not rounded).
/// </summary>
internal sealed record TorchStorageType(string Name, TorchElement Element, int ElementSize, DType Target)
{
    /// <summary>The storage types torch.save writes.</summary>
    public static readonly TorchStorageType[] All =
    [
        new("FloatStorage", TorchElement.Float32, 4, DType.Float32),
        new("DoubleStorage", TorchElement.Float64, 8, DType.Float64),
        new("HalfStorage", TorchElement.Float16, 2, DType.Float32),
        new("BFloat16Storage", TorchElement.BFloat16, 2, DType.Float32),
        new("LongStorage", TorchElement.Int64, 8, DType.Float64),
        new("IntStorage", TorchElement.Int32, 4, DType.Float64),
        new("ShortStorage", TorchElement.Int16, 2, DType.Float64),
        new("CharStorage", TorchElement.Int8, 1, DType.Float64),
        new("ByteStorage", TorchElement.UInt8, 1, DType.Float64),
        new("BoolStorage", TorchElement.Bool, 1, DType.Float64),
    ];

    /// <summary>Element <paramref name="index"/> of a storage's bytes, as a double (exact for every type).</summary>
    public double Read(ReadOnlySpan<byte> bytes, long index, bool bigEndian)
    {
        var at = bytes.Slice(checked((int)(index * ElementSize)), ElementSize);
        return Element switch
        {
            TorchElement.Float32 => bigEndian ? BinaryPrimitives.ReadSingleBigEndian(at) : BinaryPrimitives.ReadSingleLittleEndian(at),
            TorchElement.Float64 => bigEndian ? BinaryPrimitives.ReadDoubleBigEndian(at) : BinaryPrimitives.ReadDoubleLittleEndian(at),
            TorchElement.Float16 => (double)(bigEndian ? BinaryPrimitives.ReadHalfBigEndian(at) : BinaryPrimitives.ReadHalfLittleEndian(at)),
            TorchElement.BFloat16 => BitConverter.Int32BitsToSingle((bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(at) : BinaryPrimitives.ReadUInt16LittleEndian(at)) << 16),
            TorchElement.Int64 => Exact(bigEndian ? BinaryPrimitives.ReadInt64BigEndian(at) : BinaryPrimitives.ReadInt64LittleEndian(at)),
            TorchElement.Int32 => bigEndian ? BinaryPrimitives.ReadInt32BigEndian(at) : BinaryPrimitives.ReadInt32LittleEndian(at),
            TorchElement.Int16 => bigEndian ? BinaryPrimitives.ReadInt16BigEndian(at) : BinaryPrimitives.ReadInt16LittleEndian(at),
            TorchElement.Int8 => (sbyte)at[0],
            TorchElement.UInt8 => at[0],
            _ => at[0] != 0 ? 1 : 0,
        };
    }

    private static double Exact(long value) =>
        Math.Abs(value) <= 1L << 53 ? value : throw new CheckpointFormatException($"pt: the int64 value {value} is beyond 2^53 and has no exact float64; AutoGrad refuses to round it.");
}

/// <summary>The element types of torch storages.</summary>
internal enum TorchElement
{
    /// <summary>float32.</summary>
    Float32,

    /// <summary>float64.</summary>
    Float64,

    /// <summary>IEEE half precision.</summary>
    Float16,

    /// <summary>bfloat16: float32's top 16 bits.</summary>
    BFloat16,

    /// <summary>int64.</summary>
    Int64,

    /// <summary>int32.</summary>
    Int32,

    /// <summary>int16.</summary>
    Int16,

    /// <summary>int8.</summary>
    Int8,

    /// <summary>uint8.</summary>
    UInt8,

    /// <summary>bool, one byte.</summary>
    Bool,
}

/// <summary>A storage a pickle refers to (BINPERSID): its type, its record's key in the archive, its element count.</summary>
internal sealed record TorchStorageRecord(TorchStorageType Type, string Key, long Count);

/// <summary>A tensor as torch.save describes it: a view of a storage, from an offset, with a size and strides in elements.</summary>
internal sealed record TorchTensorRecord(TorchStorageRecord Storage, long Offset, long[] Size, long[] Stride)
{
    /// <summary>The most axes a tensor here may have.</summary>
    private const int MaxRank = 32;

    /// <summary>
    /// The tensor's elements gathered from its storage's bytes (strides, offsets and shared storages as torch wrote
    /// them) into a new AutoGrad tensor of the storage type's target type, after checking that every element it
    /// addresses lies inside the storage.
    /// </summary>
    public Tensor Materialize(byte[] storage, bool bigEndian, string name, string file)
    {
        var rank = Size.Length;
        if (rank > MaxRank || Stride.Length != rank || Offset < 0 || Size.Any(d => d is < 0 or > int.MaxValue) || Stride.Any(s => s < 0))
        {
            throw new CheckpointFormatException(
                $"pt: '{name}' in {file} has size ({string.Join(", ", Size)}), stride ({string.Join(", ", Stride)}) and offset {Offset}, which describe no tensor.");
        }

        long count = 1, last = Offset;
        try
        {
            foreach (var (size, stride) in Size.Zip(Stride))
            {
                count = checked(count * size);
                last = checked(last + (Math.Max(size, 1) - 1) * stride);
            }
        }
        catch (OverflowException)
        {
            count = long.MaxValue;
        }

        if (count > int.MaxValue || (count > 0 && last >= Storage.Count))
        {
            throw new CheckpointFormatException(
                $"pt: '{name}' in {file} reaches element {last} of a storage of {Storage.Count} (size ({string.Join(", ", Size)}), stride ({string.Join(", ", Stride)}), offset {Offset}).");
        }

        var values = new double[count];
        Span<long> index = stackalloc long[rank];
        var source = Offset;
        for (var k = 0; k < count; k++)
        {
            values[k] = Storage.Type.Read(storage, source, bigEndian);
            for (var d = rank - 1; d >= 0; d--)
            {
                source += Stride[d];
                if (++index[d] < Size[d])
                {
                    break;
                }

                source -= Stride[d] * Size[d];
                index[d] = 0;
            }
        }

        var target = Storage.Type.Target;
        return rank == 0 ? Tensor.Scalar(values[0], target) : Tensor.FromArray(values, target, [.. Size.Select(d => (int)d)]);
    }
}
