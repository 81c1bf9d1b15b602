package tidbro

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
)

func TestObjectLen(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
	}{
		{`{}`, 2},
		{`{"a":"x\"}y","b":{"c":[1,{}]}},"next":1}`, len(`{"a":"x\"}y","b":{"c":[1,{}]}}`)},
		{`{"a":"\\"},"b":"}"}`, len(`{"a":"\\"}`)},
		{`{"a":"\\\"}"}x`, len(`{"a":"\\\"}"}`)},
		{`{"a":"unterminated}`, -1},
		{`{"a":{}`, -1},
		{`"not an object"`, -1},
		{``, -1},
	} {
		if got := objectLen([]byte(c.in)); got != c.want {
			t.Errorf("objectLen(%s) = %d, want %d", c.in, got, c.want)
		}
	}
}

// UnmarshalContact reads what json.Unmarshal reads, photo or not, and
// whatever the other fields hold.
func TestUnmarshalContact(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	texts := []string{"", "Åsa", `"photo":{"data":"QUJD"}`, `"data":"x"`, `\"}`, "a\\", "<&>", "\u2028"}
	text := func() string { return texts[r.IntN(len(texts))] }
	for i := range 2000 {
		c := &Contact{GivenName: text(), FamilyName: text(), Note: text(), Organization: text()}
		switch i % 5 {
		case 0:
			c.Photo = &Photo{MediaType: text(), Data: bytes.Repeat([]byte{byte(i), 0xff, '"'}, r.IntN(2000))}
		case 1:
			c.Photo = &Photo{URI: text()}
		case 2:
			c.Photo = &Photo{MediaType: "image/png", Data: []byte{byte(i)}, URI: text()}
		case 3:
			c.Extra = map[string]string{"photo": text()}
			c.Photo = &Photo{Data: []byte("abc")}
		}
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		var want Contact
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		got, err := UnmarshalContact(b)
		if err != nil || !reflect.DeepEqual(*got, want) {
			t.Fatalf("UnmarshalContact(%s) = %+v, %v; want %+v", b, got, err, want)
		}
	}
	for _, bad := range []string{`{"photo":{"data":"!!"}}`, `{"photo":{"data":"QUJD"},"givenName":7}`, `not JSON`} {
		var want Contact
		wantErr := json.Unmarshal([]byte(bad), &want)
		if _, err := UnmarshalContact([]byte(bad)); err == nil || err.Error() != wantErr.Error() {
			t.Errorf("UnmarshalContact(%s): %v, want %v", bad, err, wantErr)
		}
	}
}
