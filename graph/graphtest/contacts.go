package graphtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"image"
	_ "image/jpeg" // photos Outlook takes
	_ "image/png"
	"maps"
	"mime"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Outlook contacts (learn.microsoft.com/graph/api/resources/contact,
// resources/contactfolder, api/contact-delta, api/profilephoto-get and
// api/profilephoto-update): one contact folder per mailbox, the default
// one, reached as /contacts, as /contactFolders/{id}/contacts, or through
// the well-known name "contacts" (not in Graph's reference, which names no
// well-known contact folders; Exchange's distinguished folder name, as
// Microsoft's Office 365 Outlook connector addresses it). Its delta is a
// snapshot of change keys, like the calendar's, without a window.

// Contact is a contact as the fake stores it, mirroring Graph's contact
// JSON. Extended properties come only through $expand; the photo only
// through /photo/$value.
type Contact struct {
	ID                            string             `json:"id"`
	CreatedDateTime               time.Time          `json:"createdDateTime"`
	LastModifiedDateTime          time.Time          `json:"lastModifiedDateTime"`
	ChangeKey                     string             `json:"changeKey"`
	Categories                    []string           `json:"categories"`
	ParentFolderID                string             `json:"parentFolderId"`
	Birthday                      *time.Time         `json:"birthday"`
	FileAs                        string             `json:"fileAs"`
	DisplayName                   string             `json:"displayName"`
	GivenName                     string             `json:"givenName"`
	Initials                      string             `json:"initials"`
	MiddleName                    string             `json:"middleName"`
	NickName                      string             `json:"nickName"`
	Surname                       string             `json:"surname"`
	Title                         string             `json:"title"`
	YomiGivenName                 string             `json:"yomiGivenName"`
	YomiSurname                   string             `json:"yomiSurname"`
	YomiCompanyName               string             `json:"yomiCompanyName"`
	Generation                    string             `json:"generation"`
	ImAddresses                   []string           `json:"imAddresses"`
	JobTitle                      string             `json:"jobTitle"`
	CompanyName                   string             `json:"companyName"`
	Department                    string             `json:"department"`
	OfficeLocation                string             `json:"officeLocation"`
	Profession                    string             `json:"profession"`
	BusinessHomePage              string             `json:"businessHomePage"`
	AssistantName                 string             `json:"assistantName"`
	Manager                       string             `json:"manager"`
	HomePhones                    []string           `json:"homePhones"`
	MobilePhone                   string             `json:"mobilePhone"`
	BusinessPhones                []string           `json:"businessPhones"`
	SpouseName                    string             `json:"spouseName"`
	PersonalNotes                 string             `json:"personalNotes"`
	Children                      []string           `json:"children"`
	EmailAddresses                []EmailAddress     `json:"emailAddresses"`
	HomeAddress                   PhysicalAddress    `json:"homeAddress"`
	BusinessAddress               PhysicalAddress    `json:"businessAddress"`
	OtherAddress                  PhysicalAddress    `json:"otherAddress"`
	SingleValueExtendedProperties []ExtendedProperty `json:"singleValueExtendedProperties,omitempty"`

	photo *Photo // replaced, never changed in place
}

// Photo is a contact's picture as it was uploaded.
type Photo struct {
	MediaType string
	Data      []byte
}

// contactProperties are the names $select accepts and bodies may write
// (less the read-only ones).
var contactProperties = []string{
	"assistantName", "birthday", "businessAddress", "businessHomePage", "businessPhones", "categories",
	"changeKey", "children", "companyName", "createdDateTime", "department", "displayName", "emailAddresses",
	"fileAs", "generation", "givenName", "homeAddress", "homePhones", "id", "imAddresses", "initials",
	"jobTitle", "lastModifiedDateTime", "manager", "middleName", "mobilePhone", "nickName", "officeLocation",
	"otherAddress", "parentFolderId", "personalNotes", "profession", "spouseName", "surname", "title",
	"yomiCompanyName", "yomiGivenName", "yomiSurname",
}

// contactReadOnly properties in a body are ignored, as for events (our
// choice).
var contactReadOnly = map[string]bool{"id": true, "changeKey": true, "createdDateTime": true, "lastModifiedDateTime": true, "parentFolderId": true}

// contactNameParts are what Outlook builds a display name from: a write of
// one of them without displayName makes a new one. The reference says
// later updates to other properties may overwrite a display name and that
// an update should always include it; which properties, and the form, are
// our choice.
var contactNameParts = map[string]bool{"givenName": true, "middleName": true, "surname": true, "title": true, "generation": true}

// contactLimits are the most values Outlook keeps in a multi-value
// property. Not in the reference: Graph answers 400 for a fourth e-mail
// address and a third business phone (reported in
// microsoft-graph-docs-contrib issue 560); home phones and IM addresses
// follow Outlook's fields by analogy (our choice).
var contactLimits = map[string]int{"emailAddresses": 3, "businessPhones": 2, "homePhones": 2, "imAddresses": 3}

// maxRequest is Graph's limit on a request's size, which bounds a photo
// upload (profilephoto-update).
const maxRequest = 4 << 20

// contactStore is a mailbox's contact folder.
type contactStore struct {
	folderID  string
	items     map[string]*Contact
	order     []string // ids, in creation order
	deltas    map[string]*contactSnapshot
	pages     map[string]*contactPage
	photoPuts int
	mb        *mailbox // the store's mailbox, for change notifications
}

// contactSnapshot is what a delta token stands for: the change keys seen
// and the $select of the round's first request.
type contactSnapshot struct {
	snap map[string]string
	sel  []string
}

type (
	contactRound = round[*contactSnapshot]
	contactPage  = roundPage[*contactSnapshot]
)

func newContactStore(userID string) *contactStore {
	h := sha256.Sum256([]byte("contacts " + userID))
	return &contactStore{
		folderID: "AAMkCF" + b64(h[:18]) + "AAA=",
		items:    map[string]*Contact{},
		deltas:   map[string]*contactSnapshot{},
		pages:    map[string]*contactPage{},
	}
}

func (cs *contactStore) isFolder(id string) bool {
	return id == cs.folderID || strings.EqualFold(id, "contacts")
}

func (c Contact) clone() Contact {
	x := c
	x.Categories = slices.Clone(c.Categories)
	x.ImAddresses = slices.Clone(c.ImAddresses)
	x.HomePhones = slices.Clone(c.HomePhones)
	x.BusinessPhones = slices.Clone(c.BusinessPhones)
	x.Children = slices.Clone(c.Children)
	x.EmailAddresses = slices.Clone(c.EmailAddresses)
	x.SingleValueExtendedProperties = slices.Clone(c.SingleValueExtendedProperties)
	if c.Birthday != nil {
		b := *c.Birthday
		x.Birthday = &b
	}
	return x
}

// renderContact is c's JSON object as Graph answers it: unset strings and
// the birthday null, collections empty, unset addresses {}.
func renderContact(c *Contact) map[string]any {
	b, err := json.Marshal(c)
	if err != nil {
		panic(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		panic(err)
	}
	delete(m, "singleValueExtendedProperties")
	for k, v := range m {
		switch x := v.(type) {
		case string:
			if x == "" {
				m[k] = nil
			}
		case nil:
			if k != "birthday" {
				m[k] = []any{}
			}
		case map[string]any: // an address: only its parts that are set
			for part, pv := range x {
				if pv == "" {
					delete(x, part)
				}
			}
		}
	}
	if c.Birthday != nil {
		m["birthday"] = c.Birthday.UTC().Format(time.RFC3339)
	}
	m["@odata.etag"] = `W/"` + c.ChangeKey + `"`
	return m
}

// ---- requests ----

// serveContacts answers /users/{who}/contacts[/...] and
// /users/{who}/contactFolders[/...]. s.mu is held.
func (s *Server) serveContacts(q *req, mb *mailbox, who string, rest []string) {
	cs := mb.contacts
	inFolder := false
	if rest[0] == "contactFolders" {
		switch {
		case len(rest) == 1:
			// The default folder's child folders: it has none.
			if s.method(q, http.MethodGet) {
				q.json(http.StatusOK, map[string]any{"@odata.context": s.URL + "/$metadata#users('" + who + "')/contactFolders", "value": []any{}})
			}
			return
		case !cs.isFolder(rest[1]):
			q.fail(http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store.")
			return
		case len(rest) == 2:
			if s.method(q, http.MethodGet) {
				obj := selectUser(map[string]any{"id": cs.folderID, "displayName": "Contacts", "parentFolderId": contactsRoot(cs)}, q.r.URL.Query().Get("$select"))
				obj["@odata.context"] = s.URL + "/$metadata#users('" + who + "')/contactFolders/$entity"
				q.json(http.StatusOK, obj)
			}
			return
		}
		rest, inFolder = rest[2:], true
		if rest[0] != "contacts" {
			q.failf(http.StatusBadRequest, "BadRequest", "Resource not found for the segment '%s'.", rest[0])
			return
		}
	}
	switch {
	case len(rest) == 1:
		switch q.r.Method {
		case http.MethodGet:
			s.listContacts(q, cs, who)
		case http.MethodPost:
			s.createContact(q, cs, who)
		default:
			s.method(q, http.MethodGet, http.MethodPost)
		}
	case len(rest) == 2 && inFolder && rest[1] == "delta":
		// Documented on a contact folder only.
		if s.method(q, http.MethodGet) {
			s.contactDelta(q, cs, who)
		}
	case len(rest) == 2:
		c, ok := s.findContact(q, cs, rest[1])
		if !ok {
			return
		}
		switch q.r.Method {
		case http.MethodGet:
			s.getContact(q, c, who)
		case http.MethodPatch:
			s.patchContact(q, cs, c, who)
		case http.MethodDelete:
			if s.ifMatch(q, c.ChangeKey) {
				delete(cs.items, c.ID)
				cs.order = slices.DeleteFunc(cs.order, func(id string) bool { return id == c.ID })
				s.changed(cs.mb, "contacts", c.ID, "deleted")
				q.noContent()
			}
		default:
			s.method(q, http.MethodGet, http.MethodPatch, http.MethodDelete)
		}
	case len(rest) == 4 && rest[2] == "photo" && rest[3] == "$value":
		c, ok := s.findContact(q, cs, rest[1])
		if !ok {
			return
		}
		// Deleting a contact's photo is not supported (profilephoto-delete).
		switch q.r.Method {
		case http.MethodGet:
			s.getPhoto(q, c)
		case http.MethodPut, http.MethodPatch:
			s.putPhoto(q, cs, c)
		default:
			s.method(q, http.MethodGet, http.MethodPut, http.MethodPatch)
		}
	default:
		q.failf(http.StatusBadRequest, "BadRequest", "Resource not found for the segment '%s'.", rest[len(rest)-1])
	}
}

func contactsRoot(cs *contactStore) string {
	return "AAMkRT" + strings.TrimPrefix(cs.folderID, "AAMkCF")
}

func (s *Server) findContact(q *req, cs *contactStore, id string) (*Contact, bool) {
	if c := cs.items[id]; c != nil {
		return c, true
	}
	if !strings.HasPrefix(id, "AAMk") {
		q.fail(http.StatusBadRequest, "ErrorInvalidIdMalformed", "Id is malformed.")
	} else {
		q.fail(errNotFound.status, errNotFound.code, errNotFound.msg)
	}
	return nil, false
}

func (s *Server) contactEntity(m map[string]any, who string) map[string]any {
	m["@odata.context"] = s.URL + "/$metadata#users('" + who + "')/contacts/$entity"
	return m
}

// contactView is what a read asked for: $select (nil: everything) and the
// extended properties to expand.
type contactView struct {
	sel   []string
	props []string // propKeys
}

func (s *Server) contactView(q *req) (contactView, bool) {
	qs := q.r.URL.Query()
	sel, ok := parseContactSelect(q, qs.Get("$select"))
	if !ok {
		return contactView{}, false
	}
	exp, err := parseExpand(qs.Get("$expand"))
	if err == nil && exp.exceptions {
		err = errors.New("exceptionOccurrences is not a property of a contact")
	}
	if err != nil {
		q.fail(http.StatusBadRequest, "BadRequest", err.Error())
		return contactView{}, false
	}
	return contactView{sel, exp.props}, true
}

func parseContactSelect(q *req, v string) ([]string, bool) {
	if strings.TrimSpace(v) == "" {
		return nil, true
	}
	var out []string
	for _, name := range strings.Split(v, ",") {
		name = strings.TrimSpace(name)
		i := slices.IndexFunc(contactProperties, func(p string) bool { return strings.EqualFold(p, name) })
		if i < 0 {
			q.failf(http.StatusBadRequest, "RequestBroker--ParseUri", "Could not find a property named '%s' on type 'microsoft.graph.contact'.", name)
			return nil, false
		}
		out = append(out, contactProperties[i])
	}
	return out, true
}

// show renders c for v: id and @odata.etag always, expanded extended
// properties even with a $select, as for events (left out when none
// match, our choice).
func (v contactView) show(c *Contact) map[string]any {
	m := renderContact(c)
	if v.sel != nil {
		out := map[string]any{"id": m["id"], "@odata.etag": m["@odata.etag"]}
		for _, k := range v.sel {
			out[k] = m[k]
		}
		m = out
	}
	var props []any
	for _, p := range c.SingleValueExtendedProperties {
		if k, _ := propKey(p.ID); slices.Contains(v.props, k) {
			props = append(props, map[string]any{"id": p.ID, "value": p.Value})
		}
	}
	if len(props) > 0 {
		m["singleValueExtendedProperties"] = props
	}
	return m
}

func (s *Server) getContact(q *req, c *Contact, who string) {
	if v, ok := s.contactView(q); ok {
		q.json(http.StatusOK, s.contactEntity(v.show(c), who))
	}
}

// listContacts answers a folder's contacts, optionally with the
// extended-property $filter, paged like other collections (10 a page
// unless $top or Prefer: odata.maxpagesize say otherwise).
func (s *Server) listContacts(q *req, cs *contactStore, who string) {
	v, ok := s.contactView(q)
	if !ok {
		return
	}
	qs := q.r.URL.Query()
	var pf *propFilter
	if f := qs.Get("$filter"); f != "" {
		p, err := parseEventFilter(f)
		if err != nil {
			q.fail(http.StatusBadRequest, "ErrorInvalidUrlQueryFilter", err.Error())
			return
		}
		pf = &p
	}
	var items []any
	for _, id := range cs.order {
		c := cs.items[id]
		if !pf.matches(c.SingleValueExtendedProperties) {
			continue
		}
		items = append(items, v.show(c))
	}
	s.collection(q, "users('"+who+"')/contacts", items, 10)
}

func (s *Server) createContact(q *req, cs *contactStore, who string) {
	fields, ok := s.body(q)
	if !ok {
		return
	}
	now := time.Now().UTC()
	c := Contact{ID: "AAMkAD" + b64(s.unique()) + "AAA=", CreatedDateTime: now, ParentFolderID: cs.folderID}
	if aerr := applyContact(&c, fields, true); aerr != nil {
		q.fail(aerr.status, aerr.code, aerr.msg)
		return
	}
	s.bumpContact(&c)
	cs.items[c.ID] = &c
	cs.order = append(cs.order, c.ID)
	s.changed(cs.mb, "contacts", c.ID, "created")
	q.json(http.StatusCreated, s.contactEntity(renderContact(&c), who))
}

func (s *Server) patchContact(q *req, cs *contactStore, c *Contact, who string) {
	if !s.ifMatch(q, c.ChangeKey) {
		return
	}
	fields, ok := s.body(q)
	if !ok {
		return
	}
	next := c.clone()
	if aerr := applyContact(&next, fields, false); aerr != nil {
		q.fail(aerr.status, aerr.code, aerr.msg)
		return
	}
	s.bumpContact(&next)
	*c = next
	s.changed(cs.mb, "contacts", c.ID, "updated")
	q.json(http.StatusOK, s.contactEntity(renderContact(c), who))
}

func (s *Server) bumpContact(c *Contact) {
	c.ChangeKey = s.newChangeKey()
	c.LastModifiedDateTime = time.Now().UTC()
}

// applyContact writes a create or update body onto c. A complex property
// (an address) is replaced whole, not merged (our choice); extended
// properties are created or updated one by one, the others kept.
func applyContact(c *Contact, fields map[string]json.RawMessage, create bool) *apiError {
	cur := map[string]json.RawMessage{}
	b, _ := json.Marshal(c)
	if err := json.Unmarshal(b, &cur); err != nil {
		panic(err)
	}
	keys := slices.Sorted(maps.Keys(fields))
	names := create
	var props []ExtendedProperty
	for _, k := range keys {
		switch {
		case k == "singleValueExtendedProperties":
			if err := strictJSON(fields[k], &props); err != nil {
				return invalid("%s: %v", k, err)
			}
		case contactReadOnly[k] || strings.HasPrefix(k, "@odata."):
		case !slices.Contains(contactProperties, k):
			return &apiError{400, "ErrorInvalidProperty", "The property '" + k + "' does not exist on type 'microsoft.graph.contact' (or graphtest does not model it)."}
		default:
			cur[k] = fields[k]
			names = names || contactNameParts[k]
		}
	}
	b, _ = json.Marshal(cur)
	var next Contact
	if err := strictJSON(b, &next); err != nil {
		return invalid("%v", err)
	}
	counts := map[string]int{"emailAddresses": len(next.EmailAddresses), "businessPhones": len(next.BusinessPhones),
		"homePhones": len(next.HomePhones), "imAddresses": len(next.ImAddresses)}
	for _, k := range keys {
		if n, ok := contactLimits[k]; ok && counts[k] > n {
			return invalid("The multi-value property %s has %d entries, more than the %d Outlook keeps.", k, counts[k], n)
		}
	}
	for _, p := range props {
		k, ok := propKey(p.ID)
		if !ok {
			return invalid("invalid extended property id %q", p.ID)
		}
		i := slices.IndexFunc(next.SingleValueExtendedProperties, func(x ExtendedProperty) bool { xk, _ := propKey(x.ID); return xk == k })
		if i >= 0 {
			next.SingleValueExtendedProperties[i].Value = p.Value
		} else {
			next.SingleValueExtendedProperties = append(next.SingleValueExtendedProperties, p)
		}
	}
	if _, given := fields["displayName"]; names && !given {
		if n := strings.Join(slices.DeleteFunc([]string{next.GivenName, next.MiddleName, next.Surname}, func(p string) bool { return p == "" }), " "); n != "" {
			next.DisplayName = n
		}
	}
	next.photo = c.photo
	*c = next
	return nil
}

// getPhoto answers the photo's bytes; a contact without one is 404
// (documented), with the code ImageNotFound (observed, not in the
// reference).
func (s *Server) getPhoto(q *req, c *Contact) {
	if c.photo == nil {
		q.fail(http.StatusNotFound, "ImageNotFound", "The contact has no photo.")
		return
	}
	h := q.w.Header()
	h.Set("Content-Type", c.photo.MediaType)
	h.Set("request-id", q.id)
	q.w.WriteHeader(http.StatusOK)
	q.w.Write(c.photo.Data)
}

// putPhoto stores a photo. The reference asks for image/jpeg; PNG is taken
// too, and the bytes are kept as they come (our choice: whether Outlook
// re-encodes them is not documented). Setting a photo changes the
// contact's change key, so delta reports it (our choice; the reference is
// silent, and Exchange keeps the picture as an attachment of the contact).
func (s *Server) putPhoto(q *req, cs *contactStore, c *Contact) {
	mt, _, _ := mime.ParseMediaType(q.r.Header.Get("Content-Type"))
	format := map[string]string{"image/jpeg": "jpeg", "image/png": "png"}[mt]
	switch {
	case format == "":
		q.failf(http.StatusUnsupportedMediaType, "ErrorInvalidRequest", "A contact photo is image/jpeg (or image/png), not %q.", mt)
		return
	case len(q.body) > maxRequest:
		q.fail(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "A request is limited to 4 MB.")
		return
	}
	if _, got, err := image.DecodeConfig(bytes.NewReader(q.body)); err != nil || got != format {
		q.failf(http.StatusBadRequest, "ErrorInvalidImage", "The body is not a %s image.", format)
		return
	}
	c.photo = &Photo{MediaType: mt, Data: bytes.Clone(q.body)}
	s.bumpContact(c)
	cs.photoPuts++
	s.changed(cs.mb, "contacts", c.ID, "updated")
	q.w.Header().Set("request-id", q.id)
	q.w.WriteHeader(http.StatusOK)
}

// contactDelta answers /contactFolders/{id}/contacts/delta: a full round
// without a token, changes and @removed since a delta token; $select is
// the only query option, given in the first request and kept in the
// links.
func (s *Server) contactDelta(q *req, cs *contactStore, who string) {
	qs := q.r.URL.Query()
	for k := range qs {
		if strings.HasPrefix(k, "$") && k != "$skiptoken" && k != "$deltatoken" && k != "$select" {
			q.failf(http.StatusBadRequest, "ErrorInvalidUrlQuery", "The query parameter '%s' is not supported with contact delta.", k)
			return
		}
	}
	var pg *contactPage
	switch {
	case qs.Has("$skiptoken"):
		if pg = cs.pages[qs.Get("$skiptoken")]; pg == nil {
			s.gone(q, nil)
			return
		}
	case qs.Get("$deltatoken") != "":
		st := cs.deltas[qs.Get("$deltatoken")]
		if st == nil {
			s.gone(q, nil)
			return
		}
		pg = &contactPage{round: s.contactRound(cs, st.sel, st)}
	default:
		sel, ok := parseContactSelect(q, qs.Get("$select"))
		if !ok {
			return
		}
		pg = &contactPage{round: s.contactRound(cs, sel, nil)}
	}
	size := defaultDeltaPage
	if v, err := strconv.Atoi(q.prefer["odata.maxpagesize"]); err == nil && v > 0 {
		size = v
	}
	servePage(s, q, pg, size, "contact", cs.pages, cs.deltas)
}

// contactRound computes a round since prev (nil: the first): contacts new
// or changed since, then the ones gone.
func (s *Server) contactRound(cs *contactStore, sel []string, prev *contactSnapshot) *contactRound {
	next := &contactSnapshot{snap: map[string]string{}, sel: sel}
	r := &contactRound{next: next, entries: []any{}}
	v := contactView{sel: sel}
	for _, id := range cs.order {
		c := cs.items[id]
		next.snap[id] = c.ChangeKey
		if prev == nil || prev.snap[id] != c.ChangeKey {
			m := v.show(c)
			m["@odata.type"] = "#microsoft.graph.contact"
			r.entries = append(r.entries, m)
		}
	}
	if prev == nil {
		return r
	}
	var gone []string
	for id := range prev.snap {
		if _, ok := next.snap[id]; !ok {
			gone = append(gone, id)
		}
	}
	sort.Strings(gone)
	for _, id := range gone {
		r.entries = append(r.entries, map[string]any{"@odata.type": "#microsoft.graph.contact", "id": id, "@removed": map[string]any{"reason": "deleted"}})
	}
	return r
}

// ---- direct access for tests ----

// ContactFolderID is the id of the user's default contact folder.
func (s *Server) ContactFolderID(userID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mustMailbox(userID).contacts.folderID
}

// Contacts are copies of the user's contacts, in creation order, with their
// extended properties.
func (s *Server) Contacts(userID string) []Contact {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.mustMailbox(userID).contacts
	out := []Contact{}
	for _, id := range cs.order {
		out = append(out, cs.items[id].clone())
	}
	return out
}

// ContactPhoto is a copy of a contact's photo.
func (s *Server) ContactPhoto(userID, id string) (Photo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.mustMailbox(userID).contacts.items[id]
	if c == nil || c.photo == nil {
		return Photo{}, false
	}
	return Photo{MediaType: c.photo.MediaType, Data: bytes.Clone(c.photo.Data)}, true
}

// PhotoUploads is the number of contact photos stored in the mailbox so far.
func (s *Server) PhotoUploads(userID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mustMailbox(userID).contacts.photoPuts
}

// ExpireContactDeltaTokens forgets the contact delta tokens and skip tokens
// issued so far: using one answers 410 Gone, SyncStateNotFound.
func (s *Server) ExpireContactDeltaTokens(userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.mustMailbox(userID).contacts
	cs.deltas = map[string]*contactSnapshot{}
	cs.pages = map[string]*contactPage{}
}
