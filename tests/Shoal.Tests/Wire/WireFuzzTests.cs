using System.Buffers;
using Shoal.Wire;

namespace Shoal.Tests.Wire;

public sealed class WireFuzzTests
{
    /// <summary>Runs bytes through handshake + message parsing the way a receive loop would.</summary>
    private static void Consume(ReadOnlySequence<byte> buffer, int pieceCount)
    {
        if (!Handshake.TryParse(ref buffer, out _)) return;
        var reader = new PeerMessageReader(pieceCount);
        while (reader.TryRead(ref buffer, out PeerMessage message))
        {
            _ = message.Payload.Length;
        }
    }

    private static byte[] ValidStream(Random random)
    {
        var w = new ArrayBufferWriter<byte>();
        new Handshake(new Shoal.Metainfo.InfoHash(new byte[20]), new byte[20], ReservedBits.Create(true, true, true)).WriteTo(w);
        int count = random.Next(1, 12);
        for (int i = 0; i < count; i++)
        {
            switch (random.Next(8))
            {
                case 0: PeerMessageWriter.WriteHave(w, random.Next(64)); break;
                case 1: PeerMessageWriter.WriteBitfield(w, new byte[8]); break;
                case 2: PeerMessageWriter.WriteRequest(w, random.Next(64), random.Next(1 << 20), random.Next(1, 16385)); break;
                case 3: PeerMessageWriter.WritePiece(w, random.Next(64), 0, new byte[random.Next(1, 300)]); break;
                case 4: PeerMessageWriter.WriteExtended(w, (byte)random.Next(4), new byte[random.Next(40)]); break;
                case 5: PeerMessageWriter.WritePort(w, (ushort)random.Next(65536)); break;
                case 6: PeerMessageWriter.WriteReject(w, random.Next(64), 0, 16384); break;
                default: PeerMessageWriter.WriteUnchoke(w); break;
            }
        }

        return w.WrittenSpan.ToArray();
    }

    [Fact]
    public void RandomAndMutatedStreamsOnlyRaiseFormatErrors()
    {
        var random = new Random(20240613);
        int rejected = 0;
        for (int iteration = 0; iteration < 4000; iteration++)
        {
            byte[] bytes;
            if (iteration % 4 == 0)
            {
                bytes = new byte[random.Next(200)];
                random.NextBytes(bytes);
                if (random.Next(2) == 0 && bytes.Length >= 20) ValidStream(random).AsSpan(0, 20).CopyTo(bytes);
            }
            else
            {
                bytes = ValidStream(random);
                int mutations = random.Next(1, 6);
                for (int m = 0; m < mutations; m++)
                {
                    int at = random.Next(bytes.Length);
                    bytes[at] = random.Next(3) switch { 0 => (byte)random.Next(256), 1 => 0xFF, _ => 0 };
                }

                if (random.Next(4) == 0) bytes = bytes[..random.Next(bytes.Length)];
            }

            int pieceCount = random.Next(3) switch { 0 => 0, 1 => 64, _ => random.Next(1, 100_000) };
            var sequence = random.Next(2) == 0
                ? new ReadOnlySequence<byte>(bytes)
                : SegmentedSequence.Create(bytes, random.Next(bytes.Length + 1) is var c ? [c] : []);
            try
            {
                Consume(sequence, pieceCount);
            }
            catch (ShoalFormatException)
            {
                rejected++;
            }
        }

        Assert.InRange(rejected, 100, 3999); // the corpus really exercises both paths
    }
}
