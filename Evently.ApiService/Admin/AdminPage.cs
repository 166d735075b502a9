using Microsoft.AspNetCore.Rewrite;

namespace Evently.ApiService.Admin;

/// <summary>
/// The admin page: static files under wwwroot/admin (a page, its script and its style; no build step, nothing
/// from elsewhere), served at /admin. It signs in with POST /api/auth/login and calls the API with the token.
/// </summary>
public static class AdminPage
{
    public const string Path = "/admin";

    // Only the page's own files: no inline script, no other origin, never inside another site's frame.
    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    public static WebApplication UseAdminPage(this WebApplication app)
    {
        // /admin and /admin/ are the page itself; its files are named from the root, so either address works.
        app.UseRewriter(new RewriteOptions().AddRewrite("^admin/?$", "admin/index.html", skipRemainingRules: true));
        app.UseStaticFiles(new StaticFileOptions
        {
            OnPrepareResponse = context =>
            {
                var headers = context.Context.Response.Headers;
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                // Small files: always ask, so a new version is seen at once.
                headers.CacheControl = "no-cache";
            }
        });
        return app;
    }
}
