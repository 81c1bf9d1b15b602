package graphtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// MaxSubscriptionLifetime is the longest subscription on Outlook events
// the fake grants: the 4,230 minutes of Microsoft's table (newer pages
// allow 10,080 without resource data; the stricter figure catches a
// client that relies on that).
const MaxSubscriptionLifetime = 4230 * time.Minute

// validationTimeout is how long Graph waits for the validation echo
// (documented: 10 seconds).
const validationTimeout = 10 * time.Second

// subscription is one change-notification subscription.
type subscription struct {
	ID                 string
	Tenant             string
	Resource           string // as the client gave it
	User               *user
	Collection         string // what it watches of the mailbox: "events", "contacts", or "todo:" and a list id
	ChangeTypes        []string
	NotificationURL    string
	LifecycleURL       string
	ClientState        string
	Expires            time.Time
	queue              []map[string]any // notifications not delivered yet
	sending            bool
	Delivered, Refused int // deliveries answered 2xx, and otherwise
}

// Subscription is what a test sees of one.
type Subscription struct {
	ID, Resource, NotificationURL, LifecycleURL string
	Expires                                     time.Time
	Delivered, Refused                          int
}

// Subscriptions lists the live subscriptions, oldest first.
func (s *Server) Subscriptions() []Subscription {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Subscription
	for _, sub := range s.liveSubscriptions() {
		out = append(out, Subscription{sub.ID, sub.Resource, sub.NotificationURL, sub.LifecycleURL, sub.Expires, sub.Delivered, sub.Refused})
	}
	return out
}

// liveSubscriptions drops expired subscriptions (Graph deletes them) and
// returns the rest by id. s.mu is held.
func (s *Server) liveSubscriptions() []*subscription {
	var out []*subscription
	for id, sub := range s.subs {
		if !time.Now().Before(sub.Expires) {
			delete(s.subs, id)
			continue
		}
		out = append(out, sub)
	}
	slices.SortFunc(out, func(a, b *subscription) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// SendLifecycle sends a lifecycle notification (subscriptionRemoved,
// reauthorizationRequired, missed) for a subscription, as Graph would, and
// returns the status the client answered. subscriptionRemoved also ends
// the subscription.
func (s *Server) SendLifecycle(id, event string) int {
	s.mu.Lock()
	sub := s.subs[id]
	if sub == nil {
		s.mu.Unlock()
		s.t.Fatalf("graphtest: no subscription %q", id)
	}
	if event == "subscriptionRemoved" {
		delete(s.subs, id)
	}
	n := map[string]any{
		"lifecycleEvent": event, "subscriptionId": sub.ID, "resource": sub.Resource, "clientState": nullable(sub.ClientState),
		"subscriptionExpirationDateTime": sub.Expires.Format("2006-01-02T15:04:05.0000000Z07:00"), "tenantId": sub.Tenant,
	}
	target := cmpOr(sub.LifecycleURL, sub.NotificationURL)
	s.mu.Unlock()
	status, _ := post(target, []map[string]any{n})
	return status
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// post delivers a changeNotificationCollection; Graph expects a 2xx within
// three seconds.
func post(target string, value []map[string]any) (int, error) {
	b, _ := json.Marshal(map[string]any{"value": value})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, nil
}

// eventChanged queues a notification of a change to an event (a touched
// id: created, updated or deleted as it is now). s.mu is held.
func (s *Server) eventChanged(mb *mailbox, id string) {
	changeType := "updated"
	if _, aerr := mb.find(id); aerr != nil {
		changeType = "deleted"
	} else if mb.announced == nil || !mb.announced[id] {
		changeType = "created"
	}
	if mb.announced == nil {
		mb.announced = map[string]bool{}
	}
	mb.announced[id] = changeType != "deleted"
	s.changed(mb, "events", id, changeType)
}

// changed queues a notification for the subscriptions on the mailbox's
// collection ("events", "contacts", "todo:"+list). s.mu is held.
func (s *Server) changed(mb *mailbox, collection, id, changeType string) {
	path, odataType := "Users/"+mb.owner.id+"/Events/"+id, "#Microsoft.Graph.Event"
	switch list, isTodo := strings.CutPrefix(collection, "todo:"); {
	case collection == "contacts":
		path, odataType = "Users/"+mb.owner.id+"/Contacts/"+id, "#Microsoft.Graph.Contact"
	case isTodo:
		path, odataType = "Users/"+mb.owner.id+"/todo/lists/"+list+"/tasks/"+id, "#Microsoft.Graph.todoTask"
	}
	for _, sub := range s.liveSubscriptions() {
		if sub.User != mb.owner || sub.Collection != collection || !slices.Contains(sub.ChangeTypes, changeType) {
			continue
		}
		sub.queue = append(sub.queue, map[string]any{
			"subscriptionId": sub.ID, "subscriptionExpirationDateTime": sub.Expires.Format("2006-01-02T15:04:05.0000000Z07:00"),
			"changeType": changeType, "resource": path, "clientState": nullable(sub.ClientState), "tenantId": sub.Tenant,
			"resourceData": map[string]any{"@odata.type": odataType, "@odata.id": path, "id": id},
		})
		if !sub.sending {
			sub.sending = true
			go s.deliver(sub)
		}
	}
}

// deliver posts a subscription's queued notifications, gathered into
// collections as Graph does, until none are left. A refused delivery is
// counted, not retried (Graph retries for up to four hours; tests see the
// count instead).
func (s *Server) deliver(sub *subscription) {
	for {
		s.mu.Lock()
		batch := sub.queue
		sub.queue = nil
		if len(batch) == 0 {
			sub.sending = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		status, err := post(sub.NotificationURL, batch)
		s.mu.Lock()
		if err == nil && status/100 == 2 {
			sub.Delivered += len(batch)
		} else {
			sub.Refused += len(batch)
		}
		s.mu.Unlock()
	}
}

// serveSubscriptions answers /subscriptions[/{id}].
func (s *Server) serveSubscriptions(q *req, tenant string, rest []string) {
	switch {
	case len(rest) == 0 && q.r.Method == http.MethodPost:
		s.createSubscription(q, tenant)
	case len(rest) == 0 && q.r.Method == http.MethodGet:
		s.mu.Lock()
		defer s.mu.Unlock()
		value := []any{}
		for _, sub := range s.liveSubscriptions() {
			if sub.Tenant == tenant {
				value = append(value, subscriptionObject(sub))
			}
		}
		q.json(http.StatusOK, map[string]any{"@odata.context": s.URL + "/$metadata#subscriptions", "value": value})
	case len(rest) == 1:
		s.mu.Lock()
		defer s.mu.Unlock()
		s.liveSubscriptions()
		sub := s.subs[rest[0]]
		if sub == nil || sub.Tenant != tenant {
			q.failf(http.StatusNotFound, "ResourceNotFound", "The object was not found.")
			return
		}
		switch q.r.Method {
		case http.MethodGet:
			q.json(http.StatusOK, subscriptionObject(sub))
		case http.MethodPatch:
			var body struct {
				Expiration string `json:"expirationDateTime"`
			}
			if json.Unmarshal(q.body, &body) != nil {
				q.fail(http.StatusBadRequest, "InvalidRequest", "The request body is not a subscription.")
				return
			}
			exp, ok := s.expiration(q, body.Expiration)
			if !ok {
				return
			}
			sub.Expires = exp
			q.json(http.StatusOK, subscriptionObject(sub))
		case http.MethodDelete:
			delete(s.subs, sub.ID)
			q.noContent()
		default:
			s.method(q, http.MethodGet, http.MethodPatch, http.MethodDelete)
		}
	default:
		s.method(q, http.MethodGet, http.MethodPost)
	}
}

// expiration checks a requested expirationDateTime: required, in the
// future, and within MaxSubscriptionLifetime.
func (s *Server) expiration(q *req, v string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, v)
	now := time.Now()
	switch {
	case err != nil:
		q.fail(http.StatusBadRequest, "InvalidRequest", "expirationDateTime is required and must be a date and time with an offset.")
	case !t.After(now):
		q.fail(http.StatusBadRequest, "InvalidRequest", "Subscription expiration can only be in the future.")
	case t.After(now.Add(MaxSubscriptionLifetime)):
		q.failf(http.StatusBadRequest, "InvalidRequest", "Subscription expiration can only be %d minutes in the future.", int(MaxSubscriptionLifetime/time.Minute))
	default:
		return t.UTC(), true
	}
	return time.Time{}, false
}

// createSubscription validates the request and both URLs (the handshake),
// then makes the subscription: on a mailbox's events (users/{id}/events),
// contacts (users/{id}/contacts, users/{id}/contactFolders/{id}/contacts)
// or a To Do list's tasks (users/{id}/todo/lists/{id}/tasks).
func (s *Server) createSubscription(q *req, tenant string) {
	var body struct {
		ChangeType   string `json:"changeType"`
		Notification string `json:"notificationUrl"`
		Lifecycle    string `json:"lifecycleNotificationUrl"`
		Resource     string `json:"resource"`
		Expiration   string `json:"expirationDateTime"`
		ClientState  string `json:"clientState"`
		ResourceData bool   `json:"includeResourceData"`
	}
	if json.Unmarshal(q.body, &body) != nil {
		q.fail(http.StatusBadRequest, "InvalidRequest", "The request body is not a subscription.")
		return
	}
	var types []string
	for _, t := range strings.Split(body.ChangeType, ",") {
		t = strings.TrimSpace(t)
		if t != "created" && t != "updated" && t != "deleted" {
			q.failf(http.StatusBadRequest, "InvalidRequest", "changeType %q is not created, updated or deleted.", t)
			return
		}
		types = append(types, t)
	}
	if len(body.ClientState) > 128 {
		q.fail(http.StatusBadRequest, "InvalidRequest", "clientState can be at most 128 characters.")
		return
	}
	if body.ResourceData {
		q.fail(http.StatusBadRequest, "InvalidRequest", "graphtest: notifications with resource data are not supported.")
		return
	}
	if body.Notification == "" {
		q.fail(http.StatusBadRequest, "InvalidRequest", "notificationUrl is required.")
		return
	}
	for _, u := range []string{body.Notification, body.Lifecycle} {
		if u != "" && !acceptableURL(u) {
			q.failf(http.StatusBadRequest, "InvalidRequest", "The notification URL %q must use https.", u)
			return
		}
	}
	// With or without a leading slash.
	segs := strings.Split(strings.Trim(body.Resource, "/"), "/")
	s.mu.Lock()
	var u *user
	collection := ""
	if len(segs) >= 3 && strings.EqualFold(segs[0], "users") {
		u = s.findUser(segs[1])
		switch rest := strings.ToLower(strings.Join(segs[2:], "/")); {
		case rest == "events" || rest == "contacts":
			collection = rest
		case len(segs) == 5 && strings.EqualFold(segs[2], "contactFolders") && strings.EqualFold(segs[4], "contacts") &&
			u != nil && u.mb != nil && u.mb.contacts.isFolder(segs[3]):
			collection = "contacts"
		case len(segs) == 6 && strings.EqualFold(segs[2], "todo") && strings.EqualFold(segs[3], "lists") && strings.EqualFold(segs[5], "tasks") &&
			u != nil && u.mb != nil && u.mb.todo.list(segs[4]) != nil:
			collection = "todo:" + segs[4]
		}
	}
	switch {
	case u == nil || collection == "" || !strings.EqualFold(s.tenantOf(u), tenant):
		s.mu.Unlock()
		q.failf(http.StatusBadRequest, "ExtensionError", "graphtest: unsupported or unknown resource %q (users/{id}/events, .../contacts, .../contactFolders/{id}/contacts, .../todo/lists/{id}/tasks).", body.Resource)
		return
	case u.mb == nil:
		s.mu.Unlock()
		q.fail(http.StatusNotFound, "MailboxNotEnabledForRESTAPI", "REST API is not yet supported for this mailbox.")
		return
	}
	exp, ok := s.expiration(q, body.Expiration)
	s.mu.Unlock()
	if !ok {
		return
	}
	// The handshake, without holding the lock: the client answers on its
	// own server.
	for _, target := range []string{body.Notification, body.Lifecycle} {
		if target == "" {
			continue
		}
		if err := validate(target); err != nil {
			q.failf(http.StatusBadRequest, "ValidationError", "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request: %v", err)
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.subs == nil {
		s.subs = map[string]*subscription{}
	}
	sub := &subscription{ID: s.newGUID(), Tenant: tenant, Resource: body.Resource, User: u, Collection: collection, ChangeTypes: types,
		NotificationURL: body.Notification, LifecycleURL: body.Lifecycle, ClientState: body.ClientState, Expires: exp}
	s.subs[sub.ID] = sub
	obj := subscriptionObject(sub)
	obj["@odata.context"] = s.URL + "/$metadata#subscriptions/$entity"
	q.json(http.StatusCreated, obj)
}

// acceptableURL: Graph requires https; the fake also takes http on
// loopback, where tests run.
func acceptableURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return false
	}
	return u.Scheme == "https" || u.Scheme == "http" && (u.Hostname() == "127.0.0.1" || u.Hostname() == "localhost" || u.Hostname() == "::1")
}

// validate sends the validation request: a POST with validationToken in
// the query, answered within ten seconds by 200 and the token as
// text/plain.
func validate(target string) error {
	token := randomToken()
	sep := "?"
	if strings.Contains(target, "?") {
		sep = "&"
	}
	ctx, cancel := context.WithTimeout(context.Background(), validationTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target+sep+"validationToken="+url.QueryEscape(token), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<16))
	switch ct := res.Header.Get("Content-Type"); {
	case res.StatusCode != http.StatusOK:
		return &validationError{"status " + res.Status}
	case !strings.HasPrefix(ct, "text/plain"):
		return &validationError{"Content-Type " + ct + ", not text/plain"}
	case string(b) != token:
		return &validationError{"the body is not the validation token"}
	}
	return nil
}

type validationError struct{ why string }

func (e *validationError) Error() string { return e.why }

func subscriptionObject(sub *subscription) map[string]any {
	return map[string]any{
		"id": sub.ID, "resource": sub.Resource, "applicationId": nil, "changeType": strings.Join(sub.ChangeTypes, ","),
		"clientState": nullable(sub.ClientState), "notificationUrl": sub.NotificationURL,
		"lifecycleNotificationUrl": nullable(sub.LifecycleURL), "expirationDateTime": sub.Expires.Format("2006-01-02T15:04:05Z"),
		"creatorId": nil, "includeResourceData": false, "latestSupportedTlsVersion": "v1_2",
	}
}
