using System.Text.Json;

namespace Shoal.Daemon.QBittorrent;

/// <summary>
/// One JSON scalar of a qBittorrent answer (a number, a string, a boolean or null), comparable without allocating,
/// so sync/maindata can tell which fields of a row changed.
/// </summary>
internal readonly record struct QbValue
{
    private enum Kind : byte { Null, Long, Double, Text, Bool }

    private readonly Kind _kind;
    private readonly long _long;
    private readonly double _double;
    private readonly string? _text;

    private QbValue(Kind kind, long l, double d, string? t)
    {
        _kind = kind;
        _long = l;
        _double = d;
        _text = t;
    }

    public static QbValue Null => default;

    public static implicit operator QbValue(long value) => new(Kind.Long, value, 0, null);

    public static implicit operator QbValue(int value) => new(Kind.Long, value, 0, null);

    public static implicit operator QbValue(double value) => new(Kind.Double, 0, value, null);

    public static implicit operator QbValue(string? value) => value is null ? default : new(Kind.Text, 0, 0, value);

    public static implicit operator QbValue(bool value) => new(Kind.Bool, value ? 1 : 0, 0, null);

    public static QbValue FromInt64(long value) => value;

    /// <summary>Orders values for torrents/info's sort: nulls first, then numbers and booleans by value, then text ordinally.</summary>
    public static int Compare(QbValue a, QbValue b)
    {
        int rank = Rank(a).CompareTo(Rank(b));
        if (rank != 0) return rank;
        return a._kind switch
        {
            Kind.Text => string.CompareOrdinal(a._text, b._text),
            Kind.Null => 0,
            _ => a.Number.CompareTo(b.Number),
        };
    }

    private static int Rank(QbValue v) => v._kind switch { Kind.Null => 0, Kind.Text => 2, _ => 1 };

    private double Number => _kind == Kind.Double ? _double : _long;

    public void WriteTo(Utf8JsonWriter writer)
    {
        switch (_kind)
        {
            case Kind.Long: writer.WriteNumberValue(_long); break;
            case Kind.Double: writer.WriteNumberValue(_double); break;
            case Kind.Text: writer.WriteStringValue(_text); break;
            case Kind.Bool: writer.WriteBooleanValue(_long != 0); break;
            default: writer.WriteNullValue(); break;
        }
    }
}
