package engine

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/memremote"
)

// notifyingRemote is a memremote that grants subscriptions of a fixed
// lifetime, as Graph does.
type notifyingRemote struct {
	*memremote.Remote
	now      func() time.Time
	resource string
	live     map[string]time.Time // subscription → expiry
	secrets  map[string]string
	calls    []string
	n        int
	refuse   error // Subscribe fails with it
}

const grantedLifetime = 70 * time.Hour

func (r *notifyingRemote) SubscriptionResource() string { return r.resource }

func (r *notifyingRemote) Subscribe(_ context.Context, req tidbro.SubscriptionRequest) (*tidbro.Subscription, error) {
	r.calls = append(r.calls, "subscribe "+r.resource)
	if r.refuse != nil {
		return nil, r.refuse
	}
	r.n++
	id := fmt.Sprintf("sub-%d", r.n)
	r.live[id], r.secrets[id] = r.now().Add(grantedLifetime), req.Secret
	return &tidbro.Subscription{RemoteID: id, Resource: r.resource, Expires: r.live[id], Renewed: r.now()}, nil
}

func (r *notifyingRemote) Renew(_ context.Context, id string) (time.Time, error) {
	r.calls = append(r.calls, "renew "+id)
	if _, ok := r.live[id]; !ok {
		return time.Time{}, tidbro.Errorf(tidbro.ENOTFOUND, "no subscription %s", id)
	}
	r.live[id] = r.now().Add(grantedLifetime)
	return r.live[id], nil
}

func (r *notifyingRemote) Unsubscribe(_ context.Context, id string) error {
	r.calls = append(r.calls, "unsubscribe "+id)
	delete(r.live, id)
	return nil
}

// A pair on a remote that notifies keeps one live subscription: made on
// the first run, renewed past half its life, replaced when the remote lost
// it or the pair watches another resource, and never a reason for a run
// to fail.
func TestSubscriptions(t *testing.T) {
	h := newHarness(t, tidbro.DefaultPolicy(), memremote.Options{}, "alice")
	nr := &notifyingRemote{Remote: h.remote("alice"), now: func() time.Time { return h.now }, resource: "users/alice/events",
		live: map[string]time.Time{}, secrets: map[string]string{}}
	h.eng.Connect = func(context.Context, *tidbro.Account, *tidbro.Pair, bool) (tidbro.Remote, error) { return nr, nil }
	pair := h.pairs["alice"].ID
	stored := func() *tidbro.Subscription {
		t.Helper()
		s, err := h.store.Subscription(h.ctx, pair)
		if tidbro.ErrorCode(err) == tidbro.ENOTFOUND {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	step := func(what string, advance time.Duration, wantCalls ...string) *tidbro.Subscription {
		t.Helper()
		h.now = h.now.Add(advance)
		nr.calls = nil
		if res := h.sync("alice", Options{}); res.Run.Status != tidbro.RunOK {
			t.Fatalf("%s: run %s: %s", what, res.Run.Status, res.Run.Error)
		}
		if !slices.Equal(nr.calls, wantCalls) {
			t.Fatalf("%s: calls %q, want %q", what, nr.calls, wantCalls)
		}
		return stored()
	}

	if s := step("no notification URL", 0); s != nil {
		t.Fatalf("subscribed without a notification URL: %+v", s)
	}
	h.eng.Notify = tidbro.SubscriptionRequest{NotificationURL: "https://tidbro.example/webhooks/graph", LifecycleURL: "https://tidbro.example/webhooks/graph/lifecycle"}
	nr.refuse = tidbro.Errorf(tidbro.EINVALID, "validation failed")
	if s := step("the remote refuses", time.Minute, "subscribe users/alice/events"); s != nil {
		t.Fatalf("a refused subscription is stored: %+v", s)
	}
	nr.refuse = nil
	s := step("first", time.Minute, "subscribe users/alice/events")
	if s == nil || s.RemoteID != "sub-1" || !s.Expires.Equal(nr.live["sub-1"]) || s.Resource != "users/alice/events" {
		t.Fatalf("stored %+v, remote has %v", s, nr.live)
	}
	if !bytes.Equal(s.SecretHash, tidbro.HashToken(nr.secrets["sub-1"])) || nr.secrets["sub-1"] == "" {
		t.Fatal("the stored hash is not of the secret the remote was given")
	}
	step("an hour later", time.Hour)
	s = step("past half its life", 34*time.Hour, "renew sub-1")
	if s.RemoteID != "sub-1" || !s.Expires.Equal(h.now.Add(grantedLifetime)) {
		t.Fatalf("after renewal: %+v", s)
	}
	delete(nr.live, "sub-1") // the remote dropped it
	s = step("lost at the remote", 36*time.Hour, "renew sub-1", "subscribe users/alice/events")
	if s.RemoteID != "sub-2" {
		t.Fatalf("after the remote lost it: %+v", s)
	}
	nr.resource = "users/alice-2/events"
	s = step("rebound", time.Minute, "unsubscribe sub-2", "subscribe users/alice-2/events")
	if s.RemoteID != "sub-3" || s.Resource != "users/alice-2/events" || len(nr.live) != 1 {
		t.Fatalf("after rebinding: %+v, remote has %v", s, nr.live)
	}
	// A reauthorization notice marks it expired: the next run renews.
	s.Expires = h.now
	if err := h.store.PutSubscription(h.ctx, s); err != nil {
		t.Fatal(err)
	}
	step("reauthorization required", time.Minute, "renew sub-3")
}
