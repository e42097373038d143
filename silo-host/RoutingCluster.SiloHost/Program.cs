using RoutingCluster.SiloHost.Api;
using RoutingCluster.SiloHost.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddRoutingCluster();

var app = builder.Build();
app.MapRoutingApi();
app.Run();

/// <summary>The entry point, public so that tests can host it with <c>WebApplicationFactory&lt;Program&gt;</c>.</summary>
public partial class Program;
