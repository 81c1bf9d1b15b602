package storetest

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
)

func testAccounts(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, bob := setup(t, s)
	const password = "s3cret-pa55word"

	a := &tidbro.Account{UserID: alice.ID, Name: "work", Kind: tidbro.AccountCalDAV, URL: "https://dav.example.com/",
		Username: "alice", Password: password, Policy: tidbro.DefaultPolicy()}
	if created := must(s.PutAccount(ctx, a))(t); !created {
		t.Fatal("PutAccount of a new account: created = false")
	}
	if a.ID == 0 || a.TenantID != tn.ID || a.Created.IsZero() {
		t.Fatalf("PutAccount filled %+v", a)
	}

	// At rest the password is what the sealer made of it.
	raw := rawSecret(t, s, a.ID)
	if bytes.Contains(raw, []byte(password)) {
		t.Fatalf("the password is stored in plaintext: %q", raw)
	}
	if sealed, _ := (Sealer{}).Seal([]byte(password)); !bytes.Equal(raw, sealed) {
		t.Errorf("stored secret %q, want the sealer's %q", raw, sealed)
	}
	got := must(s.Account(ctx, alice.ID, "work"))(t)
	if !reflect.DeepEqual(got, a) {
		t.Errorf("Account = %+v, want %+v", got, a)
	}

	// An update without a password keeps the stored one.
	time.Sleep(2 * time.Millisecond)
	policy := tidbro.Policy{Direction: tidbro.DirectionAppToGroupware, Kinds: []tidbro.Kind{tidbro.KindTask}, MassDeletePercent: 10}
	upd := &tidbro.Account{UserID: alice.ID, Name: "work", Kind: tidbro.AccountCalDAV, URL: "https://dav2.example.com/",
		Username: "alice2", Policy: policy}
	if created := must(s.PutAccount(ctx, upd))(t); created {
		t.Error("PutAccount of an existing account: created = true")
	}
	got = must(s.Account(ctx, alice.ID, "work"))(t)
	if got.Password != password || got.URL != upd.URL || got.Username != "alice2" || got.ID != a.ID ||
		!got.Created.Equal(a.Created) || !got.Updated.After(a.Updated) {
		t.Errorf("after an update without password: %+v", got)
	}
	if !reflect.DeepEqual(got.Policy, policy) {
		t.Errorf("policy = %+v, want %+v", got.Policy, policy)
	}
	upd.Password = "new-password"
	must(s.PutAccount(ctx, upd))(t)
	if got := must(s.Account(ctx, alice.ID, "work"))(t); got.Password != "new-password" {
		t.Errorf("password after change = %q", got.Password)
	}

	// An account without a password stores none.
	g := &tidbro.Account{UserID: alice.ID, Name: "graph", Kind: tidbro.AccountGraph}
	must(s.PutAccount(ctx, g))(t)
	if raw := rawSecret(t, s, g.ID); len(raw) != 0 {
		t.Errorf("secret of an account without password = %q", raw)
	}
	if got := must(s.Account(ctx, alice.ID, "graph"))(t); got.Password != "" || got.Kind != tidbro.AccountGraph {
		t.Errorf("graph account = %+v", got)
	}
	must(s.PutAccount(ctx, &tidbro.Account{UserID: bob.ID, Name: "work", Kind: tidbro.AccountGraph}))(t)

	names := func(u *tidbro.User) []string {
		var out []string
		for _, a := range must(s.Accounts(ctx, u.ID))(t) {
			if a.UserID != u.ID {
				t.Errorf("Accounts(%s) holds %+v", u.Username, a)
			}
			out = append(out, a.Name)
		}
		return out
	}
	if got := names(alice); !slices.Equal(got, []string{"graph", "work"}) {
		t.Errorf("alice's accounts = %v", got)
	}

	noErr(t, s.DeleteAccount(ctx, alice.ID, "work"))
	_, err := s.Account(ctx, alice.ID, "work")
	wantCode(t, err, tidbro.ENOTFOUND, "deleted account")
	wantCode(t, s.DeleteAccount(ctx, alice.ID, "work"), tidbro.ENOTFOUND, "second delete")
	if got := names(alice); !slices.Equal(got, []string{"graph"}) {
		t.Errorf("alice's accounts after delete = %v", got)
	}
	if got := names(bob); !slices.Equal(got, []string{"work"}) {
		t.Errorf("bob's accounts = %v", got)
	}
	_, err = s.PutAccount(ctx, &tidbro.Account{UserID: bob.ID + 1000, Name: "x", Kind: tidbro.AccountGraph})
	wantCode(t, err, tidbro.ENOTFOUND, "account of an unknown user")
	_, err = s.PutAccount(ctx, &tidbro.Account{UserID: bob.ID, Name: "x", Kind: tidbro.AccountCalDAV})
	wantCode(t, err, tidbro.EINVALID, "caldav account without url")
}

func rawSecret(t *testing.T, s tidbro.Store, accountID int64) []byte {
	t.Helper()
	var raw []byte
	// No placeholder: the suite does not know the database's style.
	q := fmt.Sprintf("SELECT secret FROM accounts WHERE id = %d", accountID)
	if err := rawDB(t, s).QueryRowContext(t.Context(), q).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	return raw
}
