package storetest

import (
	"bytes"
	"testing"

	"github.com/tidbro/tidbro"
)

func testSubscriptions(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, bob := setup(t, s)
	pa := newPair(t, s, newAccount(t, s, alice, "work"), tidbro.KindEvent)
	pb := newPair(t, s, newAccount(t, s, bob, "work"), tidbro.KindEvent)

	_, err := s.Subscription(ctx, pa.ID)
	wantCode(t, err, tidbro.ENOTFOUND, "subscription of a pair without one")
	wantCode(t, s.PutSubscription(ctx, &tidbro.Subscription{PairID: 1 << 40, RemoteID: "x", SecretHash: []byte{1}}), tidbro.ENOTFOUND, "subscription of no pair")
	wantCode(t, s.PutSubscription(ctx, &tidbro.Subscription{PairID: pa.ID, SecretHash: []byte{1}}), tidbro.EINVALID, "subscription without a remote id")

	sub := &tidbro.Subscription{PairID: pa.ID, RemoteID: "sub-1", Resource: "users/a/events", Expires: micro(30), Renewed: micro(1), SecretHash: []byte("hash-1")}
	noErr(t, s.PutSubscription(ctx, sub))
	if sub.TenantID != tn.ID {
		t.Errorf("PutSubscription filled tenant %d, want the pair's %d", sub.TenantID, tn.ID)
	}
	noErr(t, s.PutSubscription(ctx, &tidbro.Subscription{PairID: pb.ID, RemoteID: "sub-2", Resource: "users/b/events", Expires: micro(40), Renewed: micro(2), SecretHash: []byte("hash-2")}))

	got := must(s.SubscriptionByRemoteID(ctx, "sub-1"))(t)
	if got.PairID != pa.ID || got.TenantID != tn.ID || got.Resource != "users/a/events" || !got.Expires.Equal(micro(30)) ||
		!got.Renewed.Equal(micro(1)) || !bytes.Equal(got.SecretHash, []byte("hash-1")) {
		t.Errorf("SubscriptionByRemoteID = %+v, want %+v", got, sub)
	}
	_, err = s.SubscriptionByRemoteID(ctx, "sub-3")
	wantCode(t, err, tidbro.ENOTFOUND, "unknown subscription")

	// A renewal or a new subscription replaces the pair's one.
	noErr(t, s.PutSubscription(ctx, &tidbro.Subscription{PairID: pa.ID, RemoteID: "sub-3", Resource: "users/a/calendars/c/events", Expires: micro(50), Renewed: micro(3), SecretHash: []byte("hash-3")}))
	_, err = s.SubscriptionByRemoteID(ctx, "sub-1")
	wantCode(t, err, tidbro.ENOTFOUND, "a replaced subscription")
	if got := must(s.Subscription(ctx, pa.ID))(t); got.RemoteID != "sub-3" || !got.Expires.Equal(micro(50)) || got.Resource != "users/a/calendars/c/events" {
		t.Errorf("after replacing: %+v", got)
	}

	noErr(t, s.DeleteSubscription(ctx, pa.ID))
	noErr(t, s.DeleteSubscription(ctx, pa.ID))
	_, err = s.Subscription(ctx, pa.ID)
	wantCode(t, err, tidbro.ENOTFOUND, "a deleted subscription")

	// Deleting the pair deletes its subscription.
	noErr(t, s.DeletePair(ctx, pb.ID))
	_, err = s.SubscriptionByRemoteID(ctx, "sub-2")
	wantCode(t, err, tidbro.ENOTFOUND, "the subscription of a deleted pair")
}
