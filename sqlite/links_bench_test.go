package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/sqlite"
	"github.com/tidbro/tidbro/storetest"
)

// BenchmarkPutLinks writes a first run's links as the engine does: the
// intents of 100 creates in one batch, then their results (remote id,
// etag, a base of about a kilobyte) in another. ns/link is per link write.
func BenchmarkPutLinks(b *testing.B) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), storetest.Sealer{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	tn, err := s.CreateTenant(ctx, "acme")
	if err != nil {
		b.Fatal(err)
	}
	u := &tidbro.User{TenantID: tn.ID, Username: "alice"}
	if _, err := s.PutUser(ctx, u); err != nil {
		b.Fatal(err)
	}
	acc := &tidbro.Account{TenantID: tn.ID, UserID: u.ID, Name: "dav", Kind: tidbro.AccountCalDAV, URL: "http://dav.invalid/", Policy: tidbro.DefaultPolicy()}
	if _, err := s.PutAccount(ctx, acc); err != nil {
		b.Fatal(err)
	}
	pair := &tidbro.Pair{AccountID: acc.ID, Kind: tidbro.KindEvent}
	if _, err := s.PutPair(ctx, pair); err != nil {
		b.Fatal(err)
	}
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	base := []byte(`{"summary":"` + strings.Repeat("x", 1000) + `"}`)
	const batch = 100
	n := 0
	for b.Loop() {
		links := make([]*tidbro.Link, batch)
		for j := range links {
			it := &tidbro.Item{TenantID: tn.ID, OwnerID: u.ID, Kind: tidbro.KindEvent, AppID: fmt.Sprintf("e%d", n),
				ChangedBy: tidbro.OriginApp, Event: &tidbro.Event{Summary: fmt.Sprint(n), Start: start, End: start.Add(time.Hour)}}
			b.StopTimer()
			stored, _, err := s.PutItem(ctx, it, tidbro.Precondition{})
			b.StartTimer()
			if err != nil {
				b.Fatal(err)
			}
			links[j] = &tidbro.Link{PairID: pair.ID, ItemID: stored.ID, Origin: tidbro.OriginApp, Key: fmt.Sprintf("tidbro-%d-%d", pair.ID, stored.ID), Pending: tidbro.PendingCreate}
			n++
		}
		if err := s.PutLinks(ctx, links); err != nil {
			b.Fatal(err)
		}
		for _, l := range links {
			l.RemoteID, l.RemoteETag, l.Pending = l.Key+".ics", `"etag-`+l.Key+`"`, tidbro.PendingCreated
			l.AppVersion, l.AppHash, l.RemoteHash, l.Base = 1, "hash-"+l.Key, "rhash-"+l.Key, base
			l.SpanFrom, l.SpanTo, l.Synced = start, start.Add(time.Hour), start
		}
		if err := s.PutLinks(ctx, links); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(2*n), "ns/link")
}
