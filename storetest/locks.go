package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
)

// lockReq is a lock to take; the zero value is exclusive, depth 0, for a
// minute, without tokens.
type lockReq struct {
	deep, shared bool
	timeout      time.Duration
	owner        string
	tokens       []string
}

func (a *area) tryLock(path string, r lockReq) (*tidbro.FileLock, bool, error) {
	if r.timeout == 0 {
		r.timeout = time.Minute
	}
	l := &tidbro.FileLock{TenantID: a.tenantID, OwnerID: a.ownerID, Root: path, Deep: r.deep, Shared: r.shared, OwnerXML: r.owner}
	created, err := a.s.LockFile(a.t.Context(), l, r.timeout, r.tokens)
	return l, created, err
}

func (a *area) lock(path string, r lockReq) *tidbro.FileLock {
	a.t.Helper()
	l, _, err := a.tryLock(path, r)
	if err != nil {
		a.t.Fatalf("LockFile %q: %v", path, err)
	}
	return l
}

// wantLocks checks the tokens of FileLocks(path), in order.
func (a *area) wantLocks(path string, want ...*tidbro.FileLock) {
	a.t.Helper()
	got := []string{}
	for _, l := range must(a.s.FileLocks(a.t.Context(), a.tenantID, a.ownerID, path))(a.t) {
		got = append(got, l.Token)
	}
	tokens := []string{}
	for _, l := range want {
		tokens = append(tokens, l.Token)
	}
	if !slices.Equal(got, tokens) {
		a.t.Errorf("FileLocks(%q) = %v, want %v", path, got, tokens)
	}
}

// as is the area's FileStore as a client holding the locks' tokens
// writes it.
func (a *area) as(locks ...*tidbro.FileLock) tidbro.FileStore {
	tokens := []string{}
	for _, l := range locks {
		tokens = append(tokens, l.Token)
	}
	return a.s.WithLockTokens(tokens)
}

// wantLocked fails unless err is the ELOCKED error of the lock on root.
func wantLocked(t *testing.T, err error, root string, conflict bool, what string) {
	t.Helper()
	wantCode(t, err, tidbro.ELOCKED, what)
	var le *tidbro.LockedError
	if !errors.As(err, &le) || le.Root != root || le.Conflict != conflict {
		t.Fatalf("%s: %#v, want the LockedError of the lock on %q with Conflict %v", what, le, root, conflict)
	}
}

// fileWrite is a write of the document area, for checks of what locks
// let through.
type fileWrite struct {
	name string
	do   func(fs tidbro.FileStore) error
}

// writes are the writes that change the resource at path itself.
func (a *area) writes(path string) []fileWrite {
	ctx := a.t.Context()
	return []fileWrite{
		{"PutFile " + path, func(fs tidbro.FileStore) error {
			_, _, err := fs.PutFile(ctx, a.doc(path, "text/plain"), []byte("changed"), "", false)
			return err
		}},
		{"SetFileProps " + path, func(fs tidbro.FileStore) error {
			return fs.SetFileProps(ctx, a.tenantID, a.ownerID, path, []tidbro.DeadProp{{Space: "urn:x", Local: "p", Value: "v"}})
		}},
	}
}

func testLocks(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	_, alice, _ := setup(t, s)
	a := newArea(t, s, alice)
	a.put("doc.txt", "text/plain", "hello")
	a.mkcol("dir")
	a.put("dir/a.txt", "text/plain", "a")
	a.mkcol("dir/sub")
	a.put("dir/sub/b.txt", "text/plain", "b")

	l := a.lock("doc.txt", lockReq{owner: `<href xmlns="DAV:">mailto:alice@example.com</href>`, timeout: time.Hour})
	if !strings.HasPrefix(l.Token, "urn:uuid:") || len(l.Token) != len("urn:uuid:")+36 {
		t.Errorf("token %q is not a urn:uuid: URI", l.Token)
	}
	recent(t, "a lock's Created", l.Created)
	if d := l.Expires.Sub(l.Created); d != time.Hour {
		t.Errorf("a lock for an hour expires %v after it was taken", d)
	}
	got := must(s.FileLocks(ctx, alice.TenantID, alice.ID, "doc.txt"))(t)
	if len(got) != 1 || got[0].Token != l.Token || got[0].TenantID != alice.TenantID || got[0].OwnerID != alice.ID ||
		got[0].Root != "doc.txt" || got[0].Deep || got[0].Shared || got[0].OwnerXML != l.OwnerXML ||
		!got[0].Created.Equal(l.Created) || !got[0].Expires.Equal(l.Expires) {
		t.Fatalf("FileLocks = %+v, want %+v", got, l)
	}

	// One exclusive lock, or any number of shared ones.
	_, _, err := a.tryLock("doc.txt", lockReq{})
	wantLocked(t, err, "doc.txt", true, "an exclusive lock on an exclusive lock")
	_, _, err = a.tryLock("doc.txt", lockReq{shared: true})
	wantLocked(t, err, "doc.txt", true, "a shared lock on an exclusive lock")
	s1 := a.lock("dir/a.txt", lockReq{shared: true})
	s2 := a.lock("dir/a.txt", lockReq{shared: true})
	if s1.Token == s2.Token {
		t.Fatal("two locks have one token")
	}
	_, _, err = a.tryLock("dir/a.txt", lockReq{})
	wantLocked(t, err, "dir/a.txt", true, "an exclusive lock on shared ones")

	// A deep lock conflicts with locks below it; a depth-0 one does not.
	_, _, err = a.tryLock("dir", lockReq{deep: true})
	wantLocked(t, err, "dir/a.txt", true, "an exclusive deep lock above shared ones")
	d0 := a.lock("dir", lockReq{})
	a.wantLocks("dir", s1, s2, d0)
	a.wantLocks("dir/a.txt", s1, s2)
	deep := a.lock("dir/sub", lockReq{deep: true, shared: true})
	a.wantLocks("dir/sub/b.txt", deep)
	a.wantLocks("", l, s1, s2, d0, deep)
	_, _, err = a.tryLock("dir/sub/b.txt", lockReq{})
	wantLocked(t, err, "dir/sub", true, "an exclusive lock below a deep one")
	a.lock("dir/sub/b.txt", lockReq{shared: true})

	// An unmapped URL becomes an empty document.
	n, created, err := a.tryLock("new.txt", lockReq{})
	noErr(t, err)
	if !created {
		t.Error("a lock on an unmapped URL did not report creating it")
	}
	if f, data := a.content("new.txt"); f.Collection || data != "" || f.ETag == "" {
		t.Errorf("the locked empty resource: %+v, %q", f, data)
	}
	a.wantLocks("new.txt", n)
	if _, created, err := a.tryLock("dir/a.txt", lockReq{shared: true}); err != nil || created {
		t.Errorf("a lock on a document: created %v, %v", created, err)
	}
	_, _, err = a.tryLock("missing/x.txt", lockReq{})
	wantCode(t, err, tidbro.ECONFLICT, "a lock below a missing collection")
	_, _, err = a.tryLock("doc.txt/x", lockReq{})
	wantCode(t, err, tidbro.ECONFLICT, "a lock below a document")
	a.gone("missing/x.txt", "a refused lock's resource")

	_, _, err = a.tryLock("a//b", lockReq{})
	wantCode(t, err, tidbro.EINVALID, "a lock on an invalid path")
	_, _, err = a.tryLock("x.txt", lockReq{timeout: -time.Second})
	wantCode(t, err, tidbro.EINVALID, "a lock without a timeout")
	_, _, err = a.tryLock("x.txt", lockReq{owner: strings.Repeat("x", tidbro.MaxFileLockOwner+1)})
	wantCode(t, err, tidbro.ETOOLARGE, "a lock with a huge owner")
	_, err = s.FileLocks(ctx, alice.TenantID, alice.ID, "a//b")
	wantCode(t, err, tidbro.EINVALID, "FileLocks of an invalid path")
}

// Every write to what a lock covers needs the lock's token.
func testLockWrites(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	_, alice, _ := setup(t, s)
	a := newArea(t, s, alice)
	a.put("doc.txt", "text/plain", "hello")
	a.put("other.txt", "text/plain", "other")
	l := a.lock("doc.txt", lockReq{})
	other := a.lock("other.txt", lockReq{})

	for _, w := range append(a.writes("doc.txt"),
		fileWrite{"DeleteFile", func(fs tidbro.FileStore) error { return fs.DeleteFile(ctx, alice.TenantID, alice.ID, "doc.txt", "") }},
		fileWrite{"MoveFile from", func(fs tidbro.FileStore) error {
			_, err := fs.MoveFile(ctx, alice.TenantID, alice.ID, "doc.txt", "moved.txt", false)
			return err
		}},
		fileWrite{"CopyFile over", func(fs tidbro.FileStore) error {
			a.put("src.txt", "text/plain", "src")
			_, err := fs.CopyFile(ctx, alice.TenantID, alice.ID, "src.txt", "doc.txt", false, true)
			return err
		}},
		fileWrite{"MoveFile over", func(fs tidbro.FileStore) error {
			a.put("src.txt", "text/plain", "src")
			_, err := fs.MoveFile(ctx, alice.TenantID, alice.ID, "src.txt", "doc.txt", true)
			return err
		}},
	) {
		wantLocked(t, w.do(s), "doc.txt", false, w.name+" without a token")
		wantLocked(t, w.do(a.as(other)), "doc.txt", false, w.name+" with another lock's token")
		noErr(t, w.do(a.as(other, l)))
		if w.name == "DeleteFile" || w.name == "MoveFile from" {
			a.put("doc.txt", "text/plain", "hello")
			l = a.lock("doc.txt", lockReq{})
		}
	}
	// Copying from a locked document changes nothing of it.
	must(s.CopyFile(ctx, alice.TenantID, alice.ID, "doc.txt", "copy.txt", false, false))(t)
	a.wantLocks("copy.txt")

	// A collection's lock covers its membership; a deep one everything
	// below it, what is added later included.
	a.mkcol("dir")
	a.put("dir/a.txt", "text/plain", "a")
	d0 := a.lock("dir", lockReq{})
	for _, w := range a.writes("dir/a.txt") {
		noErr(t, w.do(s))
	}
	// The membership writes undo what they did, as the holder of coll.
	coll := d0
	undo := func() tidbro.FileStore { return a.as(coll) }
	membership := []fileWrite{
		{"PutFile of a new member", func(fs tidbro.FileStore) error {
			_, _, err := fs.PutFile(ctx, a.doc("dir/new.txt", "text/plain"), []byte("n"), "", false)
			if err == nil {
				noErr(t, undo().DeleteFile(ctx, alice.TenantID, alice.ID, "dir/new.txt", ""))
			}
			return err
		}},
		{"MakeCollection of a new member", func(fs tidbro.FileStore) error {
			_, err := fs.MakeCollection(ctx, alice.TenantID, alice.ID, "dir/c")
			if err == nil {
				noErr(t, undo().DeleteFile(ctx, alice.TenantID, alice.ID, "dir/c", ""))
			}
			return err
		}},
		{"MoveFile of a member out", func(fs tidbro.FileStore) error {
			_, err := fs.MoveFile(ctx, alice.TenantID, alice.ID, "dir/a.txt", "out.txt", false)
			if err == nil {
				must(undo().MoveFile(ctx, alice.TenantID, alice.ID, "out.txt", "dir/a.txt", false))(t)
			}
			return err
		}},
		{"CopyFile of a new member in", func(fs tidbro.FileStore) error {
			_, err := fs.CopyFile(ctx, alice.TenantID, alice.ID, "copy.txt", "dir/copy.txt", false, false)
			if err == nil {
				noErr(t, undo().DeleteFile(ctx, alice.TenantID, alice.ID, "dir/copy.txt", ""))
			}
			return err
		}},
	}
	for _, w := range membership {
		wantLocked(t, w.do(s), "dir", false, w.name+" of a locked collection")
		noErr(t, w.do(a.as(d0)))
	}
	noErr(t, s.UnlockFile(ctx, alice.TenantID, alice.ID, "dir", d0.Token))

	a.mkcol("dir/sub")
	deep := a.lock("dir", lockReq{deep: true})
	for _, w := range append(a.writes("dir/a.txt"), membership...) {
		wantLocked(t, w.do(s), "dir", false, w.name+" inside a deep lock")
		coll = deep
		noErr(t, w.do(a.as(deep)))
	}
	_, err := s.MakeCollection(ctx, alice.TenantID, alice.ID, "dir/sub/deeper")
	wantLocked(t, err, "dir", false, "MakeCollection deep inside a deep lock")
	wantLocked(t, s.DeleteFile(ctx, alice.TenantID, alice.ID, "dir", ""), "dir", false, "DeleteFile of a deep-locked collection")
	noErr(t, s.UnlockFile(ctx, alice.TenantID, alice.ID, "dir/sub", deep.Token))

	// Deleting a collection removes its members: their locks' tokens are
	// needed, one of each member's shared locks or its exclusive one.
	a.lock("dir/a.txt", lockReq{shared: true})
	x2 := a.lock("dir/a.txt", lockReq{shared: true})
	y := a.lock("dir/sub", lockReq{})
	wantLocked(t, s.DeleteFile(ctx, alice.TenantID, alice.ID, "dir", ""), "dir/a.txt", false, "DeleteFile of a collection with locked members")
	wantLocked(t, a.as(x2).DeleteFile(ctx, alice.TenantID, alice.ID, "dir", ""), "dir/sub", false, "DeleteFile with some of the tokens")
	_, _, err = a.as(x2).PutFile(ctx, a.doc("dir/a.txt", "text/plain"), []byte("shared edit"), "", false)
	noErr(t, err)
	noErr(t, a.as(x2, y).DeleteFile(ctx, alice.TenantID, alice.ID, "dir", ""))
	a.wantLocks("dir")
}

// Locks go with what they lock: deleted, moved away or replaced below.
func testLockRemoval(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	_, alice, _ := setup(t, s)
	a := newArea(t, s, alice)
	a.mkcol("dir")
	a.mkcol("dir/sub")
	a.put("dir/sub/b.txt", "text/plain", "b")
	a.put("keep.txt", "text/plain", "k")
	keep := a.lock("keep.txt", lockReq{})
	d := a.lock("dir", lockReq{})
	b := a.lock("dir/sub/b.txt", lockReq{})
	noErr(t, a.as(d, b).DeleteFile(ctx, alice.TenantID, alice.ID, "dir", ""))
	a.wantLocks("", keep)
	a.mkcol("dir")
	a.put("dir/b.txt", "text/plain", "b")

	// A move leaves the locks behind, and they end.
	m := a.lock("dir/b.txt", lockReq{deep: true})
	must(a.as(m).MoveFile(ctx, alice.TenantID, alice.ID, "dir/b.txt", "moved.txt", false))(t)
	a.wantLocks("", keep)
	a.put("dir/b.txt", "text/plain", "b again")

	// A replaced document keeps its lock; so does a replaced collection,
	// whose members' locks go with them.
	must(a.as(keep).CopyFile(ctx, alice.TenantID, alice.ID, "moved.txt", "keep.txt", false, true))(t)
	a.wantLocks("keep.txt", keep)
	_, _, err := a.as(keep).PutFile(ctx, a.doc("keep.txt", "text/plain"), []byte("saved"), "", false)
	noErr(t, err)
	must(a.as(keep).MoveFile(ctx, alice.TenantID, alice.ID, "moved.txt", "keep.txt", true))(t)
	a.wantLocks("keep.txt", keep)
	if _, data := a.content("keep.txt"); data != "b" {
		t.Errorf("keep.txt holds %q after the move over it", data)
	}
	a.mkcol("src")
	a.put("src/b.txt", "text/plain", "src's")
	c := a.lock("dir", lockReq{deep: true, shared: true})
	a.lock("dir/b.txt", lockReq{shared: true})
	must(a.as(c).CopyFile(ctx, alice.TenantID, alice.ID, "src", "dir", true, true))(t)
	a.wantLocks("dir", c)
	a.wantLocks("src")
	if _, data := a.content("dir/b.txt"); data != "src's" {
		t.Errorf("dir/b.txt holds %q after the copy over dir", data)
	}
}

func testLockRefreshUnlock(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	_, alice, _ := setup(t, s)
	a := newArea(t, s, alice)
	a.put("doc.txt", "text/plain", "d")
	a.mkcol("dir")
	a.put("dir/a.txt", "text/plain", "a")
	l := a.lock("doc.txt", lockReq{timeout: time.Minute})
	deep := a.lock("dir", lockReq{deep: true})

	r := must(s.RefreshFileLock(ctx, alice.TenantID, alice.ID, "doc.txt", l.Token, time.Hour))(t)
	if r.Token != l.Token || r.Created != l.Created || r.Expires.Sub(l.Expires) < 59*time.Minute-time.Second {
		t.Errorf("refreshed %+v, was %+v", r, l)
	}
	if got := must(s.FileLocks(ctx, alice.TenantID, alice.ID, "doc.txt"))(t); len(got) != 1 || !got[0].Expires.Equal(r.Expires) {
		t.Errorf("FileLocks after a refresh: %+v, want expiry %v", got, r.Expires)
	}
	// Through any resource the lock covers, and no other.
	must(s.RefreshFileLock(ctx, alice.TenantID, alice.ID, "dir/a.txt", deep.Token, time.Hour))(t)
	_, err := s.RefreshFileLock(ctx, alice.TenantID, alice.ID, "doc.txt", deep.Token, time.Hour)
	wantCode(t, err, tidbro.EPRECONDITION, "a refresh through a resource the lock does not cover")
	_, err = s.RefreshFileLock(ctx, alice.TenantID, alice.ID, "doc.txt", "urn:uuid:00000000-0000-4000-8000-000000000000", time.Hour)
	wantCode(t, err, tidbro.EPRECONDITION, "a refresh of an unknown lock")
	_, err = s.RefreshFileLock(ctx, alice.TenantID, alice.ID, "doc.txt", l.Token, 0)
	wantCode(t, err, tidbro.EINVALID, "a refresh without a timeout")

	wantCode(t, s.UnlockFile(ctx, alice.TenantID, alice.ID, "doc.txt", deep.Token), tidbro.ECONFLICT, "an unlock through a resource the lock does not cover")
	noErr(t, s.UnlockFile(ctx, alice.TenantID, alice.ID, "dir/a.txt", deep.Token))
	wantCode(t, s.UnlockFile(ctx, alice.TenantID, alice.ID, "dir", deep.Token), tidbro.ECONFLICT, "a second unlock")
	a.wantLocks("dir")
	_, _, err = s.PutFile(ctx, a.doc("dir/a.txt", "text/plain"), []byte("free"), "", false)
	noErr(t, err)
	noErr(t, s.UnlockFile(ctx, alice.TenantID, alice.ID, "doc.txt", l.Token))
	a.wantLocks("")
}

// An expired lock is gone: not listed, in nobody's way, not refreshed, and
// its row is deleted by the area's next lock write.
func testLockExpiry(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	_, alice, _ := setup(t, s)
	a := newArea(t, s, alice)
	a.put("doc.txt", "text/plain", "d")
	a.put("long.txt", "text/plain", "l")
	short := a.lock("doc.txt", lockReq{timeout: 20 * time.Millisecond})
	long := a.lock("long.txt", lockReq{timeout: time.Hour})
	time.Sleep(50 * time.Millisecond)

	a.wantLocks("", long)
	_, _, err := s.PutFile(ctx, a.doc("doc.txt", "text/plain"), []byte("free"), "", false)
	noErr(t, err)
	_, err = s.RefreshFileLock(ctx, alice.TenantID, alice.ID, "doc.txt", short.Token, time.Hour)
	wantCode(t, err, tidbro.EPRECONDITION, "a refresh of an expired lock")
	wantCode(t, s.UnlockFile(ctx, alice.TenantID, alice.ID, "doc.txt", short.Token), tidbro.ECONFLICT, "an unlock of an expired lock")
	again := a.lock("doc.txt", lockReq{})
	a.wantLocks("", long, again)
	var rows int
	noErr(t, rawDB(t, s).QueryRowContext(ctx, fmt.Sprintf(`SELECT COUNT(*) FROM file_locks WHERE user_id = %d`, alice.ID)).Scan(&rows))
	if rows != 2 {
		t.Errorf("the area has %d lock rows, want 2: the expired one was not deleted", rows)
	}
}

// Locks are the area's: another user neither sees nor removes them, and
// their tokens mean nothing in his area.
func testLockIsolation(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	_, alice, bob := setup(t, s)
	a, b := newArea(t, s, alice), newArea(t, s, bob)
	a.put("doc.txt", "text/plain", "alice's")
	b.put("doc.txt", "text/plain", "bob's")
	la := a.lock("doc.txt", lockReq{deep: true})

	b.wantLocks("")
	b.wantLocks("doc.txt")
	_, _, err := s.PutFile(ctx, b.doc("doc.txt", "text/plain"), []byte("bob's edit"), "", false)
	noErr(t, err)
	lb := b.lock("doc.txt", lockReq{})
	wantCode(t, s.UnlockFile(ctx, bob.TenantID, bob.ID, "doc.txt", la.Token), tidbro.ECONFLICT, "bob unlocking alice's lock")
	_, err = s.RefreshFileLock(ctx, bob.TenantID, bob.ID, "doc.txt", la.Token, time.Hour)
	wantCode(t, err, tidbro.EPRECONDITION, "bob refreshing alice's lock")
	_, _, err = b.as(la).PutFile(ctx, b.doc("doc.txt", "text/plain"), []byte("x"), "", false)
	wantLocked(t, err, "doc.txt", false, "bob writing his locked document with alice's token")

	a.wantLocks("", la)
	_, _, err = s.PutFile(ctx, a.doc("doc.txt", "text/plain"), []byte("x"), "", false)
	wantLocked(t, err, "doc.txt", false, "alice writing her locked document without the token")
	_, _, err = a.as(lb).PutFile(ctx, a.doc("doc.txt", "text/plain"), []byte("x"), "", false)
	wantLocked(t, err, "doc.txt", false, "alice writing with bob's token")
}

// Locking is safe under concurrency: of clients locking one resource
// exclusively at once one wins, and a write without the token either
// commits before the lock is taken or is refused.
func testLockConcurrency(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	_, alice, _ := setup(t, s)
	a := newArea(t, s, alice)
	a.put("doc.txt", "text/plain", "d")
	const workers = 8

	for _, path := range []string{"doc.txt", "unmapped.txt"} {
		errs := make([]error, workers)
		created := make([]bool, workers)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() { _, created[w], errs[w] = a.tryLock(path, lockReq{}) })
		}
		wg.Wait()
		wins, creates := 0, 0
		for w, err := range errs {
			switch tidbro.ErrorCode(err) {
			case "":
				wins++
			case tidbro.ELOCKED:
			default:
				t.Errorf("exclusive LockFile %q, worker %d: %v", path, w, err)
			}
			if created[w] {
				creates++
			}
		}
		wantCreates := map[string]int{"doc.txt": 0, "unmapped.txt": 1}[path]
		if wins != 1 || creates != wantCreates {
			t.Errorf("%d of %d exclusive LockFile %q succeeded and %d created it, want 1 and %d", wins, workers, path, creates, wantCreates)
		}
	}

	a.put("shared.txt", "text/plain", "s")
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Go(func() { _, _, errs[w] = a.tryLock("shared.txt", lockReq{shared: true}) })
	}
	wg.Wait()
	for w, err := range errs {
		if err != nil {
			t.Errorf("shared LockFile, worker %d: %v", w, err)
		}
	}
	if n := len(must(s.FileLocks(ctx, alice.TenantID, alice.ID, "shared.txt"))(t)); n != workers {
		t.Errorf("%d shared locks, want %d", n, workers)
	}

	a.put("race.txt", "text/plain", "r")
	var lock *tidbro.FileLock
	modified := make([]time.Time, workers)
	for w := range workers {
		errs[w] = nil
		wg.Go(func() {
			if w == 0 {
				lock, _, errs[w] = a.tryLock("race.txt", lockReq{})
				return
			}
			var f *tidbro.File
			f, _, errs[w] = s.PutFile(ctx, a.doc("race.txt", "text/plain"), []byte(fmt.Sprint(w)), "", false)
			if f != nil {
				modified[w] = f.Modified
			}
		})
	}
	wg.Wait()
	noErr(t, errs[0])
	for w := 1; w < workers; w++ {
		switch {
		case errs[w] == nil && modified[w].After(lock.Created):
			t.Errorf("PutFile without the token, worker %d, committed at %v, after the lock taken at %v", w, modified[w], lock.Created)
		case errs[w] != nil && tidbro.ErrorCode(errs[w]) != tidbro.ELOCKED:
			t.Errorf("PutFile, worker %d: %v", w, errs[w])
		}
	}
}

// A deleted user's locks go with their documents; the user revived finds
// none.
func testLockDeleteUser(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, _ := setup(t, s)
	a := newArea(t, s, alice)
	a.put("doc.txt", "text/plain", "d")
	a.lock("doc.txt", lockReq{timeout: time.Hour})
	noErr(t, s.DeleteUser(ctx, tn.ID, "alice"))
	_, _, err := a.tryLock("doc.txt", lockReq{})
	wantCode(t, err, tidbro.ENOTFOUND, "LockFile for a deleted user")

	again := &tidbro.User{TenantID: tn.ID, Username: "alice"}
	must(s.PutUser(ctx, again))(t)
	a2 := newArea(t, s, again)
	a2.wantLocks("")
	a2.put("doc.txt", "text/plain", "new")
	a2.lock("doc.txt", lockReq{})
}
