namespace Shoal.Dht;

/// <summary>
/// Where one node's saved state comes from and goes to: its state file in a folder this process has claimed
/// (<see cref="DhtStateFolder"/>), read at start and written by <see cref="Save"/>; or, when the folder belongs to
/// another running node (or the options say <see cref="DhtStateAccess.SeedsOnly"/>), read for its nodes only and never
/// written. File problems are logged, never thrown, except <see cref="DhtStateAccess.ClaimOrFail"/>'s "in use".
/// </summary>
internal sealed class DhtStateStore : IDisposable
{
    private readonly DhtStateFolder? _ownedClaim;
    private readonly string? _directory;
    private readonly string _fileName;
    private readonly Action<string>? _log;

    private DhtStateStore(string? directory, string fileName, bool claimed, DhtStateFolder? ownedClaim, Action<string>? log)
    {
        _directory = directory;
        _fileName = fileName;
        _ownedClaim = ownedClaim;
        _log = log;
        CanSave = directory is not null && claimed;
        Saved = directory is null ? null : Load();
    }

    /// <summary>A store that keeps nothing (no data directory).</summary>
    public static DhtStateStore None(DhtNodeOptions options) => new(null, options.StateFileName, false, null, options.Log);

    /// <summary>
    /// The store of a node on its own: claims <see cref="DhtNodeOptions.DataDirectory"/> as
    /// <see cref="DhtNodeOptions.StateAccess"/> says, and releases the claim when disposed.
    /// </summary>
    /// <exception cref="DhtStateInUseException">The folder is in use and the options say <see cref="DhtStateAccess.ClaimOrFail"/>.</exception>
    public static DhtStateStore Open(DhtNodeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.DataDirectory is null) return None(options);
        DhtStateFolder? claim = ClaimFor(options);
        return new DhtStateStore(options.DataDirectory, options.StateFileName, claim is not null, claim, options.Log);
    }

    /// <summary>
    /// The store of one node of a pair (<see cref="DualStackDht"/>) whose owner claimed the folder
    /// (<paramref name="claim"/>, which the owner keeps and releases), or could not (null: seeds only).
    /// </summary>
    public static DhtStateStore InFolder(DhtNodeOptions options, DhtStateFolder? claim)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.DataDirectory is null) return None(options);
        return new DhtStateStore(options.DataDirectory, options.StateFileName, claim is not null, null, options.Log);
    }

    /// <summary>
    /// Claims the options' folder as their <see cref="DhtNodeOptions.StateAccess"/> says; null means "seeds only" (the
    /// reason is logged unless the options asked for it).
    /// </summary>
    /// <exception cref="DhtStateInUseException">In use, and <see cref="DhtStateAccess.ClaimOrFail"/>.</exception>
    public static DhtStateFolder? ClaimFor(DhtNodeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.DataDirectory is not { } directory || options.StateAccess == DhtStateAccess.SeedsOnly) return null;
        try
        {
            return DhtStateFolder.Claim(directory);
        }
        catch (DhtStateInUseException ex) when (options.StateAccess == DhtStateAccess.Claim)
        {
            options.Log?.Invoke($"{ex.Message}: this node runs with a fresh id and saves nothing");
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException && ex is not DhtStateInUseException
            && options.StateAccess == DhtStateAccess.Claim)
        {
            options.Log?.Invoke($"cannot claim the DHT state folder {directory}: {ex.Message}; this node runs with a fresh id and saves nothing");
            return null;
        }
    }

    /// <summary>Whether this node owns its folder: it keeps the saved id and writes the state.</summary>
    public bool CanSave { get; }

    /// <summary>
    /// The saved state, if any and readable. A node that does not own the folder uses only its nodes (and its external
    /// address as a hint), never its id.
    /// </summary>
    public DhtState? Saved { get; }

    /// <summary>Writes <paramref name="state"/> atomically (temp file, flush, rename); a failure is logged. No-op unless <see cref="CanSave"/>.</summary>
    public void Save(DhtState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (!CanSave) return;
        try
        {
            state.Save(_directory!, _fileName);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _log?.Invoke($"cannot save the DHT state in {_directory}: {ex.Message}");
        }
    }

    /// <summary>Releases the folder if this store claimed it.</summary>
    public void Dispose() => _ownedClaim?.Dispose();

    private DhtState? Load()
    {
        try
        {
            return DhtState.Load(_directory!, _fileName);
        }
        catch (Exception ex) when (ex is ShoalFormatException or IOException or UnauthorizedAccessException)
        {
            _log?.Invoke($"ignoring the saved DHT state in {_directory}: {ex.Message}");
            return null;
        }
    }
}
