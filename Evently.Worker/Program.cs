using Evently.Worker;

// The slim builder: no IIS integration, Kestrel HTTPS configuration or QUIC to load for a process that serves only health checks.
var builder = WebApplication.CreateSlimBuilder(args);

builder.AddServiceDefaults();
builder.AddWorkerServices();

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
