using Shoal.Picking;
using static Shoal.Tests.Picking.PickerTestUtil;

namespace Shoal.Tests.Picking;

public sealed class PiecePickerTests
{
    private const int B = PiecePicker.BlockLength;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void RarestFirst_PicksTheRarestPiece(int seed)
    {
        // Pieces 0-3 are had (past random-first). Piece 7 is held by the seed only; the others by 3 peers.
        var picker = Picker(12, seed, Field(12, 0, 1, 2, 3));
        var seedPeer = Full(12);
        picker.AddPeer(seedPeer);
        picker.AddPeer(Field(12, 4, 5, 6, 8, 9, 10, 11));
        picker.AddPeer(Field(12, 4, 5, 6, 8, 9, 10, 11));

        BlockRequest[] got = Pick(picker, 1, seedPeer, 4);
        Assert.Equal(4, got.Length);
        Assert.All(got, r => Assert.Equal(7, r.Piece));
    }

    [Fact]
    public void RarestFirst_FollowsAvailabilityChangesFromHaveAndRemove()
    {
        var picker = Picker(8, 7, Field(8, 0, 1, 2, 3));
        var a = Field(8, 4, 5, 6, 7);
        var b = Field(8, 4, 5, 6, 7);
        picker.AddPeer(a);
        picker.AddPeer(b);
        // A third peer announces 4, 5 and 7 by HAVE: piece 6 becomes the rarest.
        picker.AddPeer(new BitField(8));
        picker.PeerHasPiece(4);
        picker.PeerHasPiece(5);
        picker.PeerHasPiece(7);
        Assert.Equal(2, picker.Availability(6));
        Assert.Equal(3, picker.Availability(4));
        Assert.All(Pick(picker, 1, a, 4), r => Assert.Equal(6, r.Piece));

        picker.RemovePeer(b);
        Assert.Equal(2, picker.Availability(4));
        Assert.Equal(1, picker.Availability(6));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void RarestFirst_SeesPiecesThatBecameRarerSinceTheLastPick(int seed)
    {
        var picker = Picker(9, seed, Field(9, 0, 1, 2, 3));
        var p = Field(9, 4, 5, 6, 7);
        var q = Field(9, 5, 6);
        var r = Field(9, 5, 6);
        picker.AddPeer(p);
        picker.AddPeer(Field(9, 4, 8));
        picker.AddPeer(q);
        picker.AddPeer(r);
        for (int i = 0; i < 3; i++) picker.AddPeer(Field(9, 7));
        // Availability: 4 -> 2, 5 and 6 -> 3, 7 -> 4, 8 -> 1.
        Assert.Equal(4, Pick(picker, 1, p, 4)[0].Piece);
        int second = Pick(picker, 1, p, 4)[0].Piece;
        Assert.Contains(second, new[] { 5, 6 });

        // Peers q and r leave: the other of 5/6 drops to availability 1, below where p last found a piece.
        picker.RemovePeer(q);
        picker.RemovePeer(r);
        Assert.Equal(11 - second, Pick(picker, 1, p, 4)[0].Piece);

        // p announces piece 8 (availability 2 now), rarer than 7 (4): it is picked next.
        p[8] = true;
        picker.PeerHasPiece(8);
        Assert.Equal(8, Pick(picker, 1, p, 4)[0].Piece);
        Assert.Equal(7, Pick(picker, 1, p, 4)[0].Piece);
    }

    [Fact]
    public void RandomFirst_VariesThenSwitchesToRarestAfterFourPieces()
    {
        var firstPicks = new HashSet<int>();
        for (int seed = 0; seed < 40; seed++)
        {
            var picker = Picker(20, seed);
            var full = Full(20);
            picker.AddPeer(full);
            var common = Full(20);
            common[5] = false;
            picker.AddPeer(common);
            picker.AddPeer(common);
            firstPicks.Add(Pick(picker, 1, full, 1)[0].Piece);
        }
        // Piece 5 is the rarest, but random-first ignores availability.
        Assert.True(firstPicks.Count > 5, $"random first picked only {firstPicks.Count} distinct pieces");

        for (int seed = 0; seed < 10; seed++)
        {
            var picker = Picker(20, seed, Field(20, 10, 11, 12, 13));
            var full = Full(20);
            picker.AddPeer(full);
            var common = Full(20);
            common[5] = false;
            picker.AddPeer(common);
            Assert.Equal(5, Pick(picker, 1, full, 1)[0].Piece);
        }
    }

    [Fact]
    public void RandomFirst_EndsWhenFourPiecesVerified()
    {
        var picker = Picker(30, 3);
        var full = Full(30);
        picker.AddPeer(full);
        var common = Full(30);
        common[29] = false;
        picker.AddPeer(common);
        for (int i = 0; i < 4; i++)
        {
            int piece = Pick(picker, 2, common, 4)[0].Piece;
            Complete(picker, piece);
        }
        Assert.Equal(29, Pick(picker, 1, full, 1)[0].Piece);
    }

    [Fact]
    public void PartialPieces_ArePreferred_OwnPieceFirst()
    {
        var picker = Picker(10, 11, Field(10, 0, 1, 2, 3));
        var all = Full(10);
        picker.AddPeer(all);

        BlockRequest[] a = Pick(picker, 1, all, 1);          // peer 1 starts piece p1 (1 of 4 requested)
        int p1 = a[0].Piece;
        var lacksP1 = Full(10);
        lacksP1[p1] = false;
        BlockRequest[] b = Pick(picker, 2, lacksP1, 3);      // peer 2 starts p2 (3 of 4 requested)
        int p2 = b[0].Piece;
        Assert.NotEqual(p1, p2);
        Assert.All(b, r => Assert.Equal(p2, r.Piece));

        // Peer 1 continues its own piece although p2 is closer to fully requested.
        BlockRequest[] a2 = Pick(picker, 1, all, 1);
        Assert.Equal(new BlockRequest(p1, B, B), a2[0]);

        // A new peer takes the started piece closest to fully requested (p2: 1 left), then the other (p1: 2
        // left), and only then starts a new piece.
        BlockRequest[] c = Pick(picker, 3, all, 4);
        Assert.Equal(new[] { new BlockRequest(p2, 3 * B, B), new BlockRequest(p1, 2 * B, B), new BlockRequest(p1, 3 * B, B) }, c[..3]);
        Assert.NotEqual(p1, c[3].Piece);
        Assert.NotEqual(p2, c[3].Piece);
        Assert.Equal(0, c[3].Offset);
        Assert.Equal(3, picker.PartialPieces);
    }

    [Fact]
    public void PeerWithoutPiece_NeverGetsIt()
    {
        var random = new Random(5);
        var picker = Picker(64, 5);
        var peers = new BitField[5];
        for (int i = 0; i < peers.Length; i++) { peers[i] = RandomField(64, random, 0.3); picker.AddPeer(peers[i]); }
        for (int round = 0; round < 50; round++)
        {
            int k = random.Next(peers.Length);
            foreach (BlockRequest r in Pick(picker, k, peers[k], 7))
                Assert.True(peers[k][r.Piece], $"peer {k} was asked for piece {r.Piece} it does not have");
        }
    }

    [Fact]
    public void UnwantedPieces_AreNeverPicked_AndDoNotCount()
    {
        var picker = Picker(8, 2);
        var seed = Full(8);
        picker.AddPeer(seed);
        picker.SetPieceWanted(2, false);
        picker.SetPieceWanted(5, false);
        Assert.Equal(6, picker.MissingPieces);
        Assert.False(picker.IsInteresting(Field(8, 2, 5)));
        Assert.True(picker.IsInteresting(Field(8, 2, 6)));

        var seen = new HashSet<int>();
        var cancels = new List<int>();
        for (int i = 0; i < 100 && !picker.IsComplete; i++)
        {
            foreach (BlockRequest r in Pick(picker, 1, seed, 5))
            {
                Assert.NotEqual(2, r.Piece);
                Assert.NotEqual(5, r.Piece);
                seen.Add(r.Piece);
                Assert.True(picker.OnBlockReceived(1, r, cancels));
                if (r.Offset == 3 * B) picker.OnPieceVerified(r.Piece);
            }
        }
        Assert.True(picker.IsComplete);
        Assert.Equal(6, seen.Count);
        Assert.Empty(Pick(picker, 1, seed, 5));

        // Wanting a piece again makes it pickable and the torrent incomplete.
        picker.SetPieceWanted(5, true);
        Assert.False(picker.IsComplete);
        Assert.All(Pick(picker, 1, seed, 4), r => Assert.Equal(5, r.Piece));
    }

    [Fact]
    public void UnwantedPartialPiece_IsNotContinued()
    {
        var picker = Picker(6, 2, Field(6, 0, 1, 2, 3));
        var seed = Full(6);
        picker.AddPeer(seed);
        int started = Pick(picker, 1, seed, 1)[0].Piece;
        picker.SetPieceWanted(started, false);
        Assert.All(Pick(picker, 1, seed, 8), r => Assert.NotEqual(started, r.Piece));
    }

    [Fact]
    public void Endgame_HandsDuplicates_AndReportsOtherRequesters()
    {
        var picker = Picker(1, 1);
        var seed = Full(1);
        picker.AddPeer(seed);
        picker.AddPeer(seed);
        picker.AddPeer(seed);

        BlockRequest[] a = Pick(picker, 1, seed, 10);
        Assert.Equal(4, a.Length);
        Assert.True(picker.InEndgame);

        BlockRequest[] b = Pick(picker, 2, seed, 10);
        Assert.Equal(a, b);                                  // every block once more, from peer 2
        Assert.Empty(Pick(picker, 1, seed, 10));             // never twice to the same peer
        Assert.Empty(Pick(picker, 3, seed, 10));             // at most 2 requesters per block

        var cancels = new List<int>();
        Assert.True(picker.OnBlockReceived(1, a[0], cancels));
        Assert.Equal(new[] { 2 }, cancels);
        Assert.False(picker.OnBlockReceived(2, a[0], cancels));
        Assert.Empty(cancels);

        // Peer 2 drops block 1: it stays requested by peer 1, so peer 3 can now duplicate it.
        picker.OnRequestDropped(2, a[1]);
        Assert.True(picker.InEndgame);
        Assert.Equal(new[] { a[1] }, Pick(picker, 3, seed, 10));
    }

    [Fact]
    public void NotEndgame_WhileUnrequestedBlocksRemain()
    {
        var picker = Picker(2, 1, Field(2, 0));
        var seed = Full(2);
        picker.AddPeer(seed);
        BlockRequest[] a = Pick(picker, 1, seed, 3);
        Assert.False(picker.InEndgame);
        Assert.Equal(new[] { new BlockRequest(1, 3 * B, B) }, Pick(picker, 2, seed, 1)); // the unrequested block first
        Assert.True(picker.InEndgame);
        Assert.Equal(a, Pick(picker, 2, seed, 10));           // then duplicates of peer 1's blocks
    }

    [Fact]
    public void DroppedRequests_ComeBack()
    {
        var picker = Picker(1, 1);
        var seed = Full(1);
        picker.AddPeer(seed);
        BlockRequest[] a = Pick(picker, 1, seed, 2);
        Assert.Equal(new[] { new BlockRequest(0, 0, B), new BlockRequest(0, B, B) }, a);
        picker.OnRequestDropped(1, a[1]);
        picker.OnRequestDropped(7, a[0]);                    // not its request: ignored

        BlockRequest[] b = Pick(picker, 2, seed, 3);
        Assert.Equal(new[] { new BlockRequest(0, B, B), new BlockRequest(0, 2 * B, B), new BlockRequest(0, 3 * B, B) }, b);

        // ForgetPeer releases all of a peer's requests at once.
        picker.ForgetPeer(2);
        Assert.Equal(b, Pick(picker, 3, seed, 3));
    }

    [Fact]
    public void LateBlock_AfterDrop_IsStillAccepted()
    {
        var picker = Picker(1, 1);
        var seed = Full(1);
        picker.AddPeer(seed);
        BlockRequest[] a = Pick(picker, 1, seed, 1);
        picker.OnRequestDropped(1, a[0]);
        var cancels = new List<int>();
        Assert.True(picker.OnBlockReceived(1, a[0], cancels));
        Assert.DoesNotContain(Pick(picker, 2, seed, 10), r => r == a[0]);
    }

    [Fact]
    public void FailedPiece_ComesBackWhole()
    {
        var picker = Picker(3, 1, Field(3, 0, 2));
        var seed = Full(3);
        picker.AddPeer(seed);
        BlockRequest[] a = Pick(picker, 1, seed, 10);
        Assert.Equal(4, a.Length);
        var cancels = new List<int>();
        foreach (BlockRequest r in a) Assert.True(picker.OnBlockReceived(1, r, cancels));
        Assert.Empty(Pick(picker, 1, seed, 10));             // fully received, waiting for the hash check
        Assert.False(picker.OnBlockReceived(1, a[0], cancels));

        picker.OnPieceFailed(1);
        Assert.Equal(1, picker.MissingPieces);
        Assert.Equal(a, Pick(picker, 2, seed, 10));

        // A verified piece that fails (e.g. on recheck) comes back too.
        picker.OnPieceFailed(0);
        Assert.Equal(2, picker.MissingPieces);
        Assert.False(picker.HasPiece(0));
    }

    [Fact]
    public void FailedPiece_WhileInFlight_RefusesStaleBlocks()
    {
        var picker = Picker(1, 1);
        var seed = Full(1);
        picker.AddPeer(seed);
        BlockRequest[] a = Pick(picker, 1, seed, 4);
        picker.OnPieceFailed(0);
        Assert.False(picker.OnBlockReceived(1, a[0], new List<int>()));
        Assert.Equal(a, Pick(picker, 2, seed, 4));
    }

    [Fact]
    public void LastPiece_IsShorter()
    {
        // 3 full pieces of 32 KiB, and a last piece of 20000 bytes: blocks of 16384 and 3616 bytes.
        long total = 3 * 2 * B + 20000;
        var picker = new PiecePicker(4, 2 * B, total, Field(4, 0, 1, 2), new Random(1));
        Assert.Equal(20000, picker.PieceSize(3));
        Assert.Equal(2, picker.BlockCount(3));
        var seed = Full(4);
        picker.AddPeer(seed);
        BlockRequest[] got = Pick(picker, 1, seed, 10);
        Assert.Equal(new[] { new BlockRequest(3, 0, B), new BlockRequest(3, B, 20000 - B) }, got);

        var cancels = new List<int>();
        Assert.False(picker.OnBlockReceived(1, new BlockRequest(3, B, B), cancels));   // wrong length
        Assert.False(picker.OnBlockReceived(1, new BlockRequest(3, 2 * B, 100), cancels)); // past the end
        Assert.False(picker.OnBlockReceived(1, new BlockRequest(4, 0, B), cancels));   // no such piece
        Assert.True(picker.OnBlockReceived(1, got[0], cancels));
        Assert.True(picker.OnBlockReceived(1, got[1], cancels));
        Assert.False(picker.IsComplete);
        picker.OnPieceVerified(3);
        Assert.True(picker.IsComplete);
        Assert.Equal(0, picker.MissingPieces);
    }

    [Fact]
    public void SmallTorrent_SingleShortBlock()
    {
        var picker = new PiecePicker(1, 4 * B, 1000, new BitField(1), new Random(1));
        var seed = Full(1);
        Assert.Equal(new[] { new BlockRequest(0, 0, 1000) }, Pick(picker, 1, seed, 4));
    }

    [Fact]
    public void IsComplete_AfterEveryPieceVerified()
    {
        var picker = Picker(3, 1);
        Assert.False(picker.IsComplete);
        Assert.Equal(3, picker.MissingPieces);
        picker.OnPieceVerified(0);
        picker.OnPieceVerified(1);
        Assert.False(picker.IsComplete);
        picker.OnPieceVerified(2);
        Assert.True(picker.IsComplete);
        Assert.False(picker.InEndgame);
        Assert.Empty(Pick(picker, 1, Full(3), 4));
        Assert.False(picker.IsInteresting(Full(3)));
        Assert.True(new PiecePicker(3, B, 3 * B, Full(3), new Random(1)).IsComplete);
    }

    [Fact]
    public void IsInteresting_OnlyForNeededPieces()
    {
        var picker = Picker(70, 1, Field(70, 1, 65));
        Assert.False(picker.IsInteresting(new BitField(70)));
        Assert.False(picker.IsInteresting(Field(70, 1, 65)));
        Assert.True(picker.IsInteresting(Field(70, 1, 66)));   // in the tail past the last whole 8-byte word
        Assert.True(picker.IsInteresting(Field(70, 3)));
        Assert.True(picker.IsPieceNeeded(66));
        Assert.False(picker.IsPieceNeeded(65));
    }

    [Fact]
    public void AllowedFast_PicksOnlyFromTheAllowedSet()
    {
        var picker = Picker(10, 1);
        var peer = Field(10, 2, 3, 4, 9);
        picker.AddPeer(peer);
        picker.OnPieceVerified(4);
        var buffer = new BlockRequest[10];
        int n = picker.PickAllowedFast(1, peer, new[] { 4, 7, 3, -1, 42 }, buffer);
        // 4: already had; 7: peer lacks it; -1 and 42: invalid from the wire; 3: the only one.
        Assert.Equal(4, n);
        Assert.All(buffer[..n], r => Assert.Equal(3, r.Piece));
        Assert.Equal(0, picker.PickAllowedFast(1, peer, new[] { 3 }, buffer)); // all requested already
    }

    [Fact]
    public void ArgumentsAreChecked()
    {
        Assert.Throws<ArgumentException>(() => new PiecePicker(3, B, 5 * B, new BitField(3), new Random(1)));
        Assert.Throws<ArgumentException>(() => new PiecePicker(3, B, 3 * B, new BitField(4), new Random(1)));
        var picker = Picker(3);
        Assert.Throws<ArgumentException>(() => picker.AddPeer(new BitField(4)));
        Assert.Throws<ArgumentOutOfRangeException>(() => picker.PeerHasPiece(3));
        // Bad blocks from the wire are refused, not thrown.
        Assert.False(picker.OnBlockReceived(1, new BlockRequest(-1, 0, B), new List<int>()));
        Assert.False(picker.OnBlockReceived(1, new BlockRequest(0, 5, B), new List<int>()));
        picker.OnRequestDropped(1, new BlockRequest(9, 0, B));
    }

    [Fact]
    public void Rarest_Invariant_UnderRandomAvailabilityChanges()
    {
        // Whatever sequence of joins, HAVEs and leaves, a newly started piece has the lowest availability among
        // the candidate pieces the peer has.
        var random = new Random(42);
        const int count = 200;
        var have = new BitField(count);
        for (int i = 0; i < 4; i++) have[i] = true;
        var picker = new PiecePicker(count, B, (long)count * B, have, new Random(9));
        var peers = new List<BitField>();
        var keys = new Dictionary<BitField, int>(ReferenceEqualityComparer.Instance);
        var started = new HashSet<int>();
        var owner = new Dictionary<int, int>();   // started piece -> key of the peer holding its one block
        var reopened = new HashSet<int>();         // started pieces whose request was released by ForgetPeer
        for (int step = 0; step < 1500; step++)
        {
            int op = random.Next(10);
            if (op < 3 || peers.Count == 0)
            {
                var f = RandomField(count, random, random.NextDouble());
                peers.Add(f);
                keys[f] = step;
                picker.AddPeer(f);
            }
            else if (op < 5)
            {
                int k = random.Next(peers.Count);
                picker.RemovePeer(peers[k]);
                int key = keys[peers[k]];
                picker.ForgetPeer(key);
                foreach (KeyValuePair<int, int> kv in owner)
                    if (kv.Value == key) reopened.Add(kv.Key);
                peers.RemoveAt(k);
            }
            else if (op < 8)
            {
                BitField f = peers[random.Next(peers.Count)];
                int piece = random.Next(count);
                if (!f[piece]) { f[piece] = true; picker.PeerHasPiece(piece); }
            }
            else
            {
                BitField f = peers[random.Next(peers.Count)];
                BlockRequest[] got = Pick(picker, keys[f], f, 1); // stable keys: per-peer hints are reused
                if (got.Length == 0) continue;
                int piece = got[0].Piece;
                if (reopened.Remove(piece)) { owner[piece] = keys[f]; continue; } // started pieces come first
                if (started.Contains(piece)) { Assert.True(picker.InEndgame); continue; }
                Assert.DoesNotContain(reopened, q => f[q]);                      // ... so none was left behind
                started.Add(piece);
                owner[piece] = keys[f];
                int expected = peers.Sum(p => p[piece] ? 1 : 0);
                Assert.Equal(expected, picker.Availability(piece));
                for (int q = 0; q < count; q++)
                    if (!have[q] && !started.Contains(q) && f[q])
                        Assert.True(picker.Availability(q) >= expected, $"piece {q} is rarer than picked {piece}");
            }
        }
        for (int q = 0; q < count; q++) Assert.Equal(peers.Sum(p => p[q] ? 1 : 0), picker.Availability(q));
    }
}
