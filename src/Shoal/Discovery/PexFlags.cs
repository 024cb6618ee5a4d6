namespace Shoal.Discovery;

/// <summary>Per-peer flags of a BEP 11 PEX "added" entry (one byte each in added.f / added6.f).</summary>
[Flags]
public enum PexFlags : byte
{
    /// <summary>No flag.</summary>
    None = 0,

    /// <summary>0x01: prefers encryption ("e" in its extension handshake).</summary>
    PrefersEncryption = 0x01,

    /// <summary>0x02: a seed or upload-only peer.</summary>
    Seed = 0x02,

    /// <summary>0x04: supports uTP.</summary>
    SupportsUtp = 0x04,

    /// <summary>0x08: supports ut_holepunch (BEP 55).</summary>
    Holepunch = 0x08,

    /// <summary>0x10: we connected out to it, so it is reachable.</summary>
    Reachable = 0x10,
}
