using System.Globalization;

namespace AutoGrad.Nn.Serialization;

/// <summary>
/// The dict literal of an <c>.npy</c> header, parsed as the Python literal it is (NumPy reads it with
/// <c>ast.literal_eval</c>): exactly the keys <c>descr</c>, <c>fortran_order</c> and <c>shape</c>, each once; a string,
/// a boolean and a tuple of non-negative integers. Anything else, a duplicated key or a tuple like <c>(2,,,3)</c>,
/// is rejected rather than read one way here and another way by NumPy.
/// </summary>
internal ref struct NpyHeader
{
    private readonly ReadOnlySpan<char> _text;
    private readonly string _name;
    private int _at;

    private NpyHeader(ReadOnlySpan<char> text, string name)
    {
        _text = text;
        _name = name;
        _at = 0;
    }

    /// <summary>Parses a header.</summary>
    /// <param name="text">The dict literal (with its trailing padding and newline).</param>
    /// <param name="name">The file, for messages.</param>
    /// <returns>The descr string, the Fortran-order flag and the shape.</returns>
    /// <exception cref="CheckpointFormatException">The header is not such a dict.</exception>
    public static (string Descr, bool Fortran, int[] Shape) Parse(string text, string name)
    {
        var parser = new NpyHeader(text, name);
        return parser.ParseDict();
    }

    private (string Descr, bool Fortran, int[] Shape) ParseDict()
    {
        string? descr = null;
        bool? fortran = null;
        int[]? shape = null;
        Expect('{');
        SkipSpace();
        while (Peek() != '}')
        {
            var key = ParseString();
            SkipSpace();
            Expect(':');
            SkipSpace();
            switch (key)
            {
                case "descr" when descr is null:
                    descr = ParseString();
                    break;
                case "fortran_order" when fortran is null:
                    fortran = ParseBool();
                    break;
                case "shape" when shape is null:
                    shape = ParseTuple();
                    break;
                case "descr" or "fortran_order" or "shape":
                    throw Fail($"the key '{key}' appears twice");
                default:
                    throw Fail($"the key '{key}' is not one of descr, fortran_order, shape");
            }

            SkipSpace();
            if (Peek() == ',')
            {
                _at++;
                SkipSpace();
            }
            else if (Peek() != '}')
            {
                throw Fail("expected ',' or '}' after a value");
            }
        }

        _at++;
        SkipSpace();
        if (_at != _text.Length)
        {
            throw Fail("text follows the closing '}'");
        }

        if (descr is null || fortran is null || shape is null)
        {
            throw Fail("it lacks descr, fortran_order or shape");
        }

        return (descr, fortran.Value, shape);
    }

    private string ParseString()
    {
        var quote = Peek();
        if (quote is not ('\'' or '"'))
        {
            throw Fail("expected a quoted string");
        }

        var end = _text[(_at + 1)..].IndexOf(quote);
        if (end < 0)
        {
            throw Fail("a string is not closed");
        }

        var value = _text.Slice(_at + 1, end);
        if (value.Contains('\\'))
        {
            throw Fail("a string holds an escape sequence");
        }

        _at += end + 2;
        return value.ToString();
    }

    private bool ParseBool()
    {
        if (_text[_at..].StartsWith("True", StringComparison.Ordinal))
        {
            _at += 4;
            return true;
        }

        if (_text[_at..].StartsWith("False", StringComparison.Ordinal))
        {
            _at += 5;
            return false;
        }

        throw Fail("fortran_order is not True or False");
    }

    /// <summary>A Python tuple of integers: <c>()</c>, <c>(5,)</c>, <c>(2, 3)</c> or <c>(2, 3,)</c>; <c>(5)</c> is an int, not a tuple.</summary>
    private int[] ParseTuple()
    {
        Expect('(');
        var dims = new List<int>();
        var trailingComma = false;
        SkipSpace();
        while (Peek() != ')')
        {
            var start = _at;
            while (_at < _text.Length && char.IsAsciiDigit(_text[_at]))
            {
                _at++;
            }

            var digits = _text[start.._at];
            if (digits.IsEmpty)
            {
                throw Fail("the shape holds something other than a non-negative integer");
            }

            if (digits.Length > 1 && digits[0] == '0')
            {
                throw Fail("the shape holds an integer with a leading zero");
            }

            if (!int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var d))
            {
                throw Fail($"the dimension {digits} is too large");
            }

            dims.Add(d);
            SkipSpace();
            trailingComma = Peek() == ',';
            if (trailingComma)
            {
                _at++;
                SkipSpace();
            }
            else if (Peek() != ')')
            {
                throw Fail("expected ',' or ')' in the shape");
            }
        }

        if (dims.Count == 1 && !trailingComma)
        {
            throw Fail("the shape (n) is an integer in Python, not a tuple; a one-dimensional shape is written (n,)");
        }

        _at++;
        return [.. dims];
    }

    private void Expect(char c)
    {
        if (Peek() != c)
        {
            throw Fail($"expected '{c}'");
        }

        _at++;
    }

    private readonly char Peek() => _at < _text.Length ? _text[_at] : '\0';

    private void SkipSpace()
    {
        while (_at < _text.Length && _text[_at] is ' ' or '\t' or '\n' or '\r')
        {
            _at++;
        }
    }

    private readonly CheckpointFormatException Fail(string what) =>
        new($"npy: the header of {_name} is not a valid header dict ({what} at character {_at}): {_text.ToString().Trim()}");
}
