package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tidbro/tidbro"
)

// itemColumns are read with scanItem; the join with users gives Owner.
const (
	itemColumns = `i.id, i.tenant_id, i.kind, i.app_id, i.type, i.origin, i.changed_by, i.owner_id, u.username,
i.version, i.seq, i.deleted, i.created, i.updated, i.hash, i.body`
	itemsJoinUsers = ` FROM items i JOIN users u ON u.id = i.owner_id`
)

// scanItem reads itemColumns, after any leading columns into lead.
func scanItem(row interface{ Scan(...any) error }, lead ...any) (*tidbro.Item, error) {
	it := &tidbro.Item{}
	var created, updated int64
	var body string
	dest := append(lead, &it.ID, &it.TenantID, &it.Kind, &it.AppID, &it.Type, &it.Origin, &it.ChangedBy, &it.OwnerID, &it.Owner,
		&it.Version, &it.Seq, &it.Deleted, &created, &updated, &it.Hash, &body)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	it.Created, it.Updated = fromMicros(created), fromMicros(updated)
	if err := decodeOwnBody(it, []byte(body)); err != nil {
		return nil, fmt.Errorf("item %d: decode body: %w", it.ID, err)
	}
	return it, nil
}

// decodeBody sets the body field that matches it.Kind from JSON.
func decodeBody(it *tidbro.Item, body []byte) error {
	switch it.Kind {
	case tidbro.KindEvent, tidbro.KindJob:
		it.Event = &tidbro.Event{}
		return json.Unmarshal(body, it.Event)
	case tidbro.KindTask:
		it.Task = &tidbro.Task{}
		return json.Unmarshal(body, it.Task)
	case tidbro.KindContact:
		var err error
		it.Contact, err = tidbro.UnmarshalContact(body)
		return err
	}
	return fmt.Errorf("unknown kind %q", it.Kind)
}

// canonical returns a copy of in's envelope with its body as it will read
// back from the database (the bodies' JSON normalises times and fills
// defaults), and that body's JSON. Hashing the canonical form makes a
// read-modify-write of unchanged content a no-op.
//
// The copy's JSON is marshalled anew, as decoding may have changed it;
// except a contact's, which is the first JSON itself when that has no
// \ufffd. A contact is plain data for encoding/json (no JSON or text
// methods, interfaces, times or floats: TestContactJSONPlain), which
// decodes to values that marshal to the same bytes, but for strings that
// are not UTF-8: their bad bytes were written as \ufffd and read back as
// U+FFFD, which marshals as itself.
func canonical(in *tidbro.Item) (*tidbro.Item, []byte, error) {
	it := &tidbro.Item{
		TenantID: in.TenantID, Kind: in.Kind, AppID: in.AppID, Type: in.Type,
		Origin: in.Origin, ChangedBy: in.ChangedBy, OwnerID: in.OwnerID,
	}
	b, err := in.BodyJSON()
	if err != nil {
		return nil, nil, err
	}
	if err := decodeOwnBody(it, b); err != nil {
		return nil, nil, err
	}
	if it.Kind == tidbro.KindContact && !bytes.Contains(b, []byte(`\ufffd`)) {
		return it, b, nil
	}
	b, err = it.BodyJSON()
	return it, b, err
}

// decodeOwnBody is decodeBody of what Item.BodyJSON returned (and the body
// column keeps), which is one valid JSON value: for an event or a task it
// calls the UnmarshalJSON that json.Unmarshal would call with all of b,
// without its passes to check b and to find the value's end. Every item
// read costs those passes otherwise.
func decodeOwnBody(it *tidbro.Item, b []byte) error {
	switch it.Kind {
	case tidbro.KindEvent, tidbro.KindJob:
		it.Event = &tidbro.Event{}
		return it.Event.UnmarshalJSON(b)
	case tidbro.KindTask:
		it.Task = &tidbro.Task{}
		return it.Task.UnmarshalJSON(b)
	}
	return decodeBody(it, b)
}

// span returns the item's extent for window queries; items without one are
// stored as 0, 0 and filtered out of windows by occurs.
func span(it *tidbro.Item) (from, to int64) {
	f, t, ok := it.Span()
	if !ok {
		return 0, 0
	}
	return micros(f), micros(t)
}

// occurs is the precise window test after the SQL prefilter on the span:
// events by their instances, tasks by their span, contacts never.
func occurs(it *tidbro.Item, from, to time.Time) bool {
	if it.Event != nil {
		return it.Event.Occurs(from, to)
	}
	s, e, ok := it.Span()
	if !ok {
		return false
	}
	if s.Equal(e) {
		return !s.Before(from) && s.Before(to)
	}
	return s.Before(to) && e.After(from)
}

func validOrigin(field string, o tidbro.Origin) error {
	switch o {
	case tidbro.OriginApp, tidbro.OriginGroupware, tidbro.OriginDAVClient:
		return nil
	}
	return tidbro.Invalid(field, "%q is not an origin (app, groupware, dav-client)", o)
}

// checkPrecondition applies cond to the current row (nil: none).
func checkPrecondition(cur *tidbro.Item, cond tidbro.Precondition) error {
	live := cur != nil && !cur.Deleted
	if cond.IfNoneMatch && live {
		return tidbro.Errorf(tidbro.EPRECONDITION, "the item exists")
	}
	if cond.IfMatch > 0 {
		if !live {
			// If-Match on a missing resource fails as a precondition (HTTP 412).
			return tidbro.Errorf(tidbro.EPRECONDITION, "the item does not exist")
		}
		if cur.Version != cond.IfMatch {
			return tidbro.Errorf(tidbro.EPRECONDITION, "the item is at version %d, not %d", cur.Version, cond.IfMatch)
		}
	}
	return nil
}

// nextSeq takes the tenant's next feed position. It must be the first write
// of an item transaction: the row lock it takes orders the tenant's writers.
func (s *Store) nextSeq(ctx context.Context, tx *sql.Tx, tenantID int64) (int64, error) {
	var seq int64
	err := s.queryRow(ctx, tx, `UPDATE tenants SET seq = seq + 1 WHERE id = ? RETURNING seq`, tenantID).Scan(&seq)
	if isNoRows(err) {
		return 0, tidbro.Errorf(tidbro.ENOTFOUND, "no tenant %d", tenantID)
	}
	return seq, err
}

// currentItem reads the row of (tenant, kind, appID), live or not; nil if
// there is none.
func (s *Store) currentItem(ctx context.Context, q querier, tenantID int64, kind tidbro.Kind, appID string) (*tidbro.Item, error) {
	it, err := scanItem(s.queryRow(ctx, q, `SELECT `+itemColumns+itemsJoinUsers+`
WHERE i.tenant_id = ? AND i.kind = ? AND i.app_id = ?`, tenantID, kind, appID))
	if isNoRows(err) {
		return nil, nil
	}
	return it, err
}

func (s *Store) PutItem(ctx context.Context, in *tidbro.Item, cond tidbro.Precondition) (stored *tidbro.Item, changed bool, err error) {
	return s.putItem(ctx, in, cond, nil)
}

// errUnchanged rolls back a write that found the item unchanged: that gives
// its feed position back.
var errUnchanged = errors.New("item unchanged")

// putItem is PutItem; when the item changed, then runs in the same
// transaction with the stored item.
func (s *Store) putItem(ctx context.Context, in *tidbro.Item, cond tidbro.Precondition,
	then func(ctx context.Context, tx *sql.Tx, stored *tidbro.Item) error) (stored *tidbro.Item, changed bool, err error) {
	if err := in.Validate(); err != nil {
		return nil, false, err
	}
	if err := validOrigin("changedBy", in.ChangedBy); err != nil {
		return nil, false, err
	}
	if in.Origin != "" {
		if err := validOrigin("origin", in.Origin); err != nil {
			return nil, false, err
		}
	}
	defer func() { err = wrap(err, "put item %s/%s", in.Kind, in.AppID) }()
	it, body, err := canonical(in)
	if err != nil {
		return nil, false, err
	}
	it.Hash = tidbro.ContentHashOf(it.Kind, it.Type, body)
	spanFrom, spanTo := span(it)

	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		seq, err := s.nextSeq(ctx, tx, it.TenantID)
		if err != nil {
			return err
		}
		var cur *tidbro.Item
		departSeq := int64(0)
		// logged logs the write and runs then.
		logged := func() error {
			if departSeq != 0 {
				if err := s.logChange(ctx, tx, departSeq, it, cur.OwnerID, tidbro.OpDepart); err != nil {
					return err
				}
			}
			if err := s.logChange(ctx, tx, seq, it, it.OwnerID, tidbro.OpUpsert); err != nil {
				return err
			}
			if then != nil {
				return then(ctx, tx, it)
			}
			return nil
		}
		if cond == (tidbro.Precondition{IfNoneMatch: true}) {
			// The caller expects a create: one statement inserts the item
			// on the conditions that the two reads below check, a statement
			// each. When it inserts nothing, they tell why.
			born(it, seq, now())
			switch err := s.insertItem(ctx, tx, it, spanFrom, spanTo, body); {
			case err == nil:
				return logged()
			case !isNoRows(err):
				return err
			}
		}
		err = s.queryRow(ctx, tx, `SELECT username FROM users WHERE id = ? AND tenant_id = ? AND deleted = FALSE`,
			it.OwnerID, it.TenantID).Scan(&it.Owner)
		if isNoRows(err) {
			return tidbro.Invalid("owner", "no user %d in this tenant", it.OwnerID)
		}
		if err != nil {
			return err
		}
		cur, err = s.currentItem(ctx, tx, it.TenantID, it.Kind, it.AppID)
		if err != nil {
			return err
		}
		if err := checkPrecondition(cur, cond); err != nil {
			return err
		}
		if cur != nil && !cur.Deleted && cur.Type == it.Type && cur.OwnerID == it.OwnerID && cur.Hash == it.Hash {
			stored = cur
			return errUnchanged
		}

		if cur != nil && !cur.Deleted && cur.OwnerID != it.OwnerID {
			// A reassignment takes two positions: the departure from the
			// previous owner's collection, then the arrival in the new one's.
			departSeq = seq
			if seq, err = s.nextSeq(ctx, tx, it.TenantID); err != nil {
				return err
			}
		}
		t := now()
		if cur == nil || cur.Deleted {
			born(it, seq, t)
		} else {
			it.Seq, it.Updated = seq, t
			it.Origin, it.Created = cur.Origin, cur.Created
		}
		if cur == nil {
			err = s.insertItem(ctx, tx, it, spanFrom, spanTo, body)
		} else {
			it.ID, it.Version = cur.ID, cur.Version+1
			_, err = s.exec(ctx, tx, `UPDATE items SET type = ?, origin = ?, changed_by = ?, owner_id = ?, version = ?, seq = ?,
	deleted = FALSE, created = ?, updated = ?, hash = ?, span_from = ?, span_to = ?, body = ?
WHERE id = ?`,
				it.Type, it.Origin, it.ChangedBy, it.OwnerID, it.Version, it.Seq,
				micros(it.Created), micros(it.Updated), it.Hash, spanFrom, spanTo, string(body), it.ID)
		}
		if err != nil {
			return err
		}
		return logged()
	})
	if errors.Is(err, errUnchanged) {
		return stored, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return it, true, nil
}

// born fills in a write at position seq and time t that creates the item
// or revives its tombstone: the item is born again, where the write comes
// from.
func born(it *tidbro.Item, seq int64, t time.Time) {
	it.Seq, it.Updated, it.Created = seq, t, t
	if it.Origin == "" {
		it.Origin = it.ChangedBy
	}
}

// insertItem inserts it as version 1 of a new row, and fills its ID and
// Owner, on condition that its owner is a live user of its tenant and no
// row, live or not, has its key; otherwise it inserts nothing and returns
// sql.ErrNoRows. Checking in the statement adds no id to PostgreSQL's
// sequence when it inserts nothing, which ON CONFLICT would.
func (s *Store) insertItem(ctx context.Context, tx *sql.Tx, it *tidbro.Item, spanFrom, spanTo int64, body []byte) error {
	it.Version = 1
	return s.queryRow(ctx, tx, `INSERT INTO items (tenant_id, kind, app_id, type, origin, changed_by, owner_id,
	version, seq, deleted, created, updated, hash, span_from, span_to, body)
SELECT ?, ?, ?, ?, ?, ?, u.id, ?, ?, FALSE, ?, ?, ?, ?, ?, ? FROM users u
WHERE u.id = ? AND u.tenant_id = ? AND u.deleted = FALSE
	AND NOT EXISTS (SELECT 1 FROM items WHERE tenant_id = ? AND kind = ? AND app_id = ?)
RETURNING id, (SELECT username FROM users WHERE users.id = items.owner_id)`,
		it.TenantID, it.Kind, it.AppID, it.Type, it.Origin, it.ChangedBy,
		it.Version, it.Seq, micros(it.Created), micros(it.Updated), it.Hash, spanFrom, spanTo, string(body),
		it.OwnerID, it.TenantID, it.TenantID, it.Kind, it.AppID).Scan(&it.ID, &it.Owner)
}

func (s *Store) Item(ctx context.Context, tenantID int64, kind tidbro.Kind, appID string) (*tidbro.Item, error) {
	it, err := s.currentItem(ctx, s.db, tenantID, kind, appID)
	if err != nil {
		return nil, wrap(err, "item %s/%s", kind, appID)
	}
	if it == nil || it.Deleted {
		return nil, tidbro.Errorf(tidbro.ENOTFOUND, "no %s %q", kind, appID)
	}
	return it, nil
}

// DeleteItem keeps the body in the tombstone, so that a feed consumer still
// sees what was deleted.
func (s *Store) DeleteItem(ctx context.Context, tenantID int64, kind tidbro.Kind, appID string, cond tidbro.Precondition, by tidbro.Origin) (deleted *tidbro.Item, err error) {
	if err := validOrigin("by", by); err != nil {
		return nil, err
	}
	defer func() { err = wrap(err, "delete item %s/%s", kind, appID) }()
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		seq, err := s.nextSeq(ctx, tx, tenantID)
		if err != nil {
			return err
		}
		it, err := s.currentItem(ctx, tx, tenantID, kind, appID)
		if err != nil {
			return err
		}
		if it == nil || it.Deleted {
			return tidbro.Errorf(tidbro.ENOTFOUND, "no %s %q", kind, appID)
		}
		if err := checkPrecondition(it, cond); err != nil {
			return err
		}
		it.Deleted, it.Version, it.Seq, it.ChangedBy, it.Updated = true, it.Version+1, seq, by, now()
		if _, err := s.exec(ctx, tx, `UPDATE items SET deleted = TRUE, version = ?, seq = ?, changed_by = ?, updated = ? WHERE id = ?`,
			it.Version, it.Seq, it.ChangedBy, micros(it.Updated), it.ID); err != nil {
			return err
		}
		deleted = it
		return s.logChange(ctx, tx, seq, it, it.OwnerID, tidbro.OpDelete)
	})
	if err != nil {
		return nil, err
	}
	return deleted, nil
}

// logChange appends the feed entry for a write of it at position seq.
func (s *Store) logChange(ctx context.Context, tx *sql.Tx, seq int64, it *tidbro.Item, userID int64, op tidbro.ChangeOp) error {
	_, err := s.exec(ctx, tx, `INSERT INTO changes (tenant_id, seq, item_id, user_id, kind, op, version, changed_by)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, it.TenantID, seq, it.ID, userID, it.Kind, op, it.Version, it.ChangedBy)
	return err
}

// maxScan bounds the rows one Items call reads when the window filter
// rejects many; the caller continues from the cursor.
const maxScan = 5000

// Items pages through live items by (span_from, id). A window query
// prefilters on the span in SQL and then tests each candidate's instances,
// reading further batches until the page is full.
func (s *Store) Items(ctx context.Context, q tidbro.ItemQuery) (items []*tidbro.Item, next string, err error) {
	if k, ok := tidbro.ParseKind(string(q.Kind)); !ok || k != q.Kind {
		return nil, "", tidbro.Invalid("kind", "%q is not a kind (event, job, task, contact)", q.Kind)
	}
	window := !q.From.IsZero() || !q.To.IsZero()
	if window && (q.From.IsZero() || q.To.IsZero()) {
		return nil, "", tidbro.Invalid("from", "from and to go together")
	}
	if window && !q.To.After(q.From) {
		return nil, "", tidbro.Invalid("to", "to must be after from")
	}
	after, err := decodeCursor(q.Cursor)
	if err != nil {
		return nil, "", err
	}
	limit := pageSize(q.Limit)
	scanned := 0
	for {
		batch, err := s.itemBatch(ctx, q, window, after, limit+1)
		if err != nil {
			return nil, "", wrap(err, "list %s", q.Kind.Plural())
		}
		for _, r := range batch {
			if len(items) == limit || scanned == maxScan {
				return items, after.String(), nil
			}
			scanned++
			after = &r.key
			if !window || occurs(r.item, q.From, q.To) {
				items = append(items, r.item)
			}
		}
		if len(batch) <= limit {
			return items, "", nil
		}
	}
}

type itemRow struct {
	key  cursor
	item *tidbro.Item
}

func (s *Store) itemBatch(ctx context.Context, q tidbro.ItemQuery, window bool, after *cursor, n int) ([]itemRow, error) {
	var b strings.Builder
	b.WriteString(`SELECT i.span_from, ` + itemColumns + itemsJoinUsers + `
WHERE i.tenant_id = ? AND i.owner_id = ? AND i.kind = ? AND i.deleted = FALSE`)
	args := []any{q.TenantID, q.OwnerID, q.Kind}
	if after != nil {
		b.WriteString(` AND (i.span_from, i.id) > (?, ?)`)
		args = append(args, after.spanFrom, after.id)
	}
	if window {
		// A superset of the items occurring in the window; occurs decides.
		b.WriteString(` AND i.span_from < ? AND i.span_to >= ?`)
		args = append(args, micros(q.To), micros(q.From))
	}
	b.WriteString(` ORDER BY i.span_from, i.id LIMIT ?`)
	args = append(args, n)
	rows, err := s.query(ctx, s.db, b.String(), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var batch []itemRow
	for rows.Next() {
		var spanFrom int64
		it, err := scanItem(rows, &spanFrom)
		if err != nil {
			return nil, err
		}
		batch = append(batch, itemRow{cursor{spanFrom, it.ID}, it})
	}
	return batch, rows.Err()
}

// cursor is the (span_from, id) of the last item a page covered.
type cursor struct{ spanFrom, id int64 }

func (c *cursor) String() string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d.%d", c.spanFrom, c.id))
}

func decodeCursor(s string) (*cursor, error) {
	if s == "" {
		return nil, nil
	}
	bad := tidbro.Invalid("cursor", "not a cursor from a previous page")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	f, i, ok := strings.Cut(string(b), ".")
	if !ok {
		return nil, bad
	}
	c := &cursor{}
	if c.spanFrom, err = strconv.ParseInt(f, 10, 64); err != nil {
		return nil, bad
	}
	if c.id, err = strconv.ParseInt(i, 10, 64); err != nil {
		return nil, bad
	}
	return c, nil
}

// Changes reads the log in position order, each entry with the item's
// current state. The tenant's feed leaves out departures, which only matter
// to the collection the item left.
func (s *Store) Changes(ctx context.Context, q tidbro.ChangeQuery) ([]tidbro.Change, error) {
	query, args, err := changesQuery(q)
	if err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, s.db, query, args...)
	if err != nil {
		return nil, wrap(err, "changes")
	}
	defer rows.Close()
	var cs []tidbro.Change
	for rows.Next() {
		var c tidbro.Change
		if c.Item, err = scanItem(rows, &c.Seq, &c.Op, &c.Version, &c.ChangedBy, &c.UserID, &c.User); err != nil {
			return nil, wrap(err, "changes")
		}
		cs = append(cs, c)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "changes")
	}
	return cs, nil
}

// changesQuery is the query of Changes, and its arguments.
func changesQuery(q tidbro.ChangeQuery) (string, []any, error) {
	limit := pageSize(q.Limit)
	kinds := q.Kinds
	if q.Kind != "" {
		kinds = []tidbro.Kind{q.Kind}
	}
	kinds, err := validKinds(kinds)
	if err != nil {
		return "", nil, err
	}
	const columns = `tenant_id, seq, item_id, user_id, kind, op, version, changed_by`
	var from string
	var args []any
	if q.OwnerID != 0 {
		// A user's changes come from the (user, kind, seq) index, one range
		// per kind, merged: read in the tenant's seq order instead, they
		// would cost every other user's changes since q.Since.
		if len(kinds) == 0 {
			kinds = tidbro.Kinds
		}
		parts := make([]string, len(kinds))
		for i, k := range kinds {
			parts[i] = fmt.Sprintf(`SELECT * FROM (SELECT %s FROM changes WHERE user_id = ? AND kind = ? AND seq > ? AND tenant_id = ? ORDER BY seq LIMIT ?) AS k%d`, columns, i)
			args = append(args, q.OwnerID, k, q.Since, q.TenantID, limit)
		}
		from = "(" + strings.Join(parts, " UNION ALL ") + ")"
	} else {
		from = `(SELECT ` + columns + ` FROM changes WHERE tenant_id = ? AND seq > ? AND op <> 'depart'`
		args = append(args, q.TenantID, q.Since)
		if len(kinds) > 0 {
			from += ` AND kind IN (` + placeholders(len(kinds)) + `)`
			for _, k := range kinds {
				args = append(args, k)
			}
		}
		from += ` ORDER BY seq LIMIT ?)`
		args = append(args, limit)
	}
	query := `SELECT c.seq, c.op, c.version, c.changed_by, c.user_id, cu.username, ` + itemColumns + `
FROM ` + from + ` c JOIN items i ON i.id = c.item_id JOIN users u ON u.id = i.owner_id JOIN users cu ON cu.id = c.user_id
ORDER BY c.seq LIMIT ?`
	return query, append(args, limit), nil
}
