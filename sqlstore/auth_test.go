package sqlstore_test

import (
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/sqlite"
	"github.com/tidbro/tidbro/sqlstore"
	"github.com/tidbro/tidbro/storetest"
)

// openTwice opens two stores on one database, as tidbro serve and the
// tidbro command do.
func openTwice(t *testing.T) (a, b *sqlstore.Store) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tidbro.db")
	for _, s := range []**sqlstore.Store{&a, &b} {
		var err error
		if *s, err = sqlite.Open(t.Context(), path, storetest.Sealer{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { (*s).Close() })
	}
	return a, b
}

func newAppPassword(t *testing.T, s *sqlstore.Store, u *tidbro.User) (*tidbro.AppPassword, []byte) {
	t.Helper()
	_, hash := tidbro.NewAppPassword()
	p, err := s.CreateAppPassword(t.Context(), u.TenantID, u.ID, "phone", hash)
	if err != nil {
		t.Fatal(err)
	}
	return p, hash
}

// TestUserByAppPassword checks what UserByAppPassword keeps in memory: what
// its own store writes shows at once, what another store writes within the
// TTL, and a password it did not find is looked up again.
func TestUserByAppPassword(t *testing.T) {
	ctx := t.Context()
	a, b := openTwice(t)
	sqlstore.SetAuthTTL(a, time.Hour)
	tn, err := a.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	users := map[string]*tidbro.User{}
	for _, name := range []string{"alice", "bob", "carol"} {
		u := &tidbro.User{TenantID: tn.ID, Username: name, Email: name + "@example.com"}
		if _, err := a.PutUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		users[name] = u
	}
	want := func(hash []byte, u *tidbro.User, what string) {
		t.Helper()
		got, err := a.UserByAppPassword(ctx, hash)
		if err != nil || !reflect.DeepEqual(got, u) {
			t.Errorf("%s: UserByAppPassword = %+v, %v; want %+v", what, got, err, u)
		}
	}
	wantNone := func(hash []byte, what string) {
		t.Helper()
		if got, err := a.UserByAppPassword(ctx, hash); tidbro.ErrorCode(err) != tidbro.ENOTFOUND {
			t.Errorf("%s: UserByAppPassword = %+v, %v; want ENOTFOUND", what, got, err)
		}
	}

	// Unknown passwords are not kept: created meanwhile, one works at once.
	_, unknown := tidbro.NewAppPassword()
	wantNone(unknown, "unknown password")
	if _, err := b.CreateAppPassword(ctx, tn.ID, users["carol"].ID, "late", unknown); err != nil {
		t.Fatal(err)
	}
	want(unknown, users["carol"], "password created by another store")

	// What this store writes shows at once.
	pa, ha := newAppPassword(t, a, users["alice"])
	want(ha, users["alice"], "alice's password")
	got, _ := a.UserByAppPassword(ctx, ha)
	got.Email = "changed by the caller"
	want(ha, users["alice"], "after the caller changed what it got")
	if err := a.RevokeAppPassword(ctx, tn.ID, users["alice"].ID, pa.ID); err != nil {
		t.Fatal(err)
	}
	wantNone(ha, "revoked through the same store")
	_, hb := newAppPassword(t, a, users["bob"])
	want(hb, users["bob"], "bob's password")
	bob := *users["bob"]
	bob.DisplayName = "Bob B."
	if _, err := a.PutUser(ctx, &bob); err != nil {
		t.Fatal(err)
	}
	want(hb, &bob, "bob changed through the same store")
	if err := a.DeleteUser(ctx, tn.ID, "bob"); err != nil {
		t.Fatal(err)
	}
	wantNone(hb, "bob deleted through the same store")

	// What another store writes shows once what this one keeps is older
	// than the TTL.
	pc, hc := newAppPassword(t, a, users["carol"])
	want(hc, users["carol"], "carol's password")
	if err := b.RevokeAppPassword(ctx, tn.ID, users["carol"].ID, pc.ID); err != nil {
		t.Fatal(err)
	}
	want(hc, users["carol"], "revoked through another store, within the TTL")
	want(unknown, users["carol"], "carol's other password")
	if err := b.DeleteUser(ctx, tn.ID, "carol"); err != nil {
		t.Fatal(err)
	}
	want(unknown, users["carol"], "carol deleted through another store, within the TTL")
	const ttl = 20 * time.Millisecond
	sqlstore.SetAuthTTL(a, ttl)
	time.Sleep(ttl)
	wantNone(hc, "revoked through another store, after the TTL")
	wantNone(unknown, "carol deleted through another store, after the TTL")
}

// TestUserByAppPasswordRevokeRace revokes a password while readers look it
// up: no lookup that begins after RevokeAppPassword returned may find it,
// though lookups that began before may still put what they read.
func TestUserByAppPasswordRevokeRace(t *testing.T) {
	ctx := t.Context()
	s, _ := openTwice(t)
	sqlstore.SetAuthTTL(s, time.Hour)
	tn, err := s.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	u := &tidbro.User{TenantID: tn.ID, Username: "alice"}
	if _, err := s.PutUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	for round := range 20 {
		p, hash := newAppPassword(t, s, u)
		var revoked, stop atomic.Bool
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for !stop.Load() {
					after := revoked.Load()
					_, err := s.UserByAppPassword(ctx, hash)
					if after && err == nil {
						t.Errorf("round %d: the password worked after its revocation returned", round)
						return
					}
					if err != nil && tidbro.ErrorCode(err) != tidbro.ENOTFOUND {
						t.Error(err)
						return
					}
				}
			})
		}
		time.Sleep(time.Millisecond)
		if err := s.RevokeAppPassword(ctx, tn.ID, u.ID, p.ID); err != nil {
			t.Fatal(err)
		}
		revoked.Store(true)
		time.Sleep(time.Millisecond)
		stop.Store(true)
		wg.Wait()
	}
}
