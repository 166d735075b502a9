using System.Runtime.InteropServices;
using Evently.LoadTest;
using Evently.Tests.Infrastructure;

if (args is [StreamHolder.ChildArgument, var streamsOf])
{
    return await StreamHolder.RunChildAsync(new Uri(streamsOf));
}

var settings = LoadSettings.Parse(args);
if (args.Contains("--hot-events")) return await HotEventsScenario.RunAsync(args);
var machine = $"{Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}";
Console.WriteLine($"Machine: {machine}");

Console.WriteLine("Starting the app: MariaDB, Redis, migrations, API, worker...");
// --setting Key=Value (repeatable): an AppHost setting for this run, to try a knob (Evently:Worker:Queue:BatchSize=2000).
await using var app = await EventlyApp.StartAsync(args.Select((arg, i) => (arg, i))
    .Where(a => a.arg == "--setting" && a.i + 1 < args.Length).Select(a => args[a.i + 1]).ToArray());
// Every client needs its own connection, or the pool's queue becomes what gets measured.
using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Math.Max(1_000, settings.Clients) })
{
    BaseAddress = app.ApiEndpoint,
    Timeout = TimeSpan.FromSeconds(30)
};
var api = new EventlyApi(http);

// First, when asked for: it needs none of the seeding below, which it would only add to.
if (settings.Analytics)
{
    var analytics = await AnalyticsScenario.RunAsync(http, api, (await app.DatabaseConnectionStringAsync())!,
        settings.AnalyticsEvents, settings.AnalyticsBookings, settings.AnalyticsCalls);
    Report.PrintAnalytics(machine, analytics);
    if (!analytics.Holds || !(settings.Direct || settings.Queue))
    {
        return analytics.Holds ? 0 : 1;
    }
}

Console.WriteLine($"Seeding events and {settings.Clients} users through the API...");
var seed = await Seeder.RunAsync(api, settings.Clients);
var ledger = new BookingLedger(seed.Events.Count);

async Task<int> BookAsync(int client, int eventIndex)
{
    var status = await api.BookAsync(seed.UserTokens[client], seed.Events[eventIndex].Id);
    ledger.Record(eventIndex, status);
    return status;
}

// A booking made for the purpose (not timed), then its cancel (timed): the cancel path, offers to the line included.
async Task<Sample> CancelAsync(int client)
{
    var eventIndex = 1 + Random.Shared.Next(seed.SpreadEventCount);
    var (status, bookingId) = await api.BookForIdAsync(seed.UserTokens[client], seed.Events[eventIndex].Id);
    ledger.Record(eventIndex, status);
    if (bookingId is not { } id)
    {
        return new Sample(status, 0);
    }
    var cancel = await Load.TimedAsync(_ => api.CancelAsync(seed.UserTokens[client], id), client);
    if (cancel.Status == 204)
    {
        ledger.Cancelled(eventIndex);
    }
    return cancel;
}

var baseline = await LoadRunner.RunAsync("GET /alive (baseline)", 200, settings, _ => api.AliveAsync());
ScenarioResult[] results = settings.Direct
    ?
    [
        baseline,
        await LoadRunner.RunAsync("Book, one event", 201, settings, client => BookAsync(client, SeedData.BigEvent)),
        await LoadRunner.RunAsync($"Book, {seed.SpreadEventCount:N0} events", 201, settings,
            client => BookAsync(client, 1 + Random.Shared.Next(seed.SpreadEventCount))),
        await LoadRunner.RunTimedAsync($"Cancel, {seed.SpreadEventCount:N0} events", 204, settings, CancelAsync)
    ]
    : [baseline];
results = [.. results, .. await RawSqlScenario.RunAsync((await app.DatabaseConnectionStringAsync())!, seed, settings, results)];

var invariants = await ledger.VerifyAsync(api, seed.Events);
Report.Print(machine, settings, results, invariants);
Report.PrintMemory(settings.Direct ? "the direct scenarios" : "the baseline", AppProcesses.ReadMemory());
Report.PrintTelemetry(app.TelemetryReceived);

var mixedHolds = true;
if (settings.Mixed)
{
    var mixed = await MixedScenario.RunAsync(api, seed, settings);
    Report.PrintMixed(mixed, baseline, settings);
    Report.PrintMemory("the mixed scenario", AppProcesses.ReadMemory());
    mixedHolds = mixed.Invariants.Holds;
}

var waitingRoomHolds = true;
if (settings.WaitingRoom)
{
    var waitingRoom = await WaitingRoomScenario.RunAsync(api, app, settings.Buyers, settings.QueueTickets, warmUp: !args.Contains("--cold"));
    WaitingRoomScenario.Print(waitingRoom);
    waitingRoomHolds = waitingRoom.Holds;
}

var queueHolds = true;
if (settings.Queue)
{
    foreach (var drainHeld in new[] { false, true })
    {
        var onSale = await HighDemandScenario.RunAsync(api, (await app.DatabaseConnectionStringAsync())!,
            (await app.RedisConnectionStringAsync())!, settings.Clients, settings.QueueRequests, settings.QueueTickets, drainHeld);
        Report.PrintHighDemand(onSale, baseline);
        Report.PrintMemory(drainHeld ? "the on-sale, drain held" : "the on-sale, intake and drain at once", AppProcesses.ReadMemory());
        queueHolds &= onSale.Holds;
    }
}
return invariants.Holds && mixedHolds && queueHolds && waitingRoomHolds ? 0 : 1;
