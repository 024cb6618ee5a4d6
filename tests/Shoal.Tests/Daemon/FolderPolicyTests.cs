using Shoal.Daemon.Service;
using Shoal.Tests.Interop;

namespace Shoal.Tests.Daemon;

public sealed class FolderPolicyTests : IDisposable
{
    private readonly TempFolder _folder = new("shoal-folders");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Paths_inside_a_root_pass_and_others_are_forbidden()
    {
        string root = _folder.Combine("downloads");
        Directory.CreateDirectory(root);
        var policy = new FolderPolicy([root]);
        Assert.Equal(Path.Combine(root, "films"), policy.Confine(Path.Combine(root, "films"), "folder"));
        Assert.Equal(root, policy.Confine(root, "folder"));
        Assert.Equal(Path.Combine(root, "rel"), policy.Confine("rel", "folder", root));
        foreach (string outside in new[] { "/etc", _folder.Path, root + "-other", Path.Combine(root, "..", "x") })
        {
            var ex = Assert.Throws<ServiceException>(() => policy.Confine(outside, "the download folder"));
            Assert.Equal(ServiceErrorKind.Forbidden, ex.Kind);
        }
    }

    [Fact]
    public void A_symbolic_link_inside_a_root_that_points_out_is_forbidden()
    {
        string root = _folder.Combine("downloads");
        string secret = _folder.Combine("secret");
        Directory.CreateDirectory(root);
        Directory.CreateDirectory(secret);
        Directory.CreateSymbolicLink(Path.Combine(root, "escape"), secret);
        var policy = new FolderPolicy([root]);
        var ex = Assert.Throws<ServiceException>(() => policy.Confine(Path.Combine(root, "escape", "x"), "folder"));
        Assert.Equal(ServiceErrorKind.Forbidden, ex.Kind);
        Assert.False(policy.Contains(Path.Combine(root, "escape")));
    }

    [Fact]
    public void A_root_reached_through_a_link_still_contains_its_own_folders()
    {
        string real = _folder.Combine("real");
        Directory.CreateDirectory(real);
        string link = _folder.Combine("link");
        Directory.CreateSymbolicLink(link, real);
        var policy = new FolderPolicy([link]);
        Assert.True(policy.Contains(Path.Combine(real, "a")));
        Assert.True(policy.Contains(Path.Combine(link, "a", "b")));
    }
}
