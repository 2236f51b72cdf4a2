using System.Globalization;

namespace DateAttention;

/// <summary>
/// The book's date-format task (volume 2, chapter 8), generated instead of read from its date.txt: a date written
/// one of many ways ("september 27, 1994", "TUESDAY, SEPTEMBER 27, 1994", "9/27/94", "27.09.1994", …) asks for its
/// ISO form, "1994-09-27". Dates run from 1970 to 2069, so a two-digit year has one reading (70–99: 19xx).
/// Questions are padded to 29 characters; answers are 10, after the decoder's start mark '_'.
/// </summary>
public static class DateProblems
{
    /// <summary>The characters: lower and upper case letters, digits and the marks the formats use.</summary>
    public const string Alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ,./-_";

    /// <summary>Characters of a padded question ("wednesday, september 27, 1995" is the longest).</summary>
    public const int QuestionLength = 29;

    /// <summary>Characters of an answer ("1994-09-27").</summary>
    public const int AnswerLength = 10;

    /// <summary>The written forms, in .NET's custom format strings (English names).</summary>
    private static readonly string[] s_formats =
    [
        "MMMM d, yyyy", "MMM d, yyyy", "d MMMM yyyy", "d MMM yyyy", "dddd, MMMM d, yyyy", "ddd, MMM d, yyyy",
        "dddd d MMMM yyyy", "M/d/yy", "MM/dd/yy", "M/d/yyyy", "dd.MM.yyyy", "d.M.yy", "yyyy/MM/dd", "MMMM yyyy d",
    ];

    /// <summary><paramref name="count"/> distinct problems as (question, answer) strings, the question padded.</summary>
    /// <param name="count">How many.</param>
    /// <param name="seed">The seed.</param>
    /// <returns>The problems.</returns>
    public static (string Question, string Answer)[] Generate(int count, int seed)
    {
        var random = new Random(seed);
        var first = new DateTime(1970, 1, 1);
        var days = (new DateTime(2069, 12, 31) - first).Days + 1;
        var seen = new HashSet<string>();
        var problems = new (string, string)[count];
        for (var i = 0; i < count;)
        {
            var date = first.AddDays(random.Next(days));
            var text = date.ToString(s_formats[random.Next(s_formats.Length)], CultureInfo.InvariantCulture);
            text = random.Next(3) switch
            {
                0 => text.ToLowerInvariant(),
                1 => text.ToUpperInvariant(),
                _ => text,
            };
            if (seen.Add(text))
            {
                problems[i++] = (text.PadRight(QuestionLength), date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            }
        }

        return problems;
    }

    /// <summary>The character ids of <paramref name="text"/>.</summary>
    /// <param name="text">Characters of <see cref="Alphabet"/>.</param>
    /// <returns>Their ids.</returns>
    public static IEnumerable<int> Ids(string text) => text.Select(c => Alphabet.IndexOf(c));
}
