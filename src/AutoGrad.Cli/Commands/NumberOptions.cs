using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace AutoGrad.Cli.Commands;

/// <summary>
/// Number options that parse their text themselves, so that a bad value gets one plain line naming the option and
/// the text as typed (System.CommandLine's own message names the CLR type: "expected type 'System.Nullable`1[…]'").
/// </summary>
internal static class NumberOptions
{
    /// <summary>An optional positive, finite number: 0.1, 1e-3.</summary>
    public static Option<double?> PositiveDouble(string name, string description) => new(name)
    {
        Description = description,
        CustomParser = result =>
        {
            var text = Token(result);
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
            {
                result.AddError($"{name}: '{text}' is not a finite number.");
                return null;
            }

            if (value <= 0)
            {
                result.AddError($"{name}: {text} must be positive.");
                return null;
            }

            return value;
        },
    };

    /// <summary>An optional positive whole number.</summary>
    public static Option<int?> PositiveInt(string name, string description) => new(name)
    {
        Description = description,
        CustomParser = result => ParseInt(result, name, positive: true),
    };

    /// <summary>A whole number with a default (a seed: any value).</summary>
    public static Option<int> Int(string name, string description, int defaultValue) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result => ParseInt(result, name, positive: false) ?? 0,
    };

    private static int? ParseInt(ArgumentResult result, string name, bool positive)
    {
        var text = Token(result);
        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            result.AddError($"{name}: '{text}' is not a whole number.");
            return null;
        }

        if (positive && value <= 0)
        {
            result.AddError($"{name}: {text} must be positive.");
            return null;
        }

        return value;
    }

    private static string Token(ArgumentResult result) => result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
}
