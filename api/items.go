package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tidbro/tidbro"
)

// itemMeta is the envelope every item carries in JSON, beside its body's
// fields. In requests these keys are read-only and ignored, except type
// (and appId, which must match the path), so a GET result can be PUT back.
type itemMeta struct {
	AppID     string        `json:"appId"`
	Kind      tidbro.Kind   `json:"kind"`
	Type      string        `json:"type,omitempty"`
	Owner     string        `json:"owner"`
	Origin    tidbro.Origin `json:"origin"`
	ChangedBy tidbro.Origin `json:"changedBy"`
	Version   int64         `json:"version"`
	Deleted   bool          `json:"deleted,omitempty"`
	Created   time.Time     `json:"created"`
	Updated   time.Time     `json:"updated"`
}

var metaKeys = []string{"appId", "kind", "type", "owner", "origin", "changedBy", "version", "deleted", "created", "updated"}

// Documentation shapes: the envelope plus the kind's body, flattened.
type (
	eventDoc struct {
		itemMeta
		tidbro.Event
	}
	taskDoc struct {
		itemMeta
		tidbro.Task
	}
	contactDoc struct {
		itemMeta
		tidbro.Contact
	}
)

var itemDocs = map[tidbro.Kind]struct{ item, page any }{
	tidbro.KindEvent:   {eventDoc{}, page[eventDoc]{}},
	tidbro.KindJob:     {eventDoc{}, page[eventDoc]{}},
	tidbro.KindTask:    {taskDoc{}, page[taskDoc]{}},
	tidbro.KindContact: {contactDoc{}, page[contactDoc]{}},
}

// page is a listing page as documented; next is absent on the last page.
type page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

// itemJSON renders an item as one flat object: envelope, then body fields.
func itemJSON(it *tidbro.Item) (json.RawMessage, error) {
	meta, err := json.Marshal(itemMeta{
		AppID: it.AppID, Kind: it.Kind, Type: it.Type, Owner: it.Owner, Origin: it.Origin, ChangedBy: it.ChangedBy,
		Version: it.Version, Deleted: it.Deleted, Created: it.Created.UTC(), Updated: it.Updated.UTC(),
	})
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(it.Body())
	if err != nil {
		return nil, err
	}
	if len(body) <= 2 { // {}
		return meta, nil
	}
	out := make([]byte, 0, len(meta)+len(body))
	out = append(out, meta[:len(meta)-1]...)
	out = append(out, ',')
	return append(out, body[1:]...), nil
}

func (s *Server) user(r *http.Request) (*tidbro.User, error) {
	name := r.PathValue("username")
	u, err := s.store.User(r.Context(), tenantID(r), name)
	if tidbro.ErrorCode(err) == tidbro.ENOTFOUND {
		return nil, tidbro.Errorf(tidbro.ENOTFOUND, "user %q not found", name)
	}
	return u, err
}

// ownedItem returns the live item appId of kind k if the path's user owns it.
func (s *Server) ownedItem(r *http.Request, u *tidbro.User, k tidbro.Kind) (*tidbro.Item, error) {
	appID := r.PathValue("appId")
	it, err := s.store.Item(r.Context(), u.TenantID, k, appID)
	if err == nil && it.OwnerID != u.ID {
		err = tidbro.Errorf(tidbro.ENOTFOUND, "not found")
	}
	if tidbro.ErrorCode(err) == tidbro.ENOTFOUND {
		return nil, tidbro.Errorf(tidbro.ENOTFOUND, "%s %q of user %q not found", k, appID, u.Username)
	}
	return it, err
}

func (s *Server) putItem(k tidbro.Kind) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		u, err := s.user(r)
		if err != nil {
			return err
		}
		appID := r.PathValue("appId")
		if err := tidbro.ValidAppID("appId", appID); err != nil {
			return err
		}
		cond, err := precondition(r)
		if err != nil {
			return err
		}
		obj, err := readObject(r)
		if err != nil {
			return err
		}
		it := &tidbro.Item{TenantID: u.TenantID, Kind: k, AppID: appID, OwnerID: u.ID, ChangedBy: tidbro.OriginApp, Type: string(k)}
		if raw, ok := obj["appId"]; ok {
			var id string
			if json.Unmarshal(raw, &id) != nil || id != appID {
				return tidbro.Invalid("appId", "appId in the body must match the path (%q)", appID)
			}
		}
		if raw, ok := obj["type"]; ok {
			if err := json.Unmarshal(raw, &it.Type); err != nil {
				return tidbro.Invalid("type", "type must be a string")
			}
		}
		for _, key := range metaKeys {
			delete(obj, key)
		}
		switch k {
		case tidbro.KindEvent, tidbro.KindJob:
			it.Event = new(tidbro.Event)
			err = decodeStrict(obj, it.Event)
		case tidbro.KindTask:
			it.Task = new(tidbro.Task)
			err = decodeStrict(obj, it.Task)
		case tidbro.KindContact:
			it.Contact = new(tidbro.Contact)
			err = decodeStrict(obj, it.Contact)
		}
		if err != nil {
			return err
		}
		if err := it.Validate(); err != nil {
			return err
		}
		if cur, err := s.store.Item(r.Context(), u.TenantID, k, appID); err == nil && cur.OwnerID == u.ID {
			if err := s.readOnly(r.Context(), u, cur); err != nil {
				return err
			}
		}
		stored, changed, err := s.store.PutItem(r.Context(), it, cond)
		if err != nil {
			return err
		}
		status := http.StatusOK
		if changed && stored.Version == 1 {
			status = http.StatusCreated
		}
		return writeItem(w, status, stored)
	}
}

func writeItem(w http.ResponseWriter, status int, it *tidbro.Item) error {
	b, err := itemJSON(it)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(it.Version))
	writeJSON(w, status, b)
	return nil
}

func (s *Server) getItem(k tidbro.Kind) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		u, err := s.user(r)
		if err != nil {
			return err
		}
		it, err := s.ownedItem(r, u, k)
		if err != nil {
			return err
		}
		return writeItem(w, http.StatusOK, it)
	}
}

func (s *Server) deleteItem(k tidbro.Kind) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		u, err := s.user(r)
		if err != nil {
			return err
		}
		cond, err := precondition(r)
		if err != nil {
			return err
		}
		it, err := s.ownedItem(r, u, k)
		if err != nil {
			return err
		}
		if err := s.readOnly(r.Context(), u, it); err != nil {
			return err
		}
		if cond.IfMatch == 0 {
			// Pin the version just checked, so a concurrent reassignment to
			// another user cannot be deleted through this user's path.
			cond.IfMatch = it.Version
		}
		if _, err := s.store.DeleteItem(r.Context(), u.TenantID, k, it.AppID, cond, tidbro.OriginApp); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func (s *Server) listItems(k tidbro.Kind) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		u, err := s.user(r)
		if err != nil {
			return err
		}
		q := tidbro.ItemQuery{TenantID: u.TenantID, OwnerID: u.ID, Kind: k, Cursor: r.URL.Query().Get("cursor")}
		if q.Limit, err = limit(r); err != nil {
			return err
		}
		from, to := r.URL.Query().Get("from"), r.URL.Query().Get("to")
		if from != "" || to != "" {
			if q.From, err = queryTime("from", from, time.Time{}); err != nil {
				return err
			}
			if q.To, err = queryTime("to", to, tidbro.Forever); err != nil {
				return err
			}
			if !q.To.After(q.From) {
				return tidbro.Invalid("to", "to must be after from")
			}
		}
		items, next, err := s.store.Items(r.Context(), q)
		if err != nil {
			return err
		}
		body := struct {
			Items []json.RawMessage `json:"items"`
			Next  string            `json:"next,omitempty"`
		}{Items: make([]json.RawMessage, 0, len(items)), Next: next}
		for _, it := range items {
			b, err := itemJSON(it)
			if err != nil {
				return err
			}
			body.Items = append(body.Items, b)
		}
		writeJSON(w, http.StatusOK, body)
		return nil
	}
}

func queryTime(name, v string, def time.Time) (time.Time, error) {
	if v == "" {
		return def, nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, tidbro.Invalid(name, "%q is not an RFC 3339 date-time or a date", v)
	}
	return t, nil
}

func limit(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return tidbro.DefaultPageSize, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > tidbro.MaxPageSize {
		return 0, tidbro.Invalid("limit", "limit must be a number from 1 to %d", tidbro.MaxPageSize)
	}
	return n, nil
}

func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// precondition reads If-Match (a version ETag) and If-None-Match: *.
func precondition(r *http.Request) (tidbro.Precondition, error) {
	var c tidbro.Precondition
	if v := strings.TrimSpace(r.Header.Get("If-None-Match")); v != "" {
		if v != "*" {
			return c, tidbro.Invalid("If-None-Match", `only "*" is supported on writes`)
		}
		c.IfNoneMatch = true
	}
	if v := strings.TrimSpace(r.Header.Get("If-Match")); v != "" {
		n, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(v, "W/"), `"`), 10, 64)
		if err != nil || n < 1 {
			return c, tidbro.Invalid("If-Match", "If-Match must be an ETag returned by tidbro, such as \"3\"")
		}
		c.IfMatch = n
	}
	return c, nil
}
