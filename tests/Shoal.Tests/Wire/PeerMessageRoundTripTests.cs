using System.Buffers;
using Shoal.Wire;

namespace Shoal.Tests.Wire;

public sealed class PeerMessageRoundTripTests
{
    private const int PieceCount = 1000;

    /// <summary>Every message kind once, with the fields the reader must give back.</summary>
    private static readonly (Action<IBufferWriter<byte>> Write, PeerMessage Expected, byte[] Payload)[] Cases = BuildCases();

    private static (Action<IBufferWriter<byte>>, PeerMessage, byte[])[] BuildCases()
    {
        byte[] bitfield = new byte[(PieceCount + 7) / 8];
        for (int i = 0; i < bitfield.Length; i++) bitfield[i] = (byte)(i * 37);
        bitfield[^1] = 0; // 1000 pieces = 125 bytes exactly, but keep it clean anyway
        byte[] block = new byte[1500]; // small enough to split the stream at every position quickly
        new Random(7).NextBytes(block);
        byte[] ext = "d1:md11:ut_metadatai3eee"u8.ToArray();
        return
        [
            (PeerMessageWriter.WriteKeepAlive, new PeerMessage { Id = MessageId.KeepAlive }, []),
            (PeerMessageWriter.WriteChoke, new PeerMessage { Id = MessageId.Choke }, []),
            (PeerMessageWriter.WriteUnchoke, new PeerMessage { Id = MessageId.Unchoke }, []),
            (PeerMessageWriter.WriteInterested, new PeerMessage { Id = MessageId.Interested }, []),
            (PeerMessageWriter.WriteNotInterested, new PeerMessage { Id = MessageId.NotInterested }, []),
            (w => PeerMessageWriter.WriteHave(w, 999), new PeerMessage { Id = MessageId.Have, Index = 999 }, []),
            (w => PeerMessageWriter.WriteBitfield(w, bitfield), new PeerMessage { Id = MessageId.Bitfield }, bitfield),
            (w => PeerMessageWriter.WriteRequest(w, 5, 16384, 16384), new PeerMessage { Id = MessageId.Request, Index = 5, Begin = 16384, Length = 16384 }, []),
            (w => PeerMessageWriter.WritePiece(w, 7, 32768, block), new PeerMessage { Id = MessageId.Piece, Index = 7, Begin = 32768, Length = block.Length }, block),
            (w => { PeerMessageWriter.WritePieceHeader(w, 8, 0, 3); w.Write(new byte[] { 1, 2, 3 }); },
                new PeerMessage { Id = MessageId.Piece, Index = 8, Begin = 0, Length = 3 }, [1, 2, 3]),
            (w => PeerMessageWriter.WriteCancel(w, 9, 100, 131072), new PeerMessage { Id = MessageId.Cancel, Index = 9, Begin = 100, Length = 131072 }, []),
            (w => PeerMessageWriter.WritePort(w, 6881), new PeerMessage { Id = MessageId.Port, Port = 6881 }, []),
            (w => PeerMessageWriter.WritePort(w, 65535), new PeerMessage { Id = MessageId.Port, Port = 65535 }, []),
            (w => PeerMessageWriter.WriteSuggest(w, 0), new PeerMessage { Id = MessageId.Suggest, Index = 0 }, []),
            (PeerMessageWriter.WriteHaveAll, new PeerMessage { Id = MessageId.HaveAll }, []),
            (PeerMessageWriter.WriteHaveNone, new PeerMessage { Id = MessageId.HaveNone }, []),
            (w => PeerMessageWriter.WriteReject(w, 3, 1, 1), new PeerMessage { Id = MessageId.Reject, Index = 3, Begin = 1, Length = 1 }, []),
            (w => PeerMessageWriter.WriteAllowedFast(w, 42), new PeerMessage { Id = MessageId.AllowedFast, Index = 42 }, []),
            (w => PeerMessageWriter.WriteExtended(w, 0, ext), new PeerMessage { Id = MessageId.Extended, ExtendedId = 0 }, ext),
            (w => PeerMessageWriter.WriteExtended(w, 3, []), new PeerMessage { Id = MessageId.Extended, ExtendedId = 3 }, []),
        ];
    }

    public static TheoryData<int> CaseIndices()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < Cases.Length; i++) data.Add(i);
        return data;
    }

    private static void AssertSame(PeerMessage expected, byte[] payload, PeerMessage actual)
    {
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected.Index, actual.Index);
        Assert.Equal(expected.Begin, actual.Begin);
        Assert.Equal(expected.Length, actual.Length);
        Assert.Equal(expected.Port, actual.Port);
        Assert.Equal(expected.ExtendedId, actual.ExtendedId);
        Assert.Equal(payload, actual.Payload.ToArray());
    }

    [Theory]
    [MemberData(nameof(CaseIndices))]
    public void EachMessageRoundTrips(int caseIndex)
    {
        var (write, expected, payload) = Cases[caseIndex];
        var writer = new ArrayBufferWriter<byte>();
        write(writer);
        var buffer = new ReadOnlySequence<byte>(writer.WrittenMemory);

        var reader = new PeerMessageReader(PieceCount);
        Assert.True(reader.TryRead(ref buffer, out PeerMessage message));
        AssertSame(expected, payload, message);
        Assert.True(buffer.IsEmpty);
        Assert.False(reader.TryRead(ref buffer, out _));
    }

    [Theory]
    [MemberData(nameof(CaseIndices))]
    public void IncompleteFrameReturnsFalseAndLeavesBufferAlone(int caseIndex)
    {
        var (write, _, _) = Cases[caseIndex];
        var writer = new ArrayBufferWriter<byte>();
        write(writer);
        var reader = new PeerMessageReader(PieceCount);
        int step = Math.Max(1, writer.WrittenCount / 200); // every byte for small frames, sampled for blocks
        for (int n = 0; n < writer.WrittenCount; n += step)
        {
            var buffer = new ReadOnlySequence<byte>(writer.WrittenMemory[..n]);
            Assert.False(reader.TryRead(ref buffer, out _));
            Assert.Equal(n, buffer.Length);
        }
    }

    private static byte[] AllMessagesStream()
    {
        var writer = new ArrayBufferWriter<byte>();
        foreach (var (write, _, _) in Cases) write(writer);
        return writer.WrittenSpan.ToArray();
    }

    private static void ReadAllAndCheck(ReadOnlySequence<byte> buffer)
    {
        var reader = new PeerMessageReader(PieceCount);
        foreach (var (_, expected, payload) in Cases)
        {
            Assert.True(reader.TryRead(ref buffer, out PeerMessage message));
            AssertSame(expected, payload, message);
        }

        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void StreamSplitAtEveryPositionParses()
    {
        byte[] stream = AllMessagesStream();
        for (int cut = 0; cut <= stream.Length; cut++)
            ReadAllAndCheck(SegmentedSequence.Create(stream, cut));
    }

    [Fact]
    public void StreamWithOneBytePerSegmentParses()
    {
        ReadAllAndCheck(SegmentedSequence.OneBytePerSegment(AllMessagesStream()));
    }

    [Fact]
    public void SmallFramesSplitAtEveryPairOfPositionsParse()
    {
        var writer = new ArrayBufferWriter<byte>();
        PeerMessageWriter.WriteRequest(writer, 1, 2, 3);
        PeerMessageWriter.WritePort(writer, 4);
        PeerMessageWriter.WriteExtended(writer, 5, [6, 7]);
        byte[] stream = writer.WrittenSpan.ToArray();
        for (int a = 0; a <= stream.Length; a++)
        {
            for (int b = a; b <= stream.Length; b++)
            {
                var buffer = SegmentedSequence.Create(stream, a, b);
                var reader = new PeerMessageReader(10);
                Assert.True(reader.TryRead(ref buffer, out var m1));
                Assert.Equal((MessageId.Request, 1, 2, 3), (m1.Id, m1.Index, m1.Begin, m1.Length));
                Assert.True(reader.TryRead(ref buffer, out var m2));
                Assert.Equal(4, m2.Port);
                Assert.True(reader.TryRead(ref buffer, out var m3));
                Assert.Equal(5, m3.ExtendedId);
                Assert.Equal(new byte[] { 6, 7 }, m3.Payload.ToArray());
                Assert.True(buffer.IsEmpty);
            }
        }
    }

    [Fact]
    public void FeedingOneByteAtATimeYieldsEveryMessageOnce()
    {
        byte[] stream = AllMessagesStream();
        var reader = new PeerMessageReader(PieceCount);
        int consumed = 0, next = 0;
        for (int available = 0; available <= stream.Length; available++)
        {
            var buffer = new ReadOnlySequence<byte>(stream, consumed, available - consumed);
            while (reader.TryRead(ref buffer, out PeerMessage message))
            {
                var (_, expected, payload) = Cases[next++];
                AssertSame(expected, payload, message);
            }

            consumed = available - (int)buffer.Length;
        }

        Assert.Equal(Cases.Length, next);
        Assert.Equal(stream.Length, consumed);
    }

    [Fact]
    public void ReadingAndWritingAllocateNothing()
    {
        byte[] block = new byte[16384];
        var writer = new ArrayBufferWriter<byte>(20 * 1024 * 1024);
        var reader = new PeerMessageReader(100_000);

        int RoundTrip(int blocks)
        {
            writer.ResetWrittenCount();
            for (int i = 0; i < blocks; i++)
            {
                PeerMessageWriter.WriteRequest(writer, i, 0, 16384);
                PeerMessageWriter.WritePiece(writer, i, 0, block);
                PeerMessageWriter.WriteHave(writer, i);
            }

            var buffer = new ReadOnlySequence<byte>(writer.WrittenMemory);
            int count = 0;
            while (reader.TryRead(ref buffer, out PeerMessage m)) count += m.Id == MessageId.Piece ? 1 : 0;
            return count;
        }

        Assert.Equal(10, RoundTrip(10)); // warm up JIT and statics
        long before = GC.GetAllocatedBytesForCurrentThread();
        int pieces = RoundTrip(1000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(1000, pieces);
        Assert.Equal(0, allocated);
    }
}
