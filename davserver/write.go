package davserver

import (
	"crypto/rand"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/ical"
)

// refusal says in words why the user's client may not write item it of
// collection c (nil with create: a new item; nil without: the collection
// as such), or "" when it may.
func (q *request) refusal(c *collection, it *tidbro.Item, create bool) string {
	what := map[*collection]string{calendar: "calendar", tasks: "task list", contacts: "address book"}[c]
	switch {
	case q.policy.Direction == tidbro.DirectionAppToGroupware:
		return "The business application is the leading system for this " + what +
			": make the change there, and it reaches this client with its next sync."
	case it != nil && it.Kind == tidbro.KindJob:
		return "Jobs are managed in the business application: change or reschedule this one there."
	case create && c.contacts() && q.policy.ContactCreates == tidbro.Refuse:
		return "New contacts are created in the business application; this address book takes changes to the contacts it has."
	case it != nil && q.policy.Ownership == tidbro.OwnershipOrigin && it.Origin != tidbro.OriginDAVClient:
		return "This item was created in the business application and belongs to it: change it there."
	}
	return ""
}

func (q *request) refuse(msg string) {
	davError(q.w, http.StatusForbidden, name(nsDAV, "need-privileges"), msg)
}

// item finds the live item of the user's a resource names: by the name a
// client gave it, else by its app id.
func (q *request) item(res resource) (*tidbro.Item, error) {
	it, _, err := q.lookup(res)
	return it, err
}

// lookup is item; when the resource names no item of the user, free tells
// whether its name is an app id no live item has, which a new item can take.
func (q *request) lookup(res resource) (it *tidbro.Item, free bool, err error) {
	if it, err = q.named(res); it != nil || err != nil {
		return it, false, err
	}
	return q.byAppID(res)
}

// named is the user's live item a client gave the resource's name, or nil.
func (q *request) named(res resource) (*tidbro.Item, error) {
	it, err := q.s.store.DAVItemByName(q.ctx, q.user.TenantID, q.user.ID, res.coll.kinds, res.name)
	if tidbro.ErrorCode(err) == tidbro.ENOTFOUND {
		return nil, nil
	}
	return it, err
}

// byAppID is lookup for a resource that no item has by name.
func (q *request) byAppID(res resource) (it *tidbro.Item, free bool, err error) {
	kind, appID, ok := parseObject(res.coll, res.name)
	if !ok {
		return nil, false, nil
	}
	it, err = q.s.store.Item(q.ctx, q.user.TenantID, kind, appID)
	switch {
	case tidbro.ErrorCode(err) == tidbro.ENOTFOUND:
		return nil, true, nil
	case err == nil && it.OwnerID != q.user.ID:
		return nil, false, nil // another user's item is as good as absent
	}
	return it, false, err
}

// get serves an item's representation; a collection answers with a line
// for people who open it in a browser.
func (q *request) get(res resource) error {
	if res.kind != resObject {
		q.w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(q.w, "This is a tidbro CalDAV/CardDAV collection: open it with a calendar or contacts program.\n")
		return nil
	}
	it, err := q.item(res)
	if err != nil {
		return err
	}
	if it == nil {
		http.NotFound(q.w, q.r)
		return nil
	}
	tag := etag(it)
	if inm := q.r.Header.Get("If-None-Match"); inm != "" && (inm == "*" || matches(inm, tag)) {
		q.w.Header().Set("ETag", tag)
		q.w.WriteHeader(http.StatusNotModified)
		return nil
	}
	if im := q.r.Header.Get("If-Match"); im != "" && !matches(im, tag) {
		http.Error(q.w, "the item has changed", http.StatusPreconditionFailed)
		return nil
	}
	data, err := q.representation(it)
	if err != nil {
		return err
	}
	h := q.w.Header()
	h.Set("Content-Type", res.coll.mediaType)
	h.Set("ETag", tag)
	h.Set("Last-Modified", it.Updated.UTC().Format(http.TimeFormat))
	h.Set("Content-Length", strconv.Itoa(len(data)))
	if q.r.Method == http.MethodHead {
		q.w.WriteHeader(http.StatusOK)
		return nil
	}
	_, err = q.w.Write(data)
	return err
}

// matches reports whether an If-Match / If-None-Match list names tag.
func matches(list, tag string) bool {
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == tag || t == "*" {
			return true
		}
	}
	return false
}

// put stores a client's calendar object or card as an app change.
//
// A create (If-None-Match: *) under a name that can be an app id first
// takes the guess that the app id is free, without reading its item: the
// store's create writes only where no live item has the key. Whatever else
// comes of the guess (a refusal, an unreadable object, an item in the way)
// sends the request the long way, which reads the item and answers as if
// there had been no guess.
func (q *request) put(res resource) error {
	if res.kind != resObject {
		http.Error(q.w, "PUT needs an item's URL inside a collection", http.StatusMethodNotAllowed)
		return nil
	}
	c := res.coll
	old, err := q.named(res)
	if err != nil {
		return err
	}
	k, _, ok := parseObject(c, res.name)
	guess := old == nil && ok && k != tidbro.KindJob &&
		q.r.Header.Get("If-None-Match") == "*" && q.r.Header.Get("If-Match") == ""
	free := guess
	if old == nil && !guess {
		if old, free, err = q.byAppID(res); err != nil {
			return err
		}
		if old == nil && ok && k == tidbro.KindJob {
			q.refuse(q.refusal(c, &tidbro.Item{Kind: k}, false))
			return nil
		}
	}
	if !mediaTypeOK(c, q.r.Header.Get("Content-Type")) {
		cond := name(nsCalDAV, "supported-calendar-data")
		if c.contacts() {
			cond = name(nsCardDAV, "supported-address-data")
		}
		davError(q.w, http.StatusUnsupportedMediaType, cond, "This collection takes "+strings.Split(c.mediaType, ";")[0]+".")
		return nil
	}
	data, err := io.ReadAll(io.LimitReader(q.r.Body, MaxObject+1))
	if err != nil {
		return err
	}
	if len(data) > MaxObject {
		davError(q.w, http.StatusRequestEntityTooLarge, name(nsCalDAV, "max-resource-size"), "The item is over the limit of 10 MB.")
		return nil
	}
	if guess {
		if done, err := q.write(res, data, nil, true, true); done || err != nil {
			return err
		}
		if old, free, err = q.byAppID(res); err != nil {
			return err
		}
	}
	_, err = q.write(res, data, old, free, false)
	return err
}

// write is the rest of put, once it has the request's object: old is the
// item the resource names, if any, and free as lookup has it. A guess
// (see put) answers only a success: for anything else it answers nothing
// and reports done false.
func (q *request) write(res resource, data []byte, old *tidbro.Item, free, guess bool) (done bool, err error) {
	c := res.coll
	// A new item's app id is its resource's name, when that can be an app
	// id and is free; else it gets one of its own and keeps the name beside
	// (the same meeting, under its UID, in two users' calendars).
	kind, appID, named := c.kinds[0], "", false
	if old != nil {
		kind, appID = old.Kind, old.AppID
	} else {
		if _, id, ok := parseObject(c, res.name); ok && free {
			appID = id
		}
		if appID == "" {
			appID, named = "dav-"+strings.ToLower(rand.Text()), true
		}
	}
	if im := q.r.Header.Get("If-Match"); im != "" && (old == nil || !matches(im, etag(old))) {
		http.Error(q.w, "the item has changed or is gone", http.StatusPreconditionFailed)
		return true, nil
	}
	if q.r.Header.Get("If-None-Match") == "*" && old != nil {
		http.Error(q.w, "the item exists", http.StatusPreconditionFailed)
		return true, nil
	}
	if msg := q.refusal(c, old, old == nil); msg != "" {
		if guess {
			return false, nil
		}
		q.refuse(msg)
		return true, nil
	}
	it, err := decode(c, data, old)
	if err != nil && guess {
		return false, nil
	}
	if errors.Is(err, ical.ErrOtherComponent) {
		cond := name(nsCalDAV, "supported-calendar-component")
		davError(q.w, http.StatusForbidden, cond, "This collection holds "+c.comp+" components only.")
		return true, nil
	}
	if err != nil {
		cond := name(nsCalDAV, "valid-calendar-data")
		if c.contacts() {
			cond = name(nsCardDAV, "valid-address-data")
		}
		davError(q.w, http.StatusForbidden, cond, "The item cannot be read: "+err.Error())
		return true, nil
	}
	it.Kind = kind
	it.TenantID, it.AppID, it.OwnerID, it.ChangedBy = q.user.TenantID, appID, q.user.ID, tidbro.OriginDAVClient
	cond := tidbro.Precondition{IfNoneMatch: old == nil}
	if old != nil {
		it.Type, cond.IfMatch = old.Type, old.Version
	} else {
		it.Type = tidbro.TypeGroupware
	}
	davName := ""
	if named {
		davName = res.name
	}
	// The client's own bytes are what it gets back, so the tag is strong.
	stored, _, err := q.s.store.PutDAVItem(q.ctx, it, cond, davName, data)
	if err != nil && guess {
		return false, nil
	}
	if tidbro.ErrorCode(err) == tidbro.EINVALID {
		// The store validates the item before it writes anything (doing it
		// here as well would do it twice), and refuses it with EINVALID as
		// it does a bad name: which of the two it was decides the answer.
		if err := it.Validate(); err != nil {
			davError(q.w, http.StatusForbidden, name(nsCalDAV, "valid-calendar-data"), "The item is not valid: "+tidbro.ErrorMessage(err))
			return true, nil
		}
	}
	if tidbro.ErrorCode(err) == tidbro.EPRECONDITION {
		http.Error(q.w, "the item changed meanwhile", http.StatusPreconditionFailed)
		return true, nil
	}
	if err != nil {
		return true, err
	}
	q.w.Header().Set("ETag", etag(stored))
	if old == nil {
		q.w.WriteHeader(http.StatusCreated)
	} else {
		q.w.WriteHeader(http.StatusNoContent)
	}
	return true, nil
}

// delete removes an item as an app change.
func (q *request) delete(res resource) error {
	if res.kind != resObject {
		davError(q.w, http.StatusForbidden, xml.Name{}, "The collections are fixed and cannot be deleted.")
		return nil
	}
	it, err := q.item(res)
	if err != nil {
		return err
	}
	if it == nil {
		http.NotFound(q.w, q.r)
		return nil
	}
	if im := q.r.Header.Get("If-Match"); im != "" && !matches(im, etag(it)) {
		http.Error(q.w, "the item has changed", http.StatusPreconditionFailed)
		return nil
	}
	if msg := q.refusal(res.coll, it, false); msg != "" {
		q.refuse(msg)
		return nil
	}
	_, err = q.s.store.DeleteItem(q.ctx, q.user.TenantID, it.Kind, it.AppID, tidbro.Precondition{IfMatch: it.Version}, tidbro.OriginDAVClient)
	if tidbro.ErrorCode(err) == tidbro.EPRECONDITION {
		http.Error(q.w, "the item changed meanwhile", http.StatusPreconditionFailed)
		return nil
	}
	if err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}
