package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"strings"

	"github.com/tidbro/tidbro"
)

func (s *Store) DAVObject(ctx context.Context, itemID int64) (version int64, data []byte, err error) {
	err = s.queryRow(ctx, s.db, `SELECT version, data FROM dav_objects WHERE item_id = ?`, itemID).Scan(&version, &data)
	if isNoRows(err) {
		return 0, nil, tidbro.Errorf(tidbro.ENOTFOUND, "no DAV object of item %d", itemID)
	}
	if err != nil {
		return 0, nil, wrap(err, "DAV object of item %d", itemID)
	}
	if data == nil {
		data = []byte{}
	}
	return version, data, nil
}

// PutDAVObject is one upsert whose update is conditional on the version, so
// that of two racing writers the newer version wins whatever their order.
// An equal version replaces the stored one: a client's PUT that changes only
// what tidbro does not model leaves the item's version as it was, and its
// bytes must still be kept.
func (s *Store) PutDAVObject(ctx context.Context, itemID, version int64, data []byte) error {
	if version <= 0 {
		return tidbro.Invalid("version", "a DAV object is of an item version (1 or more), not %d", version)
	}
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return s.putDAVObject(ctx, tx, itemID, version, data)
	})
}

func (s *Store) putDAVObject(ctx context.Context, tx *sql.Tx, itemID, version int64, data []byte) error {
	if data == nil {
		data = []byte{}
	}
	_, err := s.exec(ctx, tx, `INSERT INTO dav_objects (item_id, version, data) VALUES (?, ?, ?)
ON CONFLICT (item_id) DO UPDATE SET version = excluded.version, data = excluded.data
WHERE dav_objects.version <= excluded.version`, itemID, version, data)
	if _, foreignKey := violation(err); foreignKey {
		return tidbro.Errorf(tidbro.ENOTFOUND, "no item %d", itemID)
	}
	return wrap(err, "put DAV object of item %d", itemID)
}

// PutDAVItem writes the item, its name and its object in one transaction,
// so that a client's PUT costs one commit. When the item is unchanged its
// write is rolled back, to give its feed position back, and the name and
// object follow in a transaction of their own.
func (s *Store) PutDAVItem(ctx context.Context, it *tidbro.Item, cond tidbro.Precondition, name string, data []byte) (stored *tidbro.Item, changed bool, err error) {
	if name != "" {
		if err := validDAVName(name); err != nil {
			return nil, false, err
		}
	}
	putDAV := func(ctx context.Context, tx *sql.Tx, it *tidbro.Item) error {
		if name != "" {
			if err := s.setDAVName(ctx, tx, it.ID, name); err != nil {
				return err
			}
		}
		return s.putDAVObject(ctx, tx, it.ID, it.Version, data)
	}
	stored, changed, err = s.putItem(ctx, it, cond, putDAV)
	if err != nil || changed {
		return stored, changed, err
	}
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error { return putDAV(ctx, tx, stored) })
	if err != nil {
		return nil, false, wrap(err, "put DAV item %s/%s", it.Kind, it.AppID)
	}
	return stored, false, nil
}

// CollectionHead takes the maximum of one MAX per kind rather than one MAX
// over kind IN (...): each is then the last entry of an index range of
// changes_user (user_id, kind, seq), found without reading the user's
// whole history.
func (s *Store) CollectionHead(ctx context.Context, tenantID, userID int64, kinds []tidbro.Kind) (int64, error) {
	kinds, err := validKinds(kinds)
	if err != nil {
		return 0, err
	}
	if len(kinds) == 0 {
		return 0, tidbro.Invalid("kinds", "a collection has at least one kind")
	}
	parts := make([]string, len(kinds))
	var args []any
	for i, k := range kinds {
		parts[i] = `SELECT MAX(seq) AS head FROM changes WHERE tenant_id = ? AND user_id = ? AND kind = ?`
		args = append(args, tenantID, userID, k)
	}
	var head int64
	err = s.queryRow(ctx, s.db, `SELECT COALESCE(MAX(head), 0) FROM (`+strings.Join(parts, "\nUNION ALL ")+`) heads`,
		args...).Scan(&head)
	return head, wrap(err, "collection head of user %d", userID)
}

// validKinds returns the distinct kinds of ks in order, or EINVALID for one
// that is not a kind. That also bounds a query's IN list to the four kinds.
func validKinds(ks []tidbro.Kind) ([]tidbro.Kind, error) {
	for _, k := range ks {
		if pk, ok := tidbro.ParseKind(string(k)); !ok || pk != k {
			return nil, tidbro.Invalid("kinds", "%q is not a kind (event, job, task, contact)", k)
		}
	}
	return uniqueSorted(ks), nil
}

func validDAVName(name string) error {
	if err := tidbro.ValidText("name", name, tidbro.MaxIDLen); err != nil || name == "" {
		return tidbro.Invalid("name", "a resource name is 1 to %d bytes of UTF-8", tidbro.MaxIDLen)
	}
	return nil
}

func (s *Store) SetDAVName(ctx context.Context, itemID int64, name string) error {
	if err := validDAVName(name); err != nil {
		return err
	}
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return s.setDAVName(ctx, tx, itemID, name)
	})
}

func (s *Store) setDAVName(ctx context.Context, tx *sql.Tx, itemID int64, name string) error {
	_, err := s.exec(ctx, tx, `INSERT INTO dav_names (item_id, name) VALUES (?, ?)
ON CONFLICT (item_id) DO UPDATE SET name = excluded.name`, itemID, name)
	if _, foreignKey := violation(err); foreignKey {
		return tidbro.Errorf(tidbro.ENOTFOUND, "no item %d", itemID)
	}
	return wrap(err, "DAV name of item %d", itemID)
}

func (s *Store) DAVNames(ctx context.Context, tenantID, ownerID int64, kinds []tidbro.Kind) (map[int64]string, error) {
	kinds, err := validKinds(kinds)
	if err != nil {
		return nil, err
	}
	args := []any{tenantID, ownerID}
	for _, k := range kinds {
		args = append(args, k)
	}
	rows, err := s.query(ctx, s.db, `SELECT n.item_id, n.name FROM dav_names n JOIN items i ON i.id = n.item_id
WHERE i.tenant_id = ? AND i.owner_id = ? AND i.kind IN (`+placeholders(len(kinds))+`)`, args...)
	if err != nil {
		return nil, wrap(err, "DAV names of user %d", ownerID)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, wrap(err, "DAV names of user %d", ownerID)
		}
		out[id] = name
	}
	return out, wrap(rows.Err(), "DAV names of user %d", ownerID)
}

// DAVItemByName looks the name up first, on its own index: joined to
// items, a planner may walk the user's items instead, and a PUT would cost
// more as the calendar grows.
func (s *Store) DAVItemByName(ctx context.Context, tenantID, ownerID int64, kinds []tidbro.Kind, name string) (*tidbro.Item, error) {
	kinds, err := validKinds(kinds)
	if err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, s.db, `SELECT item_id FROM dav_names WHERE name = ? ORDER BY item_id`, name)
	if err != nil {
		return nil, wrap(err, "item named %q", name)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, wrap(err, "item named %q", name)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "item named %q", name)
	}
	if len(ids) > 0 {
		items, err := s.ItemsByID(ctx, tenantID, ids)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			if it.OwnerID == ownerID && !it.Deleted && slices.Contains(kinds, it.Kind) {
				return it, nil
			}
		}
	}
	return nil, tidbro.Errorf(tidbro.ENOTFOUND, "no item named %q", name)
}
