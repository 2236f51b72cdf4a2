namespace AutoGrad.Tensors;

/// <summary>
/// The process-wide defaults a call falls back on when it does not say: the element type (PyTorch's
/// <c>torch.set_default_dtype</c>) and the random generator that draws the seeds of unseeded factories, layers,
/// dropout and loaders (PyTorch's <c>torch.manual_seed</c>).
/// </summary>
public sealed partial class Tensor
{
    /// <summary>The seed the global generator starts from, so a program that never seeds still runs the same way twice (as PyTorch's does).</summary>
    public const long InitialSeed = 20_161_222;

    private static readonly Lock s_seedLock = new();
    private static SeededRandom s_seeds = new(InitialSeed);

    /// <summary>
    /// The element type of tensors and layers made without one (float32 out of the box). Process-wide, like PyTorch's
    /// default dtype; set it once at start-up (to <see cref="DType.Float64"/> for exact checks, say).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined element type.</exception>
    public static DType DefaultDType
    {
        get;
        set => field = Enum.IsDefined(value)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, $"DefaultDType: {value} is not an element type; use DType.Float32 or DType.Float64.");
    }

    /// <summary>
    /// Restarts the global generator from <paramref name="seed"/>, PyTorch's <c>torch.manual_seed</c>: every unseeded
    /// random call after it (tensor factories, layer initialization, dropout, data loaders) draws its seed from this
    /// stream, so the same program gives the same numbers.
    /// </summary>
    /// <param name="seed">Any value.</param>
    public static void ManualSeed(long seed)
    {
        lock (s_seedLock)
        {
            s_seeds = new SeededRandom(seed);
        }
    }

    /// <summary>The seed for a call that was given none: the next draw of the global generator.</summary>
    internal static int NextSeed()
    {
        lock (s_seedLock)
        {
            return (int)(s_seeds.NextUInt64() >> 33);
        }
    }
}
