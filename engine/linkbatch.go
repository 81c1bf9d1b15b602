package engine

import (
	"context"
	"sync"

	"github.com/tidbro/tidbro"
)

// linkBatchSize is how many link writes share one transaction. A first
// run creating thousands of items would otherwise pay two commits, each
// with its fsync, per item: against a server that takes one item at a time
// they cannot be grouped, and they were half of the client's CPU. A crash
// loses at most this many results, which the next run recovers: creates by
// their keys, updates and imports by both sides holding the same content.
const linkBatchSize = 100

// linkBatch gathers what remote writes and imports learned (remote id,
// etag, agreed base) to write it in one transaction. These writes may be
// lost without harm: each remote write's intent is recorded before it, so
// the next run finds a created item by its key (Finder, or the idempotent
// create) and links it, and relinks an updated or imported one whose
// content both sides agree on.
type linkBatch struct {
	store tidbro.SyncStore
	mu    sync.Mutex
	links []*tidbro.Link
}

// add holds a copy of l, and writes the batch once it is full.
func (b *linkBatch) add(ctx context.Context, l *tidbro.Link) []error {
	c := *l
	b.mu.Lock()
	b.links = append(b.links, &c)
	var full []*tidbro.Link
	if len(b.links) >= linkBatchSize {
		full, b.links = b.links, nil
	}
	b.mu.Unlock()
	return putLinks(ctx, b.store, full)
}

// flush writes what is held.
func (b *linkBatch) flush(ctx context.Context) []error {
	b.mu.Lock()
	links := b.links
	b.links = nil
	b.mu.Unlock()
	return putLinks(ctx, b.store, links)
}

// putLinks writes links in one transaction; when that is refused, each
// alone, so that a bad link costs only itself. It returns the errors of
// the links that could not be written.
func putLinks(ctx context.Context, store tidbro.SyncStore, links []*tidbro.Link) []error {
	if len(links) == 0 || store.PutLinks(ctx, links) == nil {
		return nil
	}
	var errs []error
	for _, l := range links {
		if err := store.PutLink(ctx, l); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// forgetBatch gathers the items a run is done with in the pair (deleted on
// one side after the other, or unlinked), to delete their links and holds
// in one transaction. Lost, the links stay with the deletion done on both
// sides, and the next run forgets the items then.
type forgetBatch struct {
	store  tidbro.SyncStore
	pairID int64
	mu     sync.Mutex
	ids    []int64
}

// add holds itemID, and deletes the batch once it is full.
func (b *forgetBatch) add(ctx context.Context, itemID int64) []error {
	b.mu.Lock()
	b.ids = append(b.ids, itemID)
	var full []int64
	if len(b.ids) >= linkBatchSize {
		full, b.ids = b.ids, nil
	}
	b.mu.Unlock()
	return deleteLinks(ctx, b.store, b.pairID, full)
}

// flush deletes what is held.
func (b *forgetBatch) flush(ctx context.Context) []error {
	b.mu.Lock()
	ids := b.ids
	b.ids = nil
	b.mu.Unlock()
	return deleteLinks(ctx, b.store, b.pairID, ids)
}

// deleteLinks deletes the items' links in one transaction; when that is
// refused, each alone, so that each error names its item.
func deleteLinks(ctx context.Context, store tidbro.SyncStore, pairID int64, ids []int64) []error {
	if len(ids) == 0 || store.DeleteLinks(ctx, pairID, ids) == nil {
		return nil
	}
	var errs []error
	for _, id := range ids {
		if err := store.DeleteLinks(ctx, pairID, []int64{id}); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}
