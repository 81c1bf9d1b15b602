-- When each pair runs next, what run was asked for, and which instance
-- holds it (tidbro.PairSchedule). Times are unix microseconds (UTC), 0
-- where a time is unset, as in the SQLite schema.

CREATE TABLE schedule (
	pair_id BIGINT PRIMARY KEY REFERENCES pairs (id) ON DELETE CASCADE,
	next_run BIGINT NOT NULL DEFAULT 0, -- due by interval or backoff; 0: at once
	request TEXT NOT NULL DEFAULT '', -- '' | run | full | since:YYYY-MM-DD
	request_seq BIGINT NOT NULL DEFAULT 0, -- counts requests
	lease_owner TEXT NOT NULL DEFAULT '',
	lease_until BIGINT NOT NULL DEFAULT 0, -- 0: free
	attempts INTEGER NOT NULL DEFAULT 0, -- consecutive failed runs
	parked TEXT NOT NULL DEFAULT '', -- why the pair waits for a settings change
	unparked BOOLEAN NOT NULL DEFAULT FALSE, -- unparked during the current lease: the run's parking is stale
	-- When the pair is due: at once while a request waits, unless it is
	-- backing off after failures (a request made with unpark resets
	-- attempts); else at next_run.
	due BIGINT GENERATED ALWAYS AS (CASE WHEN request <> '' AND attempts = 0 THEN 0 ELSE next_run END) STORED
);

-- ClaimPairs reads the pairs due by now from this index and sorts only
-- them; parked pairs wait outside it.
CREATE INDEX schedule_due ON schedule (due) WHERE parked = '';

-- Pairs that exist already are due at once.
INSERT INTO schedule (pair_id, next_run) SELECT id, 0 FROM pairs;
