using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Hosting.Kubernetes;
using RoutingCluster.SiloHost.Hosting;
using RoutingCluster.Tests.Shared;
using YamlDotNet.RepresentationModel;

namespace RoutingCluster.SiloHost.Tests.Hosting;

/// <summary>
/// deploy/kubernetes held to the host: the manifests' settings (ConfigMap, environment, the example Secret) are fed to
/// the host's own configuration code, and the ports, probe paths, shutdown budget, environment variable names and
/// Orleans labels they declare must be the ones the host then uses, maps, reads and needs.
/// </summary>
[Collection(RoutingHostCollection.Name)]
public sealed partial class KubernetesManifestTests(SiloHostFactory host)
{
    private static readonly string Root = FindRepositoryRoot();
    private static readonly string Folder = Path.Combine(Root, "deploy", "kubernetes");
    private static readonly Lazy<List<Manifest>> All = new(Load);

    [Fact]
    public void Manifests_HoldTheObjectsOfADeployment_AndKustomizeListsEveryFileButTheExampleSecret()
    {
        var kinds = All.Value.Select(m => m.Kind).ToList();
        foreach (var kind in new[] { "Deployment", "ServiceAccount", "Role", "RoleBinding", "ConfigMap", "PodDisruptionBudget", "HorizontalPodAutoscaler", "Secret" })
        {
            Assert.True(kinds.Count(k => k == kind) == 1, $"expected one {kind} in deploy/kubernetes, found {kinds.Count(k => k == kind)}");
        }

        Assert.Equal(2, kinds.Count(k => k == "Service"));
        Assert.Single(All.Value, m => m.Kind == "Service" && Scalar(m.Root, "spec", "clusterIP") == "None");

        var kustomization = LoadYaml(Path.Combine(Folder, "kustomization.yaml"));
        var listed = Sequence(kustomization, "resources").Select(n => ((YamlScalarNode)n).Value!).Order().ToList();
        var files = All.Value.Select(m => m.File).Distinct().Where(f => f != "secret.example.yaml").Order().ToList();
        Assert.Equal(files, listed);
    }

    [Fact]
    public void ContainerPorts_AreTheHostsPorts_AndTheServicesTargetThem()
    {
        var settings = HostSettings();
        var profile = ClusterProfile.From(settings);
        Assert.True(profile.Kubernetes, "the manifests run the host with Hosting:Kubernetes");
        var expected = new Dictionary<string, int>
        {
            ["http"] = HttpPort(settings["Urls"]),
            ["silo"] = profile.SiloPort,
            ["gateway"] = profile.GatewayPort,
        };

        var ports = ContainerPorts();
        Assert.Equal(expected.OrderBy(p => p.Key), ports.OrderBy(p => p.Key));

        // Every Service port targets a container port, by name or number; HTTP and silo/gateway are both exposed.
        var targeted = new HashSet<string>();
        foreach (var service in All.Value.Where(m => m.Kind == "Service"))
        {
            foreach (var port in Sequence(service.Root, "spec", "ports").Cast<YamlMappingNode>())
            {
                var target = Scalar(port, "targetPort") ?? Scalar(port, "port")!;
                var name = ports.FirstOrDefault(p => p.Key == target || p.Value.ToString(CultureInfo.InvariantCulture) == target).Key;
                Assert.True(name is not null, $"{service.File}: targetPort {target} is no container port");
                targeted.Add(name);
            }
        }

        Assert.Equal(expected.Keys.Order(), targeted.Order());

        // The image listens and exposes the same.
        var dockerfile = File.ReadAllLines(Path.Combine(Root, "deploy", "Dockerfile"));
        var exposed = dockerfile.Where(l => l.StartsWith("EXPOSE ", StringComparison.Ordinal))
            .SelectMany(l => l["EXPOSE ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(p => int.Parse(p, CultureInfo.InvariantCulture)).Order();
        Assert.Equal(expected.Values.Order(), exposed);
        var urls = Assert.Single(dockerfile, l => l.StartsWith("ENV Urls=", StringComparison.Ordinal));
        Assert.Equal(expected["http"], HttpPort(urls["ENV Urls=".Length..]));
    }

    [Fact]
    public void Probes_AreRoutesTheHostMaps_OnTheHttpPort()
    {
        var routes = host.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Select(e => "/" + e.RoutePattern.RawText!.TrimStart('/'))
            .ToHashSet(StringComparer.Ordinal);
        var container = Container();

        var probes = new Dictionary<string, string>
        {
            ["readinessProbe"] = RoutingHealth.ReadyPath,
            ["livenessProbe"] = RoutingHealth.LivePath,
        };
        foreach (var (probe, path) in probes)
        {
            Assert.Equal(path, Scalar(container, probe, "httpGet", "path"));
        }

        foreach (var probe in new[] { "readinessProbe", "livenessProbe", "startupProbe" }.Where(p => container.Children.ContainsKey(p)))
        {
            var path = Scalar(container, probe, "httpGet", "path")!;
            Assert.True(routes.Contains(path), $"{probe} {path} is not a route the host maps");
            var port = Scalar(container, probe, "httpGet", "port");
            Assert.True(port == "http" || port == ContainerPorts()["http"].ToString(CultureInfo.InvariantCulture), $"{probe} is on port {port}, not http");
        }
    }

    [Fact]
    public void EveryEnvironmentVariable_IsADocumentedKey_OrAnOrleansKubernetesVariable()
    {
        var documented = DocumentedKeys();
        var orleans = new HashSet<string>(StringComparer.Ordinal)
        {
            KubernetesHostingOptions.PodNameEnvironmentVariable,
            KubernetesHostingOptions.PodNamespaceEnvironmentVariable,
            KubernetesHostingOptions.PodIPEnvironmentVariable,
            KubernetesHostingOptions.ServiceIdEnvironmentVariable,
            KubernetesHostingOptions.ClusterIdEnvironmentVariable,
        };

        var names = Variables().Select(e => e.Name).ToList();
        Assert.Contains("ConnectionStrings__Routing", names);
        Assert.Contains("Hosting__Kubernetes", names);
        var unknown = names
            .Where(n => !orleans.Contains(n) && !documented.Contains(n.Replace("__", ":", StringComparison.Ordinal)))
            .ToList();
        Assert.True(unknown.Count == 0, "Not configuration keys in docs/configuration.md nor Orleans' Kubernetes variables: " + string.Join(", ", unknown));
        Assert.True(orleans.SetEquals(names.Where(orleans.Contains)), "The Deployment sets every Orleans Kubernetes variable");
    }

    [Fact]
    public void DownwardApi_GivesOrleansThePodsNameNamespaceAddressAndLabels()
    {
        var fields = Variables().Where(e => e.FieldPath is not null).ToDictionary(e => e.Name, e => e.FieldPath);
        Assert.Equal("metadata.name", fields[KubernetesHostingOptions.PodNameEnvironmentVariable]);
        Assert.Equal("metadata.namespace", fields[KubernetesHostingOptions.PodNamespaceEnvironmentVariable]);
        Assert.Equal("status.podIP", fields[KubernetesHostingOptions.PodIPEnvironmentVariable]);
        Assert.Equal($"metadata.labels['{KubernetesHostingOptions.ServiceIdLabel}']", fields[KubernetesHostingOptions.ServiceIdEnvironmentVariable]);
        Assert.Equal($"metadata.labels['{KubernetesHostingOptions.ClusterIdLabel}']", fields[KubernetesHostingOptions.ClusterIdEnvironmentVariable]);
    }

    [Fact]
    public void OrleansLabels_AreTheHostsIds_AndEverySelectorPicksThePods()
    {
        var deployment = Single("Deployment");
        var labels = Mapping(deployment.Root, "spec", "template", "metadata", "labels");
        Assert.Equal(SiloProfileExtensions.ClusterName, Scalar(labels, KubernetesHostingOptions.ServiceIdLabel));
        Assert.Equal(SiloProfileExtensions.ClusterName, Scalar(labels, KubernetesHostingOptions.ClusterIdLabel));

        var podLabels = labels.Children.ToDictionary(p => ((YamlScalarNode)p.Key).Value!, p => ((YamlScalarNode)p.Value).Value);
        AssertSelects(deployment.File, Mapping(deployment.Root, "spec", "selector", "matchLabels"));
        AssertSelects(Single("PodDisruptionBudget").File, Mapping(Single("PodDisruptionBudget").Root, "spec", "selector", "matchLabels"));
        foreach (var service in All.Value.Where(m => m.Kind == "Service"))
        {
            AssertSelects(service.File, Mapping(service.Root, "spec", "selector"));
        }

        Assert.Equal(Name(deployment), Scalar(Single("HorizontalPodAutoscaler").Root, "spec", "scaleTargetRef", "name"));

        void AssertSelects(string file, YamlMappingNode selector)
        {
            Assert.NotEmpty(selector.Children);
            foreach (var (key, value) in selector.Children)
            {
                var name = ((YamlScalarNode)key).Value!;
                Assert.True(podLabels.TryGetValue(name, out var label) && label == ((YamlScalarNode)value).Value,
                    $"{file}: selector {name}={((YamlScalarNode)value).Value} does not pick the Deployment's pods");
            }
        }
    }

    [Fact]
    public void ServiceAccount_MayReadPatchWatchAndDeletePods_AsOrleansKubernetesHostingNeeds()
    {
        var account = Name(Single("ServiceAccount"));
        Assert.Equal(account, Scalar(Single("Deployment").Root, "spec", "template", "spec", "serviceAccountName"));

        var binding = Single("RoleBinding").Root;
        Assert.Equal(Name(Single("Role")), Scalar(binding, "roleRef", "name"));
        Assert.Contains(Sequence(binding, "subjects").Cast<YamlMappingNode>(),
            s => Scalar(s, "kind") == "ServiceAccount" && Scalar(s, "name") == account);

        var pods = Sequence(Single("Role").Root, "rules").Cast<YamlMappingNode>()
            .Where(r => Sequence(r, "apiGroups").Any(g => ((YamlScalarNode)g).Value == "")
                && Sequence(r, "resources").Any(g => ((YamlScalarNode)g).Value == "pods"))
            .SelectMany(r => Sequence(r, "verbs").Select(v => ((YamlScalarNode)v).Value!))
            .ToHashSet();
        Assert.Superset(new HashSet<string> { "get", "list", "watch", "patch", "delete" }, pods);
    }

    [Fact]
    public async Task TerminationGrace_OutlastsTheHostsShutdownTimeoutAndWatchdogGrace()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddConfiguration(HostSettings());

        // Off the pod: Orleans' Kubernetes hosting refuses to resolve the silo's services without POD_NAMESPACE, and
        // the shutdown settings do not depend on it.
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Hosting:Kubernetes"] = "false" });
        builder.AddRoutingCluster();
        await using var app = builder.Build();

        var timeout = app.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout;
        var grace = app.Services.GetRequiredService<ShutdownWatchdog>().Grace;

        var termination = int.Parse(Scalar(Single("Deployment").Root, "spec", "template", "spec", "terminationGracePeriodSeconds")!, CultureInfo.InvariantCulture);
        Assert.True(TimeSpan.FromSeconds(termination) > timeout + grace,
            $"terminationGracePeriodSeconds {termination} is not longer than the host's shutdown timeout {timeout.TotalSeconds} s + grace {grace.TotalSeconds} s");
    }

    [Fact]
    public void Secrets_AreReferencedFromTheSecret_NeverWrittenInTheManifests()
    {
        var secret = Single("Secret");
        var keys = Mapping(secret.Root, "stringData").Children.Keys.Select(k => ((YamlScalarNode)k).Value!).ToHashSet();
        Assert.Contains("token-signing-keys", keys);

        var fromSecret = Variables().Where(e => e.SecretKey is not null).ToList();
        var connection = Assert.Single(fromSecret, e => e.Name == "ConnectionStrings__Routing");
        Assert.Equal(Name(secret), connection.SecretName);
        Assert.All(fromSecret, e => Assert.Contains(e.SecretKey!, keys));
        Assert.DoesNotContain("ConnectionStrings__Routing", Mapping(Single("ConfigMap").Root, "data").Children.Keys.Select(k => ((YamlScalarNode)k).Value));
    }

    /// <summary>The settings the pod's host gets: appsettings.json, then the environment the Deployment sets (the
    /// ConfigMap's keys and literal values, the example Secret's values), <c>__</c> read as <c>:</c>.</summary>
    private static IConfigurationRoot HostSettings()
    {
        var secret = Mapping(Single("Secret").Root, "stringData");
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var variable in Variables())
        {
            var value = variable.Value ?? (variable.SecretKey is { } key ? Scalar(secret, key) : null);
            if (value is not null)
            {
                values[variable.Name.Replace("__", ":", StringComparison.Ordinal)] = value;
            }
        }

        return new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(Root, "silo-host", "RoutingCluster.SiloHost", "appsettings.json"), optional: false)
            .AddInMemoryCollection(values)
            .Build();
    }

    /// <summary>Every variable the container gets: each key of a ConfigMap in <c>envFrom</c>, then <c>env</c>.</summary>
    private static List<EnvironmentVariable> Variables()
    {
        var container = Container();
        var variables = new List<EnvironmentVariable>();
        if (container.Children.ContainsKey("envFrom"))
        {
            foreach (var source in Sequence(container, "envFrom").Cast<YamlMappingNode>())
            {
                var name = Scalar(source, "configMapRef", "name");
                Assert.True(name is not null, "envFrom: only ConfigMaps (a Secret's keys would be variables no test sees)");
                var map = Assert.Single(All.Value, m => m.Kind == "ConfigMap" && Name(m) == name);
                variables.AddRange(Mapping(map.Root, "data").Children.Select(p =>
                    new EnvironmentVariable(((YamlScalarNode)p.Key).Value!, ((YamlScalarNode)p.Value).Value, null, null, null)));
            }
        }

        foreach (var entry in Sequence(container, "env").Cast<YamlMappingNode>())
        {
            variables.Add(new EnvironmentVariable(
                Scalar(entry, "name")!,
                Scalar(entry, "value"),
                Scalar(entry, "valueFrom", "fieldRef", "fieldPath"),
                Scalar(entry, "valueFrom", "secretKeyRef", "name"),
                Scalar(entry, "valueFrom", "secretKeyRef", "key")));
        }

        return variables;
    }

    private static Dictionary<string, int> ContainerPorts() =>
        Sequence(Container(), "ports").Cast<YamlMappingNode>().ToDictionary(
            p => Scalar(p, "name")!,
            p => int.Parse(Scalar(p, "containerPort")!, CultureInfo.InvariantCulture));

    private static YamlMappingNode Container() =>
        (YamlMappingNode)Assert.Single(Sequence(Single("Deployment").Root, "spec", "template", "spec", "containers"));

    /// <summary>The one port of <c>Urls</c> (<c>http://+:8080</c>; one endpoint).</summary>
    private static int HttpPort(string? urls)
    {
        Assert.False(string.IsNullOrWhiteSpace(urls), "no Urls");
        var url = Assert.Single(urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        var m = UrlPortRegex().Match(url);
        Assert.True(m.Success, $"Urls '{url}' has no port");
        return int.Parse(m.Groups["port"].Value, CultureInfo.InvariantCulture);
    }

    private static HashSet<string> DocumentedKeys() =>
        File.ReadLines(Path.Combine(Root, "docs", "configuration.md"))
            .Select(l => KeyRowRegex().Match(l))
            .Where(m => m.Success)
            .Select(m => m.Groups["key"].Value)
            .ToHashSet(StringComparer.OrdinalIgnoreCase);

    private static Manifest Single(string kind) => Assert.Single(All.Value, m => m.Kind == kind);

    private static string Name(Manifest manifest) => Scalar(manifest.Root, "metadata", "name")!;

    private static List<Manifest> Load()
    {
        var manifests = new List<Manifest>();
        foreach (var file in Directory.EnumerateFiles(Folder, "*.yaml").Where(f => Path.GetFileName(f) != "kustomization.yaml"))
        {
            var stream = new YamlStream();
            using (var reader = File.OpenText(file))
            {
                stream.Load(reader);
            }

            foreach (var document in stream.Documents)
            {
                var root = (YamlMappingNode)document.RootNode;
                manifests.Add(new Manifest(Path.GetFileName(file), Scalar(root, "kind")!, root));
            }
        }

        Assert.NotEmpty(manifests);
        return manifests;
    }

    private static YamlMappingNode LoadYaml(string file)
    {
        var stream = new YamlStream();
        using var reader = File.OpenText(file);
        stream.Load(reader);
        return (YamlMappingNode)stream.Documents.Single().RootNode;
    }

    private static YamlNode? Node(YamlMappingNode node, params string[] path)
    {
        YamlNode current = node;
        foreach (var key in path)
        {
            if (current is not YamlMappingNode mapping || !mapping.Children.TryGetValue(new YamlScalarNode(key), out var next))
            {
                return null;
            }

            current = next;
        }

        return current;
    }

    private static string? Scalar(YamlMappingNode node, params string[] path) => (Node(node, path) as YamlScalarNode)?.Value;

    private static YamlMappingNode Mapping(YamlMappingNode node, params string[] path) =>
        Node(node, path) as YamlMappingNode ?? throw new Xunit.Sdk.XunitException($"no mapping at {string.Join('.', path)}");

    private static IEnumerable<YamlNode> Sequence(YamlMappingNode node, params string[] path) =>
        Node(node, path) as YamlSequenceNode ?? throw new Xunit.Sdk.XunitException($"no list at {string.Join('.', path)}");

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "RoutingCluster.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No RoutingCluster.sln above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex("""^\|\s*`(?<key>[^`]+)`\s*\|""")]
    private static partial Regex KeyRowRegex();

    [GeneratedRegex("""^[a-z]+://[^/]*:(?<port>\d+)(/|$)""")]
    private static partial Regex UrlPortRegex();

    private sealed record Manifest(string File, string Kind, YamlMappingNode Root);

    private sealed record EnvironmentVariable(string Name, string? Value, string? FieldPath, string? SecretName, string? SecretKey);
}
