package graph

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/tidbro/tidbro"
)

// SettingKey is the tenant's sealed setting holding its Settings.
const SettingKey = "graph"

// Settings are a tenant's Graph set-up: the app registration and how app
// users map to mailboxes.
type Settings struct {
	Config
	// MailboxRule names a user's mailbox when their account does not:
	// "email" (the user's e-mail address, the default), "username" (the
	// username is the user principal name), or a pattern with {username}
	// ("{username}@example.com"), as when app and directory share names.
	MailboxRule string `json:"mailboxRule,omitempty"`
}

// Mailbox applies the rule to a user (an account's own username wins).
func (s *Settings) Mailbox(u *tidbro.User, acc *tidbro.Account) string {
	switch {
	case acc != nil && acc.Username != "":
		return acc.Username
	case s.MailboxRule == "username":
		return u.Username
	case strings.Contains(s.MailboxRule, "{username}"):
		return strings.ReplaceAll(s.MailboxRule, "{username}", u.Username)
	}
	return u.Email
}

// Validate checks the settings as the API takes them.
func (s *Settings) Validate() error {
	if s.TenantID == "" || s.ClientID == "" {
		return tidbro.Invalid("tenantId", "the app registration's tenantId and clientId are required")
	}
	if s.ClientSecret == "" && (s.Certificate == "" || s.Key == "") {
		return tidbro.Invalid("clientSecret", "a clientSecret, or a certificate and its key (PEM), is required")
	}
	for field, u := range map[string]string{"graphUrl": s.GraphURL, "tokenUrl": s.TokenURL} {
		if u == "" {
			continue
		}
		if p, err := url.Parse(u); err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			return tidbro.Invalid(field, "%q is not an http(s) URL", u)
		}
	}
	if r := s.MailboxRule; r != "" && r != "email" && r != "username" && !strings.Contains(r, "{username}") {
		return tidbro.Invalid("mailboxRule", "%q is not email, username or a pattern with {username}", r)
	}
	return nil
}

// Connector opens the collections of Graph accounts: settings finds a
// tenant's set-up, user an account's app user. Clients are kept per
// tenant and credentials, so tokens and each mailbox's limits are shared by
// every run of the process.
type Connector struct {
	Settings func(ctx context.Context, tenantID int64) (*Settings, error)
	User     func(ctx context.Context, acc *tidbro.Account) (*tidbro.User, error)
	HTTP     *http.Client

	mu      sync.Mutex
	clients map[string]*Client
}

func (c *Connector) client(s *Settings) *Client {
	b, _ := json.Marshal(s.Config)
	key := fmt.Sprintf("%x", sha256.Sum256(b))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.clients == nil {
		c.clients = map[string]*Client{}
	}
	cl := c.clients[key]
	if cl == nil {
		cl = NewClient(s.Config, c.HTTP)
		c.clients[key] = cl
	}
	return cl
}

// Connect binds a pair on its first run (the user's mailbox and its
// default calendar, contact folder or To Do list) and opens it
// (engine.Connector).
func (c *Connector) Connect(ctx context.Context, acc *tidbro.Account, p *tidbro.Pair, _ bool) (tidbro.Remote, error) {
	if acc.Kind != tidbro.AccountGraph {
		return nil, tidbro.Errorf(tidbro.EINVALID, "a %s account is not a Graph account", acc.Kind)
	}
	s, err := c.Settings(ctx, acc.TenantID)
	if tidbro.ErrorCode(err) == tidbro.ENOTFOUND {
		return nil, tidbro.Errorf(tidbro.EINVALID, "the tenant has no Graph app set up (PUT /v1/settings/graph)")
	}
	if err != nil {
		return nil, err
	}
	cl := c.client(s)
	var bind func(ctx context.Context, mailbox string) (userID, collID, name string, err error)
	var open func(userID, collID string) tidbro.Remote
	switch p.Kind {
	case tidbro.KindEvent:
		bind, open = cl.bind, func(u, id string) tidbro.Remote { return NewCalendar(cl, u, id) }
	case tidbro.KindContact:
		bind, open = cl.bindContacts, func(u, id string) tidbro.Remote { return NewContactFolder(cl, u, id) }
	case tidbro.KindTask:
		bind, open = cl.bindTaskList, func(u, id string) tidbro.Remote { return NewTaskList(cl, u, id) }
	default:
		return nil, tidbro.Errorf(tidbro.EINVALID, "a Graph pair holds events, tasks or contacts, not %s", p.Kind.Plural())
	}
	if p.RemoteID == "" {
		u, err := c.User(ctx, acc)
		if err != nil {
			return nil, err
		}
		mailbox := s.Mailbox(u, acc)
		if mailbox == "" {
			return nil, &tidbro.Error{Code: tidbro.ENOTFOUND, Field: "mailbox", Message: fmt.Sprintf("user %q has no mailbox to map to: give the account a username or the user an e-mail address", u.Username)}
		}
		id, collID, name, err := bind(ctx, mailbox)
		if err != nil {
			return nil, err
		}
		p.RemoteID, p.RemoteName = id+"/"+collID, name
	}
	user, collID, ok := strings.Cut(p.RemoteID, "/")
	if !ok {
		return nil, tidbro.Errorf(tidbro.EINVALID, "pair %d is bound to %q, not a Graph %s collection", p.ID, p.RemoteID, p.Kind)
	}
	return open(user, collID), nil
}

// bind finds a mailbox's user id and default calendar.
func (c *Client) bind(ctx context.Context, mailbox string) (userID, calendarID, name string, err error) {
	if userID, err = c.userID(ctx, mailbox); err != nil {
		return "", "", "", err
	}
	var cal struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if _, err := c.do(ctx, userID, request{Method: http.MethodGet, Path: "/users/" + url.PathEscape(userID) + "/calendar?$select=id,name"}, &cal); err != nil {
		return "", "", "", err
	}
	return userID, cal.ID, cal.Name, nil
}
