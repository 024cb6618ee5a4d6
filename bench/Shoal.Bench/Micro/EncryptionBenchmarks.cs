using System.Buffers;
using System.IO.Pipelines;
using BenchmarkDotNet.Attributes;
using Shoal.Picking;
using Shoal.Storage;
using Shoal.Swarm;
using Shoal.Transport;
using Shoal.Transport.Encryption;
using Shoal.Wire;

namespace Shoal.Bench.Micro;

/// <summary>
/// The cost of MSE/PE's RC4 stream. <see cref="Rc4"/> is the keystream XORed in place over one 32 KiB pipe segment
/// (one operation), the raw cipher speed. <see cref="FrameAndParseRc4"/> is <see cref="WireBenchmarks.FrameAndParse"/>
/// through an encrypted connection's filters: each PIECE is encrypted in the send pipe's memory when committed
/// (<see cref="EncryptingPipeWriter"/>) and decrypted in the receive pipe's memory when first read
/// (<see cref="DecryptingPipeReader"/>), one operation = one 16 KiB block; set it beside the plain row.
/// </summary>
public class EncryptionBenchmarks
{
    /// <summary>Bytes per <see cref="Rc4"/> operation: one socket pipe segment.</summary>
    public const int SegmentBytes = 32 * 1024;

    private const int MessagesPerInvoke = WireBenchmarks.MessagesPerInvoke;
    private const int PieceCount = 10_000;
    private const int FlushThreshold = 256 * 1024; // PeerConnection's

    private readonly PeerMessageReader _reader = new(PieceCount);
    private readonly BlockBufferPool _blocks = new();
    private byte[] _segment = [];
    private byte[] _block = [];
    private Rc4Cipher? _cipher;
    private BlockMemoryPool? _pool;
    private PipeWriter? _output;
    private PipeReader? _input;
    private int _nextPiece;

    [GlobalSetup]
    public void Setup()
    {
        byte[] key = new byte[20];
        new Random(5).NextBytes(key);
        _segment = new byte[SegmentBytes];
        _block = new byte[PiecePicker.BlockLength];
        new Random(1).NextBytes(_block);
        _cipher = Rc4Cipher.ForMse(key);
        _pool = new BlockMemoryPool();
        var pipe = new Pipe(new PipeOptions(_pool, PipeScheduler.Inline, PipeScheduler.Inline,
            SocketTransport.PauseThreshold, SocketTransport.ResumeThreshold, SegmentBytes, useSynchronizationContext: false));
        // The two ends of one connection direction: the sender's cipher and the receiver's, keyed alike.
        _output = new EncryptingPipeWriter(pipe.Writer, Rc4Cipher.ForMse(key));
        _input = new DecryptingPipeReader(pipe.Reader, Rc4Cipher.ForMse(key), ReadOnlyMemory<byte>.Empty);

        // The filters must round-trip: a block that came out different would fail here, not in a swarm.
        if (FrameAndParseRc4() != MessagesPerInvoke * (long)PiecePicker.BlockLength) throw new InvalidOperationException("encrypted frames lost");
    }

    [GlobalCleanup]
    public void Cleanup() => _pool?.Dispose();

    /// <summary>RC4 over one 32 KiB segment, in place.</summary>
    [Benchmark]
    public byte Rc4()
    {
        _cipher!.Apply(_segment);
        return _segment[0];
    }

    /// <summary>Frames 64 PIECE messages through the encrypting writer, parses them out of the decrypting reader.</summary>
    [Benchmark(OperationsPerInvoke = MessagesPerInvoke)]
    public long FrameAndParseRc4()
    {
        PipeWriter output = _output!;
        long received = 0;
        int unflushed = 0;
        for (int i = 0; i < MessagesPerInvoke; i++)
        {
            int piece = _nextPiece++ % PieceCount;
            PeerMessageWriter.WritePieceHeader(output, piece, 0, _block.Length);
            Memory<byte> target = output.GetMemory(_block.Length)[.._block.Length];
            _block.CopyTo(target);
            output.Advance(_block.Length);
            unflushed += PeerMessageWriter.PieceHeaderLength + _block.Length;
            if (unflushed >= FlushThreshold || i == MessagesPerInvoke - 1)
            {
                ValueTask<FlushResult> flush = output.FlushAsync();
                if (!flush.IsCompletedSuccessfully) throw new InvalidOperationException("the pipe paused its writer");
                unflushed = 0;
                received += Receive();
            }
        }
        return received;
    }

    private long Receive()
    {
        PipeReader input = _input!;
        if (!input.TryRead(out ReadResult result)) return 0;
        ReadOnlySequence<byte> buffer = result.Buffer;
        long bytes = 0;
        while (_reader.TryRead(ref buffer, out PeerMessage message))
        {
            byte[] block = _blocks.Rent(message.Length);
            message.Payload.CopyTo(block);
            if (!block.AsSpan(0, message.Length).SequenceEqual(_block)) throw new InvalidOperationException("a block did not decrypt to what was sent");
            bytes += message.Length;
            _blocks.Return(block);
        }
        input.AdvanceTo(buffer.Start, buffer.End);
        return bytes;
    }
}
