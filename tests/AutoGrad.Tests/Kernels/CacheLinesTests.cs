using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

using AutoGrad.Kernels;

namespace AutoGrad.Tests.Kernels;

public unsafe class CacheLinesTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(576)]
    [InlineData(14_400)]
    [InlineData(100_003)]
    public void An_aligned_workspace_starts_on_a_cache_line_and_has_the_length_asked_for(int length)
    {
        // Rented arrays of many sizes start at many offsets from a line; each must find its line within the slack. They
        // are pinned here so that a collection (other tests run meanwhile) cannot move them between the two reads.
        for (var extra = 0; extra < 40; extra++)
        {
            var floats = GC.AllocateArray<float>(CacheLines.RentLength<float>(length) + extra, pinned: true);
            var doubles = GC.AllocateArray<double>(CacheLines.RentLength<double>(length) + extra, pinned: true);
            var f = CacheLines.Aligned(floats, length);
            var d = CacheLines.Aligned(doubles, length);

            Assert.Equal(length, f.Length);
            Assert.Equal(length, d.Length);
            Assert.Equal(0, Address(ref MemoryMarshal.GetReference(f)) % CacheLines.Bytes);
            Assert.Equal(0, Address(ref MemoryMarshal.GetReference(d)) % CacheLines.Bytes);
        }
    }

    [Fact]
    public void Align_moves_a_pointer_to_the_next_line_and_keeps_one_already_on_it()
    {
        var line = (float*)(nint)(64 * 1000);
        Assert.Equal((nint)line, (nint)CacheLines.Align(line));
        Assert.Equal((nint)(line + 16), (nint)CacheLines.Align(line + 1));
        Assert.Equal((nint)(line + 16), (nint)CacheLines.Align(line + 15));
        Assert.Equal((nint)((double*)line + 8), (nint)CacheLines.Align((double*)line + 3));
    }

    [Fact]
    public void Every_tensor_a_tape_allocates_starts_on_a_cache_line_across_chunks_and_resets()
    {
        // Sizes that are not multiples of a line, and a total past the arena's first chunk, so that later results land in
        // new chunks; after a reset the chunks are coalesced into one, whose start must be aligned again.
        using var tape = new Tape();
        for (var step = 0; step < 3; step++)
        {
            tape.Reset();
            for (var i = 0; i < 40; i++)
            {
                var r = Ops.Exp(Tensor.Full(0.5, [3, 1 + (i * 29)], DType.Float64));
                var s = Ops.Exp(Tensor.Full(0.5, [1 + (i * 37)], DType.Float32));
                Assert.True(r.IsTapeOwned && s.IsTapeOwned);
                Assert.Equal(0, Address(ref MemoryMarshal.GetReference(r.Raw<double>())) % CacheLines.Bytes);
                Assert.Equal(0, Address(ref MemoryMarshal.GetReference(s.Raw<float>())) % CacheLines.Bytes);
                Assert.Equal(Math.Exp(0.5), r[2, i * 29], 15);
            }
        }

        Assert.True(tape.ArenaCapacityBytes > 64 << 10, $"the arena grew past its first chunk: {tape.ArenaCapacityBytes} bytes");
    }

    private static nint Address<T>(ref T element) => (nint)Unsafe.AsPointer(ref element);
}
