using System.Globalization;
using System.Text.Json;

namespace Shoal.Daemon.Transmission;

/// <summary>
/// The arguments of one call (<c>arguments</c> in the classic form, <c>params</c> in JSON-RPC), looked up by their
/// snake_case name whatever spelling the client used. A value of the wrong type is an "invalid params" error that
/// names the argument.
/// </summary>
internal sealed class RpcArgs
{
    private readonly Dictionary<string, JsonElement> _values = new(StringComparer.Ordinal);

    public RpcArgs(JsonElement arguments)
    {
        if (arguments.ValueKind == JsonValueKind.Undefined || arguments.ValueKind == JsonValueKind.Null) return;
        if (arguments.ValueKind != JsonValueKind.Object) throw RpcException.Params("the arguments must be an object");
        foreach (JsonProperty p in arguments.EnumerateObject())
        {
            // The last spelling wins, as a JSON object's last duplicate key does.
            _values[RpcNames.ToSnake(p.Name)] = p.Value;
        }
    }

    public static RpcArgs Empty { get; } = new(default);

    public bool Has(string name) => _values.ContainsKey(name);

    public bool TryGet(string name, out JsonElement value) => _values.TryGetValue(name, out value);

    public string? String(string name)
    {
        if (!_values.TryGetValue(name, out JsonElement v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw Wrong(name, "a string");
    }

    public bool? Bool(string name)
    {
        if (!_values.TryGetValue(name, out JsonElement v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            // Old clients send 0 and 1 for booleans.
            JsonValueKind.Number when v.TryGetInt64(out long n) && n is 0 or 1 => n == 1,
            _ => throw Wrong(name, "a boolean"),
        };
    }

    public long? Long(string name)
    {
        if (!_values.TryGetValue(name, out JsonElement v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.Number)
        {
            if (v.TryGetInt64(out long n)) return n;
            if (v.TryGetDouble(out double d) && d >= long.MinValue && d <= long.MaxValue) return (long)Math.Round(d);
        }
        if (v.ValueKind == JsonValueKind.String && long.TryParse(v.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long s)) return s;
        throw Wrong(name, "a whole number");
    }

    public int? Int(string name)
    {
        long? n = Long(name);
        if (n is null) return null;
        return n is >= int.MinValue and <= int.MaxValue ? (int)n : throw Wrong(name, "a number in range");
    }

    public double? Double(string name)
    {
        if (!_values.TryGetValue(name, out JsonElement v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double d) && double.IsFinite(d)) return d;
        if (v.ValueKind == JsonValueKind.String && double.TryParse(v.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out double s) && double.IsFinite(s)) return s;
        throw Wrong(name, "a number");
    }

    /// <summary>An array of whole numbers (file indices); null when absent.</summary>
    public IReadOnlyList<int>? IntList(string name)
    {
        if (!_values.TryGetValue(name, out JsonElement v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Array) throw Wrong(name, "an array of numbers");
        var list = new List<int>(v.GetArrayLength());
        foreach (JsonElement item in v.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out int n)) throw Wrong(name, "an array of whole numbers");
            list.Add(n);
        }
        return list;
    }

    /// <summary>An array of strings; null when absent.</summary>
    public IReadOnlyList<string>? StringList(string name)
    {
        if (!_values.TryGetValue(name, out JsonElement v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Array) throw Wrong(name, "an array of strings");
        var list = new List<string>(v.GetArrayLength());
        foreach (JsonElement item in v.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String) throw Wrong(name, "an array of strings");
            list.Add(item.GetString()!);
        }
        return list;
    }

    private static RpcException Wrong(string name, string what) => RpcException.Params($"'{name}' must be {what}");
}
