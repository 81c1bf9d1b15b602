package storetest

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
)

func testTenants(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	before := time.Now().Add(-time.Minute)
	acme := newTenant(t, s, "acme")
	if acme.ID == 0 || acme.Name != "acme" || acme.Created.Before(before) || acme.Created.After(time.Now().Add(time.Minute)) {
		t.Fatalf("created tenant %+v", acme)
	}
	_, err := s.CreateTenant(ctx, "acme")
	wantCode(t, err, tidbro.ECONFLICT, "create duplicate tenant")
	beta := newTenant(t, s, "beta")
	if beta.ID == acme.ID {
		t.Fatalf("two tenants with ID %d", beta.ID)
	}

	got := must(s.Tenant(ctx, "acme"))(t)
	if !reflect.DeepEqual(got, acme) {
		t.Errorf("Tenant = %+v, want %+v", got, acme)
	}
	_, err = s.Tenant(ctx, "nope")
	wantCode(t, err, tidbro.ENOTFOUND, "unknown tenant")

	all := must(s.Tenants(ctx))(t)
	if !reflect.DeepEqual(all, []*tidbro.Tenant{acme, beta}) {
		t.Errorf("Tenants = %+v, want acme and beta", all)
	}
	if h := head(t, s, acme.ID); h != 0 {
		t.Errorf("Head of a new tenant = %d, want 0", h)
	}
	_, err = s.Head(ctx, beta.ID+1000)
	wantCode(t, err, tidbro.ENOTFOUND, "head of unknown tenant")
}

func testTokens(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	acme, beta := newTenant(t, s, "acme"), newTenant(t, s, "beta")
	hash1, hash2 := []byte("hash-of-secret-1"), []byte("hash-of-secret-2")

	tok := must(s.CreateToken(ctx, acme.ID, "ci", hash1))(t)
	if tok.ID == 0 || tok.TenantID != acme.ID || tok.Name != "ci" || tok.Revoked || tok.Created.IsZero() {
		t.Fatalf("created token %+v", tok)
	}
	other := must(s.CreateToken(ctx, beta.ID, "other", hash2))(t)

	got := must(s.TokenByHash(ctx, hash1))(t)
	if !reflect.DeepEqual(got, tok) {
		t.Errorf("TokenByHash = %+v, want %+v", got, tok)
	}
	if got := must(s.TokenByHash(ctx, hash2))(t); got.ID != other.ID || got.TenantID != beta.ID {
		t.Errorf("TokenByHash(hash2) = %+v, want beta's token", got)
	}
	_, err := s.TokenByHash(ctx, []byte("unknown"))
	wantCode(t, err, tidbro.ENOTFOUND, "unknown token")
	_, err = s.CreateToken(ctx, acme.ID, "again", hash2)
	wantCode(t, err, tidbro.ECONFLICT, "token with an existing hash")
	_, err = s.CreateToken(ctx, beta.ID+1000, "x", []byte("hash-3"))
	wantCode(t, err, tidbro.ENOTFOUND, "token of unknown tenant")

	if toks := must(s.Tokens(ctx, acme.ID))(t); !reflect.DeepEqual(toks, []*tidbro.Token{tok}) {
		t.Errorf("Tokens(acme) = %+v, want only %+v", toks, tok)
	}

	// Another tenant cannot revoke it.
	wantCode(t, s.RevokeToken(ctx, beta.ID, tok.ID), tidbro.ENOTFOUND, "revoke another tenant's token")
	must(s.TokenByHash(ctx, hash1))(t)

	noErr(t, s.RevokeToken(ctx, acme.ID, tok.ID))
	_, err = s.TokenByHash(ctx, hash1)
	wantCode(t, err, tidbro.ENOTFOUND, "revoked token")
	toks := must(s.Tokens(ctx, acme.ID))(t)
	if len(toks) != 1 || !toks[0].Revoked {
		t.Errorf("Tokens after revoke = %+v, want the token marked revoked", toks)
	}
	must(s.TokenByHash(ctx, hash2))(t) // beta's token is untouched
	wantCode(t, s.RevokeToken(ctx, acme.ID, other.ID+1000), tidbro.ENOTFOUND, "revoke unknown token")
}

func testUsers(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	acme, beta := newTenant(t, s, "acme"), newTenant(t, s, "beta")

	u := &tidbro.User{TenantID: acme.ID, Username: "alice", Email: "alice@example.com", DisplayName: "Alice", TimeZone: "Europe/Stockholm"}
	if created := must(s.PutUser(ctx, u))(t); !created {
		t.Fatal("PutUser of a new user: created = false")
	}
	if u.ID == 0 || u.Created.IsZero() || !u.Updated.Equal(u.Created) {
		t.Fatalf("PutUser filled %+v", u)
	}
	first := *u
	if got := must(s.User(ctx, acme.ID, "alice"))(t); !reflect.DeepEqual(got, u) {
		t.Errorf("User = %+v, want %+v", got, u)
	}

	time.Sleep(2 * time.Millisecond) // so that Updated can differ from Created
	u2 := &tidbro.User{TenantID: acme.ID, Username: "alice", Email: "a@example.com", DisplayName: "Alice A."}
	if created := must(s.PutUser(ctx, u2))(t); created {
		t.Fatal("PutUser of an existing user: created = true")
	}
	if u2.ID != first.ID || !u2.Created.Equal(first.Created) || !u2.Updated.After(first.Updated) {
		t.Errorf("update filled %+v, want ID %d, Created %v and a later Updated", u2, first.ID, first.Created)
	}
	got := must(s.User(ctx, acme.ID, "alice"))(t)
	if !reflect.DeepEqual(got, u2) {
		t.Errorf("User after update = %+v, want %+v", got, u2)
	}

	newUser(t, s, acme.ID, "bob")
	other := newUser(t, s, beta.ID, "alice")
	if other.ID == u.ID {
		t.Error("alice of two tenants share an ID")
	}
	if names := usernames(must(s.Users(ctx, acme.ID))(t)); !slices.Equal(names, []string{"alice", "bob"}) {
		t.Errorf("Users(acme) = %v, want [alice bob]", names)
	}
	if names := usernames(must(s.Users(ctx, beta.ID))(t)); !slices.Equal(names, []string{"alice"}) {
		t.Errorf("Users(beta) = %v, want [alice]", names)
	}
	_, err := s.User(ctx, acme.ID, "carol")
	wantCode(t, err, tidbro.ENOTFOUND, "unknown user")
	_, err = s.PutUser(ctx, &tidbro.User{TenantID: beta.ID + 1000, Username: "x"})
	wantCode(t, err, tidbro.ENOTFOUND, "user of unknown tenant")
	_, err = s.PutUser(ctx, &tidbro.User{TenantID: acme.ID, Username: ""})
	wantCode(t, err, tidbro.EINVALID, "user without a name")
}

func usernames(us []*tidbro.User) []string {
	out := []string{}
	for _, u := range us {
		out = append(out, u.Username)
	}
	return out
}

func testDeleteUser(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, bob := setup(t, s)
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	ev := put(t, s, event(tn.ID, alice.ID, "e1", start, time.Hour))
	put(t, s, contact(tn.ID, alice.ID, "c1"))
	put(t, s, &tidbro.Item{TenantID: tn.ID, OwnerID: alice.ID, Kind: tidbro.KindTask, AppID: "t1",
		ChangedBy: tidbro.OriginGroupware, Task: &tidbro.Task{Summary: "t1"}})
	put(t, s, event(tn.ID, bob.ID, "b1", start, time.Hour))
	_, err := s.PutAccount(ctx, &tidbro.Account{UserID: alice.ID, Name: "work", Kind: tidbro.AccountGraph, Password: "pw"})
	noErr(t, err)
	h := head(t, s, tn.ID)

	noErr(t, s.DeleteUser(ctx, tn.ID, "alice"))

	_, err = s.User(ctx, tn.ID, "alice")
	wantCode(t, err, tidbro.ENOTFOUND, "deleted user")
	if names := usernames(must(s.Users(ctx, tn.ID))(t)); !slices.Equal(names, []string{"bob"}) {
		t.Errorf("Users after delete = %v, want [bob]", names)
	}
	_, err = s.Account(ctx, alice.ID, "work")
	wantCode(t, err, tidbro.ENOTFOUND, "account of deleted user")
	if as := must(s.Accounts(ctx, alice.ID))(t); len(as) != 0 {
		t.Errorf("Accounts of deleted user = %d, want none", len(as))
	}
	_, err = s.Item(ctx, tn.ID, tidbro.KindEvent, "e1")
	wantCode(t, err, tidbro.ENOTFOUND, "item of deleted user")

	// Each item became a tombstone at a position of its own.
	cs := changes(t, s, tidbro.ChangeQuery{TenantID: tn.ID, Since: h})
	if len(cs) != 3 {
		t.Fatalf("feed after DeleteUser = %v, want alice's 3 items", describe(cs))
	}
	for i, c := range cs {
		it := c.Item
		if c.Seq != h+int64(i)+1 || it.Seq != c.Seq || !it.Deleted || c.Op != tidbro.OpDelete || !c.Latest() || it.Owner != "alice" || it.ChangedBy != tidbro.OriginApp || it.Version != 2 {
			t.Errorf("change %d = seq %d, %+v; want a tombstone by app at %d, version 2", i, c.Seq, it, h+int64(i)+1)
		}
		if it.AppID == "e1" && !reflect.DeepEqual(it.Event, ev.Event) {
			t.Errorf("tombstone lost its body: %+v", it.Event)
		}
	}
	if got := head(t, s, tn.ID); got != h+3 {
		t.Errorf("Head = %d, want %d", got, h+3)
	}
	must(s.Item(ctx, tn.ID, tidbro.KindEvent, "b1"))(t) // bob's item is untouched

	wantCode(t, s.DeleteUser(ctx, tn.ID, "alice"), tidbro.ENOTFOUND, "delete a deleted user")
	wantCode(t, s.DeleteUser(ctx, tn.ID, "carol"), tidbro.ENOTFOUND, "delete an unknown user")
	_, _, err = s.PutItem(ctx, event(tn.ID, alice.ID, "e2", start, time.Hour), tidbro.Precondition{})
	if err == nil {
		t.Fatal("PutItem owned by a deleted user succeeded")
	}

	// The user comes back in the same row; the items stay deleted.
	back := &tidbro.User{TenantID: tn.ID, Username: "alice"}
	if created := must(s.PutUser(ctx, back))(t); !created {
		t.Error("PutUser of a deleted user: created = false")
	}
	if back.ID != alice.ID {
		t.Errorf("revived user has ID %d, want %d", back.ID, alice.ID)
	}
	must(s.User(ctx, tn.ID, "alice"))(t)
	_, err = s.Item(ctx, tn.ID, tidbro.KindEvent, "e1")
	wantCode(t, err, tidbro.ENOTFOUND, "item of revived user")
	if it := put(t, s, event(tn.ID, alice.ID, "e1", start, time.Hour)); it.Version != 3 || it.ID != ev.ID {
		t.Errorf("revived item = version %d, ID %d; want 3, %d", it.Version, it.ID, ev.ID)
	}
}
