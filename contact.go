package tidbro

import (
	"fmt"
	"regexp"
	"strings"
)

// Contact is an address-book card.
type Contact struct {
	UID          string            `json:"uid,omitempty"`
	DisplayName  string            `json:"displayName,omitempty"` // vCard FN; derived from the name parts when empty
	Prefix       string            `json:"prefix,omitempty"`
	GivenName    string            `json:"givenName,omitempty"`
	MiddleName   string            `json:"middleName,omitempty"`
	FamilyName   string            `json:"familyName,omitempty"`
	Suffix       string            `json:"suffix,omitempty"`
	Nickname     string            `json:"nickname,omitempty"`
	Organization string            `json:"organization,omitempty"`
	Department   string            `json:"department,omitempty"`
	Title        string            `json:"title,omitempty"`
	Emails       []Email           `json:"emails,omitempty"`
	Phones       []Phone           `json:"phones,omitempty"`
	Addresses    []Address         `json:"addresses,omitempty"`
	URLs         []string          `json:"urls,omitempty"`
	Note         string            `json:"note,omitempty"`
	Birthday     string            `json:"birthday,omitempty"` // YYYY-MM-DD, or --MM-DD without a year
	Photo        *Photo            `json:"photo,omitempty"`
	Categories   []string          `json:"categories,omitempty"`
	Private      bool              `json:"private,omitempty"`
	Extra        map[string]string `json:"extra,omitempty"`
}

// Email is one e-mail address of a contact.
type Email struct {
	Type      string `json:"type,omitempty"` // work | home | other | free-form
	Address   string `json:"address"`
	Preferred bool   `json:"preferred,omitempty"`
}

// Phone is one telephone number of a contact.
type Phone struct {
	Type      string `json:"type,omitempty"` // work | home | mobile | fax | pager | other | free-form
	Number    string `json:"number"`
	Preferred bool   `json:"preferred,omitempty"`
}

// Address is one postal address of a contact.
type Address struct {
	Type       string `json:"type,omitempty"`
	POBox      string `json:"poBox,omitempty"`
	Extended   string `json:"extended,omitempty"`
	Street     string `json:"street,omitempty"`
	Locality   string `json:"locality,omitempty"` // city
	Region     string `json:"region,omitempty"`
	PostalCode string `json:"postalCode,omitempty"`
	Country    string `json:"country,omitempty"`
}

// Photo is a contact picture: inline bytes (base64 in JSON) or a URI.
type Photo struct {
	MediaType string `json:"mediaType,omitempty"` // image/jpeg, image/png, ...
	Data      []byte `json:"data,omitempty"`
	URI       string `json:"uri,omitempty"`
}

// MaxPhotoLen caps an inline photo; vCard clients choke on bigger ones.
const MaxPhotoLen = 5 << 20

var birthdayRE = regexp.MustCompile(`^(\d{4}|--)-?(0[1-9]|1[0-2])-?(0[1-9]|[12]\d|3[01])$`)

func (c *Contact) Validate() error {
	if c.DisplayName == "" && c.GivenName == "" && c.FamilyName == "" && c.Organization == "" && len(c.Emails) == 0 {
		return Invalid("displayName", "a contact needs a name, an organization or an e-mail address")
	}
	for i, e := range c.Emails {
		if !validEmail(e.Address) {
			return Invalid(fmt.Sprintf("emails[%d].address", i), "%q is not an e-mail address", e.Address)
		}
	}
	for i, p := range c.Phones {
		if strings.TrimSpace(p.Number) == "" {
			return Invalid(fmt.Sprintf("phones[%d].number", i), "a phone needs a number")
		}
	}
	for i, u := range c.URLs {
		if err := validURL(fmt.Sprintf("urls[%d]", i), u); err != nil {
			return err
		}
	}
	if c.Birthday != "" && !birthdayRE.MatchString(c.Birthday) {
		return Invalid("birthday", "%q is not a date (YYYY-MM-DD or --MM-DD)", c.Birthday)
	}
	if p := c.Photo; p != nil {
		if (len(p.Data) == 0) == (p.URI == "") {
			return Invalid("photo", "a photo has either data or a uri")
		}
		if len(p.Data) > 0 && !strings.HasPrefix(p.MediaType, "image/") {
			return Invalid("photo.mediaType", "%q is not an image media type", p.MediaType)
		}
		if len(p.Data) > MaxPhotoLen {
			return Errorf(ETOOLARGE, "photo is %d bytes, over the limit of %d", len(p.Data), MaxPhotoLen).withField("photo.data")
		}
		if err := validURL("photo.uri", p.URI); err != nil {
			return err
		}
	}
	texts := map[string]string{
		"uid": c.UID, "displayName": c.DisplayName, "prefix": c.Prefix, "givenName": c.GivenName,
		"middleName": c.MiddleName, "familyName": c.FamilyName, "suffix": c.Suffix, "nickname": c.Nickname,
		"organization": c.Organization, "department": c.Department, "title": c.Title, "note": c.Note,
	}
	for i, e := range c.Emails {
		texts[fmt.Sprintf("emails[%d].type", i)] = e.Type
	}
	for i, p := range c.Phones {
		texts[fmt.Sprintf("phones[%d].number", i)] = p.Number
		texts[fmt.Sprintf("phones[%d].type", i)] = p.Type
	}
	for i, a := range c.Addresses {
		p := fmt.Sprintf("addresses[%d].", i)
		for k, v := range map[string]string{"type": a.Type, "poBox": a.POBox, "extended": a.Extended, "street": a.Street,
			"locality": a.Locality, "region": a.Region, "postalCode": a.PostalCode, "country": a.Country} {
			texts[p+k] = v
		}
	}
	return validStrings("", texts, c.Categories, c.Extra)
}
