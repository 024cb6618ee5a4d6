using BenchmarkDotNet.Attributes;
using Shoal.Picking;

namespace Shoal.Bench.Micro;

/// <summary>
/// A peer's BITFIELD registered with the picker while the 1,000 peers of <see cref="PickerSwarm"/> are
/// (<see cref="PiecePicker.AddPeer"/>: one availability update per piece it has, 5,000 of 10,000), paired with its
/// disconnect (<see cref="PiecePicker.RemovePeer"/>) so every operation starts from the same state.
/// </summary>
public class PickerRegisterBenchmarks
{
    private PickerSwarm? _swarm;
    private PiecePicker? _picker;

    [GlobalSetup]
    public void Setup()
    {
        _swarm = PickerSwarm.Create();
        _picker = _swarm.NewPicker();
    }

    /// <summary>One more peer's bitfield registered, then unregistered.</summary>
    [Benchmark]
    public void RegisterPeer()
    {
        BitField has = _swarm!.Extra;
        _picker!.AddPeer(has);
        _picker.RemovePeer(has);
    }
}
