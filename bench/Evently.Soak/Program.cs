using System.Diagnostics;
using Evently.Soak;
using Evently.Soak.Checks;
using Evently.Soak.Client;
using Evently.Soak.Faults;
using Evently.Soak.Workload;

var options = SoakOptions.Parse(args);
if (options.PlanOnly)
{
    // The faults a seed makes, without starting anything.
    foreach (var fault in Nemesis.Plan(options.Seed, options.MinFaultGap, options.MaxFaultGap).Take(20))
    {
        Console.WriteLine($"{(fault.DuringOnSale ? "next on-sale +" : "after")} {fault.Gap.TotalSeconds,4:0.0}s  {Nemesis.Describe(fault.Kind),-28} "
            + $"replica {fault.Replica}, {fault.Length.TotalSeconds:0.0} s");
    }
    return 0;
}
Say($"Chaos soak: seed {options.Seed}, {options.Minutes} minutes{(options.Faults ? "" : ", no faults")}");
Say("Starting the app: MariaDB, Redis, smtp4dev, migrations, 2 API replicas, 2 workers, and a third API replica behind fault proxies...");
await using var app = await SoakApp.StartAsync();

var ledger = new Ledger();
var http = new SoakHttp(ledger);
using var main = Client(app.ApiEndpoint);
using var extra = Client(app.Extra.Address);
using var probe = new HttpClient();

Say($"Registering {options.Users} users (a third of them use the extra replica) and the first events...");
var adminToken = (await http.SendAsync("login", main, HttpMethod.Post, "/api/auth/login", body: new { email = "admin@evently.local", password = "evently-admin-dev" }))
    .Text("accessToken")!;
var users = new SoakUser[options.Users];
await Parallel.ForEachAsync(Enumerable.Range(0, options.Users), new ParallelOptions { MaxDegreeOfParallelism = 2 }, async (i, _) =>
{
    var client = i % 3 == 2 ? extra : main;
    var email = $"soak-{i}@example.com";
    var registered = await http.SendAsync("register", client, HttpMethod.Post, "/api/auth/register", body: new { email, password = "soak-password", name = $"Soak user {i}" });
    var login = await http.SendAsync("login", client, HttpMethod.Post, "/api/auth/login", body: new { email, password = "soak-password" });
    users[i] = new SoakUser(i, registered.Long("id"), email, login.Text("accessToken")!, client);
});
var catalog = new Catalog(users);
var actions = new UserActions(http, ledger, catalog);
var admin = new Admin(http, ledger, catalog, main, adminToken);
var setup = new Random(options.Seed);
foreach (var kind in new[] { EventKind.Regular, EventKind.Regular, EventKind.Regular, EventKind.Regular, EventKind.Seated, EventKind.Seated })
{
    await admin.CreateAsync(kind, setup);
}

var onSales = new OnSaleSignal();
var load = new Load(options, catalog, actions, new Browsing(http, catalog), admin, new OnSale(http, ledger, catalog, actions, admin, onSales),
    [main, main, extra]);
var nemesis = new Nemesis(app, probe, onSales, options.Seed, options.MinFaultGap, options.MaxFaultGap);
Say($"Running the load for {options.Minutes} minutes{(options.Faults ? $", with a fault every {options.MinFaultGap.TotalSeconds:0} to {options.MaxFaultGap.TotalSeconds:0} s" : "")}...");
var clock = Stopwatch.StartNew();
await Task.WhenAll(load.RunAsync(options.Duration), options.Faults ? nemesis.RunAsync(options.Duration) : Task.CompletedTask);
var ran = clock.Elapsed;

Say("Load and nemesis stopped; waiting for the system to settle...");
var mailBox = new MailBox(app.MailEndpoint);
var settled = await Settle.RunAsync(app, ledger, mailBox);
Say("Reading the database and the mails smtp4dev received...");
var snapshot = await DatabaseSnapshot.ReadAsync(app.DatabaseConnectionString);
var mails = await mailBox.MailsPerNotificationAsync();
Say($"Read {snapshot.Bookings.Count} bookings, {snapshot.Notifications.Count} notifications, {mails.Values.Sum()} mails");
var verdicts = new Invariants(ledger, snapshot, mails, nemesis.Faults).Check();
Report.Print(options, ran, settled, ledger, nemesis.Faults, verdicts, load.ToolErrors);
Console.WriteLine($"The services' logs: {ServiceLogs.Directory}");
Say("Stopping the app...");
return verdicts.All(v => v.Passed) ? 0 : 1;

static void Say(string text) => Console.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {text}");

// One connection per request in flight, and none kept past a killed replica for long.
static HttpClient Client(Uri address) => new(new SocketsHttpHandler
{
    MaxConnectionsPerServer = 1_000,
    PooledConnectionLifetime = TimeSpan.FromSeconds(30)
})
{
    BaseAddress = address,
    Timeout = Timeout.InfiniteTimeSpan
};
