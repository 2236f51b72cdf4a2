using System.Runtime.CompilerServices;

namespace AutoGrad.Tests.Autodiff;

/// <summary>
/// A tape of hundreds of thousands of tiny ops: the bookkeeping per node (the node, the result's tensor object, the
/// gradient slot; everything but the arena's data) stays at most 160 bytes, and the arena pads each tensor to one
/// 64-byte cache line, not to 16 elements. Before, ten million scalar multiplications took 4.8 GB: about 480 bytes of
/// bookkeeping a node and 128-byte arena blocks for 8-byte values.
/// </summary>
public class LongTapeMemoryTests
{
    [Fact]
    public void A_node_is_64_bytes()
    {
        Assert.Equal(64, Unsafe.SizeOf<Node>());
    }

    [Fact]
    public void A_chain_of_300000_scalar_products_keeps_at_most_160_bytes_of_bookkeeping_a_node()
    {
        const int count = 300_000;
        var x = Tensor.FromArray([1.0]);
        using var tape = new Tape();
        tape.Watch(x);
        var y = x;

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < count; i++)
        {
            y *= 1.000001;
        }

        var gradient = tape.Gradient(y, x)[0].ToDoubleArray()[0];
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        var bookkeeping = (double)(allocated - tape.ArenaCapacityBytes) / count;

        // dy/dx = 1.000001^300000 = e^(300000·ln 1.000001).
        Assert.Equal(Math.Exp(count * Math.Log(1.000001)), gradient, 1e-9);
        Assert.True(bookkeeping <= 160, $"{bookkeeping:F1} bytes of bookkeeping a node");

        // A float64 scalar and its gradient: one 64-byte line each, not 16 doubles (128 bytes) each.
        Assert.Equal(2 * 64, tape.ArenaBytesInUse / count);
    }
}
