-- 0002: cluster membership for Orleans.Clustering.AdoNet.
--
-- Contract (Orleans membership protocol, as the provider drives it):
--   * one version row per cluster (the provider's DeploymentId is the ClusterId). Every membership change
--     (insert or update of a silo row) must name the table version it read, and succeeds only if that
--     version is still current; it then moves the version on by one, atomically with the change.
--   * the I-am-alive heartbeat is a plain assignment to one row: it changes neither the row's logical
--     content nor the table version, so a change prepared before a heartbeat stays valid.
--   * reads return the version together with the rows, from one snapshot, and return the version row even
--     when the cluster has no silo rows yet (the provider reads the version from the first result row and
--     treats a null StartTime as "no silo").
--   * boolean results are one column; conditional writes that do not happen return false and leave nothing
--     half-done.
-- Silo status values are Orleans' SiloStatus: 3 = Active, 6 = Dead.

CREATE TABLE routing_membership_version
(
    cluster_id  text        NOT NULL PRIMARY KEY,
    version     integer     NOT NULL DEFAULT 0,
    changed_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE routing_membership
(
    cluster_id       text        NOT NULL REFERENCES routing_membership_version (cluster_id) ON DELETE CASCADE,
    address          text        NOT NULL,
    port             integer     NOT NULL,
    generation       integer     NOT NULL,
    silo_name        text        NOT NULL,
    host_name        text        NOT NULL,
    status           integer     NOT NULL,
    proxy_port       integer     NOT NULL DEFAULT 0,   -- 0: the silo has no gateway
    suspect_times    text        NULL,                 -- "<silo>,<time>|..." as Orleans formats it
    start_time       timestamptz NOT NULL,
    i_am_alive_time  timestamptz NOT NULL,
    PRIMARY KEY (cluster_id, address, port, generation)
);

-- Inserts a silo's row if the caller's table version is still current, moving the version on.
-- Returns false, with no change at all, when the version moved or the silo is already registered.
CREATE FUNCTION routing_membership_insert(
    p_cluster_id text, p_address text, p_port integer, p_generation integer,
    p_silo_name text, p_host_name text, p_status integer, p_proxy_port integer,
    p_start_time timestamptz, p_i_am_alive_time timestamptz, p_expected_version integer)
RETURNS boolean
LANGUAGE plpgsql
AS $fn$
BEGIN
    -- The version claim comes first: it is the optimistic check, and its row lock serialises every
    -- membership writer of this cluster until the transaction ends.
    UPDATE routing_membership_version
       SET version = version + 1, changed_at = now()
     WHERE cluster_id = p_cluster_id AND version = p_expected_version;
    IF NOT FOUND THEN
        RETURN false;
    END IF;

    INSERT INTO routing_membership
        (cluster_id, address, port, generation, silo_name, host_name, status, proxy_port,
         start_time, i_am_alive_time)
    VALUES
        (p_cluster_id, p_address, p_port, p_generation, p_silo_name, p_host_name, p_status,
         coalesce(p_proxy_port, 0), p_start_time, p_i_am_alive_time);
    RETURN true;
EXCEPTION
    -- Already registered: leaving the block through its handler also undoes the version claim.
    WHEN unique_violation THEN
        RETURN false;
END
$fn$;

-- Updates a silo's status, suspicions and heartbeat if the caller's table version is still current,
-- moving the version on. Returns false, with no change at all, when the version moved or the row is gone.
CREATE FUNCTION routing_membership_update(
    p_cluster_id text, p_address text, p_port integer, p_generation integer,
    p_status integer, p_suspect_times text, p_i_am_alive_time timestamptz, p_expected_version integer)
RETURNS boolean
LANGUAGE plpgsql
AS $fn$
BEGIN
    UPDATE routing_membership_version
       SET version = version + 1, changed_at = now()
     WHERE cluster_id = p_cluster_id AND version = p_expected_version;
    IF NOT FOUND THEN
        RETURN false;
    END IF;

    UPDATE routing_membership
       SET status = p_status, suspect_times = p_suspect_times, i_am_alive_time = p_i_am_alive_time
     WHERE cluster_id = p_cluster_id AND address = p_address AND port = p_port AND generation = p_generation;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'no_data_found';
    END IF;
    RETURN true;
EXCEPTION
    -- No such silo: leaving the block through its handler undoes the version claim.
    WHEN no_data_found THEN
        RETURN false;
END
$fn$;

INSERT INTO orleansquery (querykey, querytext) VALUES
('InsertMembershipVersionKey', $q$
WITH created AS (
    INSERT INTO routing_membership_version (cluster_id) VALUES (@DeploymentId)
    ON CONFLICT (cluster_id) DO NOTHING
    RETURNING 1)
SELECT count(*) > 0 AS "Created" FROM created
$q$),

('MembershipReadAllKey', $q$
SELECT v.version AS "Version",
       m.address AS "Address", m.port AS "Port", m.generation AS "Generation",
       m.silo_name AS "SiloName", m.host_name AS "HostName", m.status AS "Status",
       m.proxy_port AS "ProxyPort", m.suspect_times AS "SuspectTimes",
       m.start_time AS "StartTime", m.i_am_alive_time AS "IAmAliveTime"
  FROM routing_membership_version v
  LEFT JOIN routing_membership m ON m.cluster_id = v.cluster_id
 WHERE v.cluster_id = @DeploymentId
$q$),

('MembershipReadRowKey', $q$
SELECT v.version AS "Version",
       m.address AS "Address", m.port AS "Port", m.generation AS "Generation",
       m.silo_name AS "SiloName", m.host_name AS "HostName", m.status AS "Status",
       m.proxy_port AS "ProxyPort", m.suspect_times AS "SuspectTimes",
       m.start_time AS "StartTime", m.i_am_alive_time AS "IAmAliveTime"
  FROM routing_membership_version v
  LEFT JOIN routing_membership m
         ON m.cluster_id = v.cluster_id
        AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
 WHERE v.cluster_id = @DeploymentId
$q$),

('InsertMembershipKey', $q$
SELECT routing_membership_insert(@DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName,
                                 @Status, @ProxyPort, @StartTime, @IAmAliveTime, @Version) AS "Inserted"
$q$),

('UpdateMembershipKey', $q$
SELECT routing_membership_update(@DeploymentId, @Address, @Port, @Generation, @Status, @SuspectTimes,
                                 @IAmAliveTime, @Version) AS "Updated"
$q$),

('UpdateIAmAlivetimeKey', $q$
UPDATE routing_membership
   SET i_am_alive_time = @IAmAliveTime
 WHERE cluster_id = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation
$q$),

('GatewaysQueryKey', $q$
SELECT address AS "Address", proxy_port AS "ProxyPort", generation AS "Generation"
  FROM routing_membership
 WHERE cluster_id = @DeploymentId AND status = @Status AND proxy_port > 0
$q$),

-- Bulk clean-up of long-dead silos (rows only: the table version does not move, nothing live changes).
('CleanupDefunctSiloEntriesKey', $q$
DELETE FROM routing_membership
 WHERE cluster_id = @DeploymentId AND status = 6 AND i_am_alive_time < @IAmAliveTime
$q$),

-- Optional per-row clean-up (used by the provider when present): deletes one Dead row only if it is
-- still exactly as the caller read it.
('CleanupDefunctSiloEntryKey', $q$
DELETE FROM routing_membership
 WHERE cluster_id = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation
   AND status = 6
   AND start_time = @StartTime AND i_am_alive_time = @IAmAliveTime
   AND suspect_times IS NOT DISTINCT FROM @SuspectTimes
$q$),

-- Removes a whole cluster (version row and, by cascade, its silo rows).
('DeleteMembershipTableEntriesKey', $q$
DELETE FROM routing_membership_version WHERE cluster_id = @DeploymentId
$q$)
ON CONFLICT (querykey) DO UPDATE SET querytext = EXCLUDED.querytext;
