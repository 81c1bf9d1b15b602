package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/tidbro/tidbro"
)

// keepSubscribed gives a pair whose remote can notify (tidbro.Subscriber)
// a live subscription after a successful run: it creates one, renews one
// past half its life, and replaces one for another resource. It never
// fails the run: without notifications the pair is still polled.
func (e *Engine) keepSubscribed(ctx context.Context, p *tidbro.Pair, remote tidbro.Remote) {
	sr, ok := remote.(tidbro.Subscriber)
	if !ok || e.Notify.NotificationURL == "" {
		return
	}
	if err := e.subscribe(ctx, p, sr); err != nil {
		e.log().Warn("change notifications are off for the pair until its next run; it is polled meanwhile", "pair", p.ID, "err", err)
	}
}

func (e *Engine) subscribe(ctx context.Context, p *tidbro.Pair, sr tidbro.Subscriber) error {
	now := e.now()
	sub, err := e.Store.Subscription(ctx, p.ID)
	switch {
	case tidbro.ErrorCode(err) == tidbro.ENOTFOUND:
		sub = nil
	case err != nil:
		return err
	}
	if sub != nil && sub.Resource != sr.SubscriptionResource() {
		if err := sr.Unsubscribe(ctx, sub.RemoteID); err != nil {
			return fmt.Errorf("ending the subscription to %s: %w", sub.Resource, err)
		}
		sub = nil
	}
	if sub != nil {
		if now.Before(sub.Renewed.Add(sub.Expires.Sub(sub.Renewed) / 2)) {
			return nil
		}
		expires, err := sr.Renew(ctx, sub.RemoteID)
		if err == nil {
			sub.Expires, sub.Renewed = expires, now
			return e.Store.PutSubscription(ctx, sub)
		}
		if tidbro.ErrorCode(err) != tidbro.ENOTFOUND {
			return fmt.Errorf("renewing subscription %s: %w", sub.RemoteID, err)
		}
		// Gone at the remote (expired while nothing ran): a new one.
	}
	req := e.Notify
	var hash []byte
	req.Secret, hash = tidbro.NewToken()
	created, err := sr.Subscribe(ctx, req)
	if err != nil {
		return fmt.Errorf("subscribing to %s: %w", sr.SubscriptionResource(), err)
	}
	created.PairID, created.SecretHash = p.ID, hash
	if err := e.Store.PutSubscription(ctx, created); err != nil {
		// Unrecorded, its notifications would be refused: end it now.
		return fmt.Errorf("recording subscription %s: %w", created.RemoteID, errors.Join(err, sr.Unsubscribe(context.WithoutCancel(ctx), created.RemoteID)))
	}
	e.log().Info("subscribed to change notifications", "pair", p.ID, "resource", created.Resource, "expires", created.Expires)
	return nil
}
