using System.Text.Json;
using System.Text.RegularExpressions;

namespace Shoal.Tests.Interop;

/// <summary>Checks shared by the interop tests.</summary>
public static partial class InteropAssert
{
    /// <summary>Fields every <c>--json</c> status line must carry (the CLI contract).</summary>
    private static readonly string[] RequiredStatusFields = ["state", "progress", "downloaded", "uploaded", "down_rate", "up_rate", "peers"];

    /// <summary>Asserts the child exited with 0, showing its transcript otherwise.</summary>
    public static void Succeeded(ProcessResult result) =>
        Assert.True(result.ExitCode == 0, "expected exit code 0\n" + result.Transcript);

    /// <summary>Every 40-digit hex string in <paramref name="text"/>, lower-cased (v1 info-hashes).</summary>
    public static IReadOnlyList<string> HexInfoHashes(string text) =>
        [.. HexHash().Matches(text).Select(m => m.Value.ToLowerInvariant())];

    /// <summary>The first magnet link in <paramref name="text"/>, or null.</summary>
    public static string? MagnetLink(string text) => Magnet().Match(text) is { Success: true } m ? m.Value : null;

    /// <summary>
    /// Asserts that each non-empty stdout line of <c>shoal ... --json</c> is one JSON object with the
    /// contract's fields, and that progress stays within 0..1.
    /// </summary>
    public static void JsonStatusLines(IReadOnlyList<string> lines, string transcript)
    {
        foreach (var line in lines)
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(line);
            }
            catch (JsonException error)
            {
                Assert.Fail($"--json printed a line that is not JSON ({error.Message}): {line}\n{transcript}");
                return;
            }
            using (document)
            {
                var root = document.RootElement;
                Assert.True(root.ValueKind == JsonValueKind.Object, $"--json line is not an object: {line}");
                foreach (var field in RequiredStatusFields)
                {
                    Assert.True(root.TryGetProperty(field, out _), $"--json line lacks \"{field}\": {line}");
                }
                Assert.Equal(JsonValueKind.String, root.GetProperty("state").ValueKind);
                var progress = root.GetProperty("progress").GetDouble();
                Assert.InRange(progress, 0.0, 1.0);
                foreach (var field in RequiredStatusFields.AsSpan(2))
                {
                    Assert.True(root.GetProperty(field).GetDouble() >= 0, $"--json \"{field}\" is negative: {line}");
                }
            }
        }
    }

    /// <summary>Exit codes that count as a clean stop after SIGINT/SIGTERM (0, or 128+signal as shells report).</summary>
    public static void CleanStop(int exitCode, string transcript) =>
        Assert.True(exitCode is 0 or 130 or 143, $"expected a clean stop (0, 130 or 143), got {exitCode}\n{transcript}");

    [GeneratedRegex("(?<![0-9a-fA-F])[0-9a-fA-F]{40}(?![0-9a-fA-F])")]
    private static partial Regex HexHash();

    [GeneratedRegex(@"magnet:\?[^\s""']+")]
    private static partial Regex Magnet();
}
