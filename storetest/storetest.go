// Package storetest is the contract suite every tidbro.Store passes. The
// sqlite and postgres packages run it from their tests.
package storetest

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
)

// Run runs the suite. Each subtest calls open for a fresh, empty store built
// with Sealer{} as its sealer, and closes it when done; open registers any
// further cleanup with t.Cleanup. The store must have a DB() *sql.DB method,
// through which the suite checks that passwords are sealed at rest.
func Run(t *testing.T, open func(t *testing.T) tidbro.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s tidbro.Store)
	}{
		{"Tenants", testTenants},
		{"Tokens", testTokens},
		{"Users", testUsers},
		{"DeleteUser", testDeleteUser},
		{"ItemRoundTrip", testItemRoundTrip},
		{"IdempotentPut", testIdempotentPut},
		{"Versions", testVersions},
		{"Preconditions", testPreconditions},
		{"DeleteAndRevive", testDeleteAndRevive},
		{"InvalidItems", testInvalidItems},
		{"Feed", testFeed},
		{"OwnerFeed", testOwnerFeed},
		{"ItemsWindow", testItemsWindow},
		{"TasksWindow", testTasksWindow},
		{"ItemsPaging", testItemsPaging},
		{"Accounts", testAccounts},
		{"AccountByID", testAccountByID},
		{"ItemsByID", testItemsByID},
		{"Pairs", testPairs},
		{"DeletePair", testDeletePair},
		{"LinkFields", testLinkFields},
		{"LinksBulk", testLinksBulk},
		{"PutLinks", testPutLinks},
		{"Runs", testRuns},
		{"Audit", testAudit},
		{"Holds", testHolds},
		{"Settings", testSettings},
		{"AppPasswords", testAppPasswords},
		{"DAVObjects", testDAVObjects},
		{"DAVNames", testDAVNames},
		{"PutDAVItem", testPutDAVItem},
		{"CollectionHead", testCollectionHead},
		{"ChangesKinds", testChangesKinds},
		{"ScheduleLease", testScheduleLease},
		{"ClaimOrder", testClaimOrder},
		{"Parked", testParked},
		{"ReleaseRequest", testReleaseRequest},
		{"RequestMerge", testRequestMerge},
		{"RequestSelection", testRequestSelection},
		{"LeasePair", testLeasePair},
		{"ScheduleCounts", testScheduleCounts},
		{"UsersChangedSince", testUsersChangedSince},
		{"ScheduleDeleted", testScheduleDeleted},
		{"Subscriptions", testSubscriptions},
		{"Files", testFiles},
		{"FileMakeCollection", testMakeCollection},
		{"FilePut", testPutFile},
		{"FileLimits", testFileLimits},
		{"FileIsolation", testFileIsolation},
		{"FileDelete", testDeleteFile},
		{"FileCopy", testCopyFile},
		{"FileMove", testMoveFile},
		{"FileProps", testFileProps},
		{"FileConcurrency", testFileConcurrency},
		{"FileDeleteUser", testFileDeleteUser},
		{"Locks", testLocks},
		{"LockWrites", testLockWrites},
		{"LockRemoval", testLockRemoval},
		{"LockRefreshUnlock", testLockRefreshUnlock},
		{"LockExpiry", testLockExpiry},
		{"LockIsolation", testLockIsolation},
		{"LockConcurrency", testLockConcurrency},
		{"LockDeleteUser", testLockDeleteUser},
		{"ConcurrentWriters", testConcurrentWriters},
		{"ConcurrentFailingWriter", testConcurrentFailingWriter},
		{"ConcurrentIfMatch", testConcurrentIfMatch},
		{"ConcurrentClaims", testConcurrentClaims},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

// Sealer is the sealer the suite's stores use: a reversible scrambling that
// makes the stored bytes recognisably different from the plaintext.
type Sealer struct{}

const sealPrefix = "sealed:"

func (Sealer) Seal(plaintext []byte) ([]byte, error) {
	out := []byte(sealPrefix)
	for _, b := range plaintext {
		out = append(out, b^0x5a)
	}
	return out, nil
}

func (Sealer) Open(ciphertext []byte) ([]byte, error) {
	rest, ok := bytes.CutPrefix(ciphertext, []byte(sealPrefix))
	if !ok {
		return nil, errors.New("storetest: not sealed by storetest.Sealer")
	}
	out := make([]byte, len(rest))
	for i, b := range rest {
		out[i] = b ^ 0x5a
	}
	return out, nil
}

// rawDB is the database behind a store, for checks below the interface.
func rawDB(t *testing.T, s tidbro.Store) *sql.DB {
	t.Helper()
	d, ok := s.(interface{ DB() *sql.DB })
	if !ok {
		t.Fatalf("%T has no DB() *sql.DB method; the suite needs it to check secrets at rest", s)
	}
	return d.DB()
}

// must(f())(t) returns f's value or fails the test with f's error.
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantCode fails unless err carries the tidbro error code.
func wantCode(t *testing.T, err error, code, what string) {
	t.Helper()
	if got := tidbro.ErrorCode(err); got != code {
		t.Fatalf("%s: got error %v (code %q), want code %q", what, err, got, code)
	}
}

func newTenant(t *testing.T, s tidbro.Store, name string) *tidbro.Tenant {
	t.Helper()
	return must(s.CreateTenant(t.Context(), name))(t)
}

func newUser(t *testing.T, s tidbro.Store, tenantID int64, username string) *tidbro.User {
	t.Helper()
	u := &tidbro.User{TenantID: tenantID, Username: username, Email: username + "@example.com"}
	if _, err := s.PutUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

// setup returns a tenant with the users alice and bob.
func setup(t *testing.T, s tidbro.Store) (tn *tidbro.Tenant, alice, bob *tidbro.User) {
	t.Helper()
	tn = newTenant(t, s, "acme")
	return tn, newUser(t, s, tn.ID, "alice"), newUser(t, s, tn.ID, "bob")
}

// event returns a plain one-off event item.
func event(tenantID, ownerID int64, appID string, start time.Time, d time.Duration) *tidbro.Item {
	return &tidbro.Item{
		TenantID: tenantID, OwnerID: ownerID, Kind: tidbro.KindEvent, AppID: appID, Type: "appointment",
		ChangedBy: tidbro.OriginApp,
		Event:     &tidbro.Event{Summary: appID, Start: start, End: start.Add(d)},
	}
}

func contact(tenantID, ownerID int64, appID string) *tidbro.Item {
	return &tidbro.Item{
		TenantID: tenantID, OwnerID: ownerID, Kind: tidbro.KindContact, AppID: appID,
		ChangedBy: tidbro.OriginApp,
		Contact:   &tidbro.Contact{DisplayName: appID},
	}
}

func put(t *testing.T, s tidbro.Store, it *tidbro.Item) *tidbro.Item {
	t.Helper()
	stored, changed, err := s.PutItem(t.Context(), it, tidbro.Precondition{})
	if err != nil {
		t.Fatalf("put %s/%s: %v", it.Kind, it.AppID, err)
	}
	if !changed {
		t.Fatalf("put %s/%s: changed = false, want true", it.Kind, it.AppID)
	}
	return stored
}

func head(t *testing.T, s tidbro.Store, tenantID int64) int64 {
	t.Helper()
	return must(s.Head(t.Context(), tenantID))(t)
}

// changes reads the whole feed after since, page by page.
func changes(t *testing.T, s tidbro.Store, q tidbro.ChangeQuery) []tidbro.Change {
	t.Helper()
	var all []tidbro.Change
	for {
		cs := must(s.Changes(t.Context(), q))(t)
		all = append(all, cs...)
		if len(cs) == 0 {
			return all
		}
		q.Since = cs[len(cs)-1].Seq
	}
}

// describe renders a feed compactly for comparisons and failure messages:
// "appID@seq", with "-" for deletions and "~" for departures.
func describe(cs []tidbro.Change) []string {
	out := []string{}
	for _, c := range cs {
		mark := map[tidbro.ChangeOp]string{tidbro.OpUpsert: "", tidbro.OpDelete: "-", tidbro.OpDepart: "~"}[c.Op]
		out = append(out, fmt.Sprintf("%s%s@%d", mark, c.Item.AppID, c.Seq))
	}
	return out
}

func appIDs(items []*tidbro.Item) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, it.AppID)
	}
	return out
}
