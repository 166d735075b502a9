namespace Evently.AppHost.Infrastructure;

public static class ParameterExtensions
{
    // In run mode the value comes from configuration (Parameters:name) or the local default;
    // in publish mode it stays a required input of the deployment.
    public static IResourceBuilder<ParameterResource> AddParameterWithLocalDefault(
        this IDistributedApplicationBuilder builder, string name, string localDefault, bool secret = false) =>
        builder.ExecutionContext.IsPublishMode
            ? builder.AddParameter(name, secret)
            : builder.AddParameter(name, builder.Configuration[$"Parameters:{name}"] ?? localDefault, secret: secret);
}
