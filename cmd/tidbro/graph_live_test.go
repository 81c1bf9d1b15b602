package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tidbro/tidbro/graph/graphtest"
)

// With --public-url, tidbro serve subscribes to each mailbox's events:
// an Outlook change reaches the app by notification, long before the next
// scheduled run (the interval here is an hour); a subscription Graph
// removes is replaced, one due for reauthorization is renewed, and a
// notification without the subscription's secret is refused.
func TestGraphNotifications(t *testing.T) {
	fake := graphtest.New(t)
	fake.AddApp("contoso.example", "tidbro-app", "app-secret")
	alice := fake.AddUser("alice@contoso.example", "alice@contoso.example", true)
	data := t.TempDir()
	addr := freeAddr(t)
	in := startInstanceAt(t, addr, data, "TIDBRO_PUBLIC_URL=http://"+addr+"/")
	token := adminToken(t, data)
	in.call(token, "PUT", "/v1/settings/schedule", `{"interval":"1h"}`, 200)
	in.call(token, "PUT", "/v1/settings/graph", fmt.Sprintf(`{"tenantId":"contoso.example","clientId":"tidbro-app","clientSecret":"app-secret","graphUrl":%q,"tokenUrl":%q}`,
		fake.URL, fake.TokenURL), 200)
	in.call(token, "PUT", "/v1/users/alice", `{"email":"alice@contoso.example","timeZone":"Europe/Stockholm"}`, 201)
	in.call(token, "PUT", "/v1/users/alice/accounts/outlook", `{"kind":"graph","policy":{"kinds":["event"]}}`, 201)

	var sub graphtest.Subscription
	waitFor(t, 30*time.Second, "a subscription on alice's events", func() bool {
		subs := fake.Subscriptions()
		if len(subs) == 1 {
			sub = subs[0]
		}
		return len(subs) == 1
	})
	if sub.Resource != "users/"+alice+"/events" || sub.NotificationURL != "http://"+addr+"/webhooks/graph" || sub.LifecycleURL != "http://"+addr+"/webhooks/graph/lifecycle" {
		t.Fatalf("subscription %+v", sub)
	}
	// The fake knows the subscription as soon as it answers the POST;
	// tidbro records it just after.
	var notified any
	waitFor(t, 10*time.Second, "the subscription in alice's status", func() bool {
		st := in.call(token, "GET", "/v1/users/alice/status", "", 200)
		notified = st["accounts"].([]any)[0].(map[string]any)["pairs"].([]any)[0].(map[string]any)["notifiedUntil"]
		return notified != nil
	})
	if notified != sub.Expires.UTC().Format(time.RFC3339) {
		t.Fatalf("status says notified until %v, the subscription expires %v", notified, sub.Expires)
	}

	appHas := func(summary string) func() bool {
		return func() bool {
			got := in.call(token, "GET", "/v1/users/alice/events", "", 200)
			for _, it := range got["items"].([]any) {
				if it.(map[string]any)["summary"] == summary {
					return true
				}
			}
			return false
		}
	}
	outlookAdds := func(subject string) {
		start := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Hour)
		fake.PutEvent(alice, graphtest.Event{Subject: subject, Type: "singleInstance", ShowAs: "busy", Sensitivity: "normal",
			Start: graphtest.DateTimeTimeZone{DateTime: start.Format("2006-01-02T15:04:05.0000000"), TimeZone: "UTC"},
			End:   graphtest.DateTimeTimeZone{DateTime: start.Add(time.Hour).Format("2006-01-02T15:04:05.0000000"), TimeZone: "UTC"}})
	}
	outlookAdds("Lunch")
	waitFor(t, 20*time.Second, "the Outlook event in the app", appHas("Lunch"))
	if subs := fake.Subscriptions(); len(subs) != 1 || subs[0].Delivered == 0 || subs[0].Refused != 0 {
		t.Fatalf("notifications delivered: %+v", subs)
	}

	// A notification that does not carry the subscription's secret is
	// answered (Graph must not retry it) but starts nothing.
	forged := fmt.Sprintf(`{"value":[{"subscriptionId":%q,"clientState":"guess","changeType":"updated","resource":"Users/x/Events/y"}]}`, sub.ID)
	res, err := http.Post("http://"+addr+"/webhooks/graph", "application/json", strings.NewReader(forged))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("forged notification: %s", res.Status)
	}
	if !strings.Contains(in.logs.String(), "wrong clientState") {
		waitFor(t, 5*time.Second, "the forged notification logged", func() bool { return strings.Contains(in.logs.String(), "wrong clientState") })
	}

	// Graph removed the subscription: tidbro makes a new one, and still
	// hears of changes.
	if status := fake.SendLifecycle(sub.ID, "subscriptionRemoved"); status != http.StatusAccepted {
		t.Fatalf("subscriptionRemoved answered %d", status)
	}
	waitFor(t, 20*time.Second, "a new subscription", func() bool {
		subs := fake.Subscriptions()
		if len(subs) == 1 && subs[0].ID != sub.ID {
			sub = subs[0]
			return true
		}
		return false
	})
	outlookAdds("Dinner")
	waitFor(t, 20*time.Second, "the second Outlook event in the app", appHas("Dinner"))

	// Reauthorization: the subscription is renewed in place.
	time.Sleep(1100 * time.Millisecond) // expiries are in whole seconds
	if status := fake.SendLifecycle(sub.ID, "reauthorizationRequired"); status != http.StatusAccepted {
		t.Fatalf("reauthorizationRequired answered %d", status)
	}
	waitFor(t, 20*time.Second, "the subscription renewed", func() bool {
		subs := fake.Subscriptions()
		return len(subs) == 1 && subs[0].ID == sub.ID && subs[0].Expires.After(sub.Expires)
	})
}
