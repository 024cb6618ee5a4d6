using BenchmarkDotNet.Attributes;
namespace Shoal.Bench.Micro;

/// <summary>
/// A whole download of the <see cref="PickerSwarm"/> torrent through the picker (<see cref="PickerDownload"/>): random
/// first, partial first, rarest first and the endgame. One operation = one block of the torrent (160,000 per
/// download). The picker and its 1,000 registered bitfields are built before each iteration, outside the measurement,
/// so an iteration is one download.
/// </summary>
[InvocationCount(1)]
public class PickerDownloadBenchmarks
{
    private PickerSwarm? _swarm;
    private PickerDownload? _download;

    /// <summary>PickBlocks calls one download makes (the same every run: everything is seeded).</summary>
    public static long PickCallsPerDownload()
    {
        PickerSwarm swarm = PickerSwarm.Create();
        return new PickerDownload(swarm, swarm.NewPicker()).Run();
    }

    [GlobalSetup]
    public void Setup() => _swarm = PickerSwarm.Create();

    [IterationSetup]
    public void BuildPicker() => _download = new PickerDownload(_swarm!, _swarm!.NewPicker());

    /// <summary>Downloads all 160,000 blocks; returns the PickBlocks calls made.</summary>
    [Benchmark(OperationsPerInvoke = PickerSwarm.Blocks)]
    public long Download() => _download!.Run();
}
