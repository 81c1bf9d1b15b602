package graph

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/graph/graphtest"
	"github.com/tidbro/tidbro/remotetest"
)

// fakeTenant is a fake Graph with one app and one user with a mailbox.
type fakeTenant struct {
	srv    *graphtest.Server
	client *Client
	user   string
}

var mailboxes atomic.Int64

func newFake(t *testing.T) *fakeTenant {
	srv := graphtest.New(t)
	srv.AddApp("contoso.example", "app-1", "app-secret")
	n := mailboxes.Add(1)
	user := srv.AddUser(fmt.Sprintf("user%d@contoso.example", n), fmt.Sprintf("user%d@contoso.example", n), true)
	cl := NewClient(Config{TenantID: "contoso.example", ClientID: "app-1", ClientSecret: "app-secret", GraphURL: srv.URL, TokenURL: srv.TokenURL}, nil)
	return &fakeTenant{srv: srv, client: cl, user: user}
}

// peer edits the mailbox as Outlook would: plain posts and patches, no
// etags, no tidbro property.
type peer struct{ cal *Calendar }

func (p *peer) Put(ctx context.Context, it *tidbro.RemoteItem) (tidbro.RemoteRef, error) {
	body, err := eventBody(it.Event, true)
	if err != nil {
		return tidbro.RemoteRef{}, err
	}
	if body["recurrence"] == nil {
		delete(body, "recurrence")
	}
	var e event
	r := request{Method: http.MethodPost, Path: p.cal.collPath() + "/events", Body: body}
	var prev *tidbro.Event
	if it.ID != "" {
		r = request{Method: http.MethodPatch, Path: p.cal.eventPath(it.ID), Body: body}
		if old, _, err := p.cal.Fetch(ctx, []string{it.ID}); err == nil && len(old) == 1 {
			prev = old[0].Event
		}
	}
	if _, err := p.cal.c.do(ctx, p.cal.user, r, &e); err != nil {
		return tidbro.RemoteRef{}, err
	}
	if it.Event.RRule != "" {
		if _, err := p.cal.occurrences(ctx, e.ID, it.Event, prev); err != nil {
			return tidbro.RemoteRef{}, err
		}
	}
	return p.cal.ref(ctx, e.ID)
}

func (p *peer) Delete(ctx context.Context, id string) error {
	_, err := p.cal.c.do(ctx, p.cal.user, request{Method: http.MethodDelete, Path: p.cal.eventPath(id)}, nil)
	return err
}

// The remote contract suite against the fake Graph.
func TestContract(t *testing.T) {
	remotetest.Run(t, func(t *testing.T) remotetest.Harness {
		f := newFake(t)
		cal := NewCalendar(f.client, f.user, "")
		return remotetest.Harness{Remote: cal, Peer: &peer{cal: cal}, Kind: tidbro.KindEvent}
	})
}
