-- A user's changes by kind, in feed order, within the tenant: with the
-- tenant's column first, the planner takes it over the primary key (tenant,
-- seq) for a user's feed, which would read every other user's changes too.
DROP INDEX changes_user;
CREATE INDEX changes_user ON changes (tenant_id, user_id, kind, seq);
