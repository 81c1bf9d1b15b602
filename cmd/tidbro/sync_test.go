package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/memremote"
	"github.com/tidbro/tidbro/secret"
	"github.com/tidbro/tidbro/sqlite"
)

func TestSyncCommand(t *testing.T) {
	data := t.TempDir()
	t.Setenv("TIDBRO_SECRET_KEY", "")
	t.Setenv("TIDBRO_DB", "")
	ctx := context.Background()
	cli := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append(args, "--data", data), &out, io.Discard)
		return out.String(), err
	}
	if _, err := cli("user", "add", "alice"); err != nil {
		t.Fatal(err)
	}
	// An account, its calendar pair and an appointment, as the API makes them.
	box, err := secret.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(data, "tidbro.db"), box)
	if err != nil {
		t.Fatal(err)
	}
	tn, _ := st.Tenant(ctx, tidbro.DefaultTenant)
	u, _ := st.User(ctx, tn.ID, "alice")
	acc := &tidbro.Account{TenantID: tn.ID, UserID: u.ID, Name: "work", Kind: tidbro.AccountCalDAV, URL: "https://dav.example.com/", Policy: tidbro.DefaultPolicy()}
	if _, err := st.PutAccount(ctx, acc); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutPair(ctx, &tidbro.Pair{AccountID: acc.ID, Kind: tidbro.KindEvent}); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(24 * time.Hour).Truncate(time.Hour)
	put := func(id string) {
		it := &tidbro.Item{TenantID: tn.ID, Kind: tidbro.KindEvent, AppID: id, OwnerID: u.ID, ChangedBy: tidbro.OriginApp,
			Event: &tidbro.Event{Summary: "Visit " + id, Start: start, End: start.Add(time.Hour)}}
		if _, _, err := st.PutItem(ctx, it, tidbro.Precondition{}); err != nil {
			t.Fatal(err)
		}
	}
	put("A1")
	st.Close()

	real := connectors[tidbro.AccountCalDAV]
	t.Cleanup(func() { connectors[tidbro.AccountCalDAV] = real })
	delete(connectors, tidbro.AccountCalDAV)
	if _, err := cli("sync"); err == nil || !strings.Contains(err.Error(), "1 of 1") {
		t.Fatalf("without a connector the run must fail: %v", err)
	}
	remote := memremote.New(memremote.Options{})
	connectors[tidbro.AccountCalDAV] = func(context.Context, *tidbro.Account, *tidbro.Pair, bool) (tidbro.Remote, error) { return remote, nil }

	out, err := cli("sync", "--dry-run")
	if err != nil || !strings.Contains(out, "would create-remote event A1") || remote.Len() != 0 {
		t.Fatalf("dry run: %v, %d remote items\n%s", err, remote.Len(), out)
	}
	out, err = cli("sync", "--user", "alice")
	if err != nil || !strings.Contains(out, "alice/work/events: ok") || !strings.Contains(out, "groupware: 1 created") || remote.Len() != 1 {
		t.Fatalf("sync: %v\n%s", err, out)
	}
	if out, err = cli("sync", "--account", "other"); err != nil || !strings.Contains(out, "nothing to synchronise") {
		t.Fatalf("an unknown account: %v\n%s", err, out)
	}
	// A remote that refuses an item: the run goes on, the exit is non-zero.
	remote.SetFault(func(op memremote.Op, _ string) memremote.FaultAction {
		if op == memremote.OpCreate {
			return memremote.Reject
		}
		return memremote.None
	})
	st, _ = sqlite.Open(ctx, filepath.Join(data, "tidbro.db"), box)
	put("A2")
	st.Close()
	out, err = cli("sync", "--full")
	if err == nil || !strings.Contains(out, "error: event A2") || !strings.Contains(out, "1 errors") {
		t.Fatalf("a refused item: %v\n%s", err, out)
	}
	// The log tells what happened and why.
	out, err = cli("log", "alice")
	if err != nil || !strings.Contains(out, "create-remote") || !strings.Contains(out, "new in the app") || !strings.Contains(out, "ERROR") {
		t.Fatalf("log: %v\n%s", err, out)
	}
	if out, err := cli("sync", "--since", "yesterday"); err == nil {
		t.Fatalf("a bad --since must fail:\n%s", out)
	}
}
