package ical

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
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
// model are kept from raw.
func EncodeContact(c *tidbro.Contact, raw []byte) (out []byte, err error) {
	defer safely("raw vCard", &err)
	if c == nil {
		return nil, errors.New("ical: no contact")
	}
	card := vcard.Card{}
	uid := c.UID
	version := "4.0"
	groups := map[string]string{} // Apple groups items with their labels (item1.EMAIL, item1.X-ABLabel)
	if len(raw) > 0 {
		old, err := vcard.NewDecoder(bytes.NewReader(raw)).Decode()
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
		for k, v := range old {
			if !contains(contactFields, k) {
				card[k] = v
			}
			for _, f := range v {
				if f.Group != "" {
					groups[k+"\x00"+f.Value] = f.Group
				}
			}
		}
	}
	v3 := version == "3.0"
	card.SetValue(vcard.FieldVersion, version)
	card.SetValue(vcard.FieldProductID, ProdID)
	if uid == "" {
		uid = newUID() // CardDAV requires one (RFC 6352, 5.1)
	}
	card.SetValue(vcard.FieldUID, uid)
	card.SetValue(vcard.FieldFormattedName, displayName(c))
	card.SetName(&vcard.Name{FamilyName: c.FamilyName, GivenName: c.GivenName, AdditionalName: c.MiddleName,
		HonorificPrefix: c.Prefix, HonorificSuffix: c.Suffix})
	add := func(k, v string) {
		if v != "" {
			card.AddValue(k, v)
		}
	}
	add(vcard.FieldNickname, c.Nickname)
	if c.Organization != "" || c.Department != "" {
		org := c.Organization
		if c.Department != "" {
			org += ";" + c.Department
		}
		card.Add(vcard.FieldOrganization, &vcard.Field{Value: org})
	}
	add(vcard.FieldTitle, c.Title)
	typed := func(typ string, pref bool) vcard.Params {
		p := vcard.Params{}
		if typ == "mobile" {
			typ = "cell"
		}
		if typ != "" {
			p.Add(vcard.ParamType, typ)
		}
		if pref && v3 {
			p.Add(vcard.ParamType, "pref")
		} else if pref {
			p.Set(vcard.ParamPreferred, "1")
		}
		return p
	}
	for _, e := range c.Emails {
		card.Add(vcard.FieldEmail, &vcard.Field{Value: e.Address, Params: typed(e.Type, e.Preferred)})
	}
	for _, p := range c.Phones {
		card.Add(vcard.FieldTelephone, &vcard.Field{Value: p.Number, Params: typed(p.Type, p.Preferred)})
	}
	for _, a := range c.Addresses {
		card.AddAddress(&vcard.Address{Field: &vcard.Field{Params: typed(a.Type, false)},
			PostOfficeBox: a.POBox, ExtendedAddress: a.Extended, StreetAddress: a.Street, Locality: a.Locality,
			Region: a.Region, PostalCode: a.PostalCode, Country: a.Country})
	}
	for _, u := range c.URLs {
		add(vcard.FieldURL, u)
	}
	add(vcard.FieldNote, c.Note)
	if bd, ok := strings.CutPrefix(c.Birthday, "--"); ok && v3 {
		// 3.0 has no year-less dates; Apple's convention is understood widely.
		card.Add(vcard.FieldBirthday, &vcard.Field{Value: "1604-" + bd, Params: vcard.Params{appleOmitYear: {"1604"}}})
	} else {
		add(vcard.FieldBirthday, c.Birthday)
	}
	if p := c.Photo; p != nil {
		f := &vcard.Field{Params: vcard.Params{}}
		switch {
		case len(p.Data) > 0 && v3:
			f.Params.Set("ENCODING", "b")
			if sub, ok := strings.CutPrefix(p.MediaType, "image/"); ok {
				f.Params.Set(vcard.ParamType, strings.ToUpper(sub))
			}
			f.Value = base64.StdEncoding.EncodeToString(p.Data)
		case len(p.Data) > 0:
			f.Value = "data:" + p.MediaType + ";base64," + base64.StdEncoding.EncodeToString(p.Data)
		default:
			f.Params.Set(vcard.ParamValue, "uri")
			f.Value = p.URI
		}
		card.Add(vcard.FieldPhoto, f)
	}
	for _, cat := range c.Categories {
		add(vcard.FieldCategories, cat) // one per field: go-vcard would escape the commas of a list
	}
	if c.Private {
		card.SetValue("CLASS", "PRIVATE")
	}
	for _, k := range []string{vcard.FieldEmail, vcard.FieldTelephone, vcard.FieldAddress, vcard.FieldURL} {
		for _, f := range card[k] {
			f.Group = groups[k+"\x00"+f.Value]
		}
	}
	var buf bytes.Buffer
	if err := vcard.NewEncoder(&buf).Encode(card); err != nil {
		return nil, fmt.Errorf("ical: %w", err)
	}
	return buf.Bytes(), nil
}

// displayName is FN, which vCard requires: the given name, else the name
// parts, the organization or the first e-mail address.
func displayName(c *tidbro.Contact) string {
	if c.DisplayName != "" {
		return c.DisplayName
	}
	var parts []string
	for _, p := range []string{c.Prefix, c.GivenName, c.MiddleName, c.FamilyName, c.Suffix} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	switch {
	case len(parts) > 0:
		return strings.Join(parts, " ")
	case c.Organization != "":
		return c.Organization
	case len(c.Emails) > 0:
		return c.Emails[0].Address
	}
	return "(no name)"
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
