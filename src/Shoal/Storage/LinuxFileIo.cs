using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Shoal.Storage;

/// <summary>
/// Two Linux system calls .NET does not expose, each an optimisation with a portable fallback:
/// <list type="bullet">
/// <item><c>preadv2(RWF_NOWAIT)</c>: read a block only if it is already in the page cache, never waiting for the
/// device. A seeder serves most blocks from the page cache; reading those on the send loop's own thread saves a
/// hop to a disk worker and back for every 16 KiB block, which is most of the latency a peer sees per request.
/// A block that is not cached still goes to the disk workers, so a slow disk never stalls a network loop.</item>
/// <item><c>sync_file_range(SYNC_FILE_RANGE_WRITE)</c>: start writing a file's dirty pages to the device without
/// waiting. Resume data only vouches for flushed pieces, so a finished download is fsynced; starting write-back as
/// verified pieces land turns that final fsync from "write everything now" into "wait for the tail".</item>
/// <item><c>sync_file_range</c> with waits, then <c>posix_fadvise(POSIX_FADV_DONTNEED)</c>: make a written range
/// clean and drop it from the page cache (see <see cref="StorageOptions.OsCacheWindow"/>).</item>
/// </list>
/// All are hints: any failure disables the call for this instance (one per disk service, so per session: one file
/// system's refusal does not turn a feature off for another session in the process) and callers take their
/// portable path. This is the only file of the library that uses unsafe code (an iovec needs the buffer's address).
/// </summary>
internal sealed unsafe partial class LinuxFileIo
{
    private const int RwfNoWait = 0x00000008;
    private const uint SyncFileRangeWaitBefore = 1;
    private const uint SyncFileRangeWrite = 2;
    private const uint SyncFileRangeWaitAfter = 4;
    private const int PosixFadviseDontNeed = 4;
    private const int EAgain = 11;
    private const int EInval = 22;
    private const int ESPipe = 29;
    private const int ENoSys = 38;

    private volatile bool _noWaitReads = OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable("SHOAL_NO_NOWAIT_READS") is null;
    private volatile bool _writeback = OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable("SHOAL_NO_WRITEBACK") is null;
    private volatile bool _dropCached = OperatingSystem.IsLinux();

    /// <summary>True while written ranges may be dropped from the page cache (Linux, and the kernel has not refused).</summary>
    public bool CanDropCached => _dropCached;

    /// <summary>True while cached reads may be attempted (Linux, and the kernel has not refused them).</summary>
    public bool CanReadCached => _noWaitReads;

    /// <summary>
    /// Reads <paramref name="destination"/> from <paramref name="offset"/> only if every byte is in the page cache.
    /// False when any part would need the device (or the call is unsupported); the caller then reads normally.
    /// </summary>
    public bool TryReadCached(SafeFileHandle handle, Span<byte> destination, long offset)
    {
        if (!_noWaitReads || destination.IsEmpty) return false;
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            int fd = (int)handle.DangerousGetHandle();
            int done = 0;
            fixed (byte* start = destination)
            {
                // A short read means the rest is not cached (or the file ends): retrying the remainder once
                // catches a read cut at a folio boundary; anything else goes the slow way.
                for (int attempt = 0; attempt < 2 && done < destination.Length; attempt++)
                {
                    var vector = new IoVector { Base = start + done, Length = (nuint)(destination.Length - done) };
                    nint n = PReadV2(fd, &vector, 1, offset + done, RwfNoWait);
                    if (n > 0) { done += (int)n; continue; }
                    if (n < 0 && Marshal.GetLastPInvokeError() is not EAgain) _noWaitReads = false; // ENOSYS, EOPNOTSUPP...
                    return false;
                }
            }
            return done == destination.Length;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            _noWaitReads = false;
            return false;
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    /// <summary>Asks the kernel to start writing back all of the file's dirty pages; does not wait for them.</summary>
    public void StartWriteback(SafeFileHandle handle)
    {
        if (!_writeback) return;
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            // Offset 0 and length 0: the whole file (pages already under write-back are skipped, not waited for).
            if (SyncFileRange((int)handle.DangerousGetHandle(), 0, 0, SyncFileRangeWrite) != 0)
                _writeback = false; // e.g. a file system without it; the final fsync still does the work
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            _writeback = false;
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    /// <summary>
    /// Writes <paramref name="length"/> bytes at <paramref name="offset"/> to the device if they are still dirty,
    /// waits for that, and drops them from the page cache. The range was written a window earlier and write-back
    /// was started long since, so the wait is normally nothing; when the device is behind, it holds this disk
    /// worker back, as the kernel's dirty limit would. A write error is not reported here: the next fsync sees it.
    /// </summary>
    public void DropFromCache(SafeFileHandle handle, long offset, long length)
    {
        if (!_dropCached || length <= 0) return;
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            int fd = (int)handle.DangerousGetHandle();
            // Dirty pages and pages under write-back are skipped by the drop, so they are made clean first.
            if (SyncFileRange(fd, offset, length, SyncFileRangeWaitBefore | SyncFileRangeWrite | SyncFileRangeWaitAfter) != 0)
            {
                // A file system without the call turns dropping off (the OS keeps the cache, nothing is lost). Any
                // other error (EIO, ENOSPC...) means the range did not reach the device: keep it; the next fsync
                // reports the error.
                if (Marshal.GetLastPInvokeError() is ENoSys or EInval or ESPipe) _dropCached = false;
                return;
            }
            if (PosixFadvise(fd, offset, length, PosixFadviseDontNeed) != 0) _dropCached = false;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            _dropCached = false;
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    /// <summary>
    /// Makes everything written to the file system holding <paramref name="handle"/> durable in one call
    /// (<c>syncfs</c>): one flush for a batch of small files instead of one each. False when unsupported or failed;
    /// the caller then flushes each file.
    /// </summary>
    public static bool TrySyncFileSystem(SafeFileHandle handle)
    {
        if (!OperatingSystem.IsLinux()) return false;
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            return SyncFs((int)handle.DangerousGetHandle()) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct IoVector
    {
        public byte* Base;
        public nuint Length;
    }

    [LibraryImport("libc", EntryPoint = "preadv2", SetLastError = true)]
    private static partial nint PReadV2(int fd, IoVector* vectors, int count, long offset, int flags);

    [LibraryImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    private static partial int SyncFileRange(int fd, long offset, long length, uint flags);

    [LibraryImport("libc", EntryPoint = "syncfs", SetLastError = true)]
    private static partial int SyncFs(int fd);

    // Returns the error number itself (0 on success); it does not set errno.
    [LibraryImport("libc", EntryPoint = "posix_fadvise")]
    private static partial int PosixFadvise(int fd, long offset, long length, int advice);
}
