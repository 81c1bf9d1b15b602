package api

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/tidbro/tidbro"
)

// changeBody is one change-feed entry. Item is the item's state after the
// change, present when no later change has superseded it.
type changeBody struct {
	Cursor    string          `json:"cursor"` // this entry's position; resume after it with since=cursor
	Op        tidbro.ChangeOp `json:"op"`     // upsert | delete
	Kind      tidbro.Kind     `json:"kind"`
	User      string          `json:"user"`
	AppID     string          `json:"appId"`
	Version   int64           `json:"version"`
	ChangedBy tidbro.Origin   `json:"changedBy"`
	Item      json.RawMessage `json:"item,omitempty"`
}

type changesBody struct {
	Changes []changeBody `json:"changes"`
	Next    string       `json:"next"` // pass as since to continue; equal to since when nothing changed
}

func (s *Server) changes(w http.ResponseWriter, r *http.Request) error {
	n, err := limit(r)
	if err != nil {
		return err
	}
	tid := tenantID(r)
	var since int64
	switch v := r.URL.Query().Get("since"); v {
	case "":
	case "now":
		if since, err = s.store.Head(r.Context(), tid); err != nil {
			return err
		}
	default:
		if since, err = strconv.ParseInt(v, 10, 64); err != nil || since < 0 {
			return tidbro.Invalid("since", "since must be a cursor from a previous next, or now")
		}
	}
	changes, err := s.store.Changes(r.Context(), tidbro.ChangeQuery{TenantID: tid, Since: since, Limit: n})
	if err != nil {
		return err
	}
	body := changesBody{Changes: make([]changeBody, 0, len(changes)), Next: strconv.FormatInt(since, 10)}
	for _, c := range changes {
		cb := changeBody{Cursor: strconv.FormatInt(c.Seq, 10), Op: c.Op, Kind: c.Item.Kind, User: c.User,
			AppID: c.Item.AppID, Version: c.Version, ChangedBy: c.ChangedBy}
		if c.Latest() {
			if cb.Item, err = itemJSON(c.Item); err != nil {
				return err
			}
		}
		body.Changes = append(body.Changes, cb)
		body.Next = cb.Cursor
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}
