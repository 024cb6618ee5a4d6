using System.Buffers;
using System.IO.Pipelines;
using BenchmarkDotNet.Attributes;
using Shoal.Picking;
using Shoal.Storage;
using Shoal.Swarm;
using Shoal.Tests.Wire;
using Shoal.Transport;
using Shoal.Wire;

namespace Shoal.Bench.Micro;

/// <summary>
/// PIECE messages of 16 KiB, one operation = one message. <see cref="FrameAndParse"/> follows a block the way a
/// connection moves it: the send loop's <see cref="PeerMessageWriter.WritePieceHeader"/> plus the block copied into
/// the pipe's memory, a flush every 256 KiB, and on the other side the receive loop's
/// <see cref="PeerMessageReader.TryRead"/> over the <see cref="PipeReader"/>'s buffer and the copy of the block into a
/// pooled buffer for the actor. The pipe has the socket transport's settings (pinned 32 KiB blocks, inline
/// schedulers, 1 MiB pause threshold); only the socket between the two pipes is left out. <see cref="Parse"/> is the
/// parser alone over 1 MiB of frames already in memory, split in 32 KiB segments as a socket pipe delivers them.
/// </summary>
public class WireBenchmarks
{
    /// <summary>Messages per invocation: 1 MiB of blocks.</summary>
    public const int MessagesPerInvoke = 64;

    /// <summary>Bytes of block data per operation (one message), for the MB/s column.</summary>
    public const int BytesPerOperation = PiecePicker.BlockLength;

    private const int PieceCount = 10_000;
    private const int FlushThreshold = 256 * 1024; // PeerConnection's
    private const int SegmentSize = 32 * 1024; // SocketTransport's preferred segment

    private readonly PeerMessageReader _reader = new(PieceCount);
    private readonly BlockBufferPool _blocks = new();
    private byte[] _block = [];
    private BlockMemoryPool? _pool;
    private Pipe? _pipe;
    private ReadOnlySequence<byte> _frames;
    private int _nextPiece;

    [GlobalSetup]
    public void Setup()
    {
        _block = new byte[BytesPerOperation];
        new Random(1).NextBytes(_block);
        _pool = new BlockMemoryPool();
        _pipe = new Pipe(new PipeOptions(_pool, PipeScheduler.Inline, PipeScheduler.Inline,
            SocketTransport.PauseThreshold, SocketTransport.ResumeThreshold, SegmentSize, useSynchronizationContext: false));

        var framed = new ArrayBufferWriter<byte>();
        for (int i = 0; i < MessagesPerInvoke; i++) PeerMessageWriter.WritePiece(framed, i / 16, i % 16 * BytesPerOperation, _block);
        _frames = SegmentedSequence.Split(framed.WrittenMemory, SegmentSize);

        // Both benchmarks check what they parsed, so a parser that skipped or mangled messages would fail here.
        if (Parse() != MessagesPerInvoke * (long)BytesPerOperation) throw new InvalidOperationException("parse lost messages");
        if (FrameAndParse() != MessagesPerInvoke * (long)BytesPerOperation) throw new InvalidOperationException("frame and parse lost messages");
    }

    [GlobalCleanup]
    public void Cleanup() => _pool?.Dispose();

    /// <summary>Parses 64 framed PIECE messages; returns the block bytes seen.</summary>
    [Benchmark(OperationsPerInvoke = MessagesPerInvoke)]
    public long Parse()
    {
        ReadOnlySequence<byte> buffer = _frames;
        long bytes = 0;
        while (_reader.TryRead(ref buffer, out PeerMessage message)) bytes += message.Length;
        return bytes;
    }

    /// <summary>Frames 64 PIECE messages into the pipe, parses them out of it and copies each block out; returns the block bytes received.</summary>
    [Benchmark(OperationsPerInvoke = MessagesPerInvoke)]
    public long FrameAndParse()
    {
        PipeWriter output = _pipe!.Writer;
        long received = 0;
        int unflushed = 0;
        for (int i = 0; i < MessagesPerInvoke; i++)
        {
            int piece = _nextPiece++ % PieceCount;
            PeerMessageWriter.WritePieceHeader(output, piece, 0, _block.Length);
            Memory<byte> target = output.GetMemory(_block.Length)[.._block.Length];
            _block.CopyTo(target); // the send loop reads the block from disk into this memory
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

    /// <summary>The receive loop's body: parse whole frames, copy each block into a pooled buffer (handed back at once here).</summary>
    private long Receive()
    {
        PipeReader input = _pipe!.Reader;
        if (!input.TryRead(out ReadResult result)) return 0;
        ReadOnlySequence<byte> buffer = result.Buffer;
        long bytes = 0;
        while (_reader.TryRead(ref buffer, out PeerMessage message))
        {
            byte[] block = _blocks.Rent(message.Length);
            message.Payload.CopyTo(block);
            bytes += message.Length;
            _blocks.Return(block);
        }
        input.AdvanceTo(buffer.Start, buffer.End);
        return bytes;
    }
}
