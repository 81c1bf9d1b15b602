package graph

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/graph/graphtest"
	"github.com/tidbro/tidbro/sqlite"
	"github.com/tidbro/tidbro/storetest"
)

// notifyEnv is a fake Graph, a SQLite store with alice's Graph pair, and
// tidbro's notification endpoint on a loopback server.
type notifyEnv struct {
	*fakeTenant
	cal   *Calendar
	store tidbro.Store
	pair  *tidbro.Pair
	url   string
	wakes atomic.Int32
}

func newNotifyEnv(t *testing.T) *notifyEnv {
	f := newFake(t)
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "t.db"), storetest.Sealer{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := t.Context()
	tn, err := st.CreateTenant(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	u := &tidbro.User{TenantID: tn.ID, Username: "alice"}
	if _, err := st.PutUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	a := &tidbro.Account{TenantID: tn.ID, UserID: u.ID, Name: "outlook", Kind: tidbro.AccountGraph, Policy: tidbro.DefaultPolicy()}
	if _, err := st.PutAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	p := &tidbro.Pair{TenantID: tn.ID, AccountID: a.ID, UserID: u.ID, Kind: tidbro.KindEvent, RemoteID: f.user + "/"}
	if _, err := st.PutPair(ctx, p); err != nil {
		t.Fatal(err)
	}
	env := &notifyEnv{fakeTenant: f, cal: NewCalendar(f.client, f.user, ""), store: st, pair: p}
	srv := httptest.NewServer(&Notifications{Store: st, Wake: func() { env.wakes.Add(1) }})
	t.Cleanup(srv.Close)
	env.url = srv.URL
	return env
}

func (env *notifyEnv) subscribe(t *testing.T) (*tidbro.Subscription, string) {
	t.Helper()
	secret, hash := tidbro.NewToken()
	sub, err := env.cal.Subscribe(t.Context(), tidbro.SubscriptionRequest{NotificationURL: env.url + "/n", LifecycleURL: env.url + "/l", Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	sub.PairID, sub.SecretHash = env.pair.ID, hash
	if err := env.store.PutSubscription(t.Context(), sub); err != nil {
		t.Fatal(err)
	}
	return sub, secret
}

// request returns the run waiting for the pair, and clears it.
func (env *notifyEnv) request(t *testing.T) string {
	t.Helper()
	s, err := env.store.Schedule(t.Context(), env.pair.ID)
	if err != nil {
		t.Fatal(err)
	}
	if s.Request != "" {
		if _, err := env.store.LeasePair(t.Context(), env.pair.ID, "test", time.Now(), time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := env.store.ReleasePair(t.Context(), s, "test"); err != nil {
			t.Fatal(err)
		}
	}
	return s.Request
}

// Subscribing passes Graph's validation handshake on tidbro's endpoint;
// renewal moves the expiry within Outlook's limit; an endpoint that does
// not echo the token is refused with Graph's reason.
func TestSubscriptionLifecycle(t *testing.T) {
	env := newNotifyEnv(t)
	ctx := t.Context()
	sub, _ := env.subscribe(t)
	if sub.Resource != "users/"+env.user+"/events" || sub.Expires.After(time.Now().Add(graphtest.MaxSubscriptionLifetime)) ||
		sub.Expires.Before(time.Now().Add(SubscriptionLifetime-time.Minute)) {
		t.Fatalf("subscription %+v", sub)
	}
	if subs := env.srv.Subscriptions(); len(subs) != 1 || subs[0].ID != sub.RemoteID || !subs[0].Expires.Equal(sub.Expires) {
		t.Fatalf("Graph has %+v, tidbro %+v", subs, sub)
	}
	time.Sleep(1100 * time.Millisecond) // expiries are in whole seconds
	exp, err := env.cal.Renew(ctx, sub.RemoteID)
	if err != nil || !exp.After(sub.Expires) || !env.srv.Subscriptions()[0].Expires.Equal(exp) {
		t.Fatalf("renew: %v %v (was %v)", exp, err, sub.Expires)
	}
	if err := env.cal.Unsubscribe(ctx, sub.RemoteID); err != nil || len(env.srv.Subscriptions()) != 0 {
		t.Fatalf("unsubscribe: %v, Graph has %+v", err, env.srv.Subscriptions())
	}
	if err := env.cal.Unsubscribe(ctx, sub.RemoteID); err != nil {
		t.Fatalf("unsubscribing twice: %v", err)
	}
	if _, err := env.cal.Renew(ctx, sub.RemoteID); tidbro.ErrorCode(err) != tidbro.ENOTFOUND {
		t.Fatalf("renewing a gone subscription: %v", err)
	}

	mute := httptest.NewServer(http.NotFoundHandler())
	defer mute.Close()
	_, err = env.cal.Subscribe(ctx, tidbro.SubscriptionRequest{NotificationURL: mute.URL, Secret: "s"})
	if err == nil || !strings.Contains(err.Error(), "validation") {
		t.Fatalf("subscribing with an endpoint that fails the handshake: %v", err)
	}
}

// The endpoint asks for a run of the pair a genuine notification names,
// ignores forged and unknown ones, and acts on lifecycle events.
func TestNotificationEndpoint(t *testing.T) {
	env := newNotifyEnv(t)
	ctx := t.Context()
	env.request(t) // the pair's first run, asked for on creation
	sub, secret := env.subscribe(t)

	env.srv.PutEvent(env.user, graphtest.Event{Subject: "Lunch", Type: "singleInstance",
		Start: graphtest.DateTimeTimeZone{DateTime: "2030-01-02T12:00:00.0000000", TimeZone: "UTC"},
		End:   graphtest.DateTimeTimeZone{DateTime: "2030-01-02T13:00:00.0000000", TimeZone: "UTC"}})
	deadline := time.Now().Add(10 * time.Second)
	for env.srv.Subscriptions()[0].Delivered == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := env.request(t); got != tidbro.RequestRun || env.wakes.Load() == 0 {
		t.Fatalf("after a change notification: request %q, %d wakes", got, env.wakes.Load())
	}

	post := func(body string) int {
		t.Helper()
		res, err := http.Post(env.url+"/n", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	note := func(id, state, lifecycle string) string {
		return fmt.Sprintf(`{"value":[{"subscriptionId":%q,"clientState":%q,"changeType":"updated","lifecycleEvent":%q}]}`, id, state, lifecycle)
	}
	for what, body := range map[string]string{
		"forged":  note(sub.RemoteID, "guess", ""),
		"unknown": note("no-such-subscription", secret, ""),
	} {
		if status := post(body); status != http.StatusAccepted {
			t.Errorf("%s notification: %d", what, status)
		}
		if got := env.request(t); got != "" {
			t.Errorf("%s notification asked for a run: %q", what, got)
		}
	}
	if status := post("not json"); status != http.StatusBadRequest {
		t.Errorf("garbage: %d", status)
	}

	if status := post(note(sub.RemoteID, secret, "missed")); status != http.StatusAccepted || env.request(t) != tidbro.RequestRun {
		t.Errorf("missed: %d, no run asked for", status)
	}
	if status := post(note(sub.RemoteID, secret, "reauthorizationRequired")); status != http.StatusAccepted || env.request(t) != tidbro.RequestRun {
		t.Errorf("reauthorizationRequired: %d, no run asked for", status)
	}
	if got, err := env.store.Subscription(ctx, env.pair.ID); err != nil || got.Expires.After(time.Now()) {
		t.Errorf("after reauthorizationRequired the subscription is not due for renewal: %+v %v", got, err)
	}
	if status := post(note(sub.RemoteID, secret, "subscriptionRemoved")); status != http.StatusAccepted || env.request(t) != tidbro.RequestRun {
		t.Errorf("subscriptionRemoved: %d, no run asked for", status)
	}
	if _, err := env.store.Subscription(ctx, env.pair.ID); tidbro.ErrorCode(err) != tidbro.ENOTFOUND {
		t.Errorf("a removed subscription is still kept: %v", err)
	}
}

// Contact folders and To Do lists are watched too: a new contact or task
// asks for a run of the pair.
func TestContactAndTaskNotifications(t *testing.T) {
	for _, tc := range []struct {
		kind tidbro.Kind
		open func(env *notifyEnv) (tidbro.Remote, string)
		item *tidbro.RemoteItem
	}{
		{tidbro.KindContact, func(env *notifyEnv) (tidbro.Remote, string) {
			id := env.srv.ContactFolderID(env.user)
			return NewContactFolder(env.client, env.user, id), "users/" + env.user + "/contactFolders/" + id + "/contacts"
		}, &tidbro.RemoteItem{Kind: tidbro.KindContact, Contact: &tidbro.Contact{DisplayName: "Ada Lovelace", GivenName: "Ada", FamilyName: "Lovelace"}}},
		{tidbro.KindTask, func(env *notifyEnv) (tidbro.Remote, string) {
			id := env.srv.DefaultTodoList(env.user)
			return NewTaskList(env.client, env.user, id), "users/" + env.user + "/todo/lists/" + id + "/tasks"
		}, &tidbro.RemoteItem{Kind: tidbro.KindTask, Task: &tidbro.Task{Summary: "Call back"}}},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			env := newNotifyEnv(t)
			ctx := t.Context()
			env.request(t)
			remote, resource := tc.open(env)
			sr := remote.(tidbro.Subscriber)
			secret, hash := tidbro.NewToken()
			sub, err := sr.Subscribe(ctx, tidbro.SubscriptionRequest{NotificationURL: env.url + "/n", LifecycleURL: env.url + "/l", Secret: secret})
			if err != nil {
				t.Fatal(err)
			}
			if sub.Resource != resource || sr.SubscriptionResource() != resource {
				t.Fatalf("resource %q, want %q", sub.Resource, resource)
			}
			sub.PairID, sub.SecretHash = env.pair.ID, hash
			if err := env.store.PutSubscription(ctx, sub); err != nil {
				t.Fatal(err)
			}
			if _, err := remote.Create(ctx, "k1", tc.item); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for env.srv.Subscriptions()[0].Delivered == 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if got := env.request(t); got != tidbro.RequestRun {
				t.Fatalf("after a new %s: request %q", tc.kind, got)
			}
		})
	}
}
