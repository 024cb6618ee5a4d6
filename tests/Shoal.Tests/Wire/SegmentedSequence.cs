using System.Buffers;

namespace Shoal.Tests.Wire;

/// <summary>
/// Builds multi-segment ReadOnlySequences to exercise parsers across segment boundaries (tests, the fuzz targets and
/// the bench's wire micro-benchmark, which compiles this file).
/// </summary>
internal static class SegmentedSequence
{
    /// <summary>Splits <paramref name="data"/> at the given ascending cut positions.</summary>
    public static ReadOnlySequence<byte> Create(ReadOnlyMemory<byte> data, params int[] cuts)
    {
        var pieces = new List<ReadOnlyMemory<byte>>();
        int start = 0;
        foreach (int cut in cuts)
        {
            pieces.Add(data[start..cut]);
            start = cut;
        }

        pieces.Add(data[start..]);
        return FromSegments(pieces);
    }

    /// <summary>
    /// Splits <paramref name="data"/> into segments of <paramref name="segmentSize"/> bytes (the last may be shorter),
    /// the shape a pipe hands its reader; data no longer than one segment stays one segment.
    /// </summary>
    public static ReadOnlySequence<byte> Split(ReadOnlyMemory<byte> data, int segmentSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(segmentSize);
        var pieces = new List<ReadOnlyMemory<byte>>();
        for (int at = 0; at < data.Length; at += segmentSize) pieces.Add(data.Slice(at, Math.Min(segmentSize, data.Length - at)));
        return FromSegments(pieces);
    }

    /// <summary>One segment per byte: the worst case for a parser.</summary>
    public static ReadOnlySequence<byte> OneBytePerSegment(ReadOnlyMemory<byte> data)
    {
        var pieces = new List<ReadOnlyMemory<byte>>();
        for (int i = 0; i < data.Length; i++) pieces.Add(data.Slice(i, 1));
        return FromSegments(pieces);
    }

    private static ReadOnlySequence<byte> FromSegments(List<ReadOnlyMemory<byte>> pieces)
    {
        if (pieces.Count == 0) return ReadOnlySequence<byte>.Empty;
        var first = new Segment(pieces[0], 0);
        Segment last = first;
        for (int i = 1; i < pieces.Count; i++) last = last.Append(pieces[i]);
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
