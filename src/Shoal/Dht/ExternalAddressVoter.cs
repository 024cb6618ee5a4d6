using System.Net;

namespace Shoal.Dht;

/// <summary>
/// Our external address by vote (BEP 42): every response may say, in its top-level "ip", how the responder sees us.
/// Each responder address holds one vote (its latest); a vote older than <see cref="VoteLifetime"/> no longer counts,
/// and at most <see cref="MaxVoters"/> voters are remembered (a new voter replaces the oldest vote), so a burst of
/// liars ages out and memory stays flat. The address with the most live votes wins once it has
/// <see cref="MinVotes"/> of them. Pure and single-owner; time from the <see cref="TimeProvider"/>.
/// </summary>
public sealed class ExternalAddressVoter
{
    private readonly TimeProvider _time;
    private readonly Dictionary<IPAddress, Ballot> _ballots = [];

    /// <summary>Creates a voter with no votes.</summary>
    public ExternalAddressVoter(TimeProvider time, int minVotes = 5, int maxVoters = 64, TimeSpan? voteLifetime = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThan(minVotes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxVoters, minVotes);
        _time = time;
        MinVotes = minVotes;
        MaxVoters = maxVoters;
        VoteLifetime = voteLifetime ?? TimeSpan.FromHours(1);
    }

    /// <summary>Live votes an address needs to win.</summary>
    public int MinVotes { get; }

    /// <summary>Most voters remembered.</summary>
    public int MaxVoters { get; }

    /// <summary>How long a vote counts.</summary>
    public TimeSpan VoteLifetime { get; }

    /// <summary>Voters remembered right now (live or not yet pruned).</summary>
    public int VoterCount => _ballots.Count;

    /// <summary>The winning address; null until one has <see cref="MinVotes"/> live votes.</summary>
    public IPAddress? Leader { get; private set; }

    /// <summary>
    /// <paramref name="voter"/> (a responder's address) saw us as <paramref name="seenAs"/>; returns true when the
    /// <see cref="Leader"/> changed.
    /// </summary>
    public bool Vote(IPAddress voter, IPAddress seenAs)
    {
        ArgumentNullException.ThrowIfNull(voter);
        ArgumentNullException.ThrowIfNull(seenAs);
        if (seenAs.IsIPv4MappedToIPv6) seenAs = seenAs.MapToIPv4();
        DateTimeOffset now = _time.GetUtcNow();
        if (_ballots.TryGetValue(voter, out Ballot previous) && previous.Address.Equals(seenAs) && now - previous.At <= VoteLifetime)
        {
            _ballots[voter] = previous with { At = now }; // the same vote renewed: the tally cannot change
            return false;
        }
        if (!_ballots.ContainsKey(voter) && _ballots.Count >= MaxVoters)
        {
            Prune(now);
            if (_ballots.Count >= MaxVoters) RemoveOldest();
        }
        _ballots[voter] = new Ballot(seenAs, now);
        return Count(now);
    }

    private bool Count(DateTimeOffset now)
    {
        var tally = new Dictionary<IPAddress, int>();
        IPAddress? best = null;
        int bestVotes = 0;
        foreach (Ballot ballot in _ballots.Values)
        {
            if (now - ballot.At > VoteLifetime) continue;
            int votes = tally.GetValueOrDefault(ballot.Address) + 1;
            tally[ballot.Address] = votes;
            if (votes > bestVotes)
            {
                bestVotes = votes;
                best = ballot.Address;
            }
        }
        // A tie keeps the current leader: a changing external address costs a new node id at the next start.
        if (Leader is not null && tally.GetValueOrDefault(Leader) >= bestVotes) return false;
        if (bestVotes < MinVotes || best is null || best.Equals(Leader)) return false;
        Leader = best;
        return true;
    }

    private void Prune(DateTimeOffset now)
    {
        List<IPAddress>? stale = null;
        foreach ((IPAddress voter, Ballot ballot) in _ballots)
        {
            if (now - ballot.At > VoteLifetime) (stale ??= []).Add(voter);
        }
        if (stale is not null) foreach (IPAddress voter in stale) _ballots.Remove(voter);
    }

    private void RemoveOldest()
    {
        IPAddress? oldest = null;
        DateTimeOffset at = DateTimeOffset.MaxValue;
        foreach ((IPAddress voter, Ballot ballot) in _ballots)
        {
            if (ballot.At < at)
            {
                at = ballot.At;
                oldest = voter;
            }
        }
        if (oldest is not null) _ballots.Remove(oldest);
    }

    private readonly record struct Ballot(IPAddress Address, DateTimeOffset At);
}
