package graph

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidbro/tidbro"
)

// Extended properties of contacts. shapeProperty, in tidbro's namespace
// next to linkProperty, records how tidbro's contact was laid out on
// Outlook's fields, so that what Outlook cannot hold (e-mail types, a
// fourth address, a UID) comes back unchanged. The others are Outlook's
// own MAPI properties ([MS-OXOCNTC], [MS-OXCMSG]) for what Graph's contact
// has no property for.
const (
	shapeProperty       = "String {3a8f5c2e-9b41-4d7a-8e06-5c1f2b7d9a43} Name tidbroContact"
	sensitivityProperty = "Integer 0x0036" // PidTagSensitivity: 2 is private
	faxProperty         = "String 0x3A24"  // PidTagBusinessFaxNumber
	pagerProperty       = "String 0x3A21"  // PidTagPagerTelephoneNumber
	otherPhoneProperty  = "String 0x3A1F"  // PidTagOtherTelephoneNumber
)

// contactProps are the extended properties a read expands.
var contactProps = []string{shapeProperty, sensitivityProperty, faxProperty, pagerProperty, otherPhoneProperty}

// maxPhoto is what a photo upload may weigh: Graph limits a request to 4 MB
// (profilephoto-update).
const maxPhoto = 4 << 20

// photoAnnotation is added to a fetched contact's Raw: the hash of the
// photo Outlook held, so that Update uploads a photo only when it differs.
const photoAnnotation = "@tidbro.photo"

// ContactFolder is one mailbox's contact folder as a tidbro.Remote.
type ContactFolder struct {
	c      *Client
	user   string // the mailbox: a user id
	folder string // a contact folder id
	subscriptions
}

// NewContactFolder binds to a user's contact folder.
func NewContactFolder(c *Client, userID, folderID string) *ContactFolder {
	return &ContactFolder{c: c, user: userID, folder: folderID,
		subscriptions: subscriptions{c: c, user: userID, resource: "users/" + userID + "/contactFolders/" + folderID + "/contacts", now: time.Now}}
}

var (
	_ tidbro.Remote     = (*ContactFolder)(nil)
	_ tidbro.Finder     = (*ContactFolder)(nil)
	_ tidbro.Subscriber = (*ContactFolder)(nil)
)

// Capabilities: a Fetch reads a contact and its photo, two parts of a
// $batch each.
func (f *ContactFolder) Capabilities() tidbro.Capabilities {
	return tidbro.Capabilities{SyncTokens: true, ServerIDs: true, Private: true, Kinds: []tidbro.Kind{tidbro.KindContact}, MaxBatch: maxBatch / 2}
}

func (f *ContactFolder) collPath() string {
	return "/users/" + url.PathEscape(f.user) + "/contactFolders/" + url.PathEscape(f.folder) + "/contacts"
}

func (f *ContactFolder) contactPath(id string) string { return f.collPath() + "/" + url.PathEscape(id) }

// bindContacts finds a mailbox's user id and default contact folder. The
// folder is asked for by the name "contacts": Graph's reference lists no
// well-known contact folder names, but Exchange knows the default one by
// it, and Microsoft's Office 365 Outlook connector addresses it so.
func (c *Client) bindContacts(ctx context.Context, mailbox string) (userID, folderID, name string, err error) {
	if userID, err = c.userID(ctx, mailbox); err != nil {
		return "", "", "", err
	}
	var folder struct {
		ID          string `json:"id"`
		DisplayName string `json:"displayName"`
	}
	if _, err := c.do(ctx, userID, request{Method: http.MethodGet, Path: "/users/" + url.PathEscape(userID) + "/contactFolders/contacts?$select=id,displayName"}, &folder); err != nil {
		return "", "", "", fmt.Errorf("the default contact folder: %w", err)
	}
	return userID, folder.ID, folder.DisplayName, nil
}

// The Graph shapes tidbro reads (contact resource, v1.0).
type (
	physicalAddress struct {
		Street          string `json:"street,omitempty"`
		City            string `json:"city,omitempty"`
		State           string `json:"state,omitempty"`
		CountryOrRegion string `json:"countryOrRegion,omitempty"`
		PostalCode      string `json:"postalCode,omitempty"`
	}
	extendedProperty struct {
		ID    string `json:"id"`
		Value string `json:"value"`
	}
	contact struct {
		ID               string             `json:"id"`
		ETag             string             `json:"@odata.etag"`
		Removed          *struct{}          `json:"@removed"`
		LastModified     string             `json:"lastModifiedDateTime"`
		DisplayName      string             `json:"displayName"`
		GivenName        string             `json:"givenName"`
		MiddleName       string             `json:"middleName"`
		Surname          string             `json:"surname"`
		Title            string             `json:"title"`
		Generation       string             `json:"generation"`
		NickName         string             `json:"nickName"`
		CompanyName      string             `json:"companyName"`
		Department       string             `json:"department"`
		JobTitle         string             `json:"jobTitle"`
		EmailAddresses   []emailAddress     `json:"emailAddresses"`
		BusinessPhones   []string           `json:"businessPhones"`
		HomePhones       []string           `json:"homePhones"`
		MobilePhone      string             `json:"mobilePhone"`
		HomeAddress      physicalAddress    `json:"homeAddress"`
		BusinessAddress  physicalAddress    `json:"businessAddress"`
		OtherAddress     physicalAddress    `json:"otherAddress"`
		BusinessHomePage string             `json:"businessHomePage"`
		PersonalNotes    string             `json:"personalNotes"`
		Birthday         string             `json:"birthday"`
		Categories       []string           `json:"categories"`
		Props            []extendedProperty `json:"singleValueExtendedProperties"`
	}
)

// props maps the contact's expanded extended properties by propID.
func (g *contact) props() map[string]string {
	m := map[string]string{}
	for _, p := range g.Props {
		m[propID(p.ID)] = p.Value
	}
	return m
}

// propID normalises an extended property id for comparison: Graph may
// answer it in another case, or a tag with fewer digits.
func propID(id string) string {
	f := strings.Fields(strings.ToLower(id))
	if len(f) == 2 && strings.HasPrefix(f[1], "0x") {
		if n, err := strconv.ParseUint(f[1][2:], 16, 32); err == nil {
			f[1] = fmt.Sprintf("0x%04x", n)
		}
	}
	return strings.Join(f, " ")
}

// shape is shapeProperty's value. Values are placed in Outlook's slots
// ("email1", "business2", "home", ...; "" for none: Outlook has no room),
// each with the key of what its slot held when tidbro wrote it.
type shape struct {
	UID       string                   `json:"uid,omitempty"`
	Derived   string                   `json:"dn,omitempty"` // the display name tidbro made for a contact without one
	Emails    []placed[tidbro.Email]   `json:"e,omitempty"`
	Phones    []placed[tidbro.Phone]   `json:"p,omitempty"`
	Addresses []placed[tidbro.Address] `json:"a,omitempty"`
	URLs      []placed[string]         `json:"u,omitempty"`
	Photo     string                   `json:"ph,omitempty"` // hash of the photo tidbro wrote
	PhotoURI  string                   `json:"pu,omitempty"` // a photo by reference, which Outlook cannot show
	// Hidden is the hash of an Outlook photo the app removed: Graph cannot
	// delete a contact's photo (profilephoto-delete), so tidbro no longer
	// reports it, until Outlook's photo changes.
	Hidden string `json:"hp,omitempty"`
}

type placed[T any] struct {
	Slot string `json:"s,omitempty"`
	Key  string `json:"k,omitempty"`
	V    T      `json:"v"`
}

// held is a value in one of Outlook's slots, read the way Outlook types it.
type held[T any] struct {
	slot, key string
	val       T
}

func shapeOf(g *contact) shape {
	var sh shape
	if v := g.props()[propID(shapeProperty)]; v != "" {
		// A shape that does not parse (edited by hand) is no shape: the
		// contact reads as Outlook holds it.
		if json.Unmarshal([]byte(v), &sh) != nil {
			sh = shape{}
		}
	}
	return sh
}

// assignSlots gives values the first free slot their kind prefers, those
// first() picks before the others; what finds none gets "".
func assignSlots[T any](vals []T, prefs func(T) []string, first func(T) bool) []string {
	slots := make([]string, len(vals))
	taken := map[string]bool{}
	for _, early := range []bool{true, false} {
		for i, v := range vals {
			if (first != nil && first(v)) != early {
				continue
			}
			for _, s := range prefs(v) {
				if !taken[s] {
					taken[s], slots[i] = true, s
					break
				}
			}
		}
	}
	return slots
}

// restoreSlots rebuilds tidbro's values from what Outlook holds and the
// shape: a value whose slot still holds what tidbro wrote comes back as
// tidbro wrote it (with movable, one that moved to another slot too: e-mail
// addresses shift up when one is removed); a slot edited in Outlook gives
// edit(tidbro's value, Outlook's); one emptied in Outlook drops its value;
// values without a slot come back as they were; and Outlook's other
// values follow, typed by their slots.
func restoreSlots[T any](sh []placed[T], have []held[T], movable bool, edit func(was, now T) T) []T {
	used := make([]bool, len(have))
	out := make([]*T, len(sh))
	for i, p := range sh {
		if p.Slot == "" {
			out[i] = &sh[i].V
			continue
		}
		for j, h := range have {
			if !used[j] && h.key == p.Key && (movable || h.slot == p.Slot) {
				used[j], out[i] = true, &sh[i].V
				break
			}
		}
	}
	for i, p := range sh {
		if out[i] != nil {
			continue
		}
		for j, h := range have {
			if !used[j] && h.slot == p.Slot {
				v := edit(p.V, h.val)
				used[j], out[i] = true, &v
				break
			}
		}
	}
	var res []T
	for _, v := range out {
		if v != nil {
			res = append(res, *v)
		}
	}
	for j, h := range have {
		if !used[j] {
			res = append(res, h.val)
		}
	}
	return res
}

func emailSlots(tidbro.Email) []string { return []string{"email1", "email2", "email3"} }

func phoneSlots(p tidbro.Phone) []string {
	switch strings.ToLower(p.Type) {
	case "work":
		return []string{"business1", "business2"}
	case "home":
		return []string{"home1", "home2"}
	case "mobile", "cell":
		return []string{"mobile"}
	case "fax":
		return []string{"fax"}
	case "pager":
		return []string{"pager"}
	}
	return []string{"other", "business1", "business2"}
}

func addressSlots(a tidbro.Address) []string {
	switch strings.ToLower(a.Type) {
	case "home":
		return []string{"home", "other"}
	case "work":
		return []string{"business", "other"}
	}
	return []string{"other"}
}

func urlSlots(string) []string { return []string{"web"} }

func emailKey(addr string) string { return strings.ToLower(strings.TrimSpace(addr)) }

// outlookAddress writes an address on Outlook's fields: the extended
// address and the post office box go on lines of the street.
func outlookAddress(a tidbro.Address) physicalAddress {
	street := slices.DeleteFunc([]string{a.Street, a.Extended, a.POBox}, func(s string) bool { return s == "" })
	return physicalAddress{Street: strings.Join(street, "\n"), City: a.Locality, State: a.Region, PostalCode: a.PostalCode, CountryOrRegion: a.Country}
}

func (p physicalAddress) key() string {
	b, _ := json.Marshal(p)
	return string(b)
}

func (p physicalAddress) address(typ string) tidbro.Address {
	return tidbro.Address{Type: typ, Street: strings.ReplaceAll(p.Street, "\r\n", "\n"), Locality: p.City, Region: p.State,
		PostalCode: p.PostalCode, Country: p.CountryOrRegion}
}

// contactWrite is a contact as Graph's create or update body: fields, and
// Outlook's extended properties (id → value, "" for none); shape says
// where the values went.
type contactWrite struct {
	fields map[string]any
	props  map[string]string
	shape  shape
}

// contactBody writes c on Outlook's fields; fields not modelled by tidbro
// are left to what Outlook has.
func contactBody(c *tidbro.Contact) (*contactWrite, error) {
	w := &contactWrite{props: map[string]string{}, shape: shape{UID: c.UID}}
	dn := c.DisplayName
	if dn == "" {
		// Outlook shows a display name; the one tidbro makes is not the
		// app's, and reads back as none.
		dn = strings.Join(slices.DeleteFunc([]string{c.GivenName, c.MiddleName, c.FamilyName}, func(s string) bool { return s == "" }), " ")
		if dn == "" {
			dn = c.Organization
		}
		if dn == "" && len(c.Emails) > 0 {
			dn = c.Emails[0].Address
		}
		w.shape.Derived = dn
	}
	birthday, err := outlookBirthday(c.Birthday)
	if err != nil {
		return nil, err
	}
	slots := map[string]string{}
	emails := []emailAddress{}
	for i, s := range assignSlots(c.Emails, emailSlots, func(e tidbro.Email) bool { return e.Preferred }) {
		w.shape.Emails = append(w.shape.Emails, placed[tidbro.Email]{Slot: s, V: c.Emails[i]})
		if s != "" {
			slots[s] = c.Emails[i].Address
			w.shape.Emails[i].Key = emailKey(c.Emails[i].Address)
		}
	}
	for _, s := range []string{"email1", "email2", "email3"} {
		if a, ok := slots[s]; ok {
			emails = append(emails, emailAddress{Name: dn, Address: a})
		}
	}
	for i, s := range assignSlots(c.Phones, phoneSlots, nil) {
		w.shape.Phones = append(w.shape.Phones, placed[tidbro.Phone]{Slot: s, V: c.Phones[i]})
		if s != "" {
			slots[s] = c.Phones[i].Number
			w.shape.Phones[i].Key = c.Phones[i].Number
		}
	}
	numbers := func(names ...string) []string {
		out := []string{}
		for _, n := range names {
			if v, ok := slots[n]; ok {
				out = append(out, v)
			}
		}
		return out
	}
	addrs := map[string]physicalAddress{}
	for i, s := range assignSlots(c.Addresses, addressSlots, nil) {
		w.shape.Addresses = append(w.shape.Addresses, placed[tidbro.Address]{Slot: s, V: c.Addresses[i]})
		if s != "" {
			addrs[s] = outlookAddress(c.Addresses[i])
			w.shape.Addresses[i].Key = addrs[s].key()
		}
	}
	web := ""
	for i, s := range assignSlots(c.URLs, urlSlots, nil) {
		w.shape.URLs = append(w.shape.URLs, placed[string]{Slot: s, V: c.URLs[i]})
		if s != "" {
			web, w.shape.URLs[i].Key = c.URLs[i], c.URLs[i]
		}
	}
	w.fields = map[string]any{
		"displayName": dn, "givenName": c.GivenName, "middleName": c.MiddleName, "surname": c.FamilyName,
		"title": c.Prefix, "generation": c.Suffix, "nickName": c.Nickname,
		"companyName": c.Organization, "department": c.Department, "jobTitle": c.Title,
		"emailAddresses": emails, "businessPhones": numbers("business1", "business2"), "homePhones": numbers("home1", "home2"),
		"mobilePhone": slots["mobile"], "homeAddress": addrs["home"], "businessAddress": addrs["business"], "otherAddress": addrs["other"],
		"businessHomePage": web, "personalNotes": c.Note, "birthday": birthday, "categories": nonNil(c.Categories),
	}
	w.props[faxProperty], w.props[pagerProperty], w.props[otherPhoneProperty] = slots["fax"], slots["pager"], slots["other"]
	w.props[sensitivityProperty] = map[bool]string{true: "2", false: "0"}[c.Private]
	return w, nil
}

var birthdayRE = regexp.MustCompile(`^(\d{4}|--)-?(\d\d)-?(\d\d)$`)

// noYear is the year Outlook holds for a birthday without one (Outlook
// needs a year; vCard clients use 1604 for an unknown one).
const noYear = "1604"

func outlookBirthday(b string) (any, error) {
	if b == "" {
		return nil, nil
	}
	m := birthdayRE.FindStringSubmatch(b)
	if m == nil {
		return nil, tidbro.Invalid("birthday", "%q is not a date", b)
	}
	if m[1] == "--" {
		m[1] = noYear
	}
	return m[1] + "-" + m[2] + "-" + m[3] + "T00:00:00Z", nil
}

// birthdayOf reads Outlook's birthday: an instant, which Outlook's clients
// put at some time of the day in their owner's zone (11:59 is seen), so
// the date is that of the nearest midnight UTC.
func birthdayOf(v string) string {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return ""
	}
	d := t.UTC().Add(12 * time.Hour).Format(time.DateOnly)
	if y, rest, _ := strings.Cut(d, "-"); y == noYear {
		return "--" + rest
	}
	return d
}

// toContact reads an Outlook contact into tidbro's model, with the photo
// Outlook holds (nil for none).
func toContact(g *contact, photo *tidbro.Photo) *tidbro.Contact {
	sh := shapeOf(g)
	props := g.props()
	c := &tidbro.Contact{
		UID: sh.UID, DisplayName: g.DisplayName, Prefix: g.Title, GivenName: g.GivenName, MiddleName: g.MiddleName,
		FamilyName: g.Surname, Suffix: g.Generation, Nickname: g.NickName, Organization: g.CompanyName,
		Department: g.Department, Title: g.JobTitle, Note: strings.ReplaceAll(g.PersonalNotes, "\r\n", "\n"),
		Birthday: birthdayOf(g.Birthday), Private: props[propID(sensitivityProperty)] == "2" || props[propID(sensitivityProperty)] == "3",
	}
	if len(g.Categories) > 0 {
		c.Categories = g.Categories
	}
	if sh.Derived != "" && g.DisplayName == sh.Derived {
		c.DisplayName = ""
	}
	var emails []held[tidbro.Email]
	for i, e := range g.EmailAddresses {
		if e.Address != "" {
			emails = append(emails, held[tidbro.Email]{fmt.Sprintf("email%d", i+1), emailKey(e.Address), tidbro.Email{Address: e.Address}})
		}
	}
	c.Emails = restoreSlots(sh.Emails, emails, true, func(was, now tidbro.Email) tidbro.Email { was.Address = now.Address; return was })
	var phones []held[tidbro.Phone]
	phone := func(slot, typ, n string) {
		if n != "" {
			phones = append(phones, held[tidbro.Phone]{slot, n, tidbro.Phone{Type: typ, Number: n}})
		}
	}
	for i, n := range g.BusinessPhones {
		phone(fmt.Sprintf("business%d", i+1), "work", n)
	}
	for i, n := range g.HomePhones {
		phone(fmt.Sprintf("home%d", i+1), "home", n)
	}
	phone("mobile", "mobile", g.MobilePhone)
	phone("fax", "fax", props[propID(faxProperty)])
	phone("pager", "pager", props[propID(pagerProperty)])
	phone("other", "other", props[propID(otherPhoneProperty)])
	c.Phones = restoreSlots(sh.Phones, phones, false, func(was, now tidbro.Phone) tidbro.Phone { was.Number = now.Number; return was })
	var addrs []held[tidbro.Address]
	for _, a := range []struct {
		slot, typ string
		p         physicalAddress
	}{{"home", "home", g.HomeAddress}, {"business", "work", g.BusinessAddress}, {"other", "other", g.OtherAddress}} {
		if a.p != (physicalAddress{}) {
			addrs = append(addrs, held[tidbro.Address]{a.slot, a.p.key(), a.p.address(a.typ)})
		}
	}
	c.Addresses = restoreSlots(sh.Addresses, addrs, false, func(was, now tidbro.Address) tidbro.Address { now.Type = was.Type; return now })
	var urls []held[string]
	if g.BusinessHomePage != "" {
		urls = append(urls, held[string]{"web", g.BusinessHomePage, g.BusinessHomePage})
	}
	c.URLs = restoreSlots(sh.URLs, urls, false, func(_, now string) string { return now })
	switch {
	case photo != nil && photoHash(photo) != sh.Hidden:
		c.Photo = photo
	case sh.PhotoURI != "":
		c.Photo = &tidbro.Photo{URI: sh.PhotoURI}
	}
	return c
}

// photoHash names a photo's content ("" for none).
func photoHash(p *tidbro.Photo) string {
	if p == nil || len(p.Data) == 0 {
		return ""
	}
	h := sha256.New()
	h.Write([]byte(p.MediaType + "\n"))
	h.Write(p.Data)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// photoToWrite is the photo to upload for c (nil for none, or for a photo
// by reference), or why Outlook cannot take it: a contact is better not
// written than written without the photo, which would then read back as
// removed.
func photoToWrite(c *tidbro.Contact) (*tidbro.Photo, error) {
	p := c.Photo
	if p == nil || len(p.Data) == 0 {
		return nil, nil
	}
	if mt, _, _ := mime.ParseMediaType(p.MediaType); mt != "image/jpeg" && mt != "image/png" {
		return nil, tidbro.Invalid("photo.mediaType", "Outlook takes JPEG or PNG contact photos, not %q", p.MediaType)
	}
	if len(p.Data) >= maxPhoto {
		return nil, &tidbro.Error{Code: tidbro.ETOOLARGE, Field: "photo.data", Message: fmt.Sprintf("the photo is %d bytes; Outlook takes contact photos under 4 MB", len(p.Data))}
	}
	return p, nil
}

// contactSync is the sync token: the delta link of the folder's round.
type contactSync struct {
	Link string `json:"c"`
}

// Changes reads the folder's contact delta, from the token's delta link or
// a new round. A contact removed from the folder is gone from this
// collection: deleted.
func (f *ContactFolder) Changes(ctx context.Context, token string, _ *tidbro.TimeRange) (*tidbro.RemoteChanges, error) {
	link := f.collPath() + "/delta?$select=id"
	if token != "" {
		var st contactSync
		b, err := decodeToken(token)
		if err == nil {
			err = json.Unmarshal(b, &st)
		}
		if err != nil || st.Link == "" {
			return nil, tidbro.Errorf(tidbro.EINVALID, "not a sync token of this contact folder")
		}
		link = st.Link
	}
	out := &tidbro.RemoteChanges{Full: token == ""}
	changed, removed := map[string]string{}, map[string]bool{}
	next, err := deltaRound(ctx, f.c, f.user, link, "contact delta", func(g contact) {
		if g.Removed != nil {
			delete(changed, g.ID)
			removed[g.ID] = true
		} else {
			delete(removed, g.ID)
			changed[g.ID] = g.ETag
		}
	})
	if err != nil {
		return nil, err
	}
	for _, id := range sortedKeys(changed) {
		out.Changed = append(out.Changed, tidbro.RemoteRef{ID: id, ETag: changed[id]})
	}
	if !out.Full {
		for _, id := range sortedKeys(removed) {
			out.Removed = append(out.Removed, tidbro.Removed{ID: id, Deleted: true})
		}
	}
	b, _ := json.Marshal(contactSync{Link: next})
	out.Token = encodeToken(b)
	return out, nil
}

// escapeQuery escapes a query value, spaces as %20 (a + may be taken
// literally).
func escapeQuery(v string) string { return strings.ReplaceAll(url.QueryEscape(v), "+", "%20") }

func expandProps(ids ...string) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = "id eq '" + id + "'"
	}
	return "singleValueExtendedProperties($filter=" + strings.Join(parts, " or ") + ")"
}

// Fetch reads contacts with their photos, a contact and its photo in the
// same $batch. Photos are read only here, and Fetch is asked for contacts
// that changed: that a new photo changes the contact's change key (and so
// shows in delta) is our assumption, as Exchange keeps the photo as an
// attachment of the contact; the reference is silent.
func (f *ContactFolder) Fetch(ctx context.Context, ids []string) ([]*tidbro.RemoteItem, []tidbro.ItemError, error) {
	reqs := make([]request, 0, 2*len(ids))
	for _, id := range ids {
		reqs = append(reqs,
			request{Method: http.MethodGet, Path: f.contactPath(id) + "?$expand=" + escapeQuery(expandProps(contactProps...))},
			request{Method: http.MethodGet, Path: f.contactPath(id) + "/photo/$value"})
	}
	as, err := f.c.batch(ctx, f.user, reqs)
	if err != nil {
		return nil, nil, err
	}
	var items []*tidbro.RemoteItem
	var errs []tidbro.ItemError
	for i, id := range ids {
		it, err := f.read(as[2*i], as[2*i+1], reqs[2*i], reqs[2*i+1])
		switch {
		case tidbro.ErrorCode(err) == tidbro.ENOTFOUND:
		case err != nil && tidbro.Transient(err):
			return nil, nil, err
		case err != nil:
			errs = append(errs, tidbro.ItemError{ID: id, Err: err})
		default:
			items = append(items, it)
		}
	}
	return items, errs, nil
}

// read makes an item of a contact's answer and its photo's.
func (f *ContactFolder) read(ca, pa batchAnswer, cr, pr request) (*tidbro.RemoteItem, error) {
	if err := ca.answer(cr, nil); err != nil {
		return nil, err
	}
	var g contact
	if err := json.Unmarshal(ca.Body, &g); err != nil {
		return nil, tidbro.Errorf(tidbro.EINVALID, "cannot read contact: %v", err)
	}
	photo, err := readPhoto(pa, pr)
	if err != nil {
		return nil, err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(ca.Body, &raw); err != nil {
		return nil, tidbro.Errorf(tidbro.EINVALID, "cannot read contact %s: %v", g.ID, err)
	}
	raw[photoAnnotation], _ = json.Marshal(photoHash(photo))
	b, _ := json.Marshal(raw)
	modified, _ := time.Parse(time.RFC3339Nano, g.LastModified)
	return &tidbro.RemoteItem{ID: g.ID, ETag: g.ETag, Kind: tidbro.KindContact, Modified: modified, Contact: toContact(&g, photo), Raw: b}, nil
}

// readPhoto reads a photo's answer: a $batch carries it base64-encoded. A
// 404 of a contact that exists is a contact without a photo.
func readPhoto(a batchAnswer, r request) (*tidbro.Photo, error) {
	if a.Status == http.StatusNotFound {
		return nil, nil
	}
	if err := a.answer(r, nil); err != nil {
		return nil, err
	}
	var s string
	if err := json.Unmarshal(a.Body, &s); err != nil {
		return nil, tidbro.Errorf(tidbro.EINVALID, "cannot read the contact's photo: %v", err)
	}
	data, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, tidbro.Errorf(tidbro.EINVALID, "cannot read the contact's photo: %v", err)
	}
	mt, _, _ := mime.ParseMediaType(headerOf(a.Headers).Get("Content-Type"))
	if len(data) == 0 {
		return nil, nil
	}
	return &tidbro.Photo{MediaType: mt, Data: data}, nil
}

// lookup finds the contact tidbro created with key (with its shape):
// contacts have no transactionId, so the key in linkProperty is the only
// way to tell a retried create.
func (f *ContactFolder) lookup(ctx context.Context, key string) (*contact, bool, error) {
	flt := fmt.Sprintf("singleValueExtendedProperties/Any(ep: ep/id eq '%s' and ep/value eq '%s')", linkProperty, strings.ReplaceAll(key, "'", "''"))
	r := request{Method: http.MethodGet, Path: f.collPath() + "?$select=id&$filter=" + escapeQuery(flt) + "&$expand=" + escapeQuery(expandProps(shapeProperty))}
	a, err := f.c.box(f.user).writes.do(ctx, r)
	if err != nil {
		return nil, false, err
	}
	var res struct {
		Value []contact `json:"value"`
	}
	if err := a.answer(r, &res); err != nil {
		return nil, false, fmt.Errorf("looking for the contact of %q: %w", key, err)
	}
	if len(res.Value) == 0 {
		return nil, false, nil
	}
	return &res.Value[0], true, nil
}

// Find looks for the contact an earlier Create with key made
// (tidbro.Finder).
func (f *ContactFolder) Find(ctx context.Context, key string) (tidbro.RemoteRef, bool, error) {
	g, found, err := f.lookup(ctx, key)
	if err != nil || !found {
		return tidbro.RemoteRef{}, false, err
	}
	return tidbro.RemoteRef{ID: g.ID, ETag: g.ETag}, true, nil
}

// Create looks for a contact made with key first (one $batch part, shared
// with the writes around it), and posts one with the key in linkProperty
// when there is none; then uploads the photo.
func (f *ContactFolder) Create(ctx context.Context, key string, it *tidbro.RemoteItem) (tidbro.RemoteRef, error) {
	c := it.Contact
	if c == nil {
		return tidbro.RemoteRef{}, tidbro.Errorf(tidbro.EINVALID, "no contact to create")
	}
	photo, err := photoToWrite(c)
	if err != nil {
		return tidbro.RemoteRef{}, err
	}
	w, err := contactBody(c)
	if err != nil {
		return tidbro.RemoteRef{}, err
	}
	if g, found, err := f.lookup(ctx, key); err != nil {
		return tidbro.RemoteRef{}, err
	} else if found {
		return f.resume(ctx, g, photo)
	}
	w.shape.Photo, w.shape.PhotoURI = photoHash(photo), photoURI(c)
	props := []extendedProperty{{ID: linkProperty, Value: key}, {ID: shapeProperty, Value: w.shapeJSON()}}
	for _, id := range sortedKeys(w.props) {
		if v := w.props[id]; v != "" && (id != sensitivityProperty || v != "0") {
			props = append(props, extendedProperty{ID: id, Value: v})
		}
	}
	body := w.fields
	body["singleValueExtendedProperties"] = props
	r := request{Method: http.MethodPost, Path: f.collPath(), Body: body, Unsafe: true}
	a, err := f.c.box(f.user).writes.do(ctx, r)
	if err != nil {
		return tidbro.RemoteRef{}, err
	}
	var created contact
	if err := a.answer(r, &created); err != nil {
		return tidbro.RemoteRef{}, err
	}
	if photo == nil {
		return tidbro.RemoteRef{ID: created.ID, ETag: created.ETag}, nil
	}
	if err := f.putPhoto(ctx, created.ID, photo); err != nil {
		return tidbro.RemoteRef{}, fmt.Errorf("the contact %s is created, its photo not yet: %w", created.ID, err)
	}
	return f.ref(ctx, created.ID)
}

// resume returns the contact an earlier create made, uploading the photo
// it meant to if that create stopped before (a retry's photo is the same).
func (f *ContactFolder) resume(ctx context.Context, g *contact, photo *tidbro.Photo) (tidbro.RemoteRef, error) {
	ref := tidbro.RemoteRef{ID: g.ID, ETag: g.ETag}
	if photo == nil || shapeOf(g).Photo != photoHash(photo) {
		return ref, nil
	}
	r := request{Method: http.MethodGet, Path: f.contactPath(g.ID) + "/photo/$value"}
	a, err := f.c.box(f.user).writes.do(ctx, r)
	if err != nil {
		return tidbro.RemoteRef{}, err
	}
	if a.Status != http.StatusNotFound {
		return ref, a.answer(r, nil)
	}
	if err := f.putPhoto(ctx, g.ID, photo); err != nil {
		return tidbro.RemoteRef{}, fmt.Errorf("the contact %s is created, its photo not yet: %w", g.ID, err)
	}
	return f.ref(ctx, g.ID)
}

func photoURI(c *tidbro.Contact) string {
	if c.Photo != nil && len(c.Photo.Data) == 0 {
		return c.Photo.URI
	}
	return ""
}

func (w *contactWrite) shapeJSON() string {
	b, _ := json.Marshal(w.shape)
	return string(b)
}

// putPhoto uploads a photo on its own, not in a $batch: there it would
// travel base64-encoded, a third bigger, within the same 4 MB.
func (f *ContactFolder) putPhoto(ctx context.Context, id string, p *tidbro.Photo) error {
	r := request{Method: http.MethodPut, Path: f.contactPath(id) + "/photo/$value", Headers: map[string]string{"Content-Type": p.MediaType}}
	if _, err := f.c.send(ctx, f.user, r, p.Data, 1, nil); err != nil {
		return fmt.Errorf("uploading the photo: %w", err)
	}
	return nil
}

// ref reads a contact's current etag.
func (f *ContactFolder) ref(ctx context.Context, id string) (tidbro.RemoteRef, error) {
	r := request{Method: http.MethodGet, Path: f.contactPath(id) + "?$select=id"}
	a, err := f.c.box(f.user).writes.do(ctx, r)
	if err != nil {
		return tidbro.RemoteRef{}, err
	}
	var g contact
	if err := a.answer(r, &g); err != nil {
		return tidbro.RemoteRef{}, err
	}
	return tidbro.RemoteRef{ID: g.ID, ETag: g.ETag}, nil
}

// Update patches what changed since the remote's own version (it.Raw, read
// again when missing), if the etag still matches, so that what tidbro
// does not model survives; then uploads the photo if Outlook's differs.
func (f *ContactFolder) Update(ctx context.Context, it *tidbro.RemoteItem, ifMatch string) (tidbro.RemoteRef, error) {
	if ifMatch == "" {
		return tidbro.RemoteRef{}, tidbro.Errorf(tidbro.EPRECONDITION, "an update needs the etag it replaces")
	}
	c := it.Contact
	if c == nil {
		return tidbro.RemoteRef{}, tidbro.Errorf(tidbro.EINVALID, "no contact to write")
	}
	photo, err := photoToWrite(c)
	if err != nil {
		return tidbro.RemoteRef{}, err
	}
	raw := it.Raw
	if len(raw) == 0 {
		items, _, err := f.Fetch(ctx, []string{it.ID})
		if err != nil {
			return tidbro.RemoteRef{}, err
		}
		if len(items) == 0 {
			return tidbro.RemoteRef{}, tidbro.Errorf(tidbro.EPRECONDITION, "%s is gone from Outlook", it.ID)
		}
		raw = items[0].Raw
	}
	var g contact
	var held struct {
		Photo string `json:"@tidbro.photo"`
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		return tidbro.RemoteRef{}, fmt.Errorf("the contact as read before: %w", err)
	}
	_ = json.Unmarshal(raw, &held)
	next, err := contactBody(c)
	if err != nil {
		return tidbro.RemoteRef{}, err
	}
	prev, err := contactBody(toContact(&g, nil))
	if err != nil {
		return tidbro.RemoteRef{}, fmt.Errorf("the contact as read before: %w", err)
	}
	patch := map[string]any{}
	for k, v := range next.fields {
		if !jsonEqual(v, prev.fields[k]) {
			patch[k] = v // Outlook keeps what it has for the rest
		}
	}
	for k := range patch {
		if k == "givenName" || k == "middleName" || k == "surname" || k == "title" || k == "generation" {
			// Outlook would make a display name of its own otherwise
			// (contact resource: always include displayName in an update).
			patch["displayName"] = next.fields["displayName"]
		}
	}
	upload := photo != nil && photoHash(photo) != held.Photo
	switch {
	case photo != nil:
		next.shape.Photo = photoHash(photo)
	case held.Photo != "":
		next.shape.Hidden = held.Photo
	}
	next.shape.PhotoURI = photoURI(c)
	next.props[shapeProperty] = next.shapeJSON()
	have := g.props()
	var props []extendedProperty
	for _, id := range sortedKeys(next.props) {
		old, ok := have[propID(id)]
		if v := next.props[id]; v != old && (ok || v != "" && (id != sensitivityProperty || v != "0")) {
			props = append(props, extendedProperty{ID: id, Value: v})
		}
	}
	if len(props) > 0 {
		patch["singleValueExtendedProperties"] = props
	}
	etag := ifMatch
	if len(patch) > 0 {
		r := request{Method: http.MethodPatch, Path: f.contactPath(it.ID), Body: patch, Headers: map[string]string{"If-Match": ifMatch}}
		a, err := f.c.box(f.user).writes.do(ctx, r)
		if err != nil {
			return tidbro.RemoteRef{}, err
		}
		var e contact
		if err := a.answer(r, &e); err != nil {
			if tidbro.ErrorCode(err) == tidbro.EPRECONDITION {
				return tidbro.RemoteRef{}, tidbro.Errorf(tidbro.EPRECONDITION, "%s changed in Outlook", it.ID)
			}
			return tidbro.RemoteRef{}, err
		}
		etag = e.ETag
	} else if upload {
		// Nothing but the photo, which cannot be written conditionally:
		// the etag is checked just before.
		ref, err := f.ref(ctx, it.ID)
		if err != nil {
			return tidbro.RemoteRef{}, err
		}
		if ref.ETag != ifMatch {
			return tidbro.RemoteRef{}, tidbro.Errorf(tidbro.EPRECONDITION, "%s changed in Outlook", it.ID)
		}
	}
	if !upload {
		return tidbro.RemoteRef{ID: it.ID, ETag: etag}, nil
	}
	if err := f.putPhoto(ctx, it.ID, photo); err != nil {
		return tidbro.RemoteRef{}, err
	}
	return f.ref(ctx, it.ID)
}

// Delete removes the contact if its etag is still ifMatch ("" for any);
// one that is gone is deleted already.
func (f *ContactFolder) Delete(ctx context.Context, id, ifMatch string) error {
	return deleteItem(ctx, f.c, f.user, f.contactPath(id), id, ifMatch, "Outlook")
}
