namespace CharTransformer;

/// <summary>
/// The word list of Debian's wamerican package (/usr/share/dict/words, SCOWL; its notice is in
/// wamerican-copyright.txt beside this sample), as character sequences: the lower-case words of letters only
/// (63,875 in wamerican 2020.12.07), each framed by the boundary mark '.', which starts every word and ends it.
/// </summary>
public static class Words
{
    /// <summary>The list's usual place.</summary>
    public const string DefaultPath = "/usr/share/dict/words";

    /// <summary>The boundary mark and the letters: token 0 is '.'.</summary>
    public const string Alphabet = ".abcdefghijklmnopqrstuvwxyz";

    /// <summary>The words of <paramref name="path"/> made of a–z only, shuffled with <paramref name="seed"/> and split.</summary>
    /// <param name="path">The list, one word per line.</param>
    /// <param name="testFraction">The share held out for testing.</param>
    /// <param name="seed">The shuffle's seed.</param>
    /// <returns>The training and test words.</returns>
    public static (string[] Train, string[] Test) Load(string path, double testFraction, int seed)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"CharTransformer: no word list at {path}; install Debian's wamerican package (apt-get install wamerican).", path);
        }

        var words = File.ReadLines(path).Where(w => w.Length > 0 && w.All(c => c is >= 'a' and <= 'z')).Distinct().ToArray();
        new Random(seed).Shuffle(words);
        var test = (int)Math.Round(words.Length * testFraction);
        return (words[test..], words[..test]);
    }

    /// <summary>
    /// A batch as inputs and targets, (N, T) each with T the longest word + 1: input ".word" and target "word.",
    /// padded past the word's end with '.' in the input and <paramref name="ignore"/> in the target.
    /// </summary>
    /// <param name="words">The words.</param>
    /// <param name="ignore">The target of padded positions.</param>
    /// <returns>The inputs, (N, T), and the targets, N·T.</returns>
    public static (IntTensor Inputs, int[] Targets) Batch(IReadOnlyList<string> words, int ignore)
    {
        var steps = words.Max(w => w.Length) + 1;
        var inputs = new int[words.Count * steps];
        var targets = new int[words.Count * steps];
        for (var i = 0; i < words.Count; i++)
        {
            var word = words[i];
            for (var t = 0; t < steps; t++)
            {
                inputs[(i * steps) + t] = t == 0 || t > word.Length ? 0 : Alphabet.IndexOf(word[t - 1]);
                targets[(i * steps) + t] = t < word.Length ? Alphabet.IndexOf(word[t]) : t == word.Length ? 0 : ignore;
            }
        }

        return (IntTensor.FromArray(inputs, words.Count, steps), targets);
    }
}
