package sqlstore

import (
	"context"
	"database/sql"

	"github.com/tidbro/tidbro"
)

// ItemsByID reads the items in chunks of maxIn ids, ordered by id.
func (s *Store) ItemsByID(ctx context.Context, tenantID int64, ids []int64) ([]*tidbro.Item, error) {
	var items []*tidbro.Item
	for chunk := range chunks(uniqueSorted(ids)) {
		args := append([]any{tenantID}, chunk...)
		rows, err := s.queryFixed(ctx, s.db, `SELECT `+itemColumns+itemsJoinUsers+`
WHERE i.tenant_id = ? AND i.id IN (`+placeholders(len(chunk))+`) ORDER BY i.id`, args...)
		got, err := collect(rows, err, func(row scanner) (*tidbro.Item, error) { return scanItem(row) })
		if err != nil {
			return nil, wrap(err, "items by id")
		}
		items = append(items, got...)
	}
	return items, nil
}

const linkColumns = `pair_id, item_id, remote_id, remote_etag, app_version, app_hash, remote_hash, base, origin, key,
pending, span_from, span_to, error, attempts, synced, web_link`

func scanLink(row scanner) (*tidbro.Link, error) {
	l := &tidbro.Link{}
	var spanFrom, spanTo, synced int64
	if err := row.Scan(&l.PairID, &l.ItemID, &l.RemoteID, &l.RemoteETag, &l.AppVersion, &l.AppHash, &l.RemoteHash, &l.Base,
		&l.Origin, &l.Key, &l.Pending, &spanFrom, &spanTo, &l.Error, &l.Attempts, &synced, &l.WebLink); err != nil {
		return nil, err
	}
	if len(l.Base) == 0 {
		l.Base = nil
	}
	l.SpanFrom, l.SpanTo, l.Synced = fromOptMicros(spanFrom), fromOptMicros(spanTo), fromOptMicros(synced)
	return l, nil
}

// PutLink is one upsert: the primary key (pair_id, item_id) is its conflict
// target, so a RemoteID taken by another item's link violates the partial
// unique index links_remote instead, which the databases report as a
// unique violation even under concurrent writers. An empty Base is stored
// as NULL and reads back nil.
func (s *Store) PutLink(ctx context.Context, l *tidbro.Link) error {
	return s.PutLinks(ctx, []*tidbro.Link{l})
}

// PutLinks writes the links in one transaction, so that a run recording
// many creates pays one commit (and one fsync) for all of them.
func (s *Store) PutLinks(ctx context.Context, links []*tidbro.Link) error {
	for _, l := range links {
		switch l.Pending {
		case "", tidbro.PendingCreate, tidbro.PendingUpdate, tidbro.PendingDelete, tidbro.PendingCreated:
		default:
			return tidbro.Invalid("pending", "%q is not a pending write (create, update, delete, created)", l.Pending)
		}
	}
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for _, l := range links {
			if err := s.putLink(ctx, tx, l); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) putLink(ctx context.Context, tx *sql.Tx, l *tidbro.Link) error {
	var base any
	if len(l.Base) > 0 {
		base = l.Base
	}
	_, err := s.exec(ctx, tx, `INSERT INTO links (`+linkColumns+`)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (pair_id, item_id) DO UPDATE SET remote_id = excluded.remote_id, remote_etag = excluded.remote_etag,
	app_version = excluded.app_version, app_hash = excluded.app_hash, remote_hash = excluded.remote_hash,
	base = excluded.base, origin = excluded.origin, key = excluded.key, pending = excluded.pending,
	span_from = excluded.span_from, span_to = excluded.span_to, error = excluded.error,
	attempts = excluded.attempts, synced = excluded.synced, web_link = excluded.web_link`,
		l.PairID, l.ItemID, l.RemoteID, l.RemoteETag, l.AppVersion, l.AppHash, l.RemoteHash, base,
		l.Origin, l.Key, l.Pending, optMicros(l.SpanFrom), optMicros(l.SpanTo), l.Error, l.Attempts, optMicros(l.Synced), l.WebLink)
	switch unique, foreignKey := violation(err); {
	case unique:
		return tidbro.Errorf(tidbro.ECONFLICT, "remote item %q is linked to another item of pair %d", l.RemoteID, l.PairID)
	case foreignKey:
		return tidbro.Errorf(tidbro.ENOTFOUND, "no pair %d or no item %d", l.PairID, l.ItemID)
	}
	return wrap(err, "put link of item %d in pair %d", l.ItemID, l.PairID)
}

func (s *Store) DeleteLinks(ctx context.Context, pairID int64, itemIDs []int64) error {
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for chunk := range chunks(uniqueSorted(itemIDs)) {
			args := append([]any{pairID}, chunk...)
			in := placeholders(len(chunk))
			if _, err := s.execFixed(ctx, tx, `DELETE FROM links WHERE pair_id = ? AND item_id IN (`+in+`)`, args...); err != nil {
				return err
			}
			if _, err := s.execFixed(ctx, tx, `DELETE FROM holds WHERE pair_id = ? AND item_id IN (`+in+`)`, args...); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap(err, "delete %d links of pair %d", len(itemIDs), pairID)
}

// LinksByItem returns the links of the items, ordered by item id.
func (s *Store) LinksByItem(ctx context.Context, pairID int64, itemIDs []int64) ([]*tidbro.Link, error) {
	var links []*tidbro.Link
	for chunk := range chunks(uniqueSorted(itemIDs)) {
		rows, err := s.queryFixed(ctx, s.db, `SELECT `+linkColumns+` FROM links
WHERE pair_id = ? AND item_id IN (`+placeholders(len(chunk))+`) ORDER BY item_id`, append([]any{pairID}, chunk...)...)
		got, err := collect(rows, err, scanLink)
		if err != nil {
			return nil, wrap(err, "links of pair %d by item", pairID)
		}
		links = append(links, got...)
	}
	return links, nil
}

// LinksByRemote returns the links of the remote items, ordered by remote
// id. An empty remote id matches nothing: it is no remote item's.
func (s *Store) LinksByRemote(ctx context.Context, pairID int64, remoteIDs []string) ([]*tidbro.Link, error) {
	ids := uniqueSorted(remoteIDs)
	if len(ids) > 0 && ids[0] == "" {
		ids = ids[1:]
	}
	var links []*tidbro.Link
	for chunk := range chunks(ids) {
		// remote_id <> '' lets the planner use the partial index links_remote.
		rows, err := s.queryFixed(ctx, s.db, `SELECT `+linkColumns+` FROM links
WHERE pair_id = ? AND remote_id <> '' AND remote_id IN (`+placeholders(len(chunk))+`) ORDER BY remote_id`, append([]any{pairID}, chunk...)...)
		got, err := collect(rows, err, scanLink)
		if err != nil {
			return nil, wrap(err, "links of pair %d by remote", pairID)
		}
		links = append(links, got...)
	}
	return links, nil
}

func (s *Store) LinkedETags(ctx context.Context, pairID int64, remoteIDs []string) (map[string]string, error) {
	ids := uniqueSorted(remoteIDs)
	if len(ids) > 0 && ids[0] == "" {
		ids = ids[1:]
	}
	etags := make(map[string]string, len(ids))
	for chunk := range chunks(ids) {
		rows, err := s.queryFixed(ctx, s.db, `SELECT remote_id, remote_etag FROM links
WHERE pair_id = ? AND remote_id <> '' AND remote_id IN (`+placeholders(len(chunk))+`)`, append([]any{pairID}, chunk...)...)
		got, err := collect(rows, err, func(row scanner) (tidbro.RemoteRef, error) {
			var r tidbro.RemoteRef
			err := row.Scan(&r.ID, &r.ETag)
			return r, err
		})
		if err != nil {
			return nil, wrap(err, "etags of pair %d's links", pairID)
		}
		for _, r := range got {
			etags[r.ID] = r.ETag
		}
	}
	return etags, nil
}

// Links pages by item id. A limit <= 0 is DefaultPageSize; larger limits
// than MaxPageSize are honoured, for the engine's bulk reads.
func (s *Store) Links(ctx context.Context, pairID int64, afterItemID int64, limit int) ([]*tidbro.Link, error) {
	if limit <= 0 {
		limit = tidbro.DefaultPageSize
	}
	rows, err := s.query(ctx, s.db, `SELECT `+linkColumns+` FROM links
WHERE pair_id = ? AND item_id > ? ORDER BY item_id LIMIT ?`, pairID, afterItemID, limit)
	links, err := collect(rows, err, scanLink)
	return links, wrap(err, "links of pair %d", pairID)
}

// LinksToRetry returns them ordered by item id. The condition is the
// predicate of the partial index links_retry.
func (s *Store) LinksToRetry(ctx context.Context, pairID int64) ([]*tidbro.Link, error) {
	rows, err := s.query(ctx, s.db, `SELECT `+linkColumns+` FROM links
WHERE pair_id = ? AND (pending <> '' OR error <> '') ORDER BY item_id`, pairID)
	links, err := collect(rows, err, scanLink)
	return links, wrap(err, "links of pair %d to retry", pairID)
}

func (s *Store) ConfirmCreated(ctx context.Context, pairID int64) error {
	_, err := s.execWrite(ctx, `UPDATE links SET pending = '' WHERE pair_id = ? AND pending = ?`, pairID, tidbro.PendingCreated)
	return wrap(err, "confirm created links of pair %d", pairID)
}

func (s *Store) CountLinks(ctx context.Context, pairID int64) (int, error) {
	var n int
	err := s.queryRow(ctx, s.db, `SELECT COUNT(*) FROM links WHERE pair_id = ?`, pairID).Scan(&n)
	return n, wrap(err, "count links of pair %d", pairID)
}
