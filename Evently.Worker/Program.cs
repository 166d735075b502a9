using Evently.Domain.Infrastructure;
using Evently.Worker;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddEventlyDbContext();
builder.AddRedisClient("redis");
builder.Services.AddHostedService<InfrastructureCheck>();

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
