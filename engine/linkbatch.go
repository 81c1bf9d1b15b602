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

// batch gathers a run's link writes, to make them in one transaction once
// linkBatchSize are held (and at the end of the run, flush). These writes
// may be lost without harm; the next run recovers them:
//   - results (remote id, etag, agreed base) of remote writes and imports:
//     each remote write's intent is recorded before it, so the next run
//     finds a created item by its key (Finder, or the idempotent create)
//     and links it, and relinks an updated or imported one whose content
//     both sides agree on;
//   - the links and holds of items the run is done with (deleted on one
//     side after the other, or unlinked): they stay with the deletion done
//     on both sides, and the next run forgets the items then.
type batch[T any] struct {
	write func(context.Context, []T) []error // the errors of what it could not write
	mu    sync.Mutex
	held  []T
}

// add holds v, and writes the batch once it is full.
func (b *batch[T]) add(ctx context.Context, v T) []error {
	b.mu.Lock()
	b.held = append(b.held, v)
	var full []T
	if len(b.held) >= linkBatchSize {
		full, b.held = b.held, nil
	}
	b.mu.Unlock()
	if len(full) == 0 {
		return nil
	}
	return b.write(ctx, full)
}

// flush writes what is held.
func (b *batch[T]) flush(ctx context.Context) []error {
	b.mu.Lock()
	held := b.held
	b.held = nil
	b.mu.Unlock()
	if len(held) == 0 {
		return nil
	}
	return b.write(ctx, held)
}

// putLinks writes links in one transaction; when that is refused, each
// alone, so that a bad link costs only itself. It returns the errors of
// the links that could not be written.
func putLinks(ctx context.Context, store tidbro.SyncStore, links []*tidbro.Link) []error {
	if store.PutLinks(ctx, links) == nil {
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

// deleteLinks deletes the items' links in one transaction; when that is
// refused, each alone, so that each error names its item.
func deleteLinks(ctx context.Context, store tidbro.SyncStore, pairID int64, ids []int64) []error {
	if store.DeleteLinks(ctx, pairID, ids) == nil {
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
