-- 0005: the session records. The grain storage "sessions" (PostgresSessionStorage) keeps one row per session
-- grain: the serialized state plus index columns taken from the state on every write, in the same statement.
-- Recovery (PostgresSessionIndex) and analysts query the columns; only the grain reads the payload.
--
-- Contract:
--   * id is the grain key (s-<32 hex>). The table belongs to one service: keep services apart with
--     `Search Path=<schema>` in the connection string.
--   * version is the ETag, an integer. A write with no ETag creates the row with version 1, and only if none
--     exists; a write with an ETag updates only if it is still the stored version, and moves it on by one. A
--     write that returns no row did not happen, and the storage raises InconsistentStateException.
--   * clearing deletes the row at the caller's version.
--   * payload is the state serialized with Orleans' serializer. Everything about the customer (id, age) and the
--     gateway's free-form attributes live in it ONLY: the columns feed analyst tables and KPI queries, which must
--     carry no customer identifiers.
--   * enum values are the API's kebab-case wire names (state 'wrap-up', channel '5g', segment 'elderly').

CREATE TABLE routing_session
(
    id            text        NOT NULL PRIMARY KEY,
    version       integer     NOT NULL,
    payload       bytea       NOT NULL,
    queue_id      text        NOT NULL,
    state         text        NOT NULL,
    channel       text        NOT NULL,
    segments      text[]      NOT NULL,
    agent_id      text        NULL,
    created_at    timestamptz NOT NULL,
    queued_at     timestamptz NOT NULL,
    offered_at    timestamptz NULL,
    answered_at   timestamptz NULL,
    ended_at      timestamptz NULL,
    completed_at  timestamptz NULL,
    history       jsonb       NOT NULL,
    modified_at   timestamptz NOT NULL DEFAULT now()
);

-- A queue rebuilding its waiting list: WHERE queue_id = $1 AND state = 'queued' ORDER BY queued_at, id.
-- Partial: only the sessions waiting right now are in it, so it stays small however many sessions are stored.
CREATE INDEX routing_session_queued ON routing_session (queue_id, queued_at, id) WHERE state = 'queued';

-- The recovery plan's agents: those holding an offer (its expiry timer) or a wrap-up (its end timer).
-- The plan's queues come from routing_session_queued (queue_id leads it).
CREATE INDEX routing_session_pending_agent ON routing_session (agent_id) WHERE state IN ('offered', 'wrap-up');

COMMENT ON TABLE routing_session IS
    'One row per session grain (storage "sessions"): Orleans-serialized state plus index columns written in the same statement. No customer identifiers outside payload.';
COMMENT ON COLUMN routing_session.payload IS
    'SessionRecord serialized with the Orleans serializer; the only place holding the customer (id, age) and gateway attributes.';
COMMENT ON COLUMN routing_session.queued_at IS
    'When the session started waiting in its current queue (its place there); kept after it leaves the queue.';
COMMENT ON COLUMN routing_session.history IS
    'Every transition, oldest first: [{"state","at","queue","agent","note"}].';
