namespace Shoal.Transport.Utp;

/// <summary>
/// Packetization-layer path MTU discovery (RFC 4821, as libtorrent's uTP does it): ordinary packets use the largest
/// size known to get through (the floor); now and then one packet is sent at the midpoint between the floor and
/// the largest size that might get through (the ceiling). An acked probe raises the floor, a lost probe lowers the
/// ceiling, and the search stops once the two are close. A lost probe is not congestion.
/// </summary>
internal sealed class MtuDiscovery
{
    /// <summary>The search stops when the ceiling is within this many bytes of the floor.</summary>
    public const int Resolution = 16;

    /// <summary>Starts a search between <paramref name="floor"/> and <paramref name="ceiling"/> (whole packet sizes).</summary>
    public MtuDiscovery(int floor, int ceiling)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(floor, UtpPacket.HeaderLength + 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(ceiling, floor);
        Floor = floor;
        Ceiling = ceiling;
    }

    /// <summary>The largest packet known to get through.</summary>
    public int Floor { get; private set; }

    /// <summary>The largest packet that might get through.</summary>
    public int Ceiling { get; private set; }

    /// <summary>True while a probe is in flight.</summary>
    public bool ProbeInFlight { get; private set; }

    /// <summary>The sequence number of the probe in flight.</summary>
    public ushort ProbeSequence { get; private set; }

    /// <summary>The size of the next probe.</summary>
    public int ProbeSize => (Floor + Ceiling + 1) / 2;

    /// <summary>True when the next full packet should be a probe.</summary>
    public bool WantsProbe => !ProbeInFlight && Ceiling - Floor > Resolution;

    /// <summary>A probe of sequence number <paramref name="sequence"/> left.</summary>
    public void OnProbeSent(ushort sequence)
    {
        ProbeInFlight = true;
        ProbeSequence = sequence;
    }

    /// <summary>A probe of <paramref name="size"/> bytes arrived: the path carries packets that large.</summary>
    public void OnProbeAcked(int size)
    {
        ProbeInFlight = false;
        if (size > Floor) Floor = Math.Min(size, Ceiling);
    }

    /// <summary>A probe of <paramref name="size"/> bytes was lost: assume the path cannot carry it.</summary>
    public void OnProbeLost(int size)
    {
        ProbeInFlight = false;
        Ceiling = Math.Max(Floor, Math.Min(Ceiling, size - 1));
    }

    /// <summary>Everything in flight was lost at once (a timeout): the probe's fate says nothing about its size.</summary>
    public void Forget() => ProbeInFlight = false;

    /// <summary>True when <paramref name="sequence"/> is the probe in flight.</summary>
    public bool IsProbe(ushort sequence) => ProbeInFlight && ProbeSequence == sequence;
}
