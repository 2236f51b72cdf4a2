using System.Numerics;
using System.Numerics.Tensors;

namespace AutoGrad.Kernels;

/// <summary>
/// General matrix multiply on dense row-major buffers: C = op(A)·op(B) (or C += ...), where op transposes in place
/// by reading with swapped strides, so backward never materializes a transpose.
/// </summary>
/// <remarks>
/// This is the straightforward cache-blocked SIMD version: rows of C are updated with vectorized
/// multiply-adds over rows of B, and the A·Bᵀ case becomes dot products of contiguous rows.
/// </remarks>
internal static class Gemm
{
    /// <summary>Columns of C updated per pass, so a row of C stays in L1 across the k loop.</summary>
    private const int ColumnBlock = 1024;

    /// <summary>Depth of one pass, so the rows of B it touches stay in L2.</summary>
    private const int DepthBlock = 256;

    /// <summary>
    /// C (m×n) = op(A)·op(B), or C += op(A)·op(B) when <paramref name="accumulate"/> is set.
    /// A is m×k (k×m when <paramref name="transposeA"/>), B is k×n (n×k when <paramref name="transposeB"/>), all contiguous row-major.
    /// </summary>
    public static void Multiply<T>(bool transposeA, bool transposeB, int m, int n, int k, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, bool accumulate)
        where T : IFloatingPointIeee754<T>
    {
        if (!accumulate)
        {
            c[..(m * n)].Clear();
        }

        if (m == 0 || n == 0 || k == 0)
        {
            return;
        }

        if (transposeB)
        {
            if (transposeA)
            {
                MultiplyTransposedBoth(m, n, k, a, b, c);
            }
            else
            {
                MultiplyTransposedB(m, n, k, a, b, c);
            }

            return;
        }

        // A (or Aᵀ) times B: C[i, j..] += A[i, p] * B[p, j..], vectorized along the row of B.
        var strideRow = transposeA ? 1 : k;
        var strideDepth = transposeA ? m : 1;
        for (var j0 = 0; j0 < n; j0 += ColumnBlock)
        {
            var width = Math.Min(ColumnBlock, n - j0);
            for (var p0 = 0; p0 < k; p0 += DepthBlock)
            {
                var depth = Math.Min(DepthBlock, k - p0);
                for (var i = 0; i < m; i++)
                {
                    var row = c.Slice((i * n) + j0, width);
                    for (var p = p0; p < p0 + depth; p++)
                    {
                        var scale = a[(i * strideRow) + (p * strideDepth)];
                        TensorPrimitives.MultiplyAdd(b.Slice((p * n) + j0, width), scale, row, row);
                    }
                }
            }
        }
    }

    /// <summary>C += A·Bᵀ: each element is a dot product of two contiguous rows.</summary>
    private static void MultiplyTransposedB<T>(int m, int n, int k, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c)
        where T : IFloatingPointIeee754<T>
    {
        for (var i = 0; i < m; i++)
        {
            var rowA = a.Slice(i * k, k);
            var rowC = c.Slice(i * n, n);
            for (var j = 0; j < n; j++)
            {
                rowC[j] += TensorPrimitives.Dot(rowA, b.Slice(j * k, k));
            }
        }
    }

    /// <summary>C += Aᵀ·Bᵀ = (B·A)ᵀ: rare in backward, done as B·A into scratch and a transposed add.</summary>
    private static void MultiplyTransposedBoth<T>(int m, int n, int k, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c)
        where T : IFloatingPointIeee754<T>
    {
        var scratch = new T[n * m];
        Multiply(false, false, n, m, k, b, a, scratch, accumulate: false);
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                c[(i * n) + j] += scratch[(j * m) + i];
            }
        }
    }
}
