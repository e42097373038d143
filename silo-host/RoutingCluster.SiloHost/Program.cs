using RoutingCluster.SiloHost.Api;
using RoutingCluster.SiloHost.Hosting;

// Content root: the host's own folder wherever it is started from, unless configured (HostContentRoot).
var builder = WebApplication.CreateBuilder(HostContentRoot.Options(args));
builder.UseBuildOutputWebAssets();
builder.AddRoutingCluster();

var app = builder.Build();
app.MapRoutingApi();
app.Run();

/// <summary>The entry point, public so that tests can host it with <c>WebApplicationFactory&lt;Program&gt;</c>.</summary>
public partial class Program;
