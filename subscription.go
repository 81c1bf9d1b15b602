package tidbro

import (
	"context"
	"time"
)

// Subscription is a remote's promise to tell tidbro when a pair's
// collection changes (a Graph change-notification subscription), so that
// a groupware change starts a run at once instead of at the next poll. A
// pair has at most one; the engine creates and renews it after runs, the
// notification endpoint finds it by RemoteID.
type Subscription struct {
	PairID   int64
	TenantID int64
	RemoteID string    // the remote's id of the subscription
	Resource string    // what it watches, as the remote names it
	Expires  time.Time // when the remote drops it unless renewed
	Renewed  time.Time // when it was created or last renewed
	// SecretHash is the SHA-256 of the secret every notification carries
	// (Graph's clientState): only the hash is kept.
	SecretHash []byte
}

// SubscriptionRequest is what a remote needs to notify tidbro.
type SubscriptionRequest struct {
	NotificationURL string // where change notifications go
	LifecycleURL    string // where notices about the subscription itself go (removed, missed, reauthorize)
	Secret          string // sent back in every notification
}

// Subscriber is implemented by remotes that can notify tidbro of changes.
type Subscriber interface {
	// Subscribe asks for notifications of changes to the collection for as
	// long as the remote allows; Resource, RemoteID and Expires of the
	// result are set.
	Subscribe(ctx context.Context, req SubscriptionRequest) (*Subscription, error)
	// Renew extends a subscription for as long as the remote allows and
	// returns its new expiry; ENOTFOUND when the remote no longer has it.
	Renew(ctx context.Context, remoteID string) (time.Time, error)
	// Unsubscribe ends a subscription; one that is gone is ended already.
	Unsubscribe(ctx context.Context, remoteID string) error
	// SubscriptionResource is what Subscribe would watch now: a
	// subscription for another resource (the pair was rebound) is replaced.
	SubscriptionResource() string
}

// SubscriptionStore keeps the pairs' subscriptions.
type SubscriptionStore interface {
	// PutSubscription creates or replaces the pair's subscription.
	PutSubscription(ctx context.Context, s *Subscription) error
	// Subscription returns a pair's subscription; ENOTFOUND when it has none.
	Subscription(ctx context.Context, pairID int64) (*Subscription, error)
	// SubscriptionByRemoteID finds a subscription by the remote's id, in
	// any tenant (a notification names only that); ENOTFOUND when unknown.
	SubscriptionByRemoteID(ctx context.Context, remoteID string) (*Subscription, error)
	// DeleteSubscription forgets a pair's subscription (none is fine).
	DeleteSubscription(ctx context.Context, pairID int64) error
}
