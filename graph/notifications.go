package graph

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/tidbro/tidbro"
)

// Lifecycle events Graph sends to a subscription's lifecycle URL.
const (
	lifecycleRemoved      = "subscriptionRemoved"     // Graph ended it: make a new one
	lifecycleReauthorize  = "reauthorizationRequired" // renew it, or Graph ends it
	lifecycleMissed       = "missed"                  // notifications were lost: look for changes
	maxNotificationBody   = 4 << 20
	maxValidationTokenLen = 4096
)

// NotificationStore is what the notification endpoint needs of the store.
type NotificationStore interface {
	tidbro.SubscriptionStore
	RequestRuns(ctx context.Context, q tidbro.PairQuery, request string, unpark bool) (int, error)
}

// Notifications is the endpoint for Graph's change and lifecycle
// notifications (serve it at both URLs). It answers the validation
// handshake, checks every notification's secret against its
// subscription, asks for a run of each pair that changed, and acts on
// lifecycle events (a removed subscription is forgotten and one due for
// reauthorization is marked expired, so the run that follows replaces or
// renews it). It only writes to the store, so Graph gets its answer
// within the three seconds it allows, and any instance can take it.
type Notifications struct {
	Store NotificationStore
	// Wake, when set, is told after runs were asked for (the local
	// scheduler's Wake).
	Wake func()
	Log  *slog.Logger
	Now  func() time.Time
}

// notification is one entry of a changeNotificationCollection (change or
// lifecycle: lifecycleEvent tells them apart).
type notification struct {
	SubscriptionID string `json:"subscriptionId"`
	ClientState    string `json:"clientState"`
	ChangeType     string `json:"changeType"`
	LifecycleEvent string `json:"lifecycleEvent"`
}

func (n *Notifications) log() *slog.Logger {
	if n.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return n.Log
}

func (n *Notifications) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "Graph notifications are POSTed", http.StatusMethodNotAllowed)
		return
	}
	// The handshake: Graph proves the URL is ours to use by having it echo
	// the token, as plain text, within ten seconds.
	if token := r.URL.Query().Get("validationToken"); token != "" {
		if len(token) > maxValidationTokenLen {
			http.Error(w, "validation token too long", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		io.WriteString(w, token)
		return
	}
	var body struct {
		Value []notification `json:"value"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, maxNotificationBody)).Decode(&body); err != nil {
		http.Error(w, "not a Graph notification collection", http.StatusBadRequest)
		return
	}
	ctx := r.Context()
	pairs := map[int64]*tidbro.Subscription{}
	for _, nt := range body.Value {
		sub, err := n.Store.SubscriptionByRemoteID(ctx, nt.SubscriptionID)
		switch {
		case tidbro.ErrorCode(err) == tidbro.ENOTFOUND:
			// Ended by us, or left over from a pair that is gone: it
			// expires by itself.
			n.log().Debug("notification for an unknown subscription", "subscription", nt.SubscriptionID)
			continue
		case err != nil:
			n.fail(w, err)
			return
		}
		if subtle.ConstantTimeCompare(tidbro.HashToken(nt.ClientState), sub.SecretHash) != 1 {
			n.log().Warn("a notification with the wrong clientState was ignored", "subscription", nt.SubscriptionID, "pair", sub.PairID)
			continue
		}
		switch nt.LifecycleEvent {
		case lifecycleRemoved:
			err = n.Store.DeleteSubscription(ctx, sub.PairID)
		case lifecycleReauthorize:
			sub.Expires = n.now()
			err = n.Store.PutSubscription(ctx, sub)
		}
		if err != nil {
			n.fail(w, err)
			return
		}
		if nt.LifecycleEvent != "" {
			n.log().Info("subscription lifecycle event", "event", nt.LifecycleEvent, "subscription", nt.SubscriptionID, "pair", sub.PairID)
		}
		pairs[sub.PairID] = sub
	}
	for id, sub := range pairs {
		if _, err := n.Store.RequestRuns(ctx, tidbro.PairQuery{TenantID: sub.TenantID, PairID: id}, tidbro.RequestRun, false); err != nil {
			n.fail(w, err)
			return
		}
	}
	if len(pairs) > 0 && n.Wake != nil {
		n.Wake()
	}
	w.WriteHeader(http.StatusAccepted)
}

func (n *Notifications) now() time.Time {
	if n.Now != nil {
		return n.Now()
	}
	return time.Now()
}

// fail answers 500: Graph delivers the notification again later.
func (n *Notifications) fail(w http.ResponseWriter, err error) {
	n.log().Error("graph notifications", "err", err)
	http.Error(w, "try again", http.StatusInternalServerError)
}
