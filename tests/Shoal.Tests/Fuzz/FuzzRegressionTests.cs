namespace Shoal.Tests.Fuzz;

/// <summary>
/// Replays the checked-in regression corpus (tests/Shoal.Tests/Fuzz/Corpus/&lt;target&gt;/*.bin): tricky inputs
/// written by hand and every input `shoal-bench fuzz` ever found. Each may only have its target's allowed outcomes.
/// </summary>
public sealed class FuzzRegressionTests
{
    /// <summary>
    /// Corpus files that still break their parser, by "target/file.bin", with what they break. Their cases are
    /// skipped in <see cref="Corpus_input_has_only_allowed_outcomes"/> and replayed by a skipped fact each; remove
    /// the entry when src/ is fixed.
    /// </summary>
    private static readonly Dictionary<string, string> KnownFindings = new(StringComparer.Ordinal);

    /// <summary>The corpus folder in the checkout (found from the test binaries by walking up to Shoal.slnx).</summary>
    internal static string CorpusDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Shoal.slnx")))
                return Path.Combine(dir.FullName, "tests", "Shoal.Tests", "Fuzz", "Corpus");
        }
        throw new InvalidOperationException("Shoal.slnx not found above " + AppContext.BaseDirectory + "; the fuzz corpus lives in the checkout");
    }

    /// <summary>Every corpus file as (target, file name).</summary>
    public static TheoryData<string, string> CorpusFiles()
    {
        var data = new TheoryData<string, string>();
        foreach (string target in FuzzParsers.Names)
        {
            string dir = Path.Combine(CorpusDirectory(), target);
            if (!Directory.Exists(dir)) continue;
            foreach (string file in Directory.EnumerateFiles(dir, "*.bin").Order(StringComparer.Ordinal))
            {
                string name = Path.GetFileName(file);
                if (!KnownFindings.ContainsKey(target + "/" + name)) data.Add(target, name);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(CorpusFiles))]
    public void Corpus_input_has_only_allowed_outcomes(string target, string file)
    {
        byte[] input = File.ReadAllBytes(Path.Combine(CorpusDirectory(), target, file));
        Exception? error = Replay(target, input);
        Assert.True(error is null, $"{target}/{file}: {error}");
    }

    [Fact]
    public void Every_target_has_a_corpus()
    {
        foreach (string target in FuzzParsers.Names)
        {
            string dir = Path.Combine(CorpusDirectory(), target);
            Assert.True(Directory.Exists(dir) && Directory.EnumerateFiles(dir, "*.bin").Any(), $"no corpus for {target} in {dir}");
        }
        string[] unknown = [.. Directory.EnumerateDirectories(CorpusDirectory()).Select(Path.GetFileName).Where(d => Array.IndexOf(FuzzParsers.Names, d) < 0)!];
        Assert.True(unknown.Length == 0, "corpus folders without a target: " + string.Join(", ", unknown));
    }

    [Fact]
    public void The_harness_reports_a_crash_as_a_finding()
    {
        // The check must be able to fail: a non-format exception from a target is reported, a format one is not.
        Assert.Null(Replay("bencode", "i1x"u8.ToArray()));
        Assert.IsType<ArgumentException>(Replay("no-such-target", []));
    }

    /// <summary>Runs one input; returns the exception that breaks the target's contract, or null.</summary>
    internal static Exception? Replay(string target, byte[] input)
    {
        try
        {
            FuzzParsers.Run(target, input);
            return null;
        }
        catch (ShoalFormatException error) when (!FuzzParsers.NeverThrow(target))
        {
            _ = error;
            return null;
        }
        catch (Exception error)
        {
            return error;
        }
    }
}
