using System.Buffers;

namespace Shoal.Bench.Micro;

/// <summary>Builds a multi-segment <see cref="ReadOnlySequence{T}"/>, the shape a pipe hands its reader.</summary>
internal static class Segments
{
    /// <summary>Splits <paramref name="data"/> into segments of <paramref name="segmentSize"/> bytes (the last may be shorter).</summary>
    public static ReadOnlySequence<byte> Split(ReadOnlyMemory<byte> data, int segmentSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(segmentSize);
        if (data.IsEmpty) return ReadOnlySequence<byte>.Empty;
        var first = new Segment(data[..Math.Min(segmentSize, data.Length)], 0);
        Segment last = first;
        for (int at = segmentSize; at < data.Length; at += segmentSize)
            last = last.Append(data.Slice(at, Math.Min(segmentSize, data.Length - at)));
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
