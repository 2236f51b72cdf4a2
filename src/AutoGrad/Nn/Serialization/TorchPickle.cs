using System.Buffers.Binary;
using System.Text;

namespace AutoGrad.Nn.Serialization;

/// <summary>
/// A pickle reader for what <c>torch.save</c> writes for state dicts, and nothing else: dicts (plain and
/// <c>OrderedDict</c>), lists, tuples, numbers, strings, and tensors rebuilt from storages. A pickle is a program for a
/// stack machine that may import and call any Python function; this reader knows a fixed handful of names and refuses
/// every other global and every opcode outside the subset, so a file can describe data but never run anything.
/// </summary>
internal static class TorchPickle
{
    /// <summary>The globals a state dict needs; each is interpreted here, none is ever looked up or called.</summary>
    private static readonly HashSet<(string Module, string Name)> s_allowed =
    [
        ("collections", "OrderedDict"),
        ("torch._utils", "_rebuild_tensor_v2"),
        ("torch._utils", "_rebuild_parameter"),
        .. TorchStorageType.All.Select(type => ("torch", type.Name)),
    ];

    /// <summary>A marker pushed by MARK; never a value.</summary>
    private static readonly object s_mark = new();

    /// <summary>Runs the pickle in <paramref name="data"/> and returns the object it builds.</summary>
    /// <param name="data">The bytes of <c>data.pkl</c>.</param>
    /// <param name="file">The file, for messages.</param>
    /// <returns>The object: a <see cref="PickleDict"/>, a list, a tuple, a <see cref="TorchTensorRecord"/>, a number, a string or null.</returns>
    /// <exception cref="CheckpointFormatException">The pickle is malformed, or asks for anything outside the subset.</exception>
    public static object? Load(byte[] data, string file)
    {
        var reader = new Reader(data, file);
        var stack = new List<object?>();
        var marks = new Stack<int>();
        var memo = new Dictionary<long, object?>();
        while (true)
        {
            var at = reader.Position;
            var opcode = reader.Byte();
            switch (opcode)
            {
                case 0x80: // PROTO
                    var protocol = reader.Byte();
                    if (protocol > 5)
                    {
                        throw reader.Error(at, $"pickle protocol {protocol} is newer than any Python writes");
                    }

                    break;
                case 0x95: // FRAME: a length hint, nothing to do
                    reader.Skip(8);
                    break;
                case (byte)'.': // STOP
                    if (stack.Count != 1 || marks.Count != 0)
                    {
                        throw reader.Error(at, $"the pickle stops with {stack.Count} values on its stack and {marks.Count} open marks instead of one value");
                    }

                    return stack[0];
                case (byte)'(': // MARK
                    marks.Push(stack.Count);
                    stack.Add(s_mark);
                    break;
                case (byte)')': // EMPTY_TUPLE
                    stack.Add(new PickleTuple([]));
                    break;
                case (byte)'t': // TUPLE
                    stack.Add(new PickleTuple(PopMark(stack, marks, reader, at)));
                    break;
                case 0x85: // TUPLE1
                case 0x86: // TUPLE2
                case 0x87: // TUPLE3
                    stack.Add(new PickleTuple(Pop(stack, opcode - 0x84, reader, at)));
                    break;
                case (byte)']': // EMPTY_LIST
                    stack.Add(new List<object?>());
                    break;
                case (byte)'a': // APPEND
                    var item = Pop(stack, 1, reader, at)[0];
                    Top<List<object?>>(stack, reader, at, "APPEND").Add(item);
                    break;
                case (byte)'e': // APPENDS
                    var items = PopMark(stack, marks, reader, at);
                    Top<List<object?>>(stack, reader, at, "APPENDS").AddRange(items);
                    break;
                case (byte)'}': // EMPTY_DICT
                    stack.Add(new PickleDict());
                    break;
                case (byte)'s': // SETITEM
                    var pair = Pop(stack, 2, reader, at);
                    SetItem(Top<PickleDict>(stack, reader, at, "SETITEM"), pair[0], pair[1], reader, at);
                    break;
                case (byte)'u': // SETITEMS
                    var pairs = PopMark(stack, marks, reader, at);
                    if (pairs.Length % 2 != 0)
                    {
                        throw reader.Error(at, $"SETITEMS has {pairs.Length} values, not key-value pairs");
                    }

                    var dict = Top<PickleDict>(stack, reader, at, "SETITEMS");
                    for (var i = 0; i < pairs.Length; i += 2)
                    {
                        SetItem(dict, pairs[i], pairs[i + 1], reader, at);
                    }

                    break;
                case (byte)'N': // NONE
                    stack.Add(null);
                    break;
                case 0x88: // NEWTRUE
                case 0x89: // NEWFALSE
                    stack.Add(opcode == 0x88);
                    break;
                case (byte)'J': // BININT
                    stack.Add((long)reader.Int32());
                    break;
                case (byte)'K': // BININT1
                    stack.Add((long)reader.Byte());
                    break;
                case (byte)'M': // BININT2
                    stack.Add((long)reader.UInt16());
                    break;
                case 0x8a: // LONG1
                    stack.Add(reader.Long1(at));
                    break;
                case (byte)'G': // BINFLOAT
                    stack.Add(reader.Double());
                    break;
                case (byte)'X': // BINUNICODE
                    stack.Add(reader.Utf8(reader.UInt32(), at));
                    break;
                case 0x8c: // SHORT_BINUNICODE
                    stack.Add(reader.Utf8(reader.Byte(), at));
                    break;
                case 0x8d: // BINUNICODE8
                    stack.Add(reader.Utf8(reader.UInt64(), at));
                    break;
                case (byte)'q': // BINPUT
                    memo[reader.Byte()] = Peek(stack, reader, at);
                    break;
                case (byte)'r': // LONG_BINPUT
                    memo[reader.UInt32()] = Peek(stack, reader, at);
                    break;
                case 0x94: // MEMOIZE
                    memo[memo.Count] = Peek(stack, reader, at);
                    break;
                case (byte)'h': // BINGET
                case (byte)'j': // LONG_BINGET
                    var key = opcode == (byte)'h' ? reader.Byte() : reader.UInt32();
                    stack.Add(memo.TryGetValue(key, out var remembered) ? remembered : throw reader.Error(at, $"it reads memo entry {key}, which was never stored"));
                    break;
                case (byte)'c': // GLOBAL
                    stack.Add(Global(reader.Line(at), reader.Line(at), reader, at));
                    break;
                case 0x93: // STACK_GLOBAL
                    var names = Pop(stack, 2, reader, at);
                    stack.Add(names is [string module, string name] ? Global(module, name, reader, at) : throw reader.Error(at, "STACK_GLOBAL takes two strings"));
                    break;
                case (byte)'R': // REDUCE
                    var call = Pop(stack, 2, reader, at);
                    stack.Add(Reduce(call[0], call[1] as PickleTuple ?? throw reader.Error(at, "REDUCE takes its arguments as a tuple"), reader, at));
                    break;
                case (byte)'b': // BUILD: only an OrderedDict's attributes (a state dict's _metadata), which are not data
                    var state = Pop(stack, 1, reader, at)[0];
                    Top<PickleDict>(stack, reader, at, "BUILD");
                    if (state is not (PickleDict or null))
                    {
                        throw reader.Error(at, "BUILD sets a dict's attributes from something other than a dict");
                    }

                    break;
                case (byte)'Q': // BINPERSID: a storage, kept outside the pickle
                    stack.Add(Storage(Pop(stack, 1, reader, at)[0], reader, at));
                    break;
                default:
                    throw reader.Error(at, $"opcode 0x{opcode:x2} ('{(opcode is >= 0x20 and < 0x7f ? (char)opcode : '?')}') is not one torch.save writes for a state dict, so it is refused");
            }
        }
    }

    /// <summary>Keys are strings or integers (an optimizer's state is keyed by parameter index): anything else is no state dict's.</summary>
    private static void SetItem(PickleDict dict, object? key, object? value, Reader reader, long at) =>
        dict.Set(key is string or long ? key : throw reader.Error(at, "a dict has a key that is neither a string nor an integer"), value);

    private static object Global(string module, string name, Reader reader, long at)
    {
        if (!s_allowed.Contains((module, name)))
        {
            throw reader.Error(
                at,
                $"it refers to the Python global {module}.{name}. AutoGrad reads tensors and runs nothing, so it refuses every global " +
                "but collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter and the torch storage types");
        }

        return new PickleGlobal(module, name);
    }

    /// <summary>What torch.save's calls build, interpreted: an empty OrderedDict, a tensor, a parameter's tensor.</summary>
    private static object Reduce(object? callable, PickleTuple arguments, Reader reader, long at)
    {
        var args = arguments.Items;
        switch (callable)
        {
            case PickleGlobal { Name: "OrderedDict" } when args.Length == 0:
                return new PickleDict();
            case PickleGlobal { Name: "_rebuild_tensor_v2" } when args.Length is 6 or 7:
                if (args[0] is not TorchStorageRecord storage || args[1] is not long offset || args[2] is not PickleTuple size || args[3] is not PickleTuple stride)
                {
                    throw reader.Error(at, "_rebuild_tensor_v2 takes a storage, an offset, a size and a stride");
                }

                return new TorchTensorRecord(storage, offset, Integers(size, "size", reader, at), Integers(stride, "stride", reader, at));
            case PickleGlobal { Name: "_rebuild_parameter" } when args.Length == 3:
                return args[0] as TorchTensorRecord ?? throw reader.Error(at, "_rebuild_parameter takes a tensor");
            default:
                var what = callable is PickleGlobal global ? $"{global.Module}.{global.Name} with {args.Length} arguments" : "something that is not a function";
                throw reader.Error(at, $"it calls {what}, which is not a call torch.save writes for a state dict");
        }
    }

    /// <summary>A persistent id: ('storage', storage type, key, location, element count).</summary>
    private static TorchStorageRecord Storage(object? id, Reader reader, long at)
    {
        if (id is PickleTuple { Items: ["storage", PickleGlobal { Module: "torch" } type, string key, string, long count] } && count >= 0
            && TorchStorageType.All.FirstOrDefault(t => t.Name == type.Name) is { } storageType)
        {
            return new TorchStorageRecord(storageType, key, count);
        }

        throw reader.Error(at, "a persistent id is not ('storage', a torch storage type, key, location, element count)");
    }

    private static long[] Integers(PickleTuple tuple, string what, Reader reader, long at)
    {
        var values = new long[tuple.Items.Length];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = tuple.Items[i] as long? ?? throw reader.Error(at, $"a tensor's {what} holds something that is not an integer");
        }

        return values;
    }

    private static object?[] Pop(List<object?> stack, int count, Reader reader, long at)
    {
        var start = stack.Count - count;
        if (start < 0 || stack.Skip(start).Contains(s_mark))
        {
            throw reader.Error(at, $"an opcode takes {count} values from a stack that holds fewer");
        }

        var values = stack.GetRange(start, count).ToArray();
        stack.RemoveRange(start, count);
        return values;
    }

    private static object?[] PopMark(List<object?> stack, Stack<int> marks, Reader reader, long at)
    {
        if (marks.Count == 0)
        {
            throw reader.Error(at, "an opcode takes the values after a MARK, and there is none");
        }

        var start = marks.Pop();
        var values = stack.GetRange(start + 1, stack.Count - start - 1).ToArray();
        stack.RemoveRange(start, stack.Count - start);
        return values;
    }

    private static object? Peek(List<object?> stack, Reader reader, long at) =>
        stack.Count > 0 && stack[^1] != s_mark ? stack[^1] : throw reader.Error(at, "it stores to the memo from an empty stack");

    private static T Top<T>(List<object?> stack, Reader reader, long at, string opcode)
        where T : class =>
        stack.Count > 0 && stack[^1] is T top ? top : throw reader.Error(at, $"{opcode} finds no {(typeof(T) == typeof(PickleDict) ? "dict" : "list")} below its values");

    /// <summary>The pickle's bytes, read with bounds checks that name the file and the offset.</summary>
    private sealed class Reader(byte[] data, string file)
    {
        public long Position { get; private set; }

        public byte Byte() => Take(1)[0];

        public ushort UInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));

        public int Int32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

        public uint UInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

        public ulong UInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

        public double Double() => BinaryPrimitives.ReadDoubleBigEndian(Take(8));

        public void Skip(int count) => Take(count);

        /// <summary>A little-endian two's-complement integer of up to 8 bytes (larger ones are no tensor metadata).</summary>
        public long Long1(long at)
        {
            var length = Byte();
            if (length > 8)
            {
                throw Error(at, $"an integer of {length} bytes is larger than any size, stride or count");
            }

            var bytes = Take(length);
            long value = 0;
            for (var i = length - 1; i >= 0; i--)
            {
                value = (value << 8) | bytes[i];
            }

            // Sign-extend from the top byte written.
            return length is > 0 and < 8 && (bytes[length - 1] & 0x80) != 0 ? value - (1L << (8 * length)) : value;
        }

        public string Utf8(ulong length, long at)
        {
            if (length > (ulong)(data.Length - Position))
            {
                throw Error(at, $"a string of {length} bytes runs past the end of the pickle");
            }

            try
            {
                return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Take((int)length));
            }
            catch (DecoderFallbackException e)
            {
                throw new CheckpointFormatException($"pt: the pickle in {file} has a string that is not UTF-8 at byte {at}.", e);
            }
        }

        /// <summary>A newline-terminated ASCII line (GLOBAL's module and name).</summary>
        public string Line(long at)
        {
            var end = Array.IndexOf(data, (byte)'\n', (int)Position, (int)Math.Min(256, data.Length - Position));
            if (end < 0)
            {
                throw Error(at, "a global's name is not a line of at most 256 bytes");
            }

            var line = Encoding.ASCII.GetString(data, (int)Position, end - (int)Position);
            Position = end + 1;
            return line;
        }

        public CheckpointFormatException Error(long at, string what) =>
            new($"pt: the pickle in {file} cannot be read at byte {at}: {what}.");

        private ReadOnlySpan<byte> Take(int count)
        {
            if (count > data.Length - Position)
            {
                throw new CheckpointFormatException($"pt: the pickle in {file} ends at byte {data.Length} in the middle of an opcode.");
            }

            var span = data.AsSpan((int)Position, count);
            Position += count;
            return span;
        }
    }
}

/// <summary>A Python global named in a pickle (one of the allowed few); never resolved to code.</summary>
internal sealed record PickleGlobal(string Module, string Name);

/// <summary>A pickled tuple.</summary>
internal sealed record PickleTuple(object?[] Items);

/// <summary>A pickled dict or OrderedDict, its keys in order.</summary>
internal sealed class PickleDict
{
    private readonly Dictionary<object, int> _index = [];

    /// <summary>The entries in insertion order.</summary>
    public List<(object Key, object? Value)> Items { get; } = [];

    /// <summary>Adds or replaces an entry.</summary>
    public void Set(object key, object? value)
    {
        if (_index.TryGetValue(key, out var existing))
        {
            Items[existing] = (key, value);
        }
        else
        {
            _index[key] = Items.Count;
            Items.Add((key, value));
        }
    }
}
