-- 0003: grain state for Orleans.Persistence.AdoNet (AddAdoNetGrainStorage, Invariant "Npgsql").
--
-- Contract:
--   * a grain's state is identified by ServiceId, grain type, the two 64-bit halves of its Guid/long key
--     (0 for string keys) and the key's string part (the whole key for string keys, the key extension or
--     NULL otherwise). The provider also binds @GrainIdHash and @GrainTypeHash; they are not part of the
--     identity here, so changing the provider's hash picker can never orphan stored state.
--   * the ETag is an integer version. Reading returns PayloadBinary (NULL once cleared) and Version; no row
--     means no state.
--   * writing with a NULL version creates the row with version 1, and only if none exists; writing with a
--     version updates only if it is still the stored version, and moves it on by one. The write returns the
--     new version as NewGrainStateVersion; no row returned means the write did not happen, which the
--     provider raises as InconsistentStateException.
--   * clearing keeps the row (payload NULL, version + 1); deleting (DeleteStateOnClear) removes the row and
--     returns version + 1. Both apply only at the caller's version.

CREATE TABLE routing_grain_state
(
    service_id    text        NOT NULL,
    grain_type    text        NOT NULL,
    grain_id_n0   bigint      NOT NULL,
    grain_id_n1   bigint      NOT NULL,
    grain_id_ext  text        NULL,
    payload       bytea       NULL,
    version       integer     NOT NULL,
    modified_at   timestamptz NOT NULL DEFAULT now()
);

-- The identity. NULL and '' are different key extensions, and two NULLs are the same one: hence the pair
-- of expressions rather than a plain (nullable) column.
CREATE UNIQUE INDEX routing_grain_state_identity ON routing_grain_state
    (service_id, grain_id_n1, grain_id_n0, grain_type, (grain_id_ext IS NULL), (coalesce(grain_id_ext, '')));

INSERT INTO orleansquery (querykey, querytext) VALUES
('ReadFromStorageKey', $q$
SELECT payload AS "PayloadBinary", version AS "Version"
  FROM routing_grain_state
 WHERE service_id = @ServiceId AND grain_id_n1 = @GrainIdN1 AND grain_id_n0 = @GrainIdN0
   AND grain_type = @GrainTypeString
   AND grain_id_ext IS NOT DISTINCT FROM @GrainIdExtensionString
$q$),

('WriteToStorageKey', $q$
WITH created AS (
    INSERT INTO routing_grain_state (service_id, grain_type, grain_id_n0, grain_id_n1, grain_id_ext, payload, version)
    SELECT @ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1, @GrainIdExtensionString, @PayloadBinary, 1
     WHERE @GrainStateVersion IS NULL
    ON CONFLICT DO NOTHING
    RETURNING version),
updated AS (
    UPDATE routing_grain_state
       SET payload = @PayloadBinary, version = version + 1, modified_at = now()
     WHERE @GrainStateVersion IS NOT NULL
       AND service_id = @ServiceId AND grain_id_n1 = @GrainIdN1 AND grain_id_n0 = @GrainIdN0
       AND grain_type = @GrainTypeString
       AND grain_id_ext IS NOT DISTINCT FROM @GrainIdExtensionString
       AND version = @GrainStateVersion
    RETURNING version)
SELECT version AS "NewGrainStateVersion" FROM created
UNION ALL
SELECT version FROM updated
$q$),

('ClearStorageKey', $q$
UPDATE routing_grain_state
   SET payload = NULL, version = version + 1, modified_at = now()
 WHERE service_id = @ServiceId AND grain_id_n1 = @GrainIdN1 AND grain_id_n0 = @GrainIdN0
   AND grain_type = @GrainTypeString
   AND grain_id_ext IS NOT DISTINCT FROM @GrainIdExtensionString
   AND version = @GrainStateVersion
RETURNING version AS "NewGrainStateVersion"
$q$),

('DeleteStorageKey', $q$
DELETE FROM routing_grain_state
 WHERE service_id = @ServiceId AND grain_id_n1 = @GrainIdN1 AND grain_id_n0 = @GrainIdN0
   AND grain_type = @GrainTypeString
   AND grain_id_ext IS NOT DISTINCT FROM @GrainIdExtensionString
   AND version = @GrainStateVersion
RETURNING version + 1 AS "NewGrainStateVersion"
$q$)
ON CONFLICT (querykey) DO UPDATE SET querytext = EXCLUDED.querytext;
