package graphtest_test

import (
	"bytes"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"testing"
)

// The default contact folder by its well-known name; display names made
// from name parts unless given; Outlook's limits; the extended-property
// filter.
func TestContactsCRUD(t *testing.T) {
	s, c := newClient(t)
	u := s.AddUser("ann@contoso.example", "ann@contoso.example", true)
	folder := c.must(200, "GET", "/users/"+u+"/contactFolders/contacts?$select=id,displayName", nil)
	if folder["id"] != s.ContactFolderID(u) || folder["displayName"] != "Contacts" || folder["parentFolderId"] != nil {
		t.Fatalf("the default folder: %v", folder)
	}
	coll := "/users/" + u + "/contactFolders/" + s.ContactFolderID(u) + "/contacts"
	made := c.must(201, "POST", coll, obj{"givenName": "Pavel", "surname": "Bansky",
		"singleValueExtendedProperties": []obj{{"id": extProp, "value": "k1"}}})
	id := made["id"].(string)
	if made["displayName"] != "Pavel Bansky" || made["middleName"] != nil || made["homeAddress"] == nil || len(made["emailAddresses"].([]any)) != 0 {
		t.Errorf("created: %v", made)
	}
	etag := made["@odata.etag"].(string)
	renamed := c.must(200, "PATCH", coll+"/"+id, obj{"givenName": "Paul"}, "If-Match", etag)
	if renamed["displayName"] != "Paul Bansky" {
		t.Errorf("a new given name without displayName: %v", renamed["displayName"])
	}
	kept := c.must(200, "PATCH", coll+"/"+id, obj{"givenName": "P.", "displayName": "Mr. Bansky"})
	if kept["displayName"] != "Mr. Bansky" {
		t.Errorf("a given display name: %v", kept["displayName"])
	}
	if status, _, out := c.do("PATCH", coll+"/"+id, obj{"jobTitle": "x"}, "If-Match", etag); status != 412 {
		t.Errorf("a stale If-Match: %d %v", status, out)
	}
	four := []obj{{"address": "1@x.example"}, {"address": "2@x.example"}, {"address": "3@x.example"}, {"address": "4@x.example"}}
	if status, _, _ := c.do("PATCH", coll+"/"+id, obj{"emailAddresses": four}); status != 400 {
		t.Errorf("four e-mail addresses: %d, want 400", status)
	}
	if status, _, out := c.do("PATCH", coll+"/"+id, obj{"favouriteColour": "blue"}); status != 400 || errCode(out) != "ErrorInvalidProperty" {
		t.Errorf("an unknown property: %d %v", status, out)
	}
	c.must(201, "POST", "/users/"+u+"/contacts", obj{"displayName": "Other"})
	f := "singleValueExtendedProperties/Any(ep: ep/id eq '" + extProp + "' and ep/value eq 'K1')"
	found := values(c.must(200, "GET", coll+"?$select=id&$filter="+url.QueryEscape(f)+"&$expand="+url.QueryEscape("singleValueExtendedProperties($filter=id eq '"+extProp+"')"), nil))
	if len(found) != 1 || found[0]["id"] != id || found[0]["singleValueExtendedProperties"] == nil || found[0]["displayName"] != nil {
		t.Errorf("the filter found %v", found)
	}
	if status, _, _ := c.do("GET", coll+"/not-an-id", nil); status != 400 {
		t.Errorf("a malformed id: %d", status)
	}
	c.must(204, "DELETE", coll+"/"+id, nil)
	if status, _, out := c.do("GET", coll+"/"+id, nil); status != 404 || errCode(out) != "ErrorItemNotFound" {
		t.Errorf("a deleted contact: %d %v", status, out)
	}
}

// Delta pages keep the first request's $select; the next round has what
// changed, @removed for what went, and a photo change as a change.
func TestContactDelta(t *testing.T) {
	s, c := newClient(t)
	u := s.AddUser("bo@contoso.example", "bo@contoso.example", true)
	coll := "/users/" + u + "/contactFolders/" + s.ContactFolderID(u) + "/contacts"
	var ids []string
	for _, n := range []string{"A", "B", "C"} {
		ids = append(ids, c.must(201, "POST", coll, obj{"displayName": n})["id"].(string))
	}
	entries, link, pages := deltaAll(c, coll+"/delta?$select=displayName", "Prefer", "odata.maxpagesize=2")
	if len(entries) != 3 || pages != 2 {
		t.Fatalf("the first round: %d entries in %d pages", len(entries), pages)
	}
	for _, e := range entries {
		if e["displayName"] == nil || e["@odata.etag"] == nil || e["surname"] != nil || len(e) != 4 {
			t.Errorf("a delta entry: %v", e)
		}
	}
	c.must(204, "DELETE", coll+"/"+ids[0], nil)
	img := image.NewGray(image.Rect(0, 0, 1, 1))
	var pic bytes.Buffer
	png.Encode(&pic, img)
	h := http.Header{"Authorization": {"Bearer " + c.token}, "Prefer": {`IdType="ImmutableId"`}, "Content-Type": {"image/png"}}
	if status := put(t, s.URL+coll+"/"+ids[1]+"/photo/$value", pic.Bytes(), h); status != 200 {
		t.Fatalf("photo upload: %d", status)
	}
	entries, _, _ = deltaAll(c, link)
	if len(entries) != 2 || entries[0]["id"] != ids[1] || entries[1]["id"] != ids[0] || entries[1]["@removed"] == nil {
		t.Errorf("the next round: %v", entries)
	}
	if status, _, out := c.do("GET", coll+"/"+ids[2]+"/photo/$value", nil); status != 404 || errCode(out) != "ImageNotFound" {
		t.Errorf("no photo: %d %v", status, out)
	}
	if p, ok := s.ContactPhoto(u, ids[1]); !ok || !bytes.Equal(p.Data, pic.Bytes()) || s.PhotoUploads(u) != 1 {
		t.Errorf("the stored photo: %v", ok)
	}
	if status := put(t, s.URL+coll+"/"+ids[1]+"/photo/$value", []byte("not a png"), h); status != 400 {
		t.Errorf("a broken photo: %d", status)
	}
	s.ExpireContactDeltaTokens(u)
	if status, _, out := c.do("GET", link, nil); status != 410 || errCode(out) != "SyncStateNotFound" {
		t.Errorf("an expired delta token: %d %v", status, out)
	}
}

func put(t *testing.T, u string, body []byte, h http.Header) int {
	t.Helper()
	r, _ := http.NewRequest("PUT", u, bytes.NewReader(body))
	r.Header = h
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
