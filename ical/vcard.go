package ical

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/emersion/go-vcard"
	"github.com/tidbro/tidbro"
)

// DecodeContact parses a vCard 3.0 or 4.0.
func DecodeContact(b []byte) (c *tidbro.Contact, err error) {
	defer safely("vCard", &err)
	card, err := vcard.NewDecoder(bytes.NewReader(b)).Decode()
	if err != nil {
		return nil, fmt.Errorf("ical: cannot parse vCard: %w", err)
	}
	unescapeExtra(card)
	if v := card.Value(vcard.FieldVersion); v != "3.0" && v != "4.0" {
		return nil, fmt.Errorf("ical: unsupported vCard version %q (want 3.0 or 4.0)", v)
	}
	c = &tidbro.Contact{
		UID:         card.Value(vcard.FieldUID),
		DisplayName: card.Value(vcard.FieldFormattedName),
		Nickname:    card.Value(vcard.FieldNickname),
		Title:       card.Value(vcard.FieldTitle),
		Note:        card.Value(vcard.FieldNote),
		URLs:        card.Values(vcard.FieldURL),
	}
	if n := card.Name(); n != nil {
		c.FamilyName, c.GivenName, c.MiddleName = n.FamilyName, n.GivenName, n.AdditionalName
		c.Prefix, c.Suffix = n.HonorificPrefix, n.HonorificSuffix
	}
	if org := card.Value(vcard.FieldOrganization); org != "" {
		parts := strings.SplitN(org, ";", 3)
		c.Organization = parts[0]
		if len(parts) > 1 {
			c.Department = parts[1]
		}
	}
	for _, f := range card[vcard.FieldEmail] {
		c.Emails = append(c.Emails, tidbro.Email{Type: fieldType(f), Address: f.Value, Preferred: preferred(f)})
	}
	for _, f := range card[vcard.FieldTelephone] {
		num := strings.TrimPrefix(f.Value, "tel:")
		c.Phones = append(c.Phones, tidbro.Phone{Type: fieldType(f), Number: num, Preferred: preferred(f)})
	}
	for _, a := range card.Addresses() {
		c.Addresses = append(c.Addresses, tidbro.Address{
			Type: fieldType(a.Field), POBox: a.PostOfficeBox, Extended: a.ExtendedAddress, Street: a.StreetAddress,
			Locality: a.Locality, Region: a.Region, PostalCode: a.PostalCode, Country: a.Country,
		})
	}
	for _, f := range card[vcard.FieldCategories] {
		for _, cat := range strings.Split(f.Value, ",") {
			if cat = strings.TrimSpace(cat); cat != "" {
				c.Categories = append(c.Categories, cat)
			}
		}
	}
	if f := card.Get(vcard.FieldBirthday); f != nil {
		c.Birthday = birthday(f.Value)
		// Apple writes year-less birthdays in 3.0 as 1604-MM-DD;X-APPLE-OMIT-YEAR=1604.
		if y := f.Params.Get(appleOmitYear); y != "" && strings.HasPrefix(c.Birthday, y+"-") {
			c.Birthday = "--" + c.Birthday[len(y)+1:]
		}
	}
	if f := card.Get(vcard.FieldPhoto); f != nil {
		c.Photo, err = photo(f)
		if err != nil {
			return nil, err
		}
	}
	switch strings.ToUpper(card.Value("CLASS")) {
	case "PRIVATE", "CONFIDENTIAL":
		c.Private = true
	}
	return c, nil
}

// fieldType picks the first TYPE that is not a flag ("pref", "internet",
// "voice"); "cell" becomes "mobile".
func fieldType(f *vcard.Field) string {
	for _, t := range f.Params.Types() {
		switch t = strings.ToLower(t); t {
		case "pref", "internet", "voice", "x400":
		case "cell":
			return "mobile"
		default:
			return t
		}
	}
	return ""
}

func preferred(f *vcard.Field) bool {
	return f.Params.HasType("pref") || f.Params.Get(vcard.ParamPreferred) != ""
}

const appleOmitYear = "X-APPLE-OMIT-YEAR"

var bdayRE = regexp.MustCompile(`^(\d{4}|--)-?(\d{2})-?(\d{2})`)

// birthday normalises 19850412, 1985-04-12, --0412 and date-times to
// YYYY-MM-DD or --MM-DD. Free text ("circa 1800", allowed in 4.0) is
// dropped: tidbro's Birthday is a date.
func birthday(s string) string {
	m := bdayRE.FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	if m[1] == "--" {
		return "--" + m[2] + "-" + m[3]
	}
	return m[1] + "-" + m[2] + "-" + m[3]
}

func photo(f *vcard.Field) (*tidbro.Photo, error) {
	v := strings.TrimSpace(f.Value)
	enc := strings.ToLower(f.Params.Get("ENCODING"))
	switch {
	case enc == "b" || enc == "base64": // vCard 3.0
		data, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(v), ""))
		if err != nil {
			return nil, fmt.Errorf("ical: PHOTO: %w", err)
		}
		mt := strings.ToLower(f.Params.Get(vcard.ParamType))
		if mt != "" && !strings.Contains(mt, "/") {
			mt = "image/" + mt
		}
		return &tidbro.Photo{MediaType: mt, Data: data}, nil
	case strings.HasPrefix(v, "data:"): // vCard 4.0
		head, payload, ok := strings.Cut(v[5:], ",")
		if !ok || !strings.HasSuffix(head, ";base64") {
			return nil, errors.New("ical: PHOTO: data URI is not base64")
		}
		data, err := base64.StdEncoding.DecodeString(payload)
		if err != nil {
			return nil, fmt.Errorf("ical: PHOTO: %w", err)
		}
		return &tidbro.Photo{MediaType: strings.TrimSuffix(head, ";base64"), Data: data}, nil
	}
	return &tidbro.Photo{URI: v}, nil
}

// contactFields are the vCard properties tidbro models; EncodeContact
// replaces them and keeps the others from raw.
var contactFields = []string{
	vcard.FieldUID, vcard.FieldFormattedName, vcard.FieldName, vcard.FieldNickname, vcard.FieldOrganization,
	vcard.FieldTitle, vcard.FieldEmail, vcard.FieldTelephone, vcard.FieldAddress, vcard.FieldURL,
	vcard.FieldNote, vcard.FieldBirthday, vcard.FieldPhoto, vcard.FieldCategories, "CLASS",
	vcard.FieldVersion, vcard.FieldProductID,
}

// EncodeContact writes c as a vCard: 3.0 when raw is a vCard 3.0 (so the
// remote gets the version it wrote), 4.0 otherwise. Fields tidbro does not
// model are kept from raw. The text is what go-vcard's encoder wrote:
// VERSION first, then the fields sorted by name, parameters sorted, and
// values escaped its way (backslash, newline and comma only).
func EncodeContact(c *tidbro.Contact, raw []byte) (out []byte, err error) {
	defer safely("raw vCard", &err)
	if c == nil {
		return nil, errors.New("ical: no contact")
	}
	uid := c.UID
	version := "4.0"
	var old vcard.Card
	var groups map[string]string // Apple groups items with their labels (item1.EMAIL, item1.X-ABLabel)
	if len(raw) > 0 {
		old, err = vcard.NewDecoder(bytes.NewReader(raw)).Decode()
		if err != nil {
			return nil, fmt.Errorf("ical: raw: cannot parse vCard: %w", err)
		}
		unescapeExtra(old) // as DecodeContact does, so values match below
		if old.Value(vcard.FieldVersion) == "3.0" {
			version = "3.0"
		}
		if uid == "" {
			uid = old.Value(vcard.FieldUID) // a resource keeps its UID
		}
		groups = map[string]string{}
		for k, v := range old {
			for _, f := range v {
				if f.Group != "" {
					groups[k+"\x00"+f.Value] = f.Group
				}
			}
		}
	}
	v3 := version == "3.0"
	if uid == "" {
		uid = newUID() // CardDAV requires one (RFC 6352, 5.1)
	}
	w := getWriter()
	defer w.release()
	w.begin("VCARD")
	w.out = append(w.out, "VERSION:"...) // first, before the fields sorted by flush
	w.out = append(w.out, version...)
	w.out = append(w.out, "\r\n"...)
	for k, fields := range old {
		if !contains(contactFields, k) {
			for _, f := range fields {
				w.vstart(k, f.Group)
				w.vparams(f.Params)
				w.vvalue(f.Value)
			}
		}
	}
	// group is the Apple group the remote had the field with this value in.
	group := func(k, v string) string {
		if groups == nil {
			return ""
		}
		return groups[k+"\x00"+v]
	}
	w.vfield(vcard.FieldProductID, ProdID)
	w.vfield(vcard.FieldUID, uid)
	w.displayName(c)
	w.vstart(vcard.FieldName, "")
	w.vvalue(c.FamilyName, c.GivenName, c.MiddleName, c.Prefix, c.Suffix)
	w.optField(vcard.FieldNickname, c.Nickname)
	if c.Organization != "" || c.Department != "" {
		w.vstart(vcard.FieldOrganization, "")
		if c.Department != "" {
			w.vvalue(c.Organization, c.Department)
		} else {
			w.vvalue(c.Organization)
		}
	}
	w.optField(vcard.FieldTitle, c.Title)
	typed := func(typ string, pref bool) { // TYPE and preference, in go-vcard's sorted order
		if typ == "mobile" {
			typ = "cell"
		}
		if pref && !v3 {
			w.vparam(vcard.ParamPreferred, "1")
		}
		if typ != "" {
			w.vparam(vcard.ParamType, typ)
		}
		if pref && v3 {
			w.vparam(vcard.ParamType, "pref")
		}
	}
	for _, e := range c.Emails {
		w.vstart(vcard.FieldEmail, group(vcard.FieldEmail, e.Address))
		typed(e.Type, e.Preferred)
		w.vvalue(e.Address)
	}
	for _, p := range c.Phones {
		w.vstart(vcard.FieldTelephone, group(vcard.FieldTelephone, p.Number))
		typed(p.Type, p.Preferred)
		w.vvalue(p.Number)
	}
	for _, a := range c.Addresses {
		parts := [...]string{a.POBox, a.Extended, a.Street, a.Locality, a.Region, a.PostalCode, a.Country}
		g := ""
		if groups != nil {
			g = group(vcard.FieldAddress, strings.Join(parts[:], ";"))
		}
		w.vstart(vcard.FieldAddress, g)
		typed(a.Type, false)
		w.vvalue(parts[:]...)
	}
	for _, u := range c.URLs {
		if u != "" {
			w.vstart(vcard.FieldURL, group(vcard.FieldURL, u))
			w.vvalue(u)
		}
	}
	w.optField(vcard.FieldNote, c.Note)
	if bd, ok := strings.CutPrefix(c.Birthday, "--"); ok && v3 {
		// 3.0 has no year-less dates; Apple's convention is understood widely.
		w.vstart(vcard.FieldBirthday, "")
		w.vparam(appleOmitYear, "1604")
		w.vvalue("1604-" + bd)
	} else {
		w.optField(vcard.FieldBirthday, c.Birthday)
	}
	if p := c.Photo; p != nil {
		w.vstart(vcard.FieldPhoto, "")
		switch {
		case len(p.Data) > 0 && v3:
			w.vparam("ENCODING", "b")
			if sub, ok := strings.CutPrefix(p.MediaType, "image/"); ok {
				w.vparam(vcard.ParamType, strings.ToUpper(sub))
			}
			w.props = base64.StdEncoding.AppendEncode(append(w.props, ':'), p.Data) // nothing to escape
			w.endLine()
		case len(p.Data) > 0:
			w.props = append(w.props, ":data:"...)
			w.props = appendVCardValue(w.props, p.MediaType)
			// go-vcard escaped the comma of the data URI as a TEXT comma;
			// kept, as its decoder (and tidbro) read it back.
			w.props = base64.StdEncoding.AppendEncode(append(w.props, ";base64\\,"...), p.Data)
			w.endLine()
		default:
			w.vparam(vcard.ParamValue, "uri")
			w.vvalue(p.URI)
		}
	}
	for _, cat := range c.Categories {
		w.optField(vcard.FieldCategories, cat) // one per field: go-vcard would escape the commas of a list
	}
	if c.Private {
		w.vfield("CLASS", "PRIVATE")
	}
	w.end()
	return w.bytes()
}

// vstart starts a vCard field of the card being written; it sorts by
// key, after the group.
func (w *writer) vstart(key, group string) {
	n := len(w.props)
	if group != "" {
		w.props = append(append(w.props, group...), '.')
	}
	k := len(w.props)
	w.props = append(w.props, key...)
	w.lines = append(w.lines, line{start: n, keyStart: k, keyEnd: len(w.props)})
}

// vfield writes a field with no group or parameters.
func (w *writer) vfield(key, v string) {
	w.vstart(key, "")
	w.vvalue(v)
}

func (w *writer) optField(key, v string) {
	if v != "" {
		w.vfield(key, v)
	}
}

// vparam writes one parameter value, escaped as go-vcard escapes values.
func (w *writer) vparam(k, v string) {
	w.props = append(w.props, ';')
	w.props = append(w.props, k...)
	w.props = append(w.props, '=')
	w.props = appendVCardValue(w.props, v)
}

// vparams writes a parsed field's parameters, one ";K=V" per value.
func (w *writer) vparams(ps vcard.Params) {
	keys := w.keys[:0]
	for k := range ps {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range ps[k] {
			w.vparam(k, v)
		}
	}
	w.keys = keys
}

// vvalue ends a field with its value: the parts of a structured value
// (N, ADR, ORG) joined by ";", which go-vcard does not escape.
func (w *writer) vvalue(parts ...string) {
	w.props = append(w.props, ':')
	for i, p := range parts {
		if i > 0 {
			w.props = append(w.props, ';')
		}
		w.props = appendVCardValue(w.props, p)
	}
	w.endLine()
}

// appendVCardValue escapes s as go-vcard's formatValue does.
func appendVCardValue(dst []byte, s string) []byte {
	run := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '\n', ',':
			dst = append(dst, s[run:i]...)
			if c == '\n' {
				c = 'n'
			}
			dst = append(dst, '\\', c)
			run = i + 1
		}
	}
	return append(dst, s[run:]...)
}

// displayName writes FN, which vCard requires: the given name, else the
// name parts (joined by spaces, without building the joined string), the
// organization or the first e-mail address.
func (w *writer) displayName(c *tidbro.Contact) {
	w.vstart(vcard.FieldFormattedName, "")
	w.props = append(w.props, ':')
	parts := [...]string{c.Prefix, c.GivenName, c.MiddleName, c.FamilyName, c.Suffix}
	switch {
	case c.DisplayName != "":
		w.props = appendVCardValue(w.props, c.DisplayName)
	case parts != [len(parts)]string{}:
		sep := false
		for _, p := range parts {
			if p != "" {
				if sep {
					w.props = append(w.props, ' ')
				}
				w.props = appendVCardValue(w.props, p)
				sep = true
			}
		}
	case c.Organization != "":
		w.props = appendVCardValue(w.props, c.Organization)
	case len(c.Emails) > 0:
		w.props = appendVCardValue(w.props, c.Emails[0].Address)
	default:
		w.props = append(w.props, "(no name)"...)
	}
	w.endLine()
}

// unescapeExtra undoes the escapes go-vcard leaves in place (it unescapes
// only "\\", "\n" and "\,"): "\;", which servers such as Radicale write in
// text values, and "\:", which Google and Apple write in URLs of vCard 3.0
// exports. Left escaped they would gain a backslash on every round trip.
// Structured values (N, ADR, ORG) split on ";" and keep theirs.
func unescapeExtra(card vcard.Card) {
	for name, fields := range card {
		structured := name == vcard.FieldName || name == vcard.FieldAddress || name == vcard.FieldOrganization || name == vcard.FieldGender
		for _, f := range fields {
			if !structured {
				f.Value = strings.ReplaceAll(f.Value, `\;`, ";")
			}
			f.Value = strings.ReplaceAll(f.Value, `\:`, ":")
		}
	}
}
