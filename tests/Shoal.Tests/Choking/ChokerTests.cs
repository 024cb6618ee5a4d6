using Shoal.Choking;

namespace Shoal.Tests.Choking;

public sealed class ChokerTests
{
    private static readonly TimeSpan Round = TimeSpan.FromSeconds(10);

    private static ChokeCandidate Peer(int key, long rateFromPeer = 0, bool interested = true, bool choked = true,
        bool seed = false, bool snubbed = false, long uploaded = 0, double completion = 0) =>
        new(key, interested, choked, rateFromPeer, 0, uploaded, seed, snubbed, completion);

    /// <summary>The caller's side: applies decisions to the candidates' IsChokedByUs.</summary>
    private static void Apply(ChokeCandidate[] peers, HashSet<int> unchoked)
    {
        for (int i = 0; i < peers.Length; i++)
            peers[i] = peers[i] with { IsChokedByUs = !unchoked.Contains(peers[i].PeerKey) };
    }

    [Fact]
    public void TitForTat_UnchokesFastestUploaders_PlusOneOptimistic()
    {
        var choker = new Choker(3, new Random(1));
        var peers = new[] { Peer(1, 100), Peer(2, 900), Peer(3, 500), Peer(4, 50), Peer(5, 700), Peer(6, 10), Peer(7, 0) };
        var unchoked = new HashSet<int>();
        choker.Decide(peers, weAreSeeding: false, TimeSpan.Zero, unchoked);

        Assert.Equal(4, unchoked.Count);
        Assert.Contains(2, unchoked);
        Assert.Contains(5, unchoked);
        Assert.Contains(3, unchoked);
        int optimistic = Assert.IsType<int>(choker.OptimisticPeer);
        Assert.Contains(optimistic, new[] { 1, 4, 6, 7 });
        Assert.Contains(optimistic, unchoked);
    }

    [Fact]
    public void TitForTat_ExcludesSnubbedPeersAndSeedsFromRegularSlots()
    {
        var choker = new Choker(2, new Random(1));
        var peers = new[] { Peer(1, 5000, snubbed: true), Peer(2, 9000, seed: true), Peer(3, 10), Peer(4, 20), Peer(5, 1) };
        var unchoked = new HashSet<int>();
        choker.Decide(peers, false, TimeSpan.Zero, unchoked);
        unchoked.Remove(choker.OptimisticPeer!.Value);
        Assert.Equal(new HashSet<int> { 3, 4 }, unchoked);
    }

    [Fact]
    public void RegularSlots_FollowRates()
    {
        var choker = new Choker(1, new Random(3));
        var peers = new[] { Peer(1, 100), Peer(2, 50) };
        var unchoked = new HashSet<int>();
        choker.Decide(peers, false, TimeSpan.Zero, unchoked);
        Apply(peers, unchoked);
        Assert.Equal(2, choker.OptimisticPeer);

        // Peer 2 becomes the faster: it takes the regular slot, and the optimistic slot moves to peer 1.
        peers[0] = peers[0] with { DownloadRateFromPeer = 10 };
        peers[1] = peers[1] with { DownloadRateFromPeer = 500 };
        choker.Decide(peers, false, Round, unchoked);
        Assert.Equal(new HashSet<int> { 1, 2 }, unchoked);
        Assert.Equal(1, choker.OptimisticPeer);
    }

    [Fact]
    public void Optimistic_RotatesAfter30Seconds_AndNotBefore()
    {
        var choker = new Choker(1, new Random(7));
        var peers = Enumerable.Range(1, 8).Select(k => Peer(k, k == 1 ? 1000 : 0)).ToArray();
        var unchoked = new HashSet<int>();

        choker.Decide(peers, false, TimeSpan.Zero, unchoked);
        Apply(peers, unchoked);
        int first = choker.OptimisticPeer!.Value;
        Assert.NotEqual(1, first);

        // Early calls (peers joining/leaving) and the regular 10 s rounds keep it for 30 s.
        foreach (double s in new[] { 0.5, 1, 2, 10, 15, 20, 29.9 })
        {
            choker.Decide(peers, false, TimeSpan.FromSeconds(s), unchoked);
            Apply(peers, unchoked);
            Assert.Equal(first, choker.OptimisticPeer);
            Assert.Contains(first, unchoked);
        }

        choker.Decide(peers, false, TimeSpan.FromSeconds(30), unchoked);
        Apply(peers, unchoked);
        int second = choker.OptimisticPeer!.Value;
        Assert.NotEqual(first, second);
        Assert.DoesNotContain(first, unchoked);

        choker.Decide(peers, false, TimeSpan.FromSeconds(50), unchoked);
        Assert.Equal(second, choker.OptimisticPeer);
        choker.Decide(peers, false, TimeSpan.FromSeconds(60), unchoked);
        Assert.NotEqual(second, choker.OptimisticPeer);
    }

    [Fact]
    public void Optimistic_ManyCallsAtSameTime_DoNotRotate()
    {
        var choker = new Choker(0, new Random(2));
        var peers = Enumerable.Range(1, 10).Select(k => Peer(k)).ToArray();
        var unchoked = new HashSet<int>();
        choker.Decide(peers, false, TimeSpan.FromSeconds(100), unchoked);
        int first = choker.OptimisticPeer!.Value;
        for (int i = 0; i < 50; i++)
        {
            Apply(peers, unchoked);
            choker.Decide(peers, false, TimeSpan.FromSeconds(100), unchoked);
            Assert.Equal(new HashSet<int> { first }, unchoked);
        }
    }

    [Fact]
    public void Optimistic_FavoursNewPeers()
    {
        // Two peers already unchoked once and three new ones compete for the optimistic slot. With weight 3 for
        // new peers, the new ones win 9/11 (0.82) of draws; equal weights would give 3/5 (0.6).
        int newWins = 0;
        const int trials = 1000;
        for (int seed = 0; seed < trials; seed++)
        {
            var choker = new Choker(0, new Random(seed));
            var unchoked = new HashSet<int>();
            // Old peers 1-3 are currently unchoked (by the caller): they count as unchoked once.
            var old = new[] { Peer(1, choked: false), Peer(2, choked: false), Peer(3, choked: false) };
            choker.Decide(old, false, TimeSpan.Zero, unchoked);
            int current = choker.OptimisticPeer!.Value;

            var all = new[] { Peer(1), Peer(2), Peer(3), Peer(11), Peer(12), Peer(13) };
            choker.Decide(all, false, TimeSpan.FromSeconds(40), unchoked);
            int pick = choker.OptimisticPeer!.Value;
            Assert.NotEqual(current, pick);
            if (pick > 10) newWins++;
        }
        double share = (double)newWins / trials;
        Assert.InRange(share, 0.74, 0.90);
    }

    [Fact]
    public void UninterestedPeers_AreNeverUnchoked()
    {
        foreach (bool seeding in new[] { false, true })
        {
            var choker = new Choker(4, new Random(5));
            var peers = new[]
            {
                Peer(1, 9000, interested: false), Peer(2, 100), Peer(3, 8000, interested: false, choked: false),
                Peer(4, 1), Peer(5, 0, interested: false),
            };
            var unchoked = new HashSet<int>();
            for (int round = 0; round < 30; round++)
            {
                choker.Decide(peers, seeding, round * Round, unchoked);
                Assert.DoesNotContain(1, unchoked);
                Assert.DoesNotContain(3, unchoked);
                Assert.DoesNotContain(5, unchoked);
                Assert.Equal(new HashSet<int> { 2, 4 }, unchoked);
                Apply(peers, unchoked);
            }
        }
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, false)]
    [InlineData(4, false)]
    [InlineData(4, true)]
    [InlineData(7, true)]
    public void SlotCount_IsHonoured(int slots, bool seeding)
    {
        var random = new Random(slots * 17 + (seeding ? 1 : 0));
        var choker = new Choker(slots, new Random(1));
        var peers = Enumerable.Range(1, 25).Select(k => Peer(k, random.Next(1000), interested: random.Next(4) != 0)).ToArray();
        int interested = peers.Count(p => p.IsInterested);
        var unchoked = new HashSet<int>();
        for (int round = 0; round < 40; round++)
        {
            for (int i = 0; i < peers.Length; i++)
                peers[i] = peers[i] with { DownloadRateFromPeer = random.Next(1000), BytesUploadedToPeer = peers[i].BytesUploadedToPeer + random.Next(100) };
            choker.Decide(peers, seeding, round * Round, unchoked);
            Assert.Equal(Math.Min(slots + 1, interested), unchoked.Count);
            Apply(peers, unchoked);
        }
    }

    [Fact]
    public void Seeding_SpreadsUploadOverAllInterestedPeers()
    {
        var choker = new Choker(3, new Random(11));
        // Peer 1 would download very fast; in seeding mode that must not let it keep a slot for ever.
        var peers = Enumerable.Range(1, 12).Select(k => Peer(k, 0)).ToArray();
        var rates = Enumerable.Range(1, 12).Select(k => k == 1 ? 1_000_000L : 10_000L).ToArray();
        var rounds = new int[13];
        var unchoked = new HashSet<int>();
        const int roundCount = 60; // 10 minutes
        for (int round = 0; round < roundCount; round++)
        {
            choker.Decide(peers, weAreSeeding: true, round * Round, unchoked);
            Assert.Equal(4, unchoked.Count);
            Apply(peers, unchoked);
            for (int i = 0; i < peers.Length; i++)
            {
                if (!unchoked.Contains(peers[i].PeerKey)) continue;
                rounds[peers[i].PeerKey]++;
                peers[i] = peers[i] with
                {
                    UploadRateToPeer = rates[i],
                    BytesUploadedToPeer = peers[i].BytesUploadedToPeer + rates[i] * 10,
                };
            }
        }
        // 60 rounds x 4 slots = 240 peer-rounds for 12 peers: 20 each on average. Round robin keeps everyone
        // close to it; the fast peer gets no more than a fair share.
        for (int k = 1; k <= 12; k++)
            Assert.InRange(rounds[k], 12, 30);
    }

    [Fact]
    public void Seeding_GivesRegularSlotsToTheLeastCompletePeers()
    {
        var choker = new Choker(2, new Random(5));
        var peers = new[] { Peer(1, completion: 0.9), Peer(2, completion: 0.1), Peer(3, completion: 0.5),
            Peer(4, completion: 0.02), Peer(5, completion: 0.7), Peer(6, completion: 0.3) };
        var unchoked = new HashSet<int>();
        choker.Decide(peers, weAreSeeding: true, TimeSpan.Zero, unchoked);
        unchoked.Remove(choker.OptimisticPeer!.Value);
        Assert.Equal(new HashSet<int> { 4, 2 }, unchoked);

        // After their turn the two have caught up past peer 6, which is now the furthest behind.
        Apply(peers, unchoked);
        peers[1] = peers[1] with { PeerCompletion = 0.6 };
        peers[3] = peers[3] with { PeerCompletion = 0.55 };
        choker.Decide(peers, weAreSeeding: true, Choker.SeedTurn, unchoked);
        Assert.Contains(6, unchoked);
        Assert.Contains(3, unchoked);
    }

    [Fact]
    public void Seeding_PeersAboutAsFarAlongTakeTurns()
    {
        // Completions within one step (1/16) of each other count as equal: the regular slots go round robin
        // among them. Peer 7, a step behind, keeps a regular slot every turn.
        var choker = new Choker(2, new Random(8));
        var peers = Enumerable.Range(1, 6).Select(k => Peer(k, completion: 0.50 + k * 0.005))
            .Append(Peer(7, completion: 0.40)).ToArray();
        var regularTurns = new int[8];
        var unchoked = new HashSet<int>();
        const int rounds = 12;
        for (int round = 0; round < rounds; round++)
        {
            choker.Decide(peers, weAreSeeding: true, round * Choker.SeedTurn, unchoked);
            Apply(peers, unchoked);
            unchoked.Remove(choker.OptimisticPeer!.Value);
            foreach (int key in unchoked) regularTurns[key]++;
        }
        Assert.Equal(rounds, regularTurns[7]);
        // The other slot: 12 turns among 6 peers, 2 each when shared evenly.
        for (int k = 1; k <= 6; k++) Assert.InRange(regularTurns[k], 1, 4);
    }

    [Fact]
    public void Seeding_NewPeerGetsAturnSoon()
    {
        var choker = new Choker(2, new Random(4));
        var peers = Enumerable.Range(1, 4).Select(k => Peer(k)).ToList();
        var unchoked = new HashSet<int>();
        for (int round = 0; round < 10; round++)
        {
            var arr = peers.ToArray();
            choker.Decide(arr, true, round * Round, unchoked);
            Apply(arr, unchoked);
            peers = arr.ToList();
        }
        peers.Add(Peer(99));
        bool served = false;
        for (int round = 10; round < 16 && !served; round++)
        {
            var arr = peers.ToArray();
            choker.Decide(arr, true, round * Round, unchoked);
            served = unchoked.Contains(99);
            Apply(arr, unchoked);
            peers = arr.ToList();
        }
        Assert.True(served, "a new peer waited more than a minute while seeding");
    }

    [Fact]
    public void LeftPeers_AreForgotten_AndOptimisticReplaced()
    {
        var choker = new Choker(0, new Random(1));
        var unchoked = new HashSet<int>();
        choker.Decide(new[] { Peer(1) }, false, TimeSpan.Zero, unchoked);
        Assert.Equal(1, choker.OptimisticPeer);
        choker.Decide(new[] { Peer(2) }, false, TimeSpan.FromSeconds(1), unchoked);
        Assert.Equal(2, choker.OptimisticPeer);
        Assert.Equal(new HashSet<int> { 2 }, unchoked);
        choker.Decide(ReadOnlySpan<ChokeCandidate>.Empty, false, TimeSpan.FromSeconds(2), unchoked);
        Assert.Null(choker.OptimisticPeer);
        Assert.Empty(unchoked);
    }

    [Fact]
    public void SameSeed_SameDecisions()
    {
        static string Run()
        {
            var choker = new Choker(2, new Random(123));
            var peers = Enumerable.Range(1, 9).Select(k => Peer(k, k % 3)).ToArray();
            var unchoked = new HashSet<int>();
            var log = new List<string>();
            for (int round = 0; round < 20; round++)
            {
                choker.Decide(peers, round >= 10, round * Round, unchoked);
                log.Add(string.Join(',', unchoked.Order()));
                Apply(peers, unchoked);
            }
            return string.Join(';', log);
        }
        Assert.Equal(Run(), Run());
    }
}
