using System.Net;
using Shoal.Dht;

namespace Shoal.Tests.Dht;

public sealed class ExternalAddressVoterTests
{
    private static readonly IPAddress A = IPAddress.Parse("203.0.113.7"), B = IPAddress.Parse("198.51.100.9");

    private static IPAddress Voter(int i) => new([60, 0, (byte)(i / 250), (byte)((i % 250) + 1)]);

    [Fact]
    public void DistinctVotersElectAnAddressOneVoterCannot()
    {
        var voter = new ExternalAddressVoter(new VirtualTimeProvider());
        for (int i = 0; i < 20; i++) Assert.False(voter.Vote(Voter(0), A)); // one responder, one vote
        Assert.Null(voter.Leader);
        for (int i = 1; i < 4; i++) Assert.False(voter.Vote(Voter(i), A));
        Assert.True(voter.Vote(Voter(4), A)); // the fifth distinct voter
        Assert.Equal(A, voter.Leader);
        Assert.False(voter.Vote(Voter(5), A));
    }

    [Fact]
    public void ATieKeepsTheLeaderAndAMajorityMovesIt()
    {
        var voter = new ExternalAddressVoter(new VirtualTimeProvider());
        for (int i = 0; i < 5; i++) voter.Vote(Voter(i), A);
        for (int i = 5; i < 10; i++) Assert.False(voter.Vote(Voter(i), B));
        Assert.Equal(A, voter.Leader);
        Assert.True(voter.Vote(Voter(10), B));
        Assert.Equal(B, voter.Leader);
        Assert.True(voter.Vote(Voter(0), B) is false && voter.Leader!.Equals(B)); // a voter changing its mind moves one vote
    }

    [Fact]
    public void VotesAgeOutAndMemoryIsBounded()
    {
        var time = new VirtualTimeProvider();
        var voter = new ExternalAddressVoter(time, minVotes: 5, maxVoters: 64, voteLifetime: TimeSpan.FromHours(1));
        for (int i = 0; i < 5; i++) voter.Vote(Voter(i), A);
        Assert.Equal(A, voter.Leader);
        time.Advance(TimeSpan.FromHours(2));
        for (int i = 100; i < 104; i++) voter.Vote(Voter(i), B);
        Assert.Equal(A, voter.Leader); // four live votes are not enough...
        Assert.True(voter.Vote(Voter(104), B)); // ...five are, and A's old ones no longer count
        Assert.Equal(B, voter.Leader);

        for (int i = 0; i < 10_000; i++) voter.Vote(Voter(1000 + i), i % 2 == 0 ? A : B);
        Assert.InRange(voter.VoterCount, 1, 64);
    }
}
