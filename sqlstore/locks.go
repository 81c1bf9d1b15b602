package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"time"

	"github.com/tidbro/tidbro"
)

// Locks of the document areas (tidbro.FileLockStore). An area holds few
// of them, so a write reads all its live ones and decides in Go which are
// in its way (FileLock.Covers); that read comes after lockArea, so that
// no lock can be taken between the check and the write's commit. Lock
// writes take lockArea too: two clients locking one document go one at a
// time, and the second sees the first's lock.

const lockColumns = `token, tenant_id, user_id, root, deep, shared, owner, created, expires`

func scanLock(row scanner) (*tidbro.FileLock, error) {
	l := &tidbro.FileLock{}
	var created, expires int64
	if err := row.Scan(&l.Token, &l.TenantID, &l.OwnerID, &l.Root, &l.Deep, &l.Shared, &l.OwnerXML, &created, &expires); err != nil {
		return nil, err
	}
	l.Created, l.Expires = fromMicros(created), fromMicros(expires)
	return l, nil
}

// liveLocks returns the area's unexpired locks, oldest first.
func (s *Store) liveLocks(ctx context.Context, q querier, tenantID, ownerID int64) ([]*tidbro.FileLock, error) {
	rows, err := s.query(ctx, q, `SELECT `+lockColumns+` FROM file_locks WHERE user_id = ? AND tenant_id = ? AND expires > ?
ORDER BY created, token`, ownerID, tenantID, micros(now()))
	return collect(rows, err, scanLock)
}

func (s *Store) FileLocks(ctx context.Context, tenantID, ownerID int64, path string) ([]*tidbro.FileLock, error) {
	if err := tidbro.ValidFilePath(path); err != nil {
		return nil, err
	}
	locks, err := s.liveLocks(ctx, s.db, tenantID, ownerID)
	if err != nil {
		return nil, wrap(err, "locks of %q", path)
	}
	return slices.DeleteFunc(locks, func(l *tidbro.FileLock) bool {
		return !l.Covers(path) && !tidbro.FileBelow(l.Root, path)
	}), nil
}

// guard is something a write changes: the resource at path, and with
// below everything under it too.
type guard struct {
	path  string
	below bool
}

// membership is the guard of a write that adds path to its collection or
// removes it: the collection's locks protect its membership (RFC 4918 7.4).
func membership(path string) guard { return guard{path: tidbro.FileParent(path)} }

// inTheWay returns a lock of locks that keeps a write from changing what
// guards name, or nil. Each resource changed must have, among the locks
// that cover it, one whose token is among tokens: the one exclusive lock,
// or any of the shared ones (sharing a lock means each holder may write).
// What a guard with below changes is every lock root below it too.
func inTheWay(locks []*tidbro.FileLock, tokens []string, guards []guard) *tidbro.FileLock {
	var changed []string
	for _, g := range guards {
		changed = append(changed, g.path)
		if g.below {
			for _, l := range locks {
				if tidbro.FileBelow(l.Root, g.path) {
					changed = append(changed, l.Root)
				}
			}
		}
	}
	for _, path := range changed {
		var first *tidbro.FileLock
		held := false
		for _, l := range locks {
			if !l.Covers(path) {
				continue
			}
			if first == nil {
				first = l
			}
			held = held || slices.Contains(tokens, l.Token)
		}
		if first != nil && !held {
			return first
		}
	}
	return nil
}

func lockedError(l *tidbro.FileLock) error {
	return &tidbro.LockedError{Root: l.Root, Message: "/" + l.Root + " is locked, and the request did not submit the lock's token"}
}

// checkLocks refuses a write that changes what a lock covers without the
// lock's token. It runs in the write's transaction, after lockArea.
func (s *Store) checkLocks(ctx context.Context, tx *sql.Tx, tenantID, ownerID int64, tokens []string, guards ...guard) error {
	locks, err := s.liveLocks(ctx, tx, tenantID, ownerID)
	if err != nil {
		return err
	}
	if l := inTheWay(locks, tokens, guards); l != nil {
		return lockedError(l)
	}
	return nil
}

// dropLocks deletes the locks below path and, with self, on it: their
// resources are gone.
func (s *Store) dropLocks(ctx context.Context, tx *sql.Tx, tenantID, ownerID int64, path string, self bool) error {
	cond, args := subtree("root", path)
	if self {
		cond = `root = ? OR (` + cond + `)`
		args = append([]any{path}, args...)
	}
	_, err := s.exec(ctx, tx, `DELETE FROM file_locks WHERE user_id = ? AND tenant_id = ? AND (`+cond+`)`,
		append([]any{ownerID, tenantID}, args...)...)
	return err
}

// dropExpired deletes the area's expired locks, so that they do not pile
// up; every lock write does it first.
func (s *Store) dropExpired(ctx context.Context, tx *sql.Tx, tenantID, ownerID int64) error {
	_, err := s.exec(ctx, tx, `DELETE FROM file_locks WHERE user_id = ? AND tenant_id = ? AND expires <= ?`, ownerID, tenantID, micros(now()))
	return err
}

func validTimeout(timeout time.Duration) error {
	if timeout <= 0 {
		return tidbro.Invalid("timeout", "a lock lasts for some time")
	}
	return nil
}

func (s *Store) LockFile(ctx context.Context, l *tidbro.FileLock, timeout time.Duration, tokens []string) (created bool, err error) {
	if err := tidbro.ValidFilePath(l.Root); err != nil {
		return false, err
	}
	if err := validTimeout(timeout); err != nil {
		return false, err
	}
	if len(l.OwnerXML) > tidbro.MaxFileLockOwner {
		return false, tidbro.Errorf(tidbro.ETOOLARGE, "a lock's owner is at most %d bytes", tidbro.MaxFileLockOwner)
	}
	token := tidbro.NewFileLockToken()
	var t, expires time.Time
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		created = false
		if err := s.lockArea(ctx, tx, l.TenantID, l.OwnerID); err != nil {
			return err
		}
		// Taken under the area's lock: any write that got in first is older.
		t = now()
		expires = t.Add(timeout).Truncate(time.Microsecond)
		if err := s.dropExpired(ctx, tx, l.TenantID, l.OwnerID); err != nil {
			return err
		}
		locks, err := s.liveLocks(ctx, tx, l.TenantID, l.OwnerID)
		if err != nil {
			return err
		}
		if len(locks) >= tidbro.MaxFileLocks {
			return tidbro.Errorf(tidbro.ETOOLARGE, "an area holds at most %d locks", tidbro.MaxFileLocks)
		}
		// An exclusive lock shares what it covers with no other lock, a
		// shared one with shared ones only (RFC 4918 6.1).
		for _, x := range locks {
			overlap := x.Covers(l.Root) || l.Deep && tidbro.FileBelow(x.Root, l.Root)
			if overlap && !(x.Shared && l.Shared) {
				return &tidbro.LockedError{Root: x.Root, Conflict: true, Message: "/" + x.Root + " has a lock that conflicts with this one"}
			}
		}
		_, err = s.file(ctx, tx, l.TenantID, l.OwnerID, l.Root)
		switch {
		case tidbro.ErrorCode(err) == tidbro.ENOTFOUND:
			if err := s.parentCollection(ctx, tx, l.TenantID, l.OwnerID, l.Root); err != nil {
				return err
			}
			if x := inTheWay(locks, tokens, []guard{membership(l.Root)}); x != nil {
				return lockedError(x)
			}
			empty := &tidbro.File{TenantID: l.TenantID, OwnerID: l.OwnerID, Path: l.Root, ContentType: "application/octet-stream",
				ETag: fileETag(nil), Created: t, Modified: t}
			if err := s.insertFile(ctx, tx, empty, nil); err != nil {
				return err
			}
			created = true
		case err != nil:
			return err
		}
		_, err = s.exec(ctx, tx, `INSERT INTO file_locks (`+lockColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			token, l.TenantID, l.OwnerID, l.Root, l.Deep, l.Shared, l.OwnerXML, micros(t), micros(expires))
		return err
	})
	if err != nil {
		return false, wrap(err, "lock %q", l.Root)
	}
	l.Token, l.Created, l.Expires = token, t, expires
	return created, nil
}

// heldLock returns the area's live lock whose token is token, or nil.
func (s *Store) heldLock(ctx context.Context, tx *sql.Tx, tenantID, ownerID int64, token string) (*tidbro.FileLock, error) {
	l, err := scanLock(s.queryRow(ctx, tx, `SELECT `+lockColumns+` FROM file_locks WHERE token = ? AND user_id = ? AND tenant_id = ? AND expires > ?`,
		token, ownerID, tenantID, micros(now())))
	if isNoRows(err) {
		return nil, nil
	}
	return l, err
}

func (s *Store) RefreshFileLock(ctx context.Context, tenantID, ownerID int64, path, token string, timeout time.Duration) (*tidbro.FileLock, error) {
	if err := tidbro.ValidFilePath(path); err != nil {
		return nil, err
	}
	if err := validTimeout(timeout); err != nil {
		return nil, err
	}
	var l *tidbro.FileLock
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.lockArea(ctx, tx, tenantID, ownerID); err != nil {
			return err
		}
		if err := s.dropExpired(ctx, tx, tenantID, ownerID); err != nil {
			return err
		}
		var err error
		if l, err = s.heldLock(ctx, tx, tenantID, ownerID, token); err != nil {
			return err
		}
		if l == nil || !l.Covers(path) {
			return tidbro.Errorf(tidbro.EPRECONDITION, "no lock %s covers %q", token, path)
		}
		l.Expires = now().Add(timeout).Truncate(time.Microsecond)
		_, err = s.exec(ctx, tx, `UPDATE file_locks SET expires = ? WHERE token = ? AND user_id = ?`, micros(l.Expires), token, ownerID)
		return err
	})
	if err != nil {
		return nil, wrap(err, "refresh lock of %q", path)
	}
	return l, nil
}

func (s *Store) UnlockFile(ctx context.Context, tenantID, ownerID int64, path, token string) error {
	if err := tidbro.ValidFilePath(path); err != nil {
		return err
	}
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.lockArea(ctx, tx, tenantID, ownerID); err != nil {
			return err
		}
		if err := s.dropExpired(ctx, tx, tenantID, ownerID); err != nil {
			return err
		}
		l, err := s.heldLock(ctx, tx, tenantID, ownerID, token)
		if err != nil {
			return err
		}
		if l == nil || !l.Covers(path) {
			return tidbro.Errorf(tidbro.ECONFLICT, "no lock %s covers %q", token, path)
		}
		_, err = s.exec(ctx, tx, `DELETE FROM file_locks WHERE token = ? AND user_id = ?`, token, ownerID)
		return err
	})
	return wrap(err, "unlock %q", path)
}

// lockHolder is the document area as a client that submitted lock tokens
// writes it (WithLockTokens); reads are the store's own.
type lockHolder struct {
	*Store
	tokens []string
}

func (s *Store) WithLockTokens(tokens []string) tidbro.FileStore {
	return lockHolder{Store: s, tokens: slices.Clone(tokens)}
}

func (h lockHolder) PutFile(ctx context.Context, f *tidbro.File, data []byte, ifMatch string, ifNoneMatch bool) (*tidbro.File, bool, error) {
	return h.putFile(ctx, h.tokens, f, data, ifMatch, ifNoneMatch)
}

func (h lockHolder) MakeCollection(ctx context.Context, tenantID, ownerID int64, path string) (*tidbro.File, error) {
	return h.makeCollection(ctx, h.tokens, tenantID, ownerID, path)
}

func (h lockHolder) DeleteFile(ctx context.Context, tenantID, ownerID int64, path, ifMatch string) error {
	return h.deleteFile(ctx, h.tokens, tenantID, ownerID, path, ifMatch)
}

func (h lockHolder) CopyFile(ctx context.Context, tenantID, ownerID int64, src, dst string, deep, overwrite bool) (bool, error) {
	return h.copyOrMove(ctx, h.tokens, tenantID, ownerID, src, dst, deep, overwrite, false)
}

func (h lockHolder) MoveFile(ctx context.Context, tenantID, ownerID int64, src, dst string, overwrite bool) (bool, error) {
	return h.copyOrMove(ctx, h.tokens, tenantID, ownerID, src, dst, true, overwrite, true)
}

func (h lockHolder) SetFileProps(ctx context.Context, tenantID, ownerID int64, path string, props []tidbro.DeadProp) error {
	return h.setFileProps(ctx, h.tokens, tenantID, ownerID, path, props)
}
