-- 0007: callbacks in the 15-minute intervals. A session whose customer asked to be called back is counted in
-- callbacks (its stay is still counted once in offered), and in callbacks_answered (as well as answered) when an
-- agent connects with it; both belong to the interval in which the stay started, like every session count.

ALTER TABLE routing_interval
    ADD COLUMN callbacks          bigint NOT NULL DEFAULT 0,
    ADD COLUMN callbacks_answered bigint NOT NULL DEFAULT 0;
