package ical

import (
	"os"
	"strings"
	"testing"

	"github.com/tidbro/tidbro"
)

func TestDecodeContactSamples(t *testing.T) {
	tests := []struct {
		file string
		want tidbro.Contact
	}{
		{"apple3.vcf", tidbro.Contact{
			UID: "6F3C1F7A-1D2B-4B5E-9C80-6B1E4F0A2D33", DisplayName: "Dr. Johnny Q. Appleseed Jr.",
			Prefix: "Dr.", GivenName: "Johnny", MiddleName: "Q.", FamilyName: "Appleseed", Suffix: "Jr.", Nickname: "Jo",
			Organization: "Apple Inc.", Department: "Orchards", Title: "Planter",
			Emails: []tidbro.Email{{Type: "home", Address: "johnny@example.com", Preferred: true}, {Type: "work", Address: "j.appleseed@example.org"}},
			Phones: []tidbro.Phone{{Type: "mobile", Number: "+1 555 0100", Preferred: true}, {Type: "work", Number: "+1 555 0199"}},
			Addresses: []tidbro.Address{{Type: "home", Street: "1 Orchard Road", Locality: "Cupertino", Region: "CA",
				PostalCode: "95014", Country: "United States"}},
			URLs: []string{"https://example.com/johnny"}, Note: "Met at the, fair.\nLikes apples.", Birthday: "1974-09-26",
			Photo:      &tidbro.Photo{MediaType: "image/jpeg", Data: []byte{0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 'J', 'F', 'I', 'F'}},
			Categories: []string{"Friends", "Gardening"},
		}},
		{"google.vcf", tidbro.Contact{
			DisplayName: "Karin Lund", GivenName: "Karin", FamilyName: "Lund", Organization: "Lund & Co", Title: "CEO",
			Emails: []tidbro.Email{{Type: "work", Address: "karin@lund.example"}, {Type: "home", Address: "karin.lund@mail.example"}},
			Phones: []tidbro.Phone{{Type: "mobile", Number: "+46 70 555 01 02"}, {Type: "work", Number: "+46 8 555 01 03"}},
			Addresses: []tidbro.Address{
				{Type: "work", Street: "Drottninggatan 5", Locality: "Stockholm", PostalCode: "111 51", Country: "Sweden"},
				{Type: "home", Street: "Villavägen 2", Locality: "Täby", PostalCode: "183 30", Country: "Sweden"}},
			// Google escapes the colon of a URL.
			URLs: []string{"https://lund.example/about"}, Note: "Prefers mornings, not Mondays", Birthday: "1980-05-17",
			Photo: &tidbro.Photo{URI: "https://lh3.googleusercontent.com/contacts/AbC123"}, Categories: []string{"myContacts", "Customers"},
		}},
		{"rfc6350.vcf", tidbro.Contact{
			DisplayName: "Simon Perreault", GivenName: "Simon", FamilyName: "Perreault", Suffix: "ing. jr,M.Sc.",
			Organization: "Viagenie",
			Emails:       []tidbro.Email{{Type: "work", Address: "simon.perreault@viagenie.ca"}},
			Phones:       []tidbro.Phone{{Type: "work", Number: "+1-418-656-9254;ext=102", Preferred: true}, {Type: "work", Number: "+1-418-262-6501"}},
			Addresses:    []tidbro.Address{{Type: "work", Extended: "Suite D2-630", Street: "2875 Laurier", Locality: "Quebec", Region: "QC", PostalCode: "G1V 2M2", Country: "Canada"}},
			URLs:         []string{"http://nomis80.org"}, Birthday: "--02-03",
			Photo: &tidbro.Photo{MediaType: "image/png", Data: []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw := read(t, tt.file)
			got, err := DecodeContact(raw)
			if err != nil {
				t.Fatal(err)
			}
			same(t, got, &tt.want)
			if err := got.Validate(); err != nil {
				t.Errorf("decoded contact does not validate: %v", err)
			}
			// An edit keeps the version and what tidbro does not model.
			got.Note = "Edited"
			b, err := EncodeContact(got, raw)
			if err != nil {
				t.Fatal(err)
			}
			out := string(b)
			for _, keep := range []string{"X-ABUID:", "item2.X-ABADR:us", "item1.EMAIL", "item2.ADR", "item3.URL", "GENDER:M", "ANNIVERSARY:", "KEY;"} {
				if strings.Contains(string(raw), keep) && !strings.Contains(out, keep) {
					t.Errorf("%q lost:\n%s", keep, out)
				}
			}
			if v := strings.SplitN(strings.SplitN(string(raw), "VERSION:", 2)[1], "\r", 2)[0]; !strings.Contains(out, "VERSION:"+v) {
				t.Errorf("version %s not kept:\n%s", v, out)
			}
			again, err := DecodeContact(b)
			if err != nil {
				t.Fatal(err)
			}
			if got.UID == "" { // CardDAV wants a UID: one is made up
				if again.UID == "" {
					t.Errorf("written without a UID:\n%s", out)
				}
				again.UID = ""
			}
			same(t, again, got)
		})
	}
}

func TestContactRoundTrip(t *testing.T) {
	full := tidbro.Contact{
		UID: "c1", DisplayName: "Ann Example", GivenName: "Ann", FamilyName: "Example", Nickname: "Annie",
		Organization: "Example AB", Department: "R&D", Title: "Engineer",
		Emails:    []tidbro.Email{{Type: "work", Address: "ann@example.com", Preferred: true}, {Address: "ann@home.example"}},
		Phones:    []tidbro.Phone{{Type: "mobile", Number: "+46 70 000 00 00"}, {Type: "fax", Number: "+46 8 000"}},
		Addresses: []tidbro.Address{{Type: "home", Street: "Storgatan 1", Locality: "Stockholm", PostalCode: "111 11", Country: "Sweden"}},
		URLs:      []string{"https://example.com/ann"}, Note: "Two\nlines, with comma", Birthday: "--12-24",
		Photo:      &tidbro.Photo{MediaType: "image/png", Data: []byte{1, 2, 3}},
		Categories: []string{"Work", "VIP"}, Private: true,
	}
	uriPhoto := tidbro.Contact{UID: "c2", DisplayName: "Bo", Photo: &tidbro.Photo{URI: "https://example.com/bo.jpg"}, Birthday: "1980-01-31"}
	v3 := []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:x\r\nEND:VCARD\r\n")
	for _, tt := range []struct {
		name string
		c    tidbro.Contact
		raw  []byte
	}{{"v4", full, nil}, {"v3", full, v3}, {"uri photo v4", uriPhoto, nil}, {"uri photo v3", uriPhoto, v3}} {
		t.Run(tt.name, func(t *testing.T) {
			b, err := EncodeContact(&tt.c, tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeContact(b)
			if err != nil {
				t.Fatalf("%v\n%s", err, b)
			}
			same(t, got, &tt.c)
		})
	}
}

func TestAppleYearlessBirthday(t *testing.T) {
	c, err := DecodeContact([]byte("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:x\r\nBDAY;X-APPLE-OMIT-YEAR=1604:1604-04-12\r\nEND:VCARD\r\n"))
	if err != nil || c.Birthday != "--04-12" {
		t.Fatalf("got %q, %v", c.Birthday, err)
	}
	b, err := EncodeContact(c, []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:x\r\nEND:VCARD\r\n"))
	if err != nil || !strings.Contains(string(b), "BDAY;X-APPLE-OMIT-YEAR=1604:1604-04-12\r\n") {
		t.Errorf("got %v\n%s", err, b)
	}
}

func TestContactDerivedFN(t *testing.T) {
	b, err := EncodeContact(&tidbro.Contact{Prefix: "Dr.", GivenName: "Eva", FamilyName: "Lund"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "FN:Dr. Eva Lund\r\n") || !strings.Contains(string(b), "VERSION:4.0") {
		t.Errorf("got\n%s", b)
	}
}

func TestBirthday(t *testing.T) {
	for in, want := range map[string]string{"19850412": "1985-04-12", "1985-04-12": "1985-04-12", "--0412": "--04-12",
		"--04-12": "--04-12", "1985-04-12T00:00:00Z": "1985-04-12", "circa 1800": ""} {
		if got := birthday(in); got != want {
			t.Errorf("birthday(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDecodeContactErrors(t *testing.T) {
	for _, in := range []string{"", "BEGIN:VCARD\r\nVERSION:2.1\r\nFN:x\r\nEND:VCARD\r\n", "BEGIN:VCARD\r\nVERSION:3.0\r\nPHOTO;ENCODING=b:!!!\r\nEND:VCARD\r\n"} {
		if _, err := DecodeContact([]byte(in)); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

func FuzzDecodeContact(f *testing.F) {
	for _, file := range []string{"apple3.vcf", "rfc6350.vcf"} {
		b, err := os.ReadFile("testdata/" + file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeContact(b)
		if err != nil {
			return
		}
		if _, err := EncodeContact(c, b); err != nil {
			t.Fatalf("encode: %v", err)
		}
	})
}
