using System.Collections.Concurrent;
using System.Net;
using Shoal.Metainfo;
using Shoal.Trackers;
using static Shoal.Tests.Trackers.TrackerTestKit;

namespace Shoal.Tests.Trackers;

public sealed class TrackerAnnouncerTests
{
    private static readonly Uri A = new("http://a.test/announce"), B = new("http://b.test/announce"), C = new("udp://c.test:80");

    private sealed record Call(Uri Url, AnnounceEvent Event, DateTimeOffset At, long Left);

    /// <summary>Fake trackers: each URL answers with its responder, or throws when it has none.</summary>
    private sealed class FakeNetwork(ManualTimeProvider time)
    {
        public ConcurrentQueue<Call> Calls { get; } = new();
        public ConcurrentDictionary<Uri, Func<AnnounceRequest, AnnounceResponse>> Responders { get; } = new();

        public ITrackerClient Create(Uri url) => new Client(this, url);

        public Call[] Snapshot() => [.. Calls];

        private sealed class Client(FakeNetwork network, Uri url) : ITrackerClient
        {
            public Uri Url => url;

            public Task<AnnounceResponse> AnnounceAsync(AnnounceRequest request, CancellationToken cancellationToken)
            {
                network.Calls.Enqueue(new Call(url, request.Event, network._time.GetUtcNow(), request.Left));
                try
                {
                    return network.Responders.TryGetValue(url, out var respond)
                        ? Task.FromResult(respond(request))
                        : throw new TrackerException(url, "refused: go away", "go away");
                }
                catch (TrackerException e)
                {
                    return Task.FromException<AnnounceResponse>(e);
                }
            }

            public Task<ScrapeResponse> ScrapeAsync(IReadOnlyList<InfoHash> infoHashes, CancellationToken cancellationToken) => throw new NotSupportedException();

            public void Dispose() { }
        }

        private readonly ManualTimeProvider _time = time;
    }

    private static AnnounceResponse Answer(int interval = 1800, int? minInterval = null, params IPEndPoint[] peers) =>
        new(TimeSpan.FromSeconds(interval), minInterval is { } m ? TimeSpan.FromSeconds(m) : null, peers);

    private static (TrackerAnnouncer Announcer, FakeNetwork Net, ManualTimeProvider Time, List<IPEndPoint> Peers) Make(
        IReadOnlyList<IReadOnlyList<Uri>> tiers, long left = 100, int seed = 1)
    {
        var time = new ManualTimeProvider();
        var net = new FakeNetwork(time);
        var peers = new List<IPEndPoint>();
        var announcer = new TrackerAnnouncer(tiers, Hash(7), PeerId('p'), 42, net.Create,
            () => new AnnounceStats(0, 0, left, 6881), p => { lock (peers) peers.AddRange(p); }, time,
            options: new TrackerAnnouncerOptions { Random = new Random(seed), RetryBase = TimeSpan.FromSeconds(15) });
        return (announcer, net, time, peers);
    }

    private static Task WaitForCalls(FakeNetwork net, int count) => WaitUntilAsync(() => net.Calls.Count >= count, $"{count} announces");

    private static Task WaitForTimer(ManualTimeProvider time, DateTimeOffset due) =>
        WaitUntilAsync(() => time.PendingDueTimes().Contains(due), $"a timer due at {due:O}");

    [Fact]
    public async Task StartsWithStartedThenWaitsTheInterval()
    {
        var (announcer, net, time, peers) = Make([[A]]);
        net.Responders[A] = _ => Answer(1800, null, IPEndPoint.Parse("1.2.3.4:5"));
        DateTimeOffset t0 = time.GetUtcNow();
        Task run = announcer.RunAsync(CancellationToken.None);

        await WaitForCalls(net, 1);
        Assert.Equal(new Call(A, AnnounceEvent.Started, t0, 100), net.Snapshot()[0]);
        await WaitForTimer(time, t0.AddSeconds(1800));
        Assert.Equal(t0.AddSeconds(1800), announcer.GetStatus()[0].NextAnnounce);
        lock (peers) Assert.Equal([IPEndPoint.Parse("1.2.3.4:5")], peers);

        time.Advance(TimeSpan.FromSeconds(1799));
        Assert.Single(net.Calls); // the only timer is due at 1800 s, so nothing could have run
        time.Advance(TimeSpan.FromSeconds(1));
        await WaitForCalls(net, 2);
        Assert.Equal(new Call(A, AnnounceEvent.None, t0.AddSeconds(1800), 100), net.Snapshot()[1]);

        await announcer.StopAsync(TimeSpan.FromSeconds(5));
        await run;
        Assert.Equal(AnnounceEvent.Stopped, net.Snapshot()[^1].Event);
    }

    [Fact]
    public async Task CompletedIsSentOnceAfterTheMinInterval()
    {
        var (announcer, net, time, _) = Make([[A]]);
        net.Responders[A] = _ => Answer(1800, 60);
        DateTimeOffset t0 = time.GetUtcNow();
        Task run = announcer.RunAsync(CancellationToken.None);
        await WaitForCalls(net, 1);
        await WaitForTimer(time, t0.AddSeconds(1800));

        time.Advance(TimeSpan.FromSeconds(10));
        announcer.NotifyCompleted();
        announcer.NotifyCompleted(); // said once, whatever the caller does
        await WaitForTimer(time, t0.AddSeconds(60));
        time.Advance(TimeSpan.FromSeconds(50));
        await WaitForCalls(net, 2);
        Assert.Equal(new Call(A, AnnounceEvent.Completed, t0.AddSeconds(60), 100), net.Snapshot()[1]);

        await WaitForTimer(time, t0.AddSeconds(60 + 1800));
        time.Advance(TimeSpan.FromSeconds(1800));
        await WaitForCalls(net, 3);
        Assert.Equal(AnnounceEvent.None, net.Snapshot()[2].Event);
        Assert.Single(net.Snapshot(), c => c.Event == AnnounceEvent.Completed);

        await announcer.StopAsync(TimeSpan.FromSeconds(5));
        await run;
    }

    [Fact]
    public async Task ReannounceAnnouncesBeforeTheIntervalAndForgetsBackoffs()
    {
        var (announcer, net, time, _) = Make([[A]]);
        DateTimeOffset t0 = time.GetUtcNow();
        Task run = announcer.RunAsync(CancellationToken.None);
        await WaitForCalls(net, 1); // refused: A backs off for 15 s
        await WaitForTimer(time, t0.AddSeconds(15));

        net.Responders[A] = _ => Answer(1800);
        announcer.Reannounce();
        await WaitForCalls(net, 2);
        Assert.Equal(new Call(A, AnnounceEvent.Started, t0, 100), net.Snapshot()[1]);
        await WaitForTimer(time, t0.AddSeconds(1800));

        time.Advance(TimeSpan.FromSeconds(60));
        announcer.Reannounce();
        await WaitForCalls(net, 3);
        Assert.Equal(new Call(A, AnnounceEvent.None, t0.AddSeconds(60), 100), net.Snapshot()[2]);

        await announcer.StopAsync(TimeSpan.FromSeconds(5));
        await run;
    }

    [Fact]
    public async Task TheStatusTellsTheLastAttemptFromTheLastAnswer()
    {
        var (announcer, net, time, _) = Make([[A]]);
        DateTimeOffset t0 = time.GetUtcNow();
        Task run = announcer.RunAsync(CancellationToken.None);
        await WaitForCalls(net, 1); // refused
        await WaitUntilAsync(() => announcer.GetStatus().Single().LastError is not null, "the failure in the status");
        TrackerStatus failed = announcer.GetStatus().Single();
        Assert.Equal(t0, failed.LastAttempt);
        Assert.Null(failed.LastAnnounce);

        // Within the 15 s back-off (so its retry does not fire), a reannounce that is answered.
        await WaitForTimer(time, t0.AddSeconds(15));
        net.Responders[A] = _ => Answer(1800);
        time.Advance(TimeSpan.FromSeconds(10));
        announcer.Reannounce();
        await WaitForCalls(net, 2);
        await WaitUntilAsync(() => announcer.GetStatus().Single().IsWorking, "the answer in the status");
        TrackerStatus answered = announcer.GetStatus().Single();
        Assert.Equal(t0.AddSeconds(10), answered.LastAttempt);
        Assert.Equal(t0.AddSeconds(10), answered.LastAnnounce);

        await announcer.StopAsync(TimeSpan.FromSeconds(5));
        await run;
    }

    [Fact]
    public async Task TooShortIntervalsAreRaisedToTheMinimum()
    {
        var (announcer, net, time, _) = Make([[A]]);
        net.Responders[A] = _ => Answer(0);
        DateTimeOffset t0 = time.GetUtcNow();
        Task run = announcer.RunAsync(CancellationToken.None);
        await WaitForCalls(net, 1);
        await WaitForTimer(time, t0.AddSeconds(30));
        await announcer.StopAsync(TimeSpan.FromSeconds(5));
        await run;
    }

    [Fact]
    public async Task EveryTierIsAnnouncedToEachOnItsOwnSchedule()
    {
        var (announcer, net, time, _) = Make([[A], [B]]);
        net.Responders[A] = _ => Answer(1800);
        net.Responders[B] = _ => Answer(600);
        DateTimeOffset t0 = time.GetUtcNow();
        Task run = announcer.RunAsync(CancellationToken.None);
        await WaitForCalls(net, 2);
        Assert.Equal([A, B], net.Snapshot().Select(c => c.Url).OrderBy(u => u.ToString()));
        Assert.All(net.Snapshot(), c => Assert.Equal((AnnounceEvent.Started, t0), (c.Event, c.At)));
        await WaitForTimer(time, t0.AddSeconds(600));
        await WaitForTimer(time, t0.AddSeconds(1800));

        time.Advance(TimeSpan.FromSeconds(600));
        await WaitForCalls(net, 3);
        Assert.Equal(new Call(B, AnnounceEvent.None, t0.AddSeconds(600), 100), net.Snapshot()[2]);
        await WaitForTimer(time, t0.AddSeconds(1200));
        time.Advance(TimeSpan.FromSeconds(600));
        await WaitForCalls(net, 4);
        await WaitForTimer(time, t0.AddSeconds(1800));
        time.Advance(TimeSpan.FromSeconds(600));
        await WaitForCalls(net, 6);
        Assert.Equal(2, net.Snapshot().Count(c => c.Url == A));
        Assert.True(announcer.GetStatus().All(s => s.IsWorking));

        await announcer.StopAsync(TimeSpan.FromSeconds(5));
        await run;
        Assert.Equal([A, B], net.Snapshot().Where(c => c.Event == AnnounceEvent.Stopped).Select(c => c.Url).OrderBy(u => u.ToString()));
    }

    [Fact]
    public async Task AFailingTierBacksOffWithoutHoldingTheOthersBack()
    {
        var (announcer, net, time, _) = Make([[A], [B]]);
        net.Responders[B] = _ => Answer(1800);
        DateTimeOffset t0 = time.GetUtcNow();
        Task run = announcer.RunAsync(CancellationToken.None);
        await WaitForCalls(net, 2);
        Assert.All(net.Snapshot(), c => Assert.Equal(AnnounceEvent.Started, c.Event));
        await WaitForTimer(time, t0.AddSeconds(15));
        await WaitForTimer(time, t0.AddSeconds(1800));

        TrackerStatus a = announcer.GetStatus().Single(s => s.Url == A);
        Assert.False(a.IsWorking);
        Assert.Equal("go away", a.LastError);
        Assert.True(announcer.GetStatus().Single(s => s.Url == B).IsWorking);

        // A retries on its backoff (still "started"); B keeps its own interval.
        time.Advance(TimeSpan.FromSeconds(15));
        await WaitForCalls(net, 3);
        Assert.Equal(new Call(A, AnnounceEvent.Started, t0.AddSeconds(15), 100), net.Snapshot()[2]);
        Assert.Single(net.Snapshot(), c => c.Url == B);

        await announcer.StopAsync(TimeSpan.FromSeconds(5));
        await run;
        Call stopped = net.Snapshot()[^1];
        Assert.Equal((B, AnnounceEvent.Stopped), (stopped.Url, stopped.Event)); // only B ever got started
    }

    [Fact]
    public async Task CompletedGoesToEveryTier()
    {
        var (announcer, net, time, _) = Make([[A], [B]]);
        net.Responders[A] = _ => Answer(1800);
        net.Responders[B] = _ => Answer(1800);
        Task run = announcer.RunAsync(CancellationToken.None);
        await WaitForCalls(net, 2);
        announcer.NotifyCompleted();
        await WaitForCalls(net, 4);
        Assert.Equal([A, B], net.Snapshot().Where(c => c.Event == AnnounceEvent.Completed).Select(c => c.Url).OrderBy(u => u.ToString()));
        await announcer.StopAsync(TimeSpan.FromSeconds(5));
        await run;
    }

    [Fact]
    public async Task TrackerThatAnswersMovesToTheFrontOfItsTier()
    {
        for (int seed = 0; seed < 4; seed++)
        {
            var (announcer, net, time, _) = Make([[A, B]], seed: seed);
            // Whichever tracker the shuffle puts first fails once; the other answers.
            int calls = 0;
            Func<AnnounceRequest, AnnounceResponse> failFirstCall = _ => Interlocked.Increment(ref calls) == 1
                ? throw new TrackerException(A, "refused: first", "first")
                : Answer(1800);
            net.Responders[A] = failFirstCall;
            net.Responders[B] = failFirstCall;
            DateTimeOffset t0 = time.GetUtcNow();
            Task run = announcer.RunAsync(CancellationToken.None);
            await WaitForCalls(net, 2);
            Uri first = net.Snapshot()[0].Url;
            Uri second = first == A ? B : A;
            Assert.Equal(second, net.Snapshot()[1].Url);
            await WaitForTimer(time, t0.AddSeconds(1800));

            // Both work now and the failed one's backoff is over: only the order decides.
            time.Advance(TimeSpan.FromSeconds(1800));
            await WaitForCalls(net, 3);
            Assert.Equal(second, net.Snapshot()[2].Url);
            Assert.Equal(3, net.Calls.Count);
            await announcer.StopAsync(TimeSpan.FromSeconds(5));
            await run;
        }
    }

    [Fact]
    public async Task WithinATierOnlyTheTrackerThatAnswersIsUsed()
    {
        var (announcer, net, time, _) = Make([[A], [B, C]]);
        net.Responders[A] = _ => Answer(60);
        net.Responders[B] = _ => Answer(60);
        net.Responders[C] = _ => Answer(60);
        DateTimeOffset t0 = time.GetUtcNow();
        Task run = announcer.RunAsync(CancellationToken.None);
        for (int i = 1; i <= 3; i++)
        {
            await WaitForCalls(net, 2 * i);
            await WaitForTimer(time, t0.AddSeconds(60 * i));
            time.Advance(TimeSpan.FromSeconds(60));
        }
        await WaitForCalls(net, 8);
        Call[] calls = net.Snapshot();
        Assert.Equal(4, calls.Count(c => c.Url == A));
        // B and C share a tier: whichever the shuffle put first answers every time; the other is never asked.
        Assert.Equal(4, calls.Count(c => c.Url != A));
        Assert.Single(calls.Where(c => c.Url != A).Select(c => c.Url).Distinct());
        await announcer.StopAsync(TimeSpan.FromSeconds(5));
        await run;
    }

    [Fact]
    public async Task EveryTrackerFailingRetriesWithDoublingBackoff()
    {
        var (announcer, net, time, _) = Make([[A]]);
        DateTimeOffset t0 = time.GetUtcNow();
        Task run = announcer.RunAsync(CancellationToken.None);
        await WaitForCalls(net, 1);
        await WaitForTimer(time, t0.AddSeconds(15));
        time.Advance(TimeSpan.FromSeconds(15));
        await WaitForCalls(net, 2);
        await WaitForTimer(time, t0.AddSeconds(15 + 30));
        time.Advance(TimeSpan.FromSeconds(30));
        await WaitForCalls(net, 3);
        Assert.Equal([t0, t0.AddSeconds(15), t0.AddSeconds(45)], net.Snapshot().Select(c => c.At));
        Assert.All(net.Snapshot(), c => Assert.Equal(AnnounceEvent.Started, c.Event));

        await announcer.StopAsync(TimeSpan.FromSeconds(5));
        await run;
        Assert.Equal(3, net.Calls.Count); // never started, so no stopped
        Assert.Equal("go away", announcer.GetStatus()[0].LastError);
    }
}
