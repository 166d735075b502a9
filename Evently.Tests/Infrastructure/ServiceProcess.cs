using System.Diagnostics;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Evently.AppHost.Infrastructure;

namespace Evently.Tests.Infrastructure;

/// <summary>
/// One more instance of a service of the solution, as its own OS process on the fixture's database,
/// Redis and mail server: a worker replica that a test can race or kill with SIGKILL, or an API whose
/// Redis is gone.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _output;

    private ServiceProcess(Process process, Uri address, System.Collections.Concurrent.ConcurrentQueue<string> output) =>
        (_process, Address, _output) = (process, address, output);

    public Uri Address { get; }

    /// <summary>A client of this process, anonymous or signed in as <paramref name="caller"/>.</summary>
    public HttpClient CreateClient() => new() { BaseAddress = Address };

    public Caller As(Caller caller)
    {
        var http = CreateClient();
        http.DefaultRequestHeaders.Authorization = caller.Http.DefaultRequestHeaders.Authorization;
        return caller with { Http = http };
    }

    /// <summary>The last lines the process wrote (its warnings and errors), for a failing test's message.</summary>
    public string Output => string.Join('\n', _output);

    /// <summary>Whether the process has ended (it is not supposed to, unless killed).</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>
    /// The name a worker holds an event's queue lease under: a test that gives it an event's lease before the event's
    /// first request keeps the fixture's workers off that event.
    /// </summary>
    public string QueueConsumer => Evently.Worker.Bookings.QueueDrainer.ConsumerName(_process.Id);

    /// <param name="offerSeconds">The offer window: long by default, so that no offer expires while a test counts them.</param>
    /// <param name="redis">Another Redis than the fixture's, if given.</param>
    /// <param name="database">Another way to the fixture's database (through a <see cref="FaultProxy"/>, say), if given.</param>
    /// <param name="queueBatchSize">Queued requests answered per transaction, if not the default.</param>
    /// <param name="queueLeaseSeconds">How long it keeps an event's queue without renewing, if not the fixture's.</param>
    public static async Task<ServiceProcess> StartWorkerAsync(
        EventlyAppFixture fixture, int offerSeconds = EventlyAppFixture.OfferSeconds, string? redis = null, string? database = null,
        int? queueBatchSize = null, int queueLeaseSeconds = EventlyAppFixture.QueueLeaseSeconds)
    {
        var settings = await SharedSettingsAsync(fixture,
            ("Evently__Waitlist__OfferSeconds", offerSeconds.ToString()),
            ("Evently__Queue__LeaseSeconds", queueLeaseSeconds.ToString()));
        if (queueBatchSize is { } batchSize)
        {
            settings["Evently__Queue__BatchSize"] = batchSize.ToString();
        }
        settings["ConnectionStrings__redis"] = redis ?? settings["ConnectionStrings__redis"];
        settings["ConnectionStrings__evently"] = database ?? settings["ConnectionStrings__evently"];
        return await StartAsync(new Projects.Evently_Worker().ProjectPath, settings);
    }

    /// <summary>An API whose Redis is unreachable (a port nobody listens on).</summary>
    public static async Task<ServiceProcess> StartApiWithoutRedisAsync(EventlyAppFixture fixture) =>
        await StartAsync(new Projects.Evently_ApiService().ProjectPath, await SharedSettingsAsync(fixture,
            ("ConnectionStrings__redis", $"127.0.0.1:{LocalProcesses.FreePort()},abortConnect=false,connectTimeout=500"),
            ("Evently__Jwt__SigningKey", new string('k', 64))));

    /// <summary>
    /// Another replica of the API: the fixture's signing key and limits, and its database and Redis unless a test
    /// routes them elsewhere (through a <see cref="FaultProxy"/>, say).
    /// </summary>
    /// <param name="more">More settings (environment variables), which win over the fixture's.</param>
    public static async Task<ServiceProcess> StartApiAsync(
        EventlyAppFixture fixture, string? database = null, string? redis = null, IReadOnlyDictionary<string, string>? more = null)
    {
        var settings = await SharedSettingsAsync(fixture,
            ("Evently__Jwt__SigningKey", EventlyAppFixture.SigningKey),
            ("Evently__RateLimiting__UserTokenLimit", EventlyAppFixture.UserRateLimit.ToString()),
            ("Evently__RateLimiting__AnonymousTokenLimit", "1000000"),
            ("Evently__RateLimiting__AuthTokenLimit", "1000000"),
            ("Evently__Waitlist__OfferSeconds", EventlyAppFixture.OfferSeconds.ToString()));
        settings["ConnectionStrings__evently"] = database ?? settings["ConnectionStrings__evently"];
        settings["ConnectionStrings__redis"] = redis ?? settings["ConnectionStrings__redis"];
        foreach (var (key, value) in more ?? new Dictionary<string, string>())
        {
            settings[key] = value;
        }
        return await StartAsync(new Projects.Evently_ApiService().ProjectPath, settings);
    }

    private static async Task<Dictionary<string, string?>> SharedSettingsAsync(EventlyAppFixture fixture, params (string, string)[] more)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings__evently"] = fixture.DatabaseConnectionString,
            ["ConnectionStrings__redis"] = await fixture.App.GetConnectionStringAsync("redis"),
            ["ConnectionStrings__smtp"] = await fixture.App.GetConnectionStringAsync("smtp"),
            ["Evently__Database__ServerVersion"] = "10.11.0-mariadb",
            ["Logging__LogLevel__Default"] = "Warning"
        };
        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }
        return settings;
    }

    private static async Task<ServiceProcess> StartAsync(string projectPath, Dictionary<string, string?> settings)
    {
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var (process, address) = await ServiceLauncher.StartAsync(projectPath, settings, line =>
        {
            output.Enqueue(line);
            while (output.Count > 200 && output.TryDequeue(out _)) { }
        }, TimeSpan.FromSeconds(30));
        return new ServiceProcess(process, address, output);
    }

    /// <summary>SIGKILL: no shutdown, no cleanup, whatever it was doing.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            Process.Start("kill", ["-9", _process.Id.ToString()])!.WaitForExit();
            _process.WaitForExit();
        }
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
