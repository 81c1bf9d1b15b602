package graph

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/tidbro/tidbro"
)

// SubscriptionLifetime is how long tidbro asks Graph to keep a
// subscription: under the 4,230 minutes Microsoft documents for Outlook
// events and contacts (later pages allow more; asking for less is always
// accepted), with room for clock skew.
const SubscriptionLifetime = 4200 * time.Minute

// subscriptions manages change-notification subscriptions on one
// mailbox's resource ("users/{id}/events"); a remote embeds it to be a
// tidbro.Subscriber.
type subscriptions struct {
	c        *Client
	user     string
	resource string
	now      func() time.Time
}

type subscriptionJSON struct {
	ID                       string `json:"id,omitempty"`
	Resource                 string `json:"resource,omitempty"`
	ChangeType               string `json:"changeType,omitempty"`
	NotificationURL          string `json:"notificationUrl,omitempty"`
	LifecycleNotificationURL string `json:"lifecycleNotificationUrl,omitempty"`
	ClientState              string `json:"clientState,omitempty"`
	ExpirationDateTime       string `json:"expirationDateTime"`
	LatestSupportedTLS       string `json:"latestSupportedTlsVersion,omitempty"`
}

func (s subscriptions) SubscriptionResource() string { return s.resource }

func (s subscriptions) expiry() time.Time {
	return s.now().UTC().Add(SubscriptionLifetime).Truncate(time.Second)
}

// Subscribe creates a subscription for every kind of change. Graph
// validates both URLs before it answers, so a server Microsoft cannot
// reach fails here, with Graph's reason.
func (s subscriptions) Subscribe(ctx context.Context, req tidbro.SubscriptionRequest) (*tidbro.Subscription, error) {
	body := subscriptionJSON{
		Resource: s.resource, ChangeType: "created,updated,deleted",
		NotificationURL: req.NotificationURL, LifecycleNotificationURL: req.LifecycleURL,
		ClientState: req.Secret, ExpirationDateTime: s.expiry().Format(time.RFC3339), LatestSupportedTLS: "v1_2",
	}
	var got subscriptionJSON
	if _, err := s.c.do(ctx, s.user, request{Method: http.MethodPost, Path: "/subscriptions", Body: body}, &got); err != nil {
		return nil, err
	}
	expires, err := time.Parse(time.RFC3339Nano, got.ExpirationDateTime)
	if err != nil || got.ID == "" {
		return nil, tidbro.Errorf(tidbro.EUNAVAILABLE, "graph: the new subscription has no id or expiry (%q, %q)", got.ID, got.ExpirationDateTime)
	}
	return &tidbro.Subscription{RemoteID: got.ID, Resource: s.resource, Expires: expires.UTC(), Renewed: s.now().UTC()}, nil
}

// Renew moves the expiry out again; Graph documents the same call as the
// answer to a reauthorizationRequired notice.
func (s subscriptions) Renew(ctx context.Context, remoteID string) (time.Time, error) {
	var got subscriptionJSON
	r := request{Method: http.MethodPatch, Path: "/subscriptions/" + url.PathEscape(remoteID), Body: subscriptionJSON{ExpirationDateTime: s.expiry().Format(time.RFC3339)}}
	if _, err := s.c.do(ctx, s.user, r, &got); err != nil {
		return time.Time{}, err
	}
	expires, err := time.Parse(time.RFC3339Nano, got.ExpirationDateTime)
	if err != nil {
		return time.Time{}, tidbro.Errorf(tidbro.EUNAVAILABLE, "graph: the renewed subscription has no expiry (%q)", got.ExpirationDateTime)
	}
	return expires.UTC(), nil
}

func (s subscriptions) Unsubscribe(ctx context.Context, remoteID string) error {
	_, err := s.c.do(ctx, s.user, request{Method: http.MethodDelete, Path: "/subscriptions/" + url.PathEscape(remoteID)}, nil)
	if tidbro.ErrorCode(err) == tidbro.ENOTFOUND {
		return nil
	}
	return err
}
