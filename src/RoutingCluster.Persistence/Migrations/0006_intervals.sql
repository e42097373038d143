-- 0006: the live statistics' 15-minute intervals. Each statistics grain (one per queue, and 32 agent shards) owns
-- its rows and writes their absolute values (PostgresStatsStore, an upsert of the cells that changed), a few
-- seconds behind the live figures; on activation it reads back today's and yesterday's rows.
--
-- Contract:
--   * (owner_kind, grain_key) is the writer: ('queue', <queue id>) or ('agent', 'agents-NN'). owner_id is the queue
--     or the agent the row counts.
--   * breakdown 'total' (breakdown_value '') is the owner as a whole; 'channel' and 'segment' rows (queues only)
--     break the session counts down by the wire name of the channel ('voice', '5g') or segment ('elderly').
--   * Session counts belong to the interval in which the session started waiting in the queue; agent time to the
--     interval in which it passed. Durations are ticks (1 tick = 100 ns), so sums are exact; the view
--     routing_interval_kpi gives seconds and the industry-standard rates.
--   * Agent time of a queue's row is the time of the agents serving that queue (an agent of two queues counts in both).

CREATE TABLE routing_interval
(
    owner_kind                 text        NOT NULL CHECK (owner_kind IN ('queue', 'agent')),
    grain_key                  text        NOT NULL,
    owner_id                   text        NOT NULL,
    interval_start             timestamptz NOT NULL,
    breakdown                  text        NOT NULL CHECK (breakdown IN ('total', 'channel', 'segment')),
    breakdown_value            text        NOT NULL,
    offered                    bigint      NOT NULL,
    answered                   bigint      NOT NULL,
    answered_within_threshold  bigint      NOT NULL,
    abandoned                  bigint      NOT NULL,
    overflowed                 bigint      NOT NULL,
    refused                    bigint      NOT NULL,
    speed_of_answer_ticks      bigint      NOT NULL,
    talk_count                 bigint      NOT NULL,
    talk_ticks                 bigint      NOT NULL,
    after_call_work_count      bigint      NOT NULL,
    after_call_work_ticks      bigint      NOT NULL,
    idle_ticks                 bigint      NOT NULL,
    ringing_ticks              bigint      NOT NULL,
    busy_ticks                 bigint      NOT NULL,
    wrap_up_ticks              bigint      NOT NULL,
    not_ready_ticks            bigint      NOT NULL,
    modified_at                timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (owner_kind, grain_key, interval_start, owner_id, breakdown, breakdown_value)
);

-- Analysts: a day of one kind of owner across the cluster.
CREATE INDEX routing_interval_by_time ON routing_interval (interval_start, owner_kind);

CREATE VIEW routing_interval_kpi AS
SELECT owner_kind, owner_id, interval_start, breakdown, breakdown_value,
       offered, answered, answered_within_threshold, abandoned, overflowed, refused,
       answered::float8 / NULLIF(offered, 0)                                   AS answer_rate,
       answered_within_threshold::float8 / NULLIF(offered, 0)                  AS service_level,
       speed_of_answer_ticks / 1e7 / NULLIF(answered, 0)                       AS average_speed_of_answer_seconds,
       talk_ticks / 1e7 / NULLIF(talk_count, 0)                                AS average_talk_seconds,
       after_call_work_ticks / 1e7 / NULLIF(after_call_work_count, 0)          AS average_after_call_work_seconds,
       (idle_ticks + ringing_ticks + busy_ticks + wrap_up_ticks) / 1e7         AS working_seconds,
       (idle_ticks + ringing_ticks + busy_ticks + wrap_up_ticks + not_ready_ticks) / 1e7 AS logged_in_seconds
  FROM routing_interval;

COMMENT ON TABLE routing_interval IS
    'Live statistics per 15-minute interval, written by the statistics grains (absolute values per cell). Durations in ticks of 100 ns.';
COMMENT ON VIEW routing_interval_kpi IS
    'routing_interval with the industry-standard rates and durations in seconds. Sum the counts before dividing when combining rows.';
