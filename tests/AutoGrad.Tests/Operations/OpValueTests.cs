namespace AutoGrad.Tests.Operations;

/// <summary>The queries that are not differentiable (comparisons, ArgMax, …) against the results their descriptors work out by hand.</summary>
public class OpValueTests
{
    public static TheoryData<string, string> Cases
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var check in OpCatalog.All.SelectMany(row => row.Values))
            {
                data.Add(check.Op, check.Case);
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_query_gives_the_result_worked_out_by_hand(string op, string name)
    {
        var check = OpCatalog.All.SelectMany(row => row.Values).Single(c => c.Op == op && c.Case == name);
        Assert.Equal(check.Expected, check.Actual());
    }
}
