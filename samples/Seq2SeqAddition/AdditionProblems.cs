namespace Seq2SeqAddition;

/// <summary>
/// The book's addition task (volume 2, chapter 7), generated instead of read from its addition.txt: "16+75" asks
/// "91". Each operand has one to three digits (the count drawn first, so short numbers are as common as long ones);
/// no problem appears twice, so the test problems are unseen. Questions are padded to 7 characters and answers to
/// 4, after the decoder's start mark '_'.
/// </summary>
public static class AdditionProblems
{
    /// <summary>The characters: digits, '+', the padding space and the start mark.</summary>
    public const string Alphabet = "0123456789+ _";

    /// <summary>Characters of a padded question ("999+999").</summary>
    public const int QuestionLength = 7;

    /// <summary>Characters of a padded answer, without the start mark ("1998").</summary>
    public const int AnswerLength = 4;

    /// <summary><paramref name="count"/> distinct problems as (question, answer) strings, padded.</summary>
    /// <param name="count">How many.</param>
    /// <param name="seed">The seed.</param>
    /// <returns>The problems.</returns>
    public static (string Question, string Answer)[] Generate(int count, int seed)
    {
        var random = new Random(seed);
        var seen = new HashSet<(int, int)>();
        var problems = new (string, string)[count];
        for (var i = 0; i < count;)
        {
            int a = Operand(random), b = Operand(random);
            if (seen.Add((a, b)))
            {
                problems[i++] = ($"{a}+{b}".PadRight(QuestionLength), $"{a + b}".PadRight(AnswerLength));
            }
        }

        return problems;
    }

    /// <summary>The character ids of <paramref name="text"/>.</summary>
    /// <param name="text">Characters of <see cref="Alphabet"/>.</param>
    /// <returns>Their ids.</returns>
    public static IEnumerable<int> Ids(string text) => text.Select(c => Alphabet.IndexOf(c));

    private static int Operand(Random random)
    {
        var digits = random.Next(1, 4);
        var low = digits == 1 ? 0 : (int)Math.Pow(10, digits - 1);
        return random.Next(low, (int)Math.Pow(10, digits));
    }
}
