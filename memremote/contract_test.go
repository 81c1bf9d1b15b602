package memremote_test

import (
	"testing"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/memremote"
	"github.com/tidbro/tidbro/remotetest"
)

func TestContract(t *testing.T) {
	flavours := []struct {
		name string
		kind tidbro.Kind
		opts memremote.Options
	}{
		{"caldav/event", tidbro.KindEvent, memremote.Options{}},
		{"caldav/job", tidbro.KindJob, memremote.Options{}},
		{"caldav/task", tidbro.KindTask, memremote.Options{Kinds: []tidbro.Kind{tidbro.KindTask}}},
		{"carddav/contact", tidbro.KindContact, memremote.Options{Kinds: []tidbro.Kind{tidbro.KindContact}}},
		{"graph/event", tidbro.KindEvent, memremote.Options{ServerIDs: true, WindowedRemovals: true, MaxBatch: 20, FieldLimits: map[string]int{"summary": 255}}},
		// Limited servers: no sync tokens, no private flag, short fields.
		{"limited/event", tidbro.KindEvent, memremote.Options{NoSyncTokens: true, NoPrivate: true, MaxBatch: 7,
			FieldLimits: map[string]int{"summary": 20, "location": 10}}},
		{"limited/contact", tidbro.KindContact, memremote.Options{Kinds: []tidbro.Kind{tidbro.KindContact}, NoSyncTokens: true, NoPrivate: true,
			FieldLimits: map[string]int{"displayName": 12, "note": 5}}},
	}
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			remotetest.Run(t, func(t *testing.T) remotetest.Harness {
				r := memremote.New(f.opts)
				return remotetest.Harness{Remote: r, Peer: r.Peer(), Kind: f.kind}
			})
		})
	}
}
