namespace Shoal.Swarm;

/// <summary>Admit (both null), refuse with a reason, or admit after closing the peer <see cref="Replace"/>.</summary>
internal readonly record struct AdmissionDecision(string? Refusal, int? Replace)
{
    public static AdmissionDecision Admit => default;

    public static AdmissionDecision Refuse(string reason) => new(reason, null);

    public static AdmissionDecision ReplacePeer(int key) => new(null, key);
}
