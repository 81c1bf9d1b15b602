package api

import (
	"net/http"
	"slices"
	"time"

	"github.com/tidbro/tidbro"
)

type itemLinksBody struct {
	Links []itemLink `json:"links"`
}

// itemLink is an item's link in one of its owner's pairs.
type itemLink struct {
	Account    string     `json:"account"`
	Collection string     `json:"collection"`         // events, tasks or contacts
	RemoteID   string     `json:"remoteId,omitempty"` // empty while the create is pending
	WebLink    string     `json:"webLink,omitempty"`
	Synced     *time.Time `json:"synced,omitempty"`
	Pending    string     `json:"pending,omitempty"` // a write that may or may not have happened: create, update, delete
	Error      string     `json:"error,omitempty"`   // the last error of this item; retried next run
}

func (s *Server) itemLinks(k tidbro.Kind) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		u, err := s.user(r)
		if err != nil {
			return err
		}
		it, err := s.ownedItem(r, u, k)
		if err != nil {
			return err
		}
		ctx := r.Context()
		accs, err := s.store.Accounts(ctx, u.ID)
		if err != nil {
			return err
		}
		body := itemLinksBody{Links: []itemLink{}}
		for _, a := range accs {
			pairs, err := s.store.Pairs(ctx, tidbro.PairQuery{TenantID: u.TenantID, AccountID: a.ID})
			if err != nil {
				return err
			}
			for _, p := range pairs {
				if !slices.Contains(p.Kind.PairKinds(), k) {
					continue
				}
				ls, err := s.store.LinksByItem(ctx, p.ID, []int64{it.ID})
				if err != nil {
					return err
				}
				for _, l := range ls {
					il := itemLink{Account: a.Name, Collection: p.Kind.Plural(), RemoteID: l.RemoteID, WebLink: l.WebLink, Error: l.Error}
					if l.Pending != tidbro.PendingCreated {
						il.Pending = l.Pending // "created" is bookkeeping, not a write in doubt
					}
					if !l.Synced.IsZero() {
						t := l.Synced.UTC()
						il.Synced = &t
					}
					body.Links = append(body.Links, il)
				}
			}
		}
		writeJSON(w, http.StatusOK, body)
		return nil
	}
}
