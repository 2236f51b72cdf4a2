using System.Buffers.Binary;
using System.Text.Json;

using AutoGrad.Nn.Serialization;

namespace AutoGrad.Tests.Nn.Serialization;

public sealed class CheckpointTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("autograd-checkpoints-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData("model.safetensors")]
    [InlineData("model.npz")]
    public void A_model_round_trips_through_both_formats(string file)
    {
        var path = Path.Combine(_folder, file);
        var saved = new MultiLayerNet(6, [5, 4], 3, seed: 1, batchNorm: true);
        _ = saved.Forward(Tensor.RandomNormal([8, 6], seed: 2)); // move the running statistics off their defaults
        Checkpoint.Save(saved, path);

        var loaded = new MultiLayerNet(6, [5, 4], 3, seed: 99, batchNorm: true);
        Checkpoint.Load(loaded, path);
        foreach (var ((name, a), (_, b)) in saved.StateDict().Zip(loaded.StateDict()))
        {
            Assert.True(a.ToFloatArray().SequenceEqual(b.ToFloatArray()), name);
        }
    }

    [Fact]
    public void A_checkpoint_does_not_claim_pytorch_s_layout_which_it_does_not_have()
    {
        // A Linear's weight is (in, out) here and (out, in) in PyTorch: "format": "pt" would invite a silent misread.
        var path = Path.Combine(_folder, "model.safetensors");
        var model = new MultiLayerNet(6, [5], 3, seed: 1);
        Checkpoint.Save(model, path);
        Assert.Equal([6, 5], model.StateDict().First().Tensor.Shape.Dims.ToArray());
        var bytes = File.ReadAllBytes(path);
        using var header = JsonDocument.Parse(bytes.AsMemory(8, (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes)));
        Assert.Equal("autograd", header.RootElement.GetProperty("__metadata__").GetProperty("format").GetString());
    }

    [Fact]
    public void Safetensors_layout_follows_the_specification()
    {
        var path = Path.Combine(_folder, "t.safetensors");
        var a = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        var b = Tensor.FromArray([0.25], []);
        SafeTensors.Save(path, [("a", a), ("b", Ops.Reshape(b.Clone(), []).Clone())]);
        var bytes = File.ReadAllBytes(path);
        var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, (8 + headerLength) % 8);
        using var header = JsonDocument.Parse(bytes.AsMemory(8, headerLength));
        var entry = header.RootElement.GetProperty("a");
        Assert.Equal("F32", entry.GetProperty("dtype").GetString());
        Assert.Equal([2, 3], entry.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()));
        Assert.Equal([0L, 24L], entry.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()));
        Assert.Equal(8 + headerLength + 24 + 8, bytes.Length);
        Assert.Equal(2f, BitConverter.ToSingle(bytes, 8 + headerLength + 4));

        var loaded = SafeTensors.Load(path);
        Assert.Equal(["a", "b"], loaded.Select(t => t.Name));
        Assert.Equal(a.ToFloatArray(), loaded[0].Tensor.ToFloatArray());
        Assert.Equal(Shape.Scalar, loaded[1].Tensor.Shape);
        Assert.Equal(0.25, loaded[1].Tensor.ToScalar());
    }

    [Fact]
    public void Reads_an_npz_written_by_numpy_itself()
    {
        var arrays = Npz.Load(Path.Combine(RepositoryFiles.Root, "tests/AutoGrad.Tests/Nn/Serialization/Fixtures/numpy-weights.npz")).ToDictionary(t => t.Name, t => t.Tensor);
        Assert.Equal(DType.Float32, arrays["W1"].DType);
        Assert.Equal(Shape.Create([2, 3]), arrays["W1"].Shape);
        Assert.Equal([0f, 0.25f, 0.5f, 0.75f, 1f, 1.25f], arrays["W1"].ToFloatArray());
        Assert.Equal([0.5, -1.5], arrays["b1"].ToDoubleArray());
        Assert.Equal(Shape.Create([3, 2]), arrays["W2"].Shape); // big-endian, Fortran order
        Assert.Equal([0.0, 1, 2, 3, 4, 5], arrays["W2"].ToDoubleArray());
        Assert.Equal(Shape.Scalar, arrays["s"].Shape);
        Assert.Equal(7.0, arrays["s"].ToScalar());

        var compressed = Npz.Load(Path.Combine(RepositoryFiles.Root, "tests/AutoGrad.Tests/Nn/Serialization/Fixtures/numpy-weights-compressed.npz"));
        Assert.Equal(arrays["W1"].ToFloatArray(), compressed.Single().Tensor.ToFloatArray());
    }

    [Fact]
    public void A_crash_mid_save_leaves_the_previous_checkpoint_in_place()
    {
        var path = Path.Combine(_folder, "good.safetensors");
        var model = new TwoLayerNet(4, 3, 2, seed: 1);
        Checkpoint.Save(model, path);
        var before = File.ReadAllBytes(path);

        Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(new byte[100]);
            throw new IOException("simulated crash");
        }));

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(_folder)); // no temporary file left behind
    }

    [Fact]
    public void A_save_removes_temporaries_of_the_same_file_that_a_killed_process_left_but_not_a_live_writers()
    {
        // A process killed mid-save leaves .NAME.GUID.tmp; the next save of NAME deletes it. A temporary held open
        // (locked) stands for another process still writing, and a temporary of another file is not this save's.
        var path = Path.Combine(_folder, "m.safetensors");
        var stale = Path.Combine(_folder, $".m.safetensors.{Guid.NewGuid():N}.tmp");
        var live = Path.Combine(_folder, $".m.safetensors.{Guid.NewGuid():N}.tmp");
        var other = Path.Combine(_folder, $".other.safetensors.{Guid.NewGuid():N}.tmp");
        File.WriteAllBytes(stale, new byte[1000]);
        File.WriteAllBytes(other, new byte[10]);
        using (new FileStream(live, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            SafeTensors.Save(path, [("w", Tensor.Ones([3]))]);

            Assert.False(File.Exists(stale));
            Assert.True(File.Exists(live));
            Assert.True(File.Exists(other));
            Assert.Equal(3, SafeTensors.Load(path).Single().Tensor.Length);
        }
    }

    [Fact]
    public void A_save_whose_temporary_an_interrupt_removed_writes_again_when_the_process_goes_on()
    {
        // The Ctrl+C handler deletes temporaries in progress; an application that cancels the interrupt keeps
        // running, and its save must still produce the file rather than fail on a vanished temporary.
        var path = Path.Combine(_folder, "kept.safetensors");
        var calls = 0;
        AtomicFile.Write(path, stream =>
        {
            stream.Write([1, 2, 3]);
            if (calls++ == 0)
            {
                AtomicFile.DeleteTemporariesInProgress();
            }
        });

        Assert.Equal(2, calls);
        Assert.Equal([1, 2, 3], File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(_folder));
    }

    [Fact]
    public void Loading_names_the_first_mismatching_parameter()
    {
        var path = Path.Combine(_folder, "small.npz");
        Checkpoint.Save(new TwoLayerNet(4, 3, 2, seed: 1), path);
        var e = Assert.Throws<CheckpointFormatException>(() => Checkpoint.Load(new TwoLayerNet(4, 5, 2), path));
        Assert.Contains("'affine1.weight'", e.Message);
        Assert.Contains("(4, 3)", e.Message);
        Assert.Contains("(4, 5)", e.Message);

        var f64 = Assert.Throws<CheckpointFormatException>(() => Checkpoint.Load(new TwoLayerNet(4, 3, 2, dtype: DType.Float64), path));
        Assert.Contains("float32", f64.Message);

        var missing = Assert.Throws<CheckpointFormatException>(() => Checkpoint.Load(new MultiLayerNet(4, [3], 2), path));
        Assert.Contains("layers.0.weight", missing.Message);
    }

    [Fact]
    public void Corrupt_safetensors_files_fail_with_the_format_exception()
    {
        var path = Path.Combine(_folder, "bad.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.Contains("shorter", Assert.Throws<CheckpointFormatException>(() => SafeTensors.Load(path)).Message);

        var header = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(header, 1UL << 40);
        File.WriteAllBytes(path, header);
        Assert.Contains("header of", Assert.Throws<CheckpointFormatException>(() => SafeTensors.Load(path)).Message);

        SafeTensors.Save(path, [("w", Tensor.Ones([4]))]);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^4]);
        Assert.Contains("data_offsets", Assert.Throws<CheckpointFormatException>(() => SafeTensors.Load(path)).Message);
    }
}
