package caldav

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/davtest"
	"github.com/tidbro/tidbro/remotetest"
)

var collections atomic.Int64

// newCollection makes a fresh collection of kind on s and binds to it.
func newCollection(t *testing.T, s *davtest.Server, kind tidbro.Kind) *Collection {
	t.Helper()
	n := collections.Add(1)
	var path, method, body string
	switch kind {
	case tidbro.KindContact:
		path, method = fmt.Sprintf("%scards-%d/", s.Home, n), "MKCOL"
		body = `<?xml version="1.0" encoding="utf-8"?><d:mkcol xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"><d:set><d:prop>` +
			`<d:resourcetype><d:collection/><card:addressbook/></d:resourcetype></d:prop></d:set></d:mkcol>`
	default:
		comp := "VEVENT"
		if kind == tidbro.KindTask {
			comp = "VTODO"
		}
		path, method = fmt.Sprintf("%scal-%d/", s.Home, n), "MKCALENDAR"
		body = `<?xml version="1.0" encoding="utf-8"?><c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop>` +
			`<c:supported-calendar-component-set><c:comp name="` + comp + `"/></c:supported-calendar-component-set></d:prop></d:set></c:mkcalendar>`
	}
	if s.Name == "xandikos" && kind != tidbro.KindContact {
		path = fmt.Sprintf("%scalendars/cal-%d/", s.Home, n)
	}
	if s.Name == "xandikos" && kind == tidbro.KindContact {
		path = fmt.Sprintf("%scontacts/cards-%d/", s.Home, n)
	}
	res, b, err := s.Do(method, path, body, "Content-Type", "application/xml; charset=utf-8")
	if err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("%s %s on %s: %v %v\n%s", method, path, s.Name, err, res, b)
	}
	col, err := New(http.DefaultClient, s.URL+path[1:], s.User, s.Password, kind)
	if err != nil {
		t.Fatal(err)
	}
	return col
}

// peer edits a collection as another client would: plain PUT and DELETE.
type peer struct {
	col *Collection
	n   atomic.Int64
}

func (p *peer) Put(ctx context.Context, it *tidbro.RemoteItem) (tidbro.RemoteRef, error) {
	id := it.ID
	if id == "" {
		id = fmt.Sprintf("%speer-%d%s", p.col.base.Path, p.n.Add(1), p.col.ext())
	}
	data, err := p.col.encode(it)
	if err != nil {
		return tidbro.RemoteRef{}, err
	}
	res, b, err := p.col.c.do(ctx, "PUT", p.col.href(id), data, "Content-Type", p.col.mediaType())
	if err != nil {
		return tidbro.RemoteRef{}, err
	}
	if res.StatusCode/100 != 2 {
		return tidbro.RemoteRef{}, fmt.Errorf("peer PUT %s: %s %s", id, res.Status, b)
	}
	return p.col.written(ctx, id, res)
}

func (p *peer) Delete(ctx context.Context, id string) error {
	res, b, err := p.col.c.do(ctx, "DELETE", p.col.href(id), nil)
	if err != nil {
		return err
	}
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("peer DELETE %s: %s %s", id, res.Status, b)
	}
	return nil
}

// The remote contract suite against real servers.
func TestContract(t *testing.T) {
	for _, start := range []func(testing.TB) *davtest.Server{davtest.Radicale, davtest.Xandikos} {
		s := start(t)
		for _, kind := range []tidbro.Kind{tidbro.KindEvent, tidbro.KindTask, tidbro.KindContact} {
			t.Run(s.Name+"/"+string(kind), func(t *testing.T) {
				remotetest.Run(t, func(t *testing.T) remotetest.Harness {
					col := newCollection(t, s, kind)
					return remotetest.Harness{Remote: col, Peer: &peer{col: col}, Kind: kind}
				})
			})
		}
	}
}
