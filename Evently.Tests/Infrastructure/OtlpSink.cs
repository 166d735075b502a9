using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Evently.Tests.Infrastructure;

/// <summary>
/// An OTLP/gRPC endpoint that accepts every export and keeps only counts. The testing host starts no dashboard
/// but still points the services at one: without a receiver they retry each export against a closed port,
/// which is neither a developer's run (the dashboard) nor production's (a collector).
/// </summary>
public sealed class OtlpSink : IAsyncDisposable
{
    // An empty protobuf message in a gRPC frame: not compressed, length 0.
    private static readonly byte[] EmptyReply = new byte[5];

    private readonly WebApplication _app;
    private long _traceExports, _metricExports, _logExports, _bytes;

    private OtlpSink(WebApplication app) => _app = app;

    public Uri Endpoint { get; private set; } = null!;

    public OtlpCounts Received => new(Interlocked.Read(ref _traceExports), Interlocked.Read(ref _metricExports),
        Interlocked.Read(ref _logExports), Interlocked.Read(ref _bytes));

    public static async Task<OtlpSink> StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // gRPC without TLS: HTTP/2 only, as the dashboard's OTLP endpoint serves it.
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        var app = builder.Build();
        var sink = new OtlpSink(app);
        app.Run(sink.AcceptAsync);
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        sink.Endpoint = new Uri(address);
        return sink;
    }

    // POST /opentelemetry.proto.collector.{trace|metrics|logs}.v1.{Service}/Export
    private async Task AcceptAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        var buffer = new byte[16 * 1024];
        long length = 0;
        for (int read; (read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0;)
        {
            length += read;
        }
        Interlocked.Add(ref _bytes, length);
        Interlocked.Increment(ref path.Contains(".trace.", StringComparison.Ordinal) ? ref _traceExports
            : ref path.Contains(".metrics.", StringComparison.Ordinal) ? ref _metricExports : ref _logExports);

        context.Response.ContentType = "application/grpc";
        await context.Response.Body.WriteAsync(EmptyReply, context.RequestAborted);
        context.Response.AppendTrailer("grpc-status", "0");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

public sealed record OtlpCounts(long TraceExports, long MetricExports, long LogExports, long Bytes);
