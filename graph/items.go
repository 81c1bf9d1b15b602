package graph

import (
	"context"
	"fmt"
	"net/http"

	"github.com/tidbro/tidbro"
)

// fetchEach reads items of one kind (what, for messages) in batches: ids
// the remote lacks are left out, an item tidbro cannot read is an item
// error, and a transient failure fails the call.
func fetchEach[T any](ctx context.Context, c *Client, user string, ids []string, what string, path func(id string) string,
	read func(g *T, raw []byte) (*tidbro.RemoteItem, error)) ([]*tidbro.RemoteItem, []tidbro.ItemError, error) {
	reqs := make([]request, len(ids))
	for i, id := range ids {
		reqs[i] = request{Method: http.MethodGet, Path: path(id)}
	}
	as, err := c.batch(ctx, user, reqs)
	if err != nil {
		return nil, nil, err
	}
	var items []*tidbro.RemoteItem
	var errs []tidbro.ItemError
	for i, a := range as {
		var g T
		err := a.answer(reqs[i], &g)
		switch {
		case tidbro.ErrorCode(err) == tidbro.ENOTFOUND:
			continue
		case err != nil && tidbro.Transient(err):
			return nil, nil, err
		case err != nil:
			errs = append(errs, tidbro.ItemError{ID: ids[i], Err: err})
			continue
		}
		it, err := read(&g, a.Body)
		if err != nil {
			errs = append(errs, tidbro.ItemError{ID: ids[i], Err: tidbro.Errorf(tidbro.EINVALID, "cannot read %s %s: %v", what, ids[i], err)})
			continue
		}
		items = append(items, it)
	}
	return items, errs, nil
}

// deleteItem deletes the item at path if its etag is still ifMatch (""
// for any), in the mailbox's next batch of writes; one that is gone is
// deleted already. where names the app its user edits it in.
func deleteItem(ctx context.Context, c *Client, user, path, id, ifMatch, where string) error {
	r := request{Method: http.MethodDelete, Path: path}
	if ifMatch != "" {
		r.Headers = map[string]string{"If-Match": ifMatch}
	}
	a, err := c.box(user).writes.do(ctx, r)
	if err == nil {
		err = a.answer(r, nil)
	}
	switch tidbro.ErrorCode(err) {
	case "", tidbro.ENOTFOUND:
		return nil
	case tidbro.EPRECONDITION:
		return tidbro.Errorf(tidbro.EPRECONDITION, "%s changed in %s", id, where)
	}
	return err
}

// deltaRound reads a delta round from link (a delta link, or the first
// request of a new round) page by page, handing each entry to each, and
// returns the round's delta link for the next one.
func deltaRound[T any](ctx context.Context, c *Client, user, link, what string, each func(T)) (string, error) {
	for link != "" {
		var page struct {
			Value     []T    `json:"value"`
			NextLink  string `json:"@odata.nextLink"`
			DeltaLink string `json:"@odata.deltaLink"`
		}
		if _, err := c.do(ctx, user, request{Method: http.MethodGet, Path: link, Headers: map[string]string{"Prefer": "odata.maxpagesize=100"}}, &page); err != nil {
			return "", fmt.Errorf("%s: %w", what, err)
		}
		for _, v := range page.Value {
			each(v)
		}
		if page.DeltaLink != "" {
			return page.DeltaLink, nil
		}
		link = page.NextLink
	}
	return "", tidbro.Errorf(tidbro.EUNAVAILABLE, "%s: the round ended without a delta link", what)
}
