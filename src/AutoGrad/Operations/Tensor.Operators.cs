using System.Runtime.CompilerServices;

using AutoGrad.Operations;

namespace AutoGrad.Tensors;

/// <summary>C# operators and instance shortcuts for the ops in <see cref="Ops"/>.</summary>
public sealed partial class Tensor
{
    /// <summary>Rows of the leading axis, without copying: <c>x[2..5]</c> is <see cref="Ops.Slice"/>(x, 2, 3).</summary>
    /// <param name="rows">The rows; indices from the end (<c>^1</c>) are allowed.</param>
    // Indexers are named Item in metadata by default; that name belongs to Item(), PyTorch's x.item().
    [IndexerName("Element")]
    public Tensor this[Range rows]
    {
        get
        {
            EnsureAlive("Slice");
            var (start, length) = rows.GetOffsetAndLength(Rank == 0 ? 0 : Shape[0]);
            return Ops.Slice(this, start, length);
        }
    }

    /// <summary>Elementwise comparison with broadcasting; see <see cref="Ops.Greater(Tensor, Tensor)"/>.</summary>
    /// <param name="a">The first tensor.</param>
    /// <param name="b">The second tensor.</param>
    /// <returns>The mask a &gt; b.</returns>
    public static BoolTensor operator >(Tensor a, Tensor b) => Ops.Greater(a, b);

    /// <summary>Elementwise comparison with broadcasting; see <see cref="Ops.Less(Tensor, Tensor)"/>.</summary>
    /// <param name="a">The first tensor.</param>
    /// <param name="b">The second tensor.</param>
    /// <returns>The mask a &lt; b.</returns>
    public static BoolTensor operator <(Tensor a, Tensor b) => Ops.Less(a, b);

    /// <summary>Elementwise comparison with a number; see <see cref="Ops.Greater(Tensor, double)"/>.</summary>
    /// <param name="x">The tensor.</param>
    /// <param name="s">The number.</param>
    /// <returns>The mask x &gt; s.</returns>
    public static BoolTensor operator >(Tensor x, double s) => Ops.Greater(x, s);

    /// <summary>Elementwise comparison with a number; see <see cref="Ops.Less(Tensor, double)"/>.</summary>
    /// <param name="x">The tensor.</param>
    /// <param name="s">The number.</param>
    /// <returns>The mask x &lt; s.</returns>
    public static BoolTensor operator <(Tensor x, double s) => Ops.Less(x, s);

    /// <summary>Broadcasting sum; see <see cref="Ops.Add(Tensor, Tensor)"/>.</summary>
    /// <param name="a">The first operand.</param>
    /// <param name="b">The second operand.</param>
    /// <returns>a + b.</returns>
    public static Tensor operator +(Tensor a, Tensor b) => Ops.Add(a, b);

    /// <summary>Broadcasting difference; see <see cref="Ops.Subtract(Tensor, Tensor)"/>.</summary>
    /// <param name="a">The minuend.</param>
    /// <param name="b">The subtrahend.</param>
    /// <returns>a − b.</returns>
    public static Tensor operator -(Tensor a, Tensor b) => Ops.Subtract(a, b);

    /// <summary>Broadcasting elementwise product; see <see cref="Ops.Multiply(Tensor, Tensor)"/>. Use <see cref="Ops.MatMul"/> for the matrix product.</summary>
    /// <param name="a">The first factor.</param>
    /// <param name="b">The second factor.</param>
    /// <returns>a ⊙ b.</returns>
    public static Tensor operator *(Tensor a, Tensor b) => Ops.Multiply(a, b);

    /// <summary>Broadcasting elementwise quotient; see <see cref="Ops.Divide(Tensor, Tensor)"/>.</summary>
    /// <param name="a">The dividend.</param>
    /// <param name="b">The divisor.</param>
    /// <returns>a ⊘ b.</returns>
    public static Tensor operator /(Tensor a, Tensor b) => Ops.Divide(a, b);

    /// <summary>Adds a scalar.</summary>
    /// <param name="x">The tensor.</param>
    /// <param name="s">The scalar.</param>
    /// <returns>x + s.</returns>
    public static Tensor operator +(Tensor x, double s) => Ops.Add(x, s);

    /// <summary>Adds a scalar.</summary>
    /// <param name="s">The scalar.</param>
    /// <param name="x">The tensor.</param>
    /// <returns>s + x.</returns>
    public static Tensor operator +(double s, Tensor x) => Ops.Add(x, s);

    /// <summary>Subtracts a scalar.</summary>
    /// <param name="x">The tensor.</param>
    /// <param name="s">The scalar.</param>
    /// <returns>x − s.</returns>
    public static Tensor operator -(Tensor x, double s) => Ops.Subtract(x, s);

    /// <summary>Subtracts from a scalar.</summary>
    /// <param name="s">The scalar.</param>
    /// <param name="x">The tensor.</param>
    /// <returns>s − x.</returns>
    public static Tensor operator -(double s, Tensor x) => Ops.Subtract(s, x);

    /// <summary>Scales by a scalar.</summary>
    /// <param name="x">The tensor.</param>
    /// <param name="s">The scalar.</param>
    /// <returns>x · s.</returns>
    public static Tensor operator *(Tensor x, double s) => Ops.Multiply(x, s);

    /// <summary>Scales by a scalar.</summary>
    /// <param name="s">The scalar.</param>
    /// <param name="x">The tensor.</param>
    /// <returns>s · x.</returns>
    public static Tensor operator *(double s, Tensor x) => Ops.Multiply(x, s);

    /// <summary>Divides by a scalar.</summary>
    /// <param name="x">The tensor.</param>
    /// <param name="s">The scalar.</param>
    /// <returns>x / s.</returns>
    public static Tensor operator /(Tensor x, double s) => Ops.Divide(x, s);

    /// <summary>Divides a scalar by each element.</summary>
    /// <param name="s">The scalar.</param>
    /// <param name="x">The tensor.</param>
    /// <returns>s / x.</returns>
    public static Tensor operator /(double s, Tensor x) => Ops.Divide(s, x);

    /// <summary>Negation; see <see cref="Ops.Negate"/>.</summary>
    /// <param name="x">The tensor.</param>
    /// <returns>−x.</returns>
    public static Tensor operator -(Tensor x) => Ops.Negate(x);
}
