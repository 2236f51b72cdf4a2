using System.Reflection;
using System.Text;

namespace AutoGrad.Operations;

/// <summary>
/// Every op's <see cref="OpInfo"/>, gathered from the methods marked <see cref="OpFamilyAttribute"/> in the op family
/// files, in table order. A new op adds its row beside its code; nothing else lists ops.
/// </summary>
public static class OpCatalog
{
    private static readonly Lazy<IReadOnlyList<OpInfo>> s_all = new(Gather);

    /// <summary>The rows, in table order.</summary>
    public static IReadOnlyList<OpInfo> All => s_all.Value;

    /// <summary>The Markdown op table the README and docs/ops.md carry (a test compares them with this).</summary>
    /// <returns>The table, one line per row, with its header.</returns>
    public static string MarkdownTable()
    {
        var table = new StringBuilder("| Op | Forward | Gradient |\n| --- | --- | --- |\n");
        foreach (var row in All)
        {
            table.Append(row.TableRow).Append('\n');
        }

        return table.ToString();
    }

    /// <summary>The Markdown table of which file holds which ops (docs/ops.md, "Where each family lives").</summary>
    /// <returns>The table, with its header.</returns>
    public static string FamilyTable()
    {
        var table = new StringBuilder("| File | Ops |\n| --- | --- |\n");
        foreach (var family in All.GroupBy(row => row.Family))
        {
            var names = family.SelectMany(row => row.Names).Distinct().Select(name => $"`{name}`");
            table.Append($"| [`{family.Key}.cs`](../src/AutoGrad/Operations/{family.Key}.cs) | {string.Join(", ", names)} |\n");
        }

        return table.ToString();
    }

    private static IReadOnlyList<OpInfo> Gather() =>
        [.. typeof(Ops).GetMethods(BindingFlags.NonPublic | BindingFlags.Static)
            .Select(method => (Method: method, Family: method.GetCustomAttribute<OpFamilyAttribute>()))
            .Where(m => m.Family is not null)
            .OrderBy(m => m.Family!.Order)
            .SelectMany(m => (IEnumerable<OpInfo>)m.Method.Invoke(null, null)!)];
}
