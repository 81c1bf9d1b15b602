package api

import (
	"encoding/json"
	"net/http"

	"github.com/tidbro/tidbro"
)

// userBody is what PUT /v1/users/{username} takes.
type userBody struct {
	Email       string `json:"email,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
	TimeZone    string `json:"timeZone,omitempty"`
}

type usersBody struct {
	Users []*tidbro.User `json:"users"`
}

func (s *Server) putUser(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("username")
	obj, err := readObject(r)
	if err != nil {
		return err
	}
	if raw, ok := obj["username"]; ok {
		var n string
		if json.Unmarshal(raw, &n) != nil || n != name {
			return tidbro.Invalid("username", "username in the body must match the path (%q)", name)
		}
	}
	for _, key := range []string{"username", "created", "updated"} {
		delete(obj, key)
	}
	var b userBody
	if err := decodeStrict(obj, &b); err != nil {
		return err
	}
	u := &tidbro.User{TenantID: tenantID(r), Username: name, Email: b.Email, DisplayName: b.DisplayName, TimeZone: b.TimeZone}
	if err := u.Validate(); err != nil {
		return err
	}
	created, err := s.store.PutUser(r.Context(), u)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, u)
	return nil
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) error {
	u, err := s.user(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) error {
	users, err := s.store.Users(r.Context(), tenantID(r))
	if err != nil {
		return err
	}
	if users == nil {
		users = []*tidbro.User{}
	}
	writeJSON(w, http.StatusOK, usersBody{users})
	return nil
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) error {
	u, err := s.user(r)
	if err != nil {
		return err
	}
	if err := s.store.DeleteUser(r.Context(), u.TenantID, u.Username); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
