using Aspire.Hosting.Testing;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using Xunit.Abstractions;

namespace Evently.Tests.Analytics;

// The admin page as a person sees it: Debian's Chromium, headless, driven through its chromedriver.
[Collection(AppCollection.Name)]
public sealed class AdminPageTests(EventlyAppFixture fixture, ITestOutputHelper output)
{
    private const string Chromium = "/usr/bin/chromium";
    private const string ChromeDriver = "/usr/bin/chromedriver";

    // The page's colours (admin.js), by seat status.
    private static readonly Dictionary<string, string> SeatColours = new()
    {
        ["available"] = "#2e7d32", ["held"] = "#f9a825", ["booked"] = "#c62828"
    };

    /// <summary>Where the screenshot of the page is kept, beside the test assembly.</summary>
    public static string ScreenshotPath => Path.Combine(AppContext.BaseDirectory, "artifacts", "admin-page.png");

    [Fact]
    public async Task The_page_and_its_files_are_served_at_admin_with_a_strict_content_policy()
    {
        foreach (var path in new[] { "/admin", "/admin/" })
        {
            var page = await fixture.Api.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
            Assert.Contains("<title>Evently admin</title>", await page.Content.ReadAsStringAsync());
            Assert.Contains("default-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single());
        }
        var script = await fixture.Api.GetAsync("/admin/admin.js");
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.Contains("[admin page](/admin)", await fixture.Api.GetStringAsync("/openapi/v1.json"));
    }

    [Fact]
    public async Task An_admin_logs_in_and_sees_the_known_figures_charts_and_a_seat_map_in_its_colours()
    {
        var window = await KnownWindow.CreateAsync(fixture);
        using var user = await fixture.NewUserAsync();

        using var browser = StartChromium();
        var api = fixture.App.GetEndpoint("api", "http");
        browser.Navigate().GoToUrl(new Uri(api, $"/admin?from={window.From:yyyy-MM-dd}&to={window.To:yyyy-MM-dd}"));

        // A user is told the page is not for them.
        LogIn(browser, user.User.Email, "password123");
        await UntilAsync(() => browser.FindElement(By.Id("login-error")).Text.Contains("not an admin"), "the refusal");
        Assert.False(browser.FindElement(By.Id("dashboard")).Displayed);

        LogIn(browser, TestApi.AdminEmail, TestApi.AdminPassword);
        await UntilAsync(() => browser.FindElement(By.Id("total-bookings")).Text == "6", "the window's figures");

        var (total, confirmed, cancelled, tickets, _) = KnownWindow.ExpectedTotals;
        Assert.Equal([$"{total}", $"{confirmed}", $"{cancelled}", $"{tickets}", "50.0%"],
            new[] { "total-bookings", "confirmed-bookings", "cancelled-bookings", "tickets-sold", "cancellation-rate" }
                .Select(id => browser.FindElement(By.Id(id)).Text));

        // The daily chart: a bar per day and series, zeros included, each saying its figure.
        var bars = browser.FindElements(By.CssSelector("#daily-chart rect[data-series]"))
            .Select(r => (Date: r.GetDomAttribute("data-date")!, Series: r.GetDomAttribute("data-series")!, Value: int.Parse(r.GetDomAttribute("data-value")!)))
            .ToList();
        Assert.Equal(window.ExpectedDaily.Select(d => (d.Date.ToString("yyyy-MM-dd"), "bookings", d.Bookings)), bars.Where(b => b.Series == "bookings"));
        Assert.Equal(window.ExpectedDaily.Select(d => (d.Date.ToString("yyyy-MM-dd"), "cancellations", d.Cancellations)), bars.Where(b => b.Series == "cancellations"));

        // The most booked events and the utilization bars are drawn from their endpoints.
        Assert.InRange(browser.FindElements(By.CssSelector("#top-table tbody tr")).Count, 1, 10);
        Assert.NotEmpty(browser.FindElements(By.CssSelector("#top-chart rect[data-event-id]")));
        Assert.NotEmpty(browser.FindElements(By.CssSelector("#utilization-chart rect[data-event-id]")));
        Assert.EndsWith("%", browser.FindElement(By.Id("overall")).Text);

        // The seat map of a chosen event, coloured by status.
        var seated = await SeatMapWithEveryStatusAsync();
        var expectedSeats = await fixture.ReadSeatsOnceFreshAsync(seated, seats => seats.Any(s => s.Status == "held"));
        Assert.Equal(["available 1", "booked 2", "held 1"], SeatCounts(expectedSeats.Select(s => s.Status)));
        browser.FindElement(By.Id("seat-event-id")).SendKeys(seated.ToString());
        browser.FindElement(By.Id("show-seats")).Click();
        await UntilAsync(() => browser.FindElements(By.CssSelector("#seat-map rect[data-seat-id]")).Count == expectedSeats.Count, "the seat map");
        foreach (var seat in expectedSeats)
        {
            var rect = browser.FindElement(By.CssSelector($"#seat-map rect[data-seat-id='{seat.Id}']"));
            Assert.Equal((seat.Status, SeatColours[seat.Status]), (rect.GetDomAttribute("data-status"), rect.GetDomAttribute("fill")));
        }
        Assert.Equal(["available 1", "booked 2", "held 1"], browser.FindElements(By.CssSelector("#seat-legend span")).Select(s => s.Text).Order());

        Directory.CreateDirectory(Path.GetDirectoryName(ScreenshotPath)!);
        browser.GetScreenshot().SaveAsFile(ScreenshotPath);
        output.WriteLine($"Screenshot of the admin page: {ScreenshotPath}");
    }

    [Fact]
    public async Task An_admin_watches_an_on_sale_pre_queue_then_its_answers_update_live()
    {
        const int Buyers = 12, Tickets = 8;
        var buyers = await fixture.SeedAccountsAsync(Buyers);
        using var admin = await fixture.AdminAsync();
        using var browser = StartChromium();
        browser.Navigate().GoToUrl(new Uri(fixture.App.GetEndpoint("api", "http"), "/admin"));
        LogIn(browser, TestApi.AdminEmail, TestApi.AdminPassword);
        await UntilAsync(() => browser.FindElement(By.Id("dashboard")).Displayed, "the dashboard");

        var opens = DateTime.UtcNow.AddSeconds(5);
        var evt = await admin.CreateEventAsync(TestApi.With(TestApi.NewEventBody(capacity: Tickets, highDemand: true), "salesStartAt", opens));
        foreach (var buyer in buyers)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await buyer.BookAsync(evt.Id, 1)).StatusCode);
        }
        browser.FindElement(By.Id("queue-event-id")).SendKeys(evt.Id.ToString());
        browser.FindElement(By.Id("watch-queue")).Click();
        await UntilAsync(() => browser.FindElement(By.Id("queue-pre-queued")).Text == $"{Buyers}", "the pre-queue");
        Assert.Equal("0", browser.FindElement(By.Id("queue-answered")).Text);

        // Nobody touches the page: the opening and the drain show by themselves.
        await WaitlistTestApi.EventuallyAsync(() => Task.FromResult(browser.FindElement(By.Id("queue-answered")).Text == $"{Buyers}"),
            TimeSpan.FromSeconds(30), "the answers on the page");
        Assert.Equal(["0", "0", $"{Buyers}", $"{Tickets}", $"{Buyers - Tickets}"],
            new[] { "queue-pre-queued", "queue-queued", "queue-answered", "queue-confirmed", "queue-rejected" }
                .Select(id => browser.FindElement(By.Id(id)).Text));
        buyers.ForEach(b => b.Dispose());
    }

    // A seated event with two seats booked, one held for a waitlist offer and one available. The offer is made
    // here, held for 15 minutes rather than the fixture's few seconds (unless the worker's periodic look takes it first).
    private async Task<long> SeatMapWithEveryStatusAsync()
    {
        using var admin = await fixture.AdminAsync();
        var evt = await admin.CreateEventAsync(capacity: 4, seating: new { sections = new[] { new { name = "Front", rows = 1, seatsPerRow = 4 } } });
        var seats = (await fixture.Api.GetFromJsonAsync<List<SeatDto>>($"/api/events/{evt.Id}/seats"))!;
        using var first = await fixture.NewUserAsync();
        using var second = await fixture.NewUserAsync();
        using var waiting = await fixture.NewUserAsync();
        await first.BookSeatsAsync(evt.Id, [seats[0].Id, seats[1].Id]).BookedAsync();
        var freed = await second.BookSeatsAsync(evt.Id, [seats[2].Id, seats[3].Id]).BookedAsync();
        var entry = await waiting.JoinWaitlistAsync(evt.Id, 1).JoinedAsync();
        await using (var services = new ClockedServices(fixture, DateTimeOffset.UtcNow))
        {
            // The cancel offers the seats to the line itself, held for the clock's 15 minutes.
            await services.CancelAsync(second.User.Id, freed.Id);
        }
        await WaitlistTestApi.EventuallyAsync(async () => (await waiting.EntryAsync(entry.Id)).Status == "offered",
            TimeSpan.FromSeconds(10), "the waitlist offer");
        return evt.Id;
    }

    private static IEnumerable<string> SeatCounts(IEnumerable<string> statuses) =>
        statuses.CountBy(status => status).Select(c => $"{c.Key} {c.Value}").Order();

    private static void LogIn(IWebDriver browser, string email, string password)
    {
        foreach (var (id, text) in new[] { ("email", email), ("password", password) })
        {
            var input = browser.FindElement(By.Id(id));
            input.Clear();
            input.SendKeys(text);
        }
        browser.FindElement(By.Id("login-button")).Click();
    }

    private static Task UntilAsync(Func<bool> condition, string what) =>
        WaitlistTestApi.EventuallyAsync(() => Task.FromResult(condition()), TimeSpan.FromSeconds(15), what);

    private static ChromeDriver StartChromium()
    {
        Assert.True(File.Exists(Chromium) && File.Exists(ChromeDriver),
            "The browser test needs Debian's chromium and chromium-driver: ./test.sh installs them (eng/prerequisites.sh).");
        var options = new ChromeOptions { BinaryLocation = Chromium };
        options.AddArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--no-first-run", "--window-size=1300,1900",
            $"--user-data-dir={Directory.CreateTempSubdirectory("evently-chromium-").FullName}");
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(ChromeDriver)!, Path.GetFileName(ChromeDriver));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        return new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
    }
}
