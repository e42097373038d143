-- 0001: the query catalog of the Orleans ADO.NET providers.
--
-- At start-up each provider runs `SELECT QueryKey, QueryText FROM OrleansQuery` (unquoted identifiers,
-- so PostgreSQL reads them as orleansquery / querykey / querytext) and from then on executes only the
-- texts it found here, binding named parameters (@DeploymentId, @GrainIdHash, ...) and reading result
-- columns by name. The later migrations register their provider's queries in this table; a migration
-- that needs to change a query upserts its key again. Providers cache the texts: a changed query takes
-- effect in a silo when it restarts.
--
-- Objects are created unqualified, in the first schema of the connection's search_path: the providers'
-- queries are unqualified too, so a deployment can keep the cluster in its own schema with
-- `Search Path=<schema>` in the connection string.

CREATE TABLE orleansquery
(
    querykey  text NOT NULL PRIMARY KEY,
    querytext text NOT NULL
);

COMMENT ON TABLE orleansquery IS
    'Named queries the Orleans ADO.NET providers execute (clustering, grain storage, reminders). Owned by RoutingCluster.Persistence migrations.';
