-- 0008: the audit log. Append-only: rows are inserted and read, never changed or removed. A trigger refuses UPDATE,
-- DELETE and TRUNCATE for every role (owner and superuser included, unless they drop the trigger, which the silos'
-- role cannot: it does not own the table when deployed as docs/operations.md says), and PUBLIC loses those
-- privileges. Who (subject, roles, client or agent), from where, when, what (action, target, outcome, configuration
-- before and after), trace id. No customer data: targets are queue, agent and session ids.

CREATE TABLE routing_audit (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              timestamptz NOT NULL,
    actor_subject   text,
    actor_roles     text[]      NOT NULL DEFAULT '{}',
    actor_client_id text,
    actor_agent_id  text,
    remote_address  text,
    action          text        NOT NULL,
    target_id       text,
    outcome         text        NOT NULL,
    forced          boolean     NOT NULL DEFAULT false,
    detail          text,
    before_value    jsonb,
    after_value     jsonb,
    trace_id        text
);

CREATE INDEX routing_audit_at ON routing_audit (at DESC, id DESC);
CREATE INDEX routing_audit_target ON routing_audit (target_id, at DESC);
CREATE INDEX routing_audit_subject ON routing_audit (actor_subject, at DESC);

CREATE FUNCTION routing_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'routing_audit is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER routing_audit_no_update_or_delete
    BEFORE UPDATE OR DELETE ON routing_audit
    FOR EACH ROW EXECUTE FUNCTION routing_audit_append_only();

CREATE TRIGGER routing_audit_no_truncate
    BEFORE TRUNCATE ON routing_audit
    FOR EACH STATEMENT EXECUTE FUNCTION routing_audit_append_only();

REVOKE UPDATE, DELETE, TRUNCATE ON routing_audit FROM PUBLIC;
