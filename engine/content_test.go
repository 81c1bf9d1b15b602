package engine

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/tidbro/tidbro"
)

// A contact's base keeps its inline photo as a digest, and merges through
// that base tell which side changed the photo as they would with the
// photo itself.
func TestContactBaseKeepsPhotoDigest(t *testing.T) {
	photo := func(b byte) *tidbro.Photo {
		return &tidbro.Photo{MediaType: "image/jpeg", Data: bytes.Repeat([]byte{b}, 3000)}
	}
	contact := func(org string, p *tidbro.Photo) *tidbro.Contact {
		return &tidbro.Contact{GivenName: "Åsa", FamilyName: "Öberg", Organization: org, Photo: p,
			Emails: []tidbro.Email{{Address: "asa@example.com"}}}
	}
	agreed := &tidbro.Item{Kind: tidbro.KindContact, Contact: contact("A&B", photo(1))}
	base, hash, err := linkBase(agreed)
	if err != nil {
		t.Fatal(err)
	}
	if hash != viewHash(agreed) {
		t.Errorf("hash %s, want viewHash %s", hash, viewHash(agreed))
	}
	if len(base) > 400 || !json.Valid(base) {
		t.Fatalf("base is %d bytes (valid JSON: %v): %s", len(base), json.Valid(base), base)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(base, &fields); err != nil {
		t.Fatal(err)
	}
	if string(fields["organization"]) != `"A\u0026B"` || fields["photo"] == nil {
		t.Fatalf("base fields: %s", base)
	}

	for _, c := range []struct {
		name        string
		app, remote *tidbro.Contact
		wantOrg     string
		wantPhoto   *tidbro.Photo
		wantClashes []string
		preferApp   bool
	}{
		{"app changed the photo, groupware the organisation", contact("A&B", photo(2)), contact("C", photo(1)), "C", photo(2), nil, false},
		{"groupware changed the photo", contact("A&B", photo(1)), contact("A&B", photo(3)), "A&B", photo(3), nil, false},
		{"app removed the photo", contact("A&B", nil), contact("C", photo(1)), "C", nil, nil, false},
		{"both changed the photo, app preferred", contact("A&B", photo(2)), contact("A&B", photo(3)), "A&B", photo(2), []string{"photo"}, true},
		{"both changed the photo, groupware preferred", contact("A&B", photo(2)), contact("A&B", photo(3)), "A&B", photo(3), []string{"photo"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			fields, clashes, err := merge3(base, c.app, c.remote, c.preferApp)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := json.Marshal(fields)
			if err != nil {
				t.Fatal(err)
			}
			var got tidbro.Contact
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatal(err)
			}
			if got.Organization != c.wantOrg || !reflect.DeepEqual(got.Photo, c.wantPhoto) || !slices.Equal(clashes, c.wantClashes) {
				t.Fatalf("merged organisation %q, photo %v, clashes %v", got.Organization, got.Photo != nil, clashes)
			}
		})
	}
}

// A base written before photos were kept as digests (the whole photo)
// still merges.
func TestContactBaseWithWholePhoto(t *testing.T) {
	p := &tidbro.Photo{MediaType: "image/png", Data: []byte("old")}
	base, err := json.Marshal(&tidbro.Contact{GivenName: "Bo", Photo: p})
	if err != nil {
		t.Fatal(err)
	}
	fields, clashes, err := merge3(base, &tidbro.Contact{GivenName: "Bo", Photo: p}, &tidbro.Contact{GivenName: "Bo", Photo: &tidbro.Photo{URI: "https://example.com/p.png"}}, true)
	if err != nil || len(clashes) > 0 {
		t.Fatal(err, clashes)
	}
	if string(fields["photo"]) != `{"uri":"https://example.com/p.png"}` {
		t.Fatalf("photo %s", fields["photo"])
	}
}
