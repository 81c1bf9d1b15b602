package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/tidbro/tidbro"
)

const fileColumns = `tenant_id, user_id, path, collection, content_type, size, etag, created, modified, props`

// storedProp is a DeadProp as the props column keeps it.
type storedProp struct {
	Space string `json:"s,omitempty"`
	Local string `json:"l"`
	Value string `json:"v,omitempty"`
}

func scanFile(row scanner, data *[]byte) (*tidbro.File, error) {
	f := &tidbro.File{}
	var created, modified int64
	var props string
	dest := []any{&f.TenantID, &f.OwnerID, &f.Path, &f.Collection, &f.ContentType, &f.Size, &f.ETag, &created, &modified, &props}
	if data != nil {
		dest = append(dest, data)
	}
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	f.Created, f.Modified = fromMicros(created), fromMicros(modified)
	var sp []storedProp
	if err := json.Unmarshal([]byte(props), &sp); err != nil {
		return nil, err
	}
	for _, p := range sp {
		f.Props = append(f.Props, tidbro.DeadProp{Space: p.Space, Local: p.Local, Value: p.Value})
	}
	return f, nil
}

func encodeProps(props []tidbro.DeadProp) (string, error) {
	if len(props) > tidbro.MaxDeadProps {
		return "", tidbro.Errorf(tidbro.ETOOLARGE, "a resource has at most %d properties", tidbro.MaxDeadProps)
	}
	sp := make([]storedProp, len(props))
	for i, p := range props {
		if p.Local == "" {
			return "", tidbro.Invalid("props", "a property has a name")
		}
		if len(p.Value) > tidbro.MaxDeadPropSize {
			return "", tidbro.Errorf(tidbro.ETOOLARGE, "a property value is at most %d bytes", tidbro.MaxDeadPropSize)
		}
		sp[i] = storedProp{p.Space, p.Local, p.Value}
	}
	b, err := json.Marshal(sp)
	return string(b), err
}

func fileETag(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:16])
}

// root is the area's root as it is before it has properties.
func root(tenantID, ownerID int64) *tidbro.File {
	return &tidbro.File{TenantID: tenantID, OwnerID: ownerID, Collection: true}
}

func (s *Store) File(ctx context.Context, tenantID, ownerID int64, path string) (*tidbro.File, error) {
	f, err := s.file(ctx, s.db, tenantID, ownerID, path)
	return f, wrap(err, "file %q", path)
}

func (s *Store) file(ctx context.Context, q querier, tenantID, ownerID int64, path string) (*tidbro.File, error) {
	return s.fileWith(ctx, q, tenantID, ownerID, path, nil)
}

// fileWith reads a resource and, when data is not nil, its content into
// it; the root exists even before it has a row.
func (s *Store) fileWith(ctx context.Context, q querier, tenantID, ownerID int64, path string, data *[]byte) (*tidbro.File, error) {
	if err := tidbro.ValidFilePath(path); err != nil {
		return nil, err
	}
	cols := fileColumns
	if data != nil {
		cols += ", data"
	}
	f, err := scanFile(s.queryRow(ctx, q, `SELECT `+cols+` FROM files WHERE user_id = ? AND tenant_id = ? AND path = ?`,
		ownerID, tenantID, path), data)
	switch {
	case isNoRows(err) && path == "":
		return root(tenantID, ownerID), nil
	case isNoRows(err):
		return nil, tidbro.Errorf(tidbro.ENOTFOUND, "no file %q", path)
	}
	return f, err
}

func (s *Store) FileContent(ctx context.Context, tenantID, ownerID int64, path string) (*tidbro.File, []byte, error) {
	var data []byte
	f, err := s.fileWith(ctx, s.db, tenantID, ownerID, path, &data)
	if err != nil {
		return nil, nil, wrap(err, "file %q", path)
	}
	if data == nil {
		data = []byte{}
	}
	return f, data, nil
}

// subtree is the condition and arguments selecting the rows whose column
// col is below path (not path itself): bytewise, "p/" <= col < "p0",
// since '0' follows '/'.
func subtree(col, path string) (string, []any) {
	if path == "" {
		return col + ` <> ''`, nil
	}
	return col + ` >= ? AND ` + col + ` < ?`, []any{path + "/", path + "0"}
}

func (s *Store) Files(ctx context.Context, tenantID, ownerID int64, path string, deep bool) ([]*tidbro.File, error) {
	if err := tidbro.ValidFilePath(path); err != nil {
		return nil, err
	}
	rows, err := s.files(ctx, s.db, tenantID, ownerID, path, deep, false)
	if err != nil {
		return nil, wrap(err, "files below %q", path)
	}
	out := make([]*tidbro.File, len(rows))
	for i, r := range rows {
		out[i] = r.File
	}
	return out, nil
}

// fileData is a resource with its content, as a copy reads it.
type fileData struct {
	*tidbro.File
	data []byte
}

func (s *Store) files(ctx context.Context, q querier, tenantID, ownerID int64, path string, deep, withData bool) ([]fileData, error) {
	cols := fileColumns
	if withData {
		cols += ", data"
	}
	cond, args := `parent = ? AND path <> ''`, []any{path}
	if deep {
		cond, args = subtree("path", path)
	}
	rows, err := s.query(ctx, q, `SELECT `+cols+` FROM files WHERE user_id = ? AND tenant_id = ? AND `+cond+` ORDER BY path`,
		append([]any{ownerID, tenantID}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []fileData
	for rows.Next() {
		var fd fileData
		var dp *[]byte
		if withData {
			dp = &fd.data
		}
		if fd.File, err = scanFile(rows, dp); err != nil {
			return nil, err
		}
		out = append(out, fd)
	}
	return out, rows.Err()
}

// lockArea begins every write of a user's document area: it takes the
// user's row lock (PostgreSQL), so that the area's writers go one at a
// time and each sees what the one before committed; checking a parent,
// an ETag or whether a path is free and then writing is then safe.
func (s *Store) lockArea(ctx context.Context, tx *sql.Tx, tenantID, ownerID int64) error {
	var id int64
	err := s.queryRow(ctx, tx, `SELECT id FROM users WHERE id = ? AND tenant_id = ? AND deleted = FALSE`+s.d.ForUpdate, ownerID, tenantID).Scan(&id)
	if isNoRows(err) {
		return tidbro.Errorf(tidbro.ENOTFOUND, "no user %d in tenant %d", ownerID, tenantID)
	}
	return err
}

// parentCollection checks that path's parent exists and is a collection.
func (s *Store) parentCollection(ctx context.Context, tx *sql.Tx, tenantID, ownerID int64, path string) error {
	parent := tidbro.FileParent(path)
	p, err := s.file(ctx, tx, tenantID, ownerID, parent)
	switch {
	case tidbro.ErrorCode(err) == tidbro.ENOTFOUND:
		return tidbro.Errorf(tidbro.ECONFLICT, "there is no collection %q to hold %q", parent, path)
	case err != nil:
		return err
	case !p.Collection:
		return tidbro.Errorf(tidbro.ECONFLICT, "%q is a document, not a collection that could hold %q", parent, path)
	}
	return nil
}

func (s *Store) insertFile(ctx context.Context, tx *sql.Tx, f *tidbro.File, data []byte) error {
	props, err := encodeProps(f.Props)
	if err != nil {
		return err
	}
	if data == nil {
		data = []byte{}
	}
	_, err = s.exec(ctx, tx, `INSERT INTO files (`+fileColumns+`, parent, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		f.TenantID, f.OwnerID, f.Path, f.Collection, f.ContentType, f.Size, f.ETag, micros(f.Created), micros(f.Modified), props,
		tidbro.FileParent(f.Path), data)
	if _, foreignKey := violation(err); foreignKey {
		return tidbro.Errorf(tidbro.ENOTFOUND, "no user %d in tenant %d", f.OwnerID, f.TenantID)
	}
	return err
}

func (s *Store) PutFile(ctx context.Context, f *tidbro.File, data []byte, ifMatch string, ifNoneMatch bool) (*tidbro.File, bool, error) {
	return s.putFile(ctx, nil, f, data, ifMatch, ifNoneMatch)
}

// putFile is PutFile by a client that submitted the lock tokens tokens;
// so are the other lower-case writes.
func (s *Store) putFile(ctx context.Context, tokens []string, f *tidbro.File, data []byte, ifMatch string, ifNoneMatch bool) (stored *tidbro.File, created bool, err error) {
	if err := tidbro.ValidFilePath(f.Path); err != nil {
		return nil, false, err
	}
	if f.Path == "" {
		return nil, false, tidbro.Errorf(tidbro.ECONFLICT, "the root is a collection")
	}
	if len(data) > tidbro.MaxFileSize {
		return nil, false, tidbro.Errorf(tidbro.ETOOLARGE, "a document is at most %d bytes", tidbro.MaxFileSize)
	}
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.lockArea(ctx, tx, f.TenantID, f.OwnerID); err != nil {
			return err
		}
		old, err := s.file(ctx, tx, f.TenantID, f.OwnerID, f.Path)
		switch {
		case tidbro.ErrorCode(err) == tidbro.ENOTFOUND:
			old = nil
		case err != nil:
			return err
		case old.Collection:
			return tidbro.Errorf(tidbro.ECONFLICT, "%q is a collection", f.Path)
		}
		if err := checkFileMatch(old, f.Path, ifMatch, ifNoneMatch); err != nil {
			return err
		}
		guards := []guard{{path: f.Path}}
		if old == nil {
			guards = append(guards, membership(f.Path))
		}
		if err := s.checkLocks(ctx, tx, f.TenantID, f.OwnerID, tokens, guards...); err != nil {
			return err
		}
		t := now()
		stored = &tidbro.File{TenantID: f.TenantID, OwnerID: f.OwnerID, Path: f.Path, ContentType: f.ContentType,
			Size: int64(len(data)), ETag: fileETag(data), Created: t, Modified: t}
		if old == nil {
			if err := s.parentCollection(ctx, tx, f.TenantID, f.OwnerID, f.Path); err != nil {
				return err
			}
			created = true
			return s.insertFile(ctx, tx, stored, data)
		}
		stored.Created, stored.Props = old.Created, old.Props
		_, err = s.exec(ctx, tx, `UPDATE files SET content_type = ?, size = ?, etag = ?, modified = ?, data = ?
WHERE user_id = ? AND tenant_id = ? AND path = ?`, stored.ContentType, stored.Size, stored.ETag, micros(t), data, f.OwnerID, f.TenantID, f.Path)
		return err
	})
	if err != nil {
		return nil, false, wrap(err, "put file %q", f.Path)
	}
	return stored, created, nil
}

func checkFileMatch(f *tidbro.File, path, ifMatch string, ifNoneMatch bool) error {
	switch {
	case ifNoneMatch && f != nil:
		return tidbro.Errorf(tidbro.EPRECONDITION, "%q exists", path)
	case ifMatch != "" && f == nil:
		return tidbro.Errorf(tidbro.EPRECONDITION, "%q does not exist", path)
	case ifMatch != "" && (f.Collection || f.ETag != ifMatch):
		return tidbro.Errorf(tidbro.EPRECONDITION, "%q has changed", path)
	}
	return nil
}

func (s *Store) MakeCollection(ctx context.Context, tenantID, ownerID int64, path string) (*tidbro.File, error) {
	return s.makeCollection(ctx, nil, tenantID, ownerID, path)
}

func (s *Store) makeCollection(ctx context.Context, tokens []string, tenantID, ownerID int64, path string) (*tidbro.File, error) {
	if err := tidbro.ValidFilePath(path); err != nil {
		return nil, err
	}
	t := now()
	f := &tidbro.File{TenantID: tenantID, OwnerID: ownerID, Path: path, Collection: true, Created: t, Modified: t}
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.lockArea(ctx, tx, tenantID, ownerID); err != nil {
			return err
		}
		_, err := s.file(ctx, tx, tenantID, ownerID, path)
		switch {
		case err == nil:
			return tidbro.Errorf(tidbro.ECONFLICT, "%q exists", path)
		case tidbro.ErrorCode(err) != tidbro.ENOTFOUND:
			return err
		}
		if err := s.parentCollection(ctx, tx, tenantID, ownerID, path); err != nil {
			return err
		}
		if err := s.checkLocks(ctx, tx, tenantID, ownerID, tokens, guard{path: path}, membership(path)); err != nil {
			return err
		}
		return s.insertFile(ctx, tx, f, nil)
	})
	if err != nil {
		return nil, wrap(err, "make collection %q", path)
	}
	return f, nil
}

func (s *Store) DeleteFile(ctx context.Context, tenantID, ownerID int64, path, ifMatch string) error {
	return s.deleteFile(ctx, nil, tenantID, ownerID, path, ifMatch)
}

func (s *Store) deleteFile(ctx context.Context, tokens []string, tenantID, ownerID int64, path, ifMatch string) error {
	if err := tidbro.ValidFilePath(path); err != nil {
		return err
	}
	if path == "" {
		return tidbro.Errorf(tidbro.EFORBIDDEN, "the root of the document area cannot be deleted")
	}
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.lockArea(ctx, tx, tenantID, ownerID); err != nil {
			return err
		}
		f, err := s.file(ctx, tx, tenantID, ownerID, path)
		if err != nil {
			return err
		}
		if err := checkFileMatch(f, path, ifMatch, false); err != nil {
			return err
		}
		if err := s.checkLocks(ctx, tx, tenantID, ownerID, tokens, guard{path: path, below: true}, membership(path)); err != nil {
			return err
		}
		if err := s.deleteTree(ctx, tx, tenantID, ownerID, path); err != nil {
			return err
		}
		return s.dropLocks(ctx, tx, tenantID, ownerID, path, true)
	})
	return wrap(err, "delete file %q", path)
}

// deleteTree deletes path and everything below it.
func (s *Store) deleteTree(ctx context.Context, tx *sql.Tx, tenantID, ownerID int64, path string) error {
	cond, args := subtree("path", path)
	_, err := s.exec(ctx, tx, `DELETE FROM files WHERE user_id = ? AND tenant_id = ? AND (path = ? OR (`+cond+`))`,
		append([]any{ownerID, tenantID, path}, args...)...)
	return err
}

func (s *Store) CopyFile(ctx context.Context, tenantID, ownerID int64, src, dst string, deep, overwrite bool) (bool, error) {
	return s.copyOrMove(ctx, nil, tenantID, ownerID, src, dst, deep, overwrite, false)
}

func (s *Store) MoveFile(ctx context.Context, tenantID, ownerID int64, src, dst string, overwrite bool) (bool, error) {
	return s.copyOrMove(ctx, nil, tenantID, ownerID, src, dst, true, overwrite, true)
}

func (s *Store) copyOrMove(ctx context.Context, tokens []string, tenantID, ownerID int64, src, dst string, deep, overwrite, move bool) (created bool, err error) {
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		created, err = s.copyFile(ctx, tx, tokens, tenantID, ownerID, src, dst, deep, overwrite, move)
		return err
	})
	if move {
		return created, wrap(err, "move %q to %q", src, dst)
	}
	return created, wrap(err, "copy %q to %q", src, dst)
}

// copyFile copies, or with move renames, src (and if deep its subtree) to
// dst, replacing dst if overwrite. A move keeps creation times and ETags;
// a copy is new. Locks stay where they are: a replaced dst keeps its own,
// and what was below it and src lose theirs.
func (s *Store) copyFile(ctx context.Context, tx *sql.Tx, tokens []string, tenantID, ownerID int64, src, dst string, deep, overwrite, move bool) (bool, error) {
	for _, p := range []string{src, dst} {
		if err := tidbro.ValidFilePath(p); err != nil {
			return false, err
		}
	}
	switch {
	case src == "" || dst == "":
		return false, tidbro.Errorf(tidbro.EFORBIDDEN, "the root of the document area cannot be copied, moved or replaced")
	case src == dst:
		return false, tidbro.Errorf(tidbro.EFORBIDDEN, "source and destination are the same")
	case strings.HasPrefix(dst, src+"/"):
		return false, tidbro.Errorf(tidbro.EFORBIDDEN, "%q cannot go into itself", src)
	}
	if err := s.lockArea(ctx, tx, tenantID, ownerID); err != nil {
		return false, err
	}
	var data []byte
	from, err := s.fileWith(ctx, tx, tenantID, ownerID, src, &data)
	if err != nil {
		return false, err
	}
	todo := []fileData{{from, data}}
	if from.Collection && deep {
		below, err := s.files(ctx, tx, tenantID, ownerID, src, true, true)
		if err != nil {
			return false, err
		}
		todo = append(todo, below...)
	}

	_, err = s.file(ctx, tx, tenantID, ownerID, dst)
	exists := err == nil
	switch {
	case err != nil && tidbro.ErrorCode(err) != tidbro.ENOTFOUND:
		return false, err
	case exists && !overwrite:
		return false, tidbro.Errorf(tidbro.EPRECONDITION, "%q exists", dst)
	case !exists:
		if err := s.parentCollection(ctx, tx, tenantID, ownerID, dst); err != nil {
			return false, err
		}
	}
	guards := []guard{membership(dst)}
	if exists {
		guards = []guard{{path: dst, below: true}}
	}
	if move {
		guards = append(guards, guard{path: src, below: true}, membership(src))
	}
	if err := s.checkLocks(ctx, tx, tenantID, ownerID, tokens, guards...); err != nil {
		return false, err
	}
	if exists {
		if err := s.deleteTree(ctx, tx, tenantID, ownerID, dst); err != nil {
			return false, err
		}
		if err := s.dropLocks(ctx, tx, tenantID, ownerID, dst, false); err != nil {
			return false, err
		}
	}
	if move {
		if err := s.deleteTree(ctx, tx, tenantID, ownerID, src); err != nil {
			return false, err
		}
		if err := s.dropLocks(ctx, tx, tenantID, ownerID, src, true); err != nil {
			return false, err
		}
	}
	t := now()
	for _, f := range todo {
		f.Path = dst + strings.TrimPrefix(f.Path, src)
		if !move {
			f.Created, f.Modified = t, t
		}
		if err := s.insertFile(ctx, tx, f.File, f.data); err != nil {
			return false, err
		}
	}
	return !exists, nil
}

func (s *Store) SetFileProps(ctx context.Context, tenantID, ownerID int64, path string, props []tidbro.DeadProp) error {
	return s.setFileProps(ctx, nil, tenantID, ownerID, path, props)
}

func (s *Store) setFileProps(ctx context.Context, tokens []string, tenantID, ownerID int64, path string, props []tidbro.DeadProp) error {
	if err := tidbro.ValidFilePath(path); err != nil {
		return err
	}
	enc, err := encodeProps(props)
	if err != nil {
		return err
	}
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.lockArea(ctx, tx, tenantID, ownerID); err != nil {
			return err
		}
		if err := s.checkLocks(ctx, tx, tenantID, ownerID, tokens, guard{path: path}); err != nil {
			return err
		}
		res, err := s.exec(ctx, tx, `UPDATE files SET props = ? WHERE user_id = ? AND tenant_id = ? AND path = ?`, enc, ownerID, tenantID, path)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		if path != "" {
			return tidbro.Errorf(tidbro.ENOTFOUND, "no file %q", path)
		}
		f := root(tenantID, ownerID)
		f.Props = props
		f.Created, f.Modified = now(), now()
		return s.insertFile(ctx, tx, f, nil)
	})
	return wrap(err, "set properties of %q", path)
}
