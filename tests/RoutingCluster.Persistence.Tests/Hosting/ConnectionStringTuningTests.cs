using Npgsql;
using RoutingCluster.Persistence.Hosting;

namespace RoutingCluster.Persistence.Tests.Hosting;

/// <summary>The Npgsql settings the providers get unless the operator's connection string says otherwise.</summary>
public sealed class ConnectionStringTuningTests
{
    [Fact]
    public void PlainConnectionString_GetsAutoPrepareAndNoResetOnClose()
    {
        var tuned = new NpgsqlConnectionStringBuilder(PostgresOrleansBuilderExtensions.Tune("Host=127.0.0.1;Port=5432;Username=routing;Password=s3cret;Database=routing"));

        Assert.Equal(32, tuned.MaxAutoPrepare);
        Assert.Equal(2, tuned.AutoPrepareMinUsages);
        Assert.True(tuned.NoResetOnClose);
        Assert.Equal("s3cret", tuned.Password);
        Assert.Equal("routing", tuned.Database);
    }

    [Theory]
    [InlineData("Host=db;Max Auto Prepare=0;Auto Prepare Min Usages=5;No Reset On Close=false")]
    [InlineData("Host=db;maxautoprepare=0;AUTOPREPAREMINUSAGES=5;noResetOnClose=false")]
    public void SettingsTheOperatorChose_AreKept(string connectionString)
    {
        var tuned = new NpgsqlConnectionStringBuilder(PostgresOrleansBuilderExtensions.Tune(connectionString));

        Assert.Equal(0, tuned.MaxAutoPrepare);
        Assert.Equal(5, tuned.AutoPrepareMinUsages);
        Assert.False(tuned.NoResetOnClose);
    }

    [Fact]
    public void InvalidConnectionString_IsRefused_WithoutEchoingItsValues()
    {
        var error = Assert.Throws<ArgumentException>(() => PostgresOrleansBuilderExtensions.Tune("Host=db;Password=s3cret;Port=notaport"));

        Assert.Contains("Not a valid Npgsql connection string", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", error.Message, StringComparison.Ordinal);
    }
}
