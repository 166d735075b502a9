namespace Evently.Soak.Workload;

/// <summary>
/// The steady mix, far below saturation: <see cref="SoakOptions.Shoppers"/> registered users acting one after
/// another with think time, <see cref="SoakOptions.Browsers"/> anonymous visitors, one admin, and an on-sale every
/// <see cref="SoakOptions.OnSaleEvery"/>. Each loop has its own random numbers, derived from the run's seed.
/// </summary>
internal sealed class Load(SoakOptions options, Catalog catalog, UserActions actions, Browsing browsing, Admin admin, OnSale onSale,
    IReadOnlyList<HttpClient> anonymous)
{
    private static readonly TimeSpan FirstOnSale = TimeSpan.FromSeconds(20);
    private int _toolErrors;

    public async Task RunAsync(TimeSpan duration)
    {
        using var stop = new CancellationTokenSource(duration);
        var loops = new List<Task>();
        for (var i = 0; i < options.Shoppers; i++)
        {
            loops.Add(LoopAsync(options.Seed + 100 + i, ShopAsync, 300, 900, stop.Token));
        }
        for (var i = 0; i < options.Browsers; i++)
        {
            var client = anonymous[i % anonymous.Count];
            loops.Add(LoopAsync(options.Seed + 200 + i, r => browsing.BrowseAsync(client, r), 200, 600, stop.Token));
        }
        loops.Add(LoopAsync(options.Seed + 300, admin.ActAsync, 3_000, 6_000, stop.Token));
        loops.Add(OnSalesAsync(new Random(options.Seed + 400), stop.Token));
        await Task.WhenAll(loops);
    }

    private Task ShopAsync(Random random)
    {
        var user = catalog.User(random);
        return random.Next(100) switch
        {
            < 25 => actions.BookAsync(user, random),
            < 40 => actions.BookSeatsAsync(user, random),
            < 48 => actions.ChangeSeatsAsync(user, random),
            < 60 => actions.CancelAsync(user, random),
            < 72 => actions.JoinWaitlistAsync(user, random),
            < 88 => actions.AnswerOffersAsync(user, random),
            _ => actions.ReadNotificationsAsync(user)
        };
    }

    // An on-sale's buyers go on polling for their answers after the load stops: a waiting page would.
    private async Task OnSalesAsync(Random random, CancellationToken stop)
    {
        var sales = new List<Task>();
        try
        {
            await Task.Delay(FirstOnSale, stop);
            while (!stop.IsCancellationRequested)
            {
                sales.Add(Guarded(() => onSale.RunAsync(random)));
                await Task.Delay(options.OnSaleEvery, stop);
            }
        }
        catch (OperationCanceledException)
        {
        }
        await Task.WhenAll(sales);
    }

    private async Task LoopAsync(int seed, Func<Random, Task> act, int minThinkMs, int maxThinkMs, CancellationToken stop)
    {
        var random = new Random(seed);
        while (!stop.IsCancellationRequested)
        {
            await Guarded(() => act(random));
            try
            {
                await Task.Delay(random.Next(minThinkMs, maxThinkMs), stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    // An answer the tool cannot read is the tool's bug, not the app's: said once per kind of error, and the loop goes on.
    private async Task Guarded(Func<Task> act)
    {
        try
        {
            await act();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            if (Interlocked.Increment(ref _toolErrors) <= 5)
            {
                Console.WriteLine($"  soak tool error (not counted against the app): {ex.GetType().Name}: {ex.Message}");
            }
        }
    }

    public int ToolErrors => Volatile.Read(ref _toolErrors);
}
