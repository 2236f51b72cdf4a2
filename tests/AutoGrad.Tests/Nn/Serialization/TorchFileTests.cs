using System.IO.Compression;
using System.Text;

using AutoGrad.Nn.Serialization;

namespace AutoGrad.Tests.Nn.Serialization;

/// <summary>
/// <see cref="TorchFile"/> against files written by PyTorch 1.13's <c>torch.save</c> (Fixtures/make_torch_fixtures.py):
/// every tensor equals what PyTorch held, as NumPy recorded it; and hand-made pickles that would run code, or use
/// opcodes torch.save does not, are refused by name.
/// </summary>
public class TorchFileTests
{
    private static readonly string s_fixtures = Path.Combine(RepositoryFiles.Root, "tests/AutoGrad.Tests/Nn/Serialization/Fixtures");

    private static Dictionary<string, Tensor> Expected() =>
        Npz.Load(Path.Combine(s_fixtures, "torch-expected.npz")).ToDictionary(t => t.Name, t => t.Tensor);

    [Fact]
    public void A_state_dict_saved_by_pytorch_loads_with_its_names_order_and_values()
    {
        var loaded = TorchFile.Load(Path.Combine(s_fixtures, "torch-state-dict.pt"));
        string[] names =
        [
            "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked", "3.weight", "3.bias",
        ];
        Assert.Equal(names, loaded.Select(t => t.Name).ToArray());
        var expected = Expected();
        foreach (var (name, tensor) in loaded)
        {
            Assert.Equal(expected[name].Shape, tensor.Shape);
            Assert.Equal(expected[name].ToDoubleArray(), tensor.ToDoubleArray());
        }

        // Linear weights keep PyTorch's (out, in) layout; the step counter is an int64 that became an exact float64.
        Assert.Equal(Shape.Create([4, 3]), loaded[0].Tensor.Shape);
        Assert.Equal(DType.Float32, loaded[0].Tensor.DType);
        Assert.Equal(DType.Float64, loaded[6].Tensor.DType);
        Assert.Equal(1.0, loaded[6].Tensor.Item());
    }

    [Fact]
    public void Narrow_types_views_shared_storages_and_nested_containers_load_as_pytorch_held_them()
    {
        var loaded = TorchFile.Load(Path.Combine(s_fixtures, "torch-containers.pt")).ToDictionary(t => t.Name, t => t.Tensor);
        var expected = Expected();
        string[] names = ["half", "bf16", "double", "int", "mask", "nested.transposed", "nested.row", "nested.scalar", "list.0", "list.1"];
        Assert.Equal(names.Order(), loaded.Keys.Order());
        foreach (var name in names)
        {
            Assert.Equal(expected[name].Shape, loaded[name].Shape);
            Assert.Equal(expected[name].ToDoubleArray(), loaded[name].ToDoubleArray());
        }

        Assert.Equal(DType.Float32, loaded["half"].DType);
        Assert.Equal(DType.Float32, loaded["bf16"].DType);
        Assert.Equal(65504.0, loaded["half"][2]);
        Assert.Equal(DType.Float64, loaded["int"].DType);
        Assert.Equal(Shape.Create([4, 3]), loaded["nested.transposed"].Shape);
        Assert.Equal(0.125 * 3, loaded["nested.transposed"][3, 0]);
    }

    [Fact]
    public void A_pickle_that_would_run_a_shell_command_is_refused_by_name()
    {
        // In Python, torch.load (weights_only=False) or pickle.load of this file runs os.system.
        var refused = Assert.Throws<CheckpointFormatException>(() => TorchFile.Load(Path.Combine(s_fixtures, "torch-malicious.pt")));
        Assert.Contains("posix.system", refused.Message, StringComparison.Ordinal);
        Assert.Contains("runs nothing", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("builtins\neval\n")]
    [InlineData("torch\nload\n")]
    [InlineData("torch._utils\n_rebuild_qtensor\n")]
    [InlineData("collections\ndefaultdict\n")]
    public void Every_global_but_the_few_tensors_need_is_refused(string global)
    {
        byte[] pickle = [0x80, 2, (byte)'c', .. Encoding.ASCII.GetBytes(global), (byte)')', (byte)'R', (byte)'.'];
        var refused = Assert.Throws<CheckpointFormatException>(() => TorchFile.Read(Archive(pickle), "hand-made"));
        Assert.Contains(global.Replace('\n', '.').TrimEnd('.'), refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData((byte)'i', "0x69")] // INST: builds an object by calling its class
    [InlineData((byte)'o', "0x6f")] // OBJ
    [InlineData(0x81, "0x81")] // NEWOBJ
    [InlineData((byte)'P', "0x50")] // PERSID (text)
    [InlineData((byte)'S', "0x53")] // STRING (protocol 0)
    public void Opcodes_torch_save_does_not_write_are_refused_with_their_offset(byte opcode, string hex)
    {
        byte[] pickle = [0x80, 2, (byte)'}', opcode, (byte)'.'];
        var refused = Assert.Throws<CheckpointFormatException>(() => TorchFile.Read(Archive(pickle), "hand-made"));
        Assert.Contains(hex, refused.Message, StringComparison.Ordinal);
        Assert.Contains("byte 3", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_archives_and_tensors_get_the_reader_s_exception()
    {
        // A tensor that reaches past its storage (4 floats, size 5).
        var pickle = TensorPickle(size: 5, count: 4);
        var outside = Assert.Throws<CheckpointFormatException>(() => TorchFile.Read(Archive(pickle, ("archive/data/0", new byte[16])), "past"));
        Assert.Contains("storage of 4", outside.Message, StringComparison.Ordinal);

        // A storage record shorter than its element count, and one that is missing.
        var shortStorage = Assert.Throws<CheckpointFormatException>(() => TorchFile.Read(Archive(TensorPickle(4, 4), ("archive/data/0", new byte[12])), "short"));
        Assert.Contains("need 16", shortStorage.Message, StringComparison.Ordinal);
        Assert.Throws<CheckpointFormatException>(() => TorchFile.Read(Archive(TensorPickle(4, 4)), "missing"));

        // The legacy (pre-1.6) format, a zip without data.pkl, and something that is no zip at all.
        var legacy = Assert.Throws<CheckpointFormatException>(() => TorchFile.Read(new MemoryStream([0x80, 2, 0x8a, 0x0a]), "old.pt"));
        Assert.Contains("legacy", legacy.Message, StringComparison.Ordinal);
        Assert.Throws<CheckpointFormatException>(() => TorchFile.Read(Archive(null, ("archive/version", "3"u8.ToArray())), "empty"));
        Assert.Throws<CheckpointFormatException>(() => TorchFile.Read(new MemoryStream(Encoding.ASCII.GetBytes("not a zip file at all")), "text"));

        // A pickle cut short, and one whose list contains itself.
        Assert.Throws<CheckpointFormatException>(() => TorchFile.Read(Archive([0x80, 2, (byte)'}', (byte)'X', 9, 0, 0, 0, (byte)'a']), "cut"));
        byte[] cycle = [0x80, 2, (byte)']', (byte)'q', 0, (byte)'h', 0, (byte)'a', (byte)'.'];
        var cyclic = Assert.Throws<CheckpointFormatException>(() => TorchFile.Read(Archive(cycle), "cycle"));
        Assert.Contains("repeat", cyclic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_big_endian_archive_reads_its_storages_big_endian()
    {
        byte[] big = [0x3f, 0x80, 0, 0, 0xc0, 0, 0, 0, 0x40, 0x40, 0, 0, 0x3e, 0x80, 0, 0]; // 1, −2, 3, 0.25
        var loaded = TorchFile.Read(Archive(TensorPickle(4, 4), ("archive/data/0", big), ("archive/byteorder", "big"u8.ToArray())), "big");
        Assert.Equal([1.0, -2.0, 3.0, 0.25], loaded.Single().Tensor.ToDoubleArray());
    }

    /// <summary>A pickle of {'w': a float32 tensor of <paramref name="size"/> elements on storage '0' of <paramref name="count"/>}.</summary>
    private static byte[] TensorPickle(int size, int count)
    {
        var bytes = new List<byte> { 0x80, 2, (byte)'}', (byte)'X', 1, 0, 0, 0, (byte)'w', (byte)'c' };
        bytes.AddRange(Encoding.ASCII.GetBytes("torch._utils\n_rebuild_tensor_v2\n"));
        bytes.AddRange([(byte)'(', (byte)'(', (byte)'X', 7, 0, 0, 0, .. "storage"u8.ToArray(), (byte)'c', .. Encoding.ASCII.GetBytes("torch\nFloatStorage\n")]);
        bytes.AddRange([(byte)'X', 1, 0, 0, 0, (byte)'0', (byte)'X', 3, 0, 0, 0, .. "cpu"u8.ToArray(), (byte)'K', (byte)count, (byte)'t', (byte)'Q']);
        bytes.AddRange([(byte)'K', 0, (byte)'K', (byte)size, 0x85, (byte)'K', 1, 0x85, 0x89, (byte)'}', (byte)'t', (byte)'R', (byte)'s', (byte)'.']);
        return [.. bytes];
    }

    /// <summary>A torch.save-shaped zip: the pickle as archive/data.pkl (none when null) and the other records given.</summary>
    private static MemoryStream Archive(byte[]? pickle, params (string Name, byte[] Bytes)[] records)
    {
        var stream = new MemoryStream();
        using (var archive = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, bytes) in pickle is null ? records : [("archive/data.pkl", pickle), .. records])
            {
                using var entry = archive.CreateEntry(name, CompressionLevel.NoCompression).Open();
                entry.Write(bytes);
            }
        }

        stream.Position = 0;
        return stream;
    }
}
