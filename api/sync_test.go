package api

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
)

func TestSyncSurface(t *testing.T) {
	a := newTestAPI(t)
	ctx := context.Background()
	a.must(201, "PUT", "/v1/users/ann", `{}`)
	u := mustUser(t, a, "ann")
	a.must(201, "PUT", "/v1/users/ann/accounts/work", `{"kind":"caldav","url":"https://dav.example.com/","policy":{"ownership":"origin","kinds":["events","tasks"]}}`)
	pairs, err := a.store.Pairs(ctx, tidbro.PairQuery{TenantID: u.TenantID, UserID: u.ID})
	if err != nil || len(pairs) != 2 || pairs[0].Kind != tidbro.KindEvent || pairs[1].Kind != tidbro.KindTask {
		t.Fatalf("pairs of a caldav account for events and tasks: %v %v", pairs, err)
	}
	a.must(200, "PUT", "/v1/users/ann/accounts/work", `{"kind":"caldav","url":"https://dav.example.com/","policy":{"ownership":"origin","kinds":["event"]}}`)
	if pairs, _ := a.store.Pairs(ctx, tidbro.PairQuery{TenantID: u.TenantID, UserID: u.ID}); len(pairs) != 1 {
		t.Fatalf("dropping tasks from the policy left %d pairs", len(pairs))
	}

	// A groupware-born item is read-only for the app under ownership origin.
	gw := &tidbro.Item{TenantID: u.TenantID, Kind: tidbro.KindEvent, AppID: "gw-1", Type: tidbro.TypeGroupware, OwnerID: u.ID,
		ChangedBy: tidbro.OriginGroupware, Event: &tidbro.Event{Summary: "Dentist", Start: time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)}}
	if _, _, err := a.store.PutItem(ctx, gw, tidbro.Precondition{}); err != nil {
		t.Fatal(err)
	}
	if code, _ := a.must(409, "PUT", "/v1/users/ann/events/gw-1", `{"summary":"x","start":"2026-05-04T09:00:00Z"}`).errorCode(t); code != "conflict" {
		t.Fatalf("code %s", code)
	}
	a.must(409, "DELETE", "/v1/users/ann/events/gw-1", nil)
	a.must(200, "GET", "/v1/users/ann/events/gw-1", nil)
	// Under shared ownership the app may edit it.
	a.must(200, "PUT", "/v1/users/ann/accounts/work", `{"kind":"caldav","url":"https://dav.example.com/","policy":{"ownership":"shared"}}`)
	a.must(200, "PUT", "/v1/users/ann/events/gw-1", `{"summary":"Dentist (moved)","start":"2026-05-04T10:00:00Z","type":"groupware"}`)

	// Held deletions are listed and decided.
	pairs, _ = a.store.Pairs(ctx, tidbro.PairQuery{TenantID: u.TenantID, UserID: u.ID})
	item := mustItem(t, a, "gw-1")
	h := &tidbro.Hold{PairID: pairs[0].ID, ItemID: item.ID, Kind: tidbro.KindEvent, AppID: "gw-1", Side: "groupware"}
	if err := a.store.PutHold(ctx, h); err != nil {
		t.Fatal(err)
	}
	holds := a.must(200, "GET", "/v1/users/ann/holds", nil).json(t)["holds"].([]any)
	if len(holds) != 1 || holds[0].(map[string]any)["deletedOn"] != "groupware" {
		t.Fatalf("holds: %v", holds)
	}
	a.must(400, "PUT", fmt.Sprintf("/v1/users/ann/holds/%d", h.ID), `{"decision":"maybe"}`)
	a.must(204, "PUT", fmt.Sprintf("/v1/users/ann/holds/%d", h.ID), `{"decision":"restore"}`)
	if hs, _ := a.store.Holds(ctx, u.TenantID, u.ID); hs[0].Decision != tidbro.DecisionRestore {
		t.Fatalf("decision not stored: %+v", hs[0])
	}
	a.must(404, "PUT", "/v1/users/ann/holds/999999", `{"decision":"restore"}`)

	// The log pages newest first.
	var entries []tidbro.AuditEntry
	for i := range 5 {
		entries = append(entries, tidbro.AuditEntry{TenantID: u.TenantID, UserID: u.ID, PairID: pairs[0].ID, At: time.Now(),
			Action: "create-remote", Kind: tidbro.KindEvent, AppID: fmt.Sprintf("E%d", i), Rule: "new in the app → create in groupware"})
	}
	if err := a.store.AddAudit(ctx, entries); err != nil {
		t.Fatal(err)
	}
	page := a.must(200, "GET", "/v1/users/ann/log?limit=3", nil).json(t)
	got := page["entries"].([]any)
	if len(got) != 3 || got[0].(map[string]any)["appId"] != "E4" || page["next"] == nil {
		t.Fatalf("log page: %v", page)
	}
	page = a.must(200, "GET", "/v1/users/ann/log?limit=3&before="+page["next"].(string), nil).json(t)
	if got := page["entries"].([]any); len(got) != 2 || got[1].(map[string]any)["appId"] != "E0" {
		t.Fatalf("second log page: %v", page)
	}

	// The job mapping is validated and stored.
	if _, field := a.must(400, "PUT", "/v1/settings/job-mapping", `{"summary":"{{.Summary"}`).errorCode(t); field != "summary" {
		t.Fatalf("bad template field %q", field)
	}
	a.must(200, "PUT", "/v1/settings/job-mapping", `{"summary":"{{.Summary}} – {{.Extra.customer}}","url":"https://erp.example.com/jobs/{{.AppID}}"}`)
	if m := a.must(200, "GET", "/v1/settings/job-mapping", nil).json(t); m["url"] != "https://erp.example.com/jobs/{{.AppID}}" {
		t.Fatalf("mapping: %v", m)
	}
}

func mustItem(t *testing.T, a *testAPI, appID string) *tidbro.Item {
	it, err := a.store.Item(context.Background(), a.tenant.ID, tidbro.KindEvent, appID)
	if err != nil {
		t.Fatal(err)
	}
	return it
}
