namespace Shoal.Daemon.Service;

/// <summary>A category: a name torrents can carry, and the folder torrents added with it go to.</summary>
/// <param name="Name">The category's name.</param>
/// <param name="SavePath">Its folder.</param>
public sealed record CategoryView(string Name, string SavePath);
