package memremote

import (
	"context"
	"maps"
	"slices"

	"github.com/tidbro/tidbro"
)

// The methods below act like another client editing the collection directly
// (a user in Outlook). They are not requests of the tidbro.Remote interface:
// they are not counted and faults do not apply.

// Put stores a copy of it as a new version, with a fresh id when it.ID is ""
// and replacing the item otherwise. It is not validated, so tests can plant
// items tidbro cannot read: one without the body of its kind is reported as
// an ItemError by Fetch. An empty Kind is the collection's first kind.
func (r *Remote) Put(it *tidbro.RemoteItem) tidbro.RemoteRef {
	r.mu.Lock()
	defer r.mu.Unlock()
	stored := it.Clone()
	if stored.Kind == "" {
		stored.Kind = r.opts.Kinds[0]
	}
	if stored.ID == "" {
		stored.ID = r.newID()
	}
	return ref(r.write(stored))
}

// Remove deletes item id, if there is one.
func (r *Remote) Remove(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.items[id]; ok {
		r.remove(id)
	}
}

// Items returns copies of all items, sorted by id.
func (r *Remote) Items() []*tidbro.RemoteItem {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*tidbro.RemoteItem, 0, len(r.items))
	for _, id := range slices.Sorted(maps.Keys(r.items)) {
		out = append(out, r.items[id].Clone())
	}
	return out
}

// Get returns a copy of item id, or nil.
func (r *Remote) Get(id string) *tidbro.RemoteItem {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.items[id].Clone()
}

// Len returns the number of items.
func (r *Remote) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.items)
}

// Requests returns the number of requests made through the tidbro.Remote
// interface: one per Changes, Create, Update and Delete call, and one per
// batch of MaxBatch ids of a Fetch, including failed ones (Capabilities costs
// nothing).
func (r *Remote) Requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests
}

// Peer is the remote seen by another client; it implements remotetest.Peer.
type Peer struct{ r *Remote }

// Peer returns r's external-client methods as a remotetest.Peer.
func (r *Remote) Peer() Peer { return Peer{r} }

// Put creates (it.ID "") or replaces an item, like Remote.Put.
func (p Peer) Put(ctx context.Context, it *tidbro.RemoteItem) (tidbro.RemoteRef, error) {
	if err := ctx.Err(); err != nil {
		return tidbro.RemoteRef{}, err
	}
	return p.r.Put(it), nil
}

// Delete removes an item, like Remote.Remove.
func (p Peer) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p.r.Remove(id)
	return nil
}
