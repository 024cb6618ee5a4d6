using System.Text;
using System.Text.Json;

namespace Shoal.Daemon.Transmission;

/// <summary>
/// Transmission's names: 4.1 spells every method, argument and field in snake_case; older clients send the
/// kebab-case and camelCase names of 4.0 and before. Both are accepted everywhere by turning any name into
/// snake_case; answers use the names of the form the request came in.
/// </summary>
internal static class RpcNames
{
    /// <summary>
    /// snake_case of a name in any of Transmission's spellings: "seedRatioLimit" and "seed-ratio-limit" both give
    /// "seed_ratio_limit"; a run of capitals is one word ("isUTP" gives "is_utp").
    /// </summary>
    public static string ToSnake(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        bool plain = true;
        foreach (char c in name)
        {
            if (c == '-' || char.IsAsciiLetterUpper(c))
            {
                plain = false;
                break;
            }
        }
        if (plain) return name;
        var snake = new StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (c == '-')
            {
                snake.Append('_');
                continue;
            }
            if (char.IsAsciiLetterUpper(c))
            {
                bool afterLower = i > 0 && (char.IsAsciiLetterLower(name[i - 1]) || char.IsAsciiDigit(name[i - 1]));
                bool endsRun = i > 0 && char.IsAsciiLetterUpper(name[i - 1]) && i + 1 < name.Length && char.IsAsciiLetterLower(name[i + 1]);
                if (afterLower || endsRun) snake.Append('_');
                snake.Append(char.ToLowerInvariant(c));
                continue;
            }
            snake.Append(c);
        }
        return snake.ToString();
    }

    /// <summary>Writes a property name in the spelling of <paramref name="style"/>.</summary>
    public static void Key(this Utf8JsonWriter writer, RpcStyle style, string snake, string legacy)
        => writer.WritePropertyName(style == RpcStyle.JsonRpc ? snake : legacy);
}
