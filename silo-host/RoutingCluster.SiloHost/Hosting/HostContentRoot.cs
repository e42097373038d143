namespace RoutingCluster.SiloHost.Hosting;

/// <summary>
/// Where the host finds appsettings.json and wwwroot: its own folder (<see cref="AppContext.BaseDirectory"/>), not
/// the directory it was started from, so that <c>dotnet /opt/rc/RoutingCluster.SiloHost.dll</c> run by a service
/// manager from anywhere reads its own settings and serves its own pages. A content root given as
/// <c>--contentRoot</c> or in <c>ASPNETCORE_CONTENTROOT</c> / <c>DOTNET_CONTENTROOT</c> still wins.
/// </summary>
public static class HostContentRoot
{
    private static readonly string[] EnvironmentVariables = ["ASPNETCORE_CONTENTROOT", "DOTNET_CONTENTROOT"];

    /// <summary>The builder's options: the command line, and the host's own folder as content root unless one is configured.</summary>
    public static WebApplicationOptions Options(string[] args) => new()
    {
        Args = args,
        ContentRootPath = IsConfigured(args) ? null : AppContext.BaseDirectory,
    };

    /// <summary>
    /// A build output (bin/, not a publish) has no wwwroot of its own: its static web assets manifest points at the
    /// project's wwwroot and the build's generated files. Development runs read it by default; this reads it in
    /// every environment, so that the built host serves its pages wherever it is started from. A publish has no
    /// such manifest (its wwwroot is beside the host) and is left as it is.
    /// </summary>
    public static WebApplicationBuilder UseBuildOutputWebAssets(this WebApplicationBuilder builder)
    {
        var manifest = Path.Combine(AppContext.BaseDirectory, $"{builder.Environment.ApplicationName}.staticwebassets.runtime.json");
        if (!builder.Environment.IsDevelopment() && File.Exists(manifest))
        {
            builder.WebHost.UseStaticWebAssets();
        }

        return builder;
    }

    private static bool IsConfigured(string[] args)
    {
        if (EnvironmentVariables.Any(name => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name))))
        {
            return true;
        }

        var commandLine = new ConfigurationBuilder().AddCommandLine(args).Build();
        return !string.IsNullOrEmpty(commandLine[HostDefaults.ContentRootKey]);
    }
}
