package graph

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"slices"
	"testing"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/remotetest"
)

// contactPeer edits the folder as Outlook would: plain posts and patches,
// no etags, no tidbro property; a new contact gets its photo.
type contactPeer struct{ f *ContactFolder }

func (p *contactPeer) Put(ctx context.Context, it *tidbro.RemoteItem) (tidbro.RemoteRef, error) {
	w, err := contactBody(it.Contact)
	if err != nil {
		return tidbro.RemoteRef{}, err
	}
	var props []extendedProperty
	for _, id := range sortedKeys(w.props) {
		if v := w.props[id]; v != "" && v != "0" {
			props = append(props, extendedProperty{ID: id, Value: v})
		}
	}
	body := w.fields
	if len(props) > 0 {
		body["singleValueExtendedProperties"] = props
	}
	r := request{Method: http.MethodPost, Path: p.f.collPath(), Body: body}
	if it.ID != "" {
		r = request{Method: http.MethodPatch, Path: p.f.contactPath(it.ID), Body: body}
	}
	var g contact
	if _, err := p.f.c.do(ctx, p.f.user, r, &g); err != nil {
		return tidbro.RemoteRef{}, err
	}
	if photo, _ := photoToWrite(it.Contact); photo != nil && it.ID == "" {
		if err := p.f.putPhoto(ctx, g.ID, photo); err != nil {
			return tidbro.RemoteRef{}, err
		}
	}
	return p.f.ref(ctx, g.ID)
}

func (p *contactPeer) Delete(ctx context.Context, id string) error {
	_, err := p.f.c.do(ctx, p.f.user, request{Method: http.MethodDelete, Path: p.f.contactPath(id)}, nil)
	return err
}

// patch changes a contact as Outlook would, unconditionally.
func (p *contactPeer) patch(t *testing.T, id string, body map[string]any) {
	t.Helper()
	if _, err := p.f.c.do(t.Context(), p.f.user, request{Method: http.MethodPatch, Path: p.f.contactPath(id), Body: body}, nil); err != nil {
		t.Fatalf("Outlook's change of %s: %v", id, err)
	}
}

// newContacts is a fake mailbox's default contact folder, bound as
// Connect binds it.
func newContacts(t *testing.T) (*fakeTenant, *ContactFolder, *contactPeer) {
	f := newFake(t)
	user, folder, name, err := f.client.bindContacts(t.Context(), f.user)
	if err != nil || user != f.user || folder != f.srv.ContactFolderID(f.user) || name == "" {
		t.Fatalf("binding the contact folder: %s/%s (%q), %v", user, folder, name, err)
	}
	cf := NewContactFolder(f.client, user, folder)
	return f, cf, &contactPeer{f: cf}
}

// The remote contract suite against the fake's contact folder.
func TestContactContract(t *testing.T) {
	remotetest.Run(t, func(t *testing.T) remotetest.Harness {
		_, cf, peer := newContacts(t)
		return remotetest.Harness{Remote: cf, Peer: peer, Kind: tidbro.KindContact}
	})
}

func pngOf(t *testing.T, c color.RGBA) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 3, 3))
	img.Set(1, 1, c)
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func fetchContact(t *testing.T, cf *ContactFolder, id string) *tidbro.RemoteItem {
	t.Helper()
	items, errs, err := cf.Fetch(t.Context(), []string{id})
	if err != nil || len(errs) > 0 || len(items) != 1 {
		t.Fatalf("Fetch(%s): %d items, %v, %v", id, len(items), errs, err)
	}
	return items[0]
}

func create(t *testing.T, cf *ContactFolder, key string, c *tidbro.Contact) tidbro.RemoteRef {
	t.Helper()
	ref, err := cf.Create(t.Context(), key, &tidbro.RemoteItem{Kind: tidbro.KindContact, Contact: c})
	if err != nil {
		t.Fatalf("Create(%s): %v", key, err)
	}
	return ref
}

// A photo from the app reaches Outlook as it is and comes back unchanged;
// an update without a photo change uploads none; a photo changed in
// Outlook is picked up; one the app removes (Graph cannot delete it) is no
// longer reported.
func TestContactPhotos(t *testing.T) {
	f, cf, peer := newContacts(t)
	ctx := t.Context()
	appPhoto := &tidbro.Photo{MediaType: "image/png", Data: pngOf(t, color.RGBA{R: 200, A: 255})}
	ref := create(t, cf, "photo", &tidbro.Contact{GivenName: "Grace", FamilyName: "Hopper", Photo: appPhoto})
	if p, ok := f.srv.ContactPhoto(f.user, ref.ID); !ok || p.MediaType != "image/png" || !bytes.Equal(p.Data, appPhoto.Data) {
		t.Fatalf("Outlook's photo after Create: %v %q, want the app's PNG", ok, p.MediaType)
	}
	if n := f.srv.PhotoUploads(f.user); n != 1 {
		t.Fatalf("%d photo uploads for one create", n)
	}
	it := fetchContact(t, cf, ref.ID)
	if it.ETag != ref.ETag || it.Contact.Photo == nil || it.Contact.Photo.MediaType != "image/png" || !bytes.Equal(it.Contact.Photo.Data, appPhoto.Data) {
		t.Fatalf("fetched photo %+v, etag %s (created %s); want the app's", it.Contact.Photo, it.ETag, ref.ETag)
	}

	start, err := cf.Changes(ctx, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	it.Contact.Title = "Rear Admiral"
	ref2, err := cf.Update(ctx, it, ref.ETag)
	if err != nil {
		t.Fatal(err)
	}
	if n := f.srv.PhotoUploads(f.user); n != 1 {
		t.Errorf("an update that kept the photo uploaded it again (%d uploads)", n)
	}

	// Outlook's user sets another photo.
	outlook := &tidbro.Photo{MediaType: "image/png", Data: pngOf(t, color.RGBA{B: 200, A: 255})}
	if err := cf.putPhoto(ctx, ref.ID, outlook); err != nil {
		t.Fatal(err)
	}
	ch, err := cf.Changes(ctx, start.Token, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Changed) != 1 || ch.Changed[0].ID != ref.ID || ch.Changed[0].ETag == ref2.ETag {
		t.Fatalf("changes after Outlook's photo: %+v, want %s with a new etag", ch.Changed, ref.ID)
	}
	it = fetchContact(t, cf, ref.ID)
	if it.Contact.Photo == nil || !bytes.Equal(it.Contact.Photo.Data, outlook.Data) {
		t.Fatalf("the photo changed in Outlook reads as %+v", it.Contact.Photo)
	}

	// The app takes its own photo back: uploaded, once.
	back := it.Contact.Clone()
	back.Photo = appPhoto
	ref3, err := cf.Update(ctx, &tidbro.RemoteItem{ID: ref.ID, Kind: tidbro.KindContact, Contact: back, Raw: it.Raw}, it.ETag)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := f.srv.ContactPhoto(f.user, ref.ID); !bytes.Equal(p.Data, appPhoto.Data) || f.srv.PhotoUploads(f.user) != 3 {
		t.Errorf("after the app's photo came back, Outlook holds the right one: %v; uploads %d, want 3", bytes.Equal(p.Data, appPhoto.Data), f.srv.PhotoUploads(f.user))
	}
	it = fetchContact(t, cf, ref.ID)
	if it.ETag != ref3.ETag {
		t.Errorf("etag after a photo-only update: fetched %s, Update returned %s", it.ETag, ref3.ETag)
	}

	// A photo-only update with a stale etag is refused before uploading.
	stale := it.Contact.Clone()
	stale.Photo = outlook
	peer.patch(t, ref.ID, map[string]any{"jobTitle": "Professor"})
	if _, err := cf.Update(ctx, &tidbro.RemoteItem{ID: ref.ID, Kind: tidbro.KindContact, Contact: stale, Raw: it.Raw}, it.ETag); tidbro.ErrorCode(err) != tidbro.EPRECONDITION {
		t.Errorf("photo-only update with a stale etag: %v, want a precondition failure", err)
	}
	if f.srv.PhotoUploads(f.user) != 3 {
		t.Errorf("a refused update uploaded its photo")
	}

	// The app removes the photo: Outlook keeps it, tidbro no longer reports it.
	it = fetchContact(t, cf, ref.ID)
	none := it.Contact.Clone()
	none.Photo = nil
	if _, err := cf.Update(ctx, &tidbro.RemoteItem{ID: ref.ID, Kind: tidbro.KindContact, Contact: none, Raw: it.Raw}, it.ETag); err != nil {
		t.Fatal(err)
	}
	if it = fetchContact(t, cf, ref.ID); it.Contact.Photo != nil {
		t.Errorf("a photo the app removed still reads as %d bytes", len(it.Contact.Photo.Data))
	}
	if _, ok := f.srv.ContactPhoto(f.user, ref.ID); !ok {
		t.Errorf("Outlook lost the photo; the test expects Graph's limit (no delete)")
	}
	// Outlook's user sets a new one: it is reported again.
	if err := cf.putPhoto(ctx, ref.ID, outlook); err != nil {
		t.Fatal(err)
	}
	if it = fetchContact(t, cf, ref.ID); it.Contact.Photo == nil || !bytes.Equal(it.Contact.Photo.Data, outlook.Data) {
		t.Errorf("a new Outlook photo after the app removed one reads as %+v", it.Contact.Photo)
	}

	// Photos Outlook cannot take are refused before anything is written.
	big := &tidbro.Contact{GivenName: "Big", Photo: &tidbro.Photo{MediaType: "image/png", Data: make([]byte, maxPhoto)}}
	if _, err := cf.Create(ctx, "big", &tidbro.RemoteItem{Kind: tidbro.KindContact, Contact: big}); tidbro.ErrorCode(err) != tidbro.ETOOLARGE {
		t.Errorf("a 4 MB photo: %v, want too large", err)
	}
	gif := &tidbro.Contact{GivenName: "Gif", Photo: &tidbro.Photo{MediaType: "image/gif", Data: []byte("GIF89a")}}
	if _, err := cf.Create(ctx, "gif", &tidbro.RemoteItem{Kind: tidbro.KindContact, Contact: gif}); tidbro.ErrorCode(err) != tidbro.EINVALID {
		t.Errorf("a GIF photo: %v, want invalid", err)
	}
	if n := len(f.srv.Contacts(f.user)); n != 1 {
		t.Errorf("refused creates left %d contacts, want 1", n)
	}
}

// A create interrupted between the contact and its photo is finished by
// the retry; Find tells the contact by its key.
func TestContactCreateResumes(t *testing.T) {
	f, cf, _ := newContacts(t)
	ctx := t.Context()
	c := &tidbro.Contact{GivenName: "Ada", Photo: &tidbro.Photo{MediaType: "image/png", Data: pngOf(t, color.RGBA{G: 200, A: 255})}}
	w, err := contactBody(c)
	if err != nil {
		t.Fatal(err)
	}
	// The first attempt, up to its crash: the contact, without the photo.
	w.shape.Photo = photoHash(c.Photo)
	body := w.fields
	body["singleValueExtendedProperties"] = []extendedProperty{{ID: linkProperty, Value: "resume"}, {ID: shapeProperty, Value: w.shapeJSON()}}
	var g contact
	if _, err := cf.c.do(ctx, cf.user, request{Method: http.MethodPost, Path: cf.collPath(), Body: body}, &g); err != nil {
		t.Fatal(err)
	}
	ref, found, err := cf.Find(ctx, "resume")
	if err != nil || !found || ref.ID != g.ID {
		t.Fatalf("Find: %+v %v %v, want %s", ref, found, err, g.ID)
	}
	if _, found, _ := cf.Find(ctx, "other"); found {
		t.Errorf("Find of an unused key found something")
	}
	again := create(t, cf, "resume", c)
	if again.ID != g.ID || f.srv.PhotoUploads(f.user) != 1 {
		t.Fatalf("the retried create: %s (first %s), %d uploads; want the same contact and its photo", again.ID, g.ID, f.srv.PhotoUploads(f.user))
	}
	if third := create(t, cf, "resume", c); third != again || f.srv.PhotoUploads(f.user) != 1 {
		t.Errorf("a third create: %+v, %d uploads; want %+v and nothing written", third, f.srv.PhotoUploads(f.user), again)
	}
}

// Outlook holds three e-mail addresses: the preferred one goes first, the
// others wait in tidbro's property and come back, also around Outlook's
// own edits.
func TestContactEmailLimit(t *testing.T) {
	f, cf, peer := newContacts(t)
	emails := []tidbro.Email{
		{Type: "work", Address: "a@example.com"}, {Type: "home", Address: "b@example.com"},
		{Address: "c@example.com"}, {Type: "work", Address: "d@example.com", Preferred: true}, {Type: "other", Address: "e@example.com"},
	}
	c := &tidbro.Contact{DisplayName: "Many Mails", Emails: slices.Clone(emails)}
	ref := create(t, cf, "mails", c)
	stored := f.srv.Contacts(f.user)[0]
	var outlook []string
	for _, e := range stored.EmailAddresses {
		outlook = append(outlook, e.Address)
	}
	if want := []string{"d@example.com", "a@example.com", "b@example.com"}; !slices.Equal(outlook, want) {
		t.Errorf("Outlook holds %v, want %v (the preferred first)", outlook, want)
	}
	it := fetchContact(t, cf, ref.ID)
	if !slices.Equal(it.Contact.Emails, emails) {
		t.Errorf("read back %+v, want %+v", it.Contact.Emails, emails)
	}
	// Outlook's user changes the second and drops the third.
	peer.patch(t, ref.ID, map[string]any{"emailAddresses": []emailAddress{{Address: "d@example.com"}, {Address: "a2@example.com"}}})
	it = fetchContact(t, cf, ref.ID)
	want := []tidbro.Email{
		{Type: "work", Address: "a2@example.com"}, {Address: "c@example.com"},
		{Type: "work", Address: "d@example.com", Preferred: true}, {Type: "other", Address: "e@example.com"},
	}
	if !slices.Equal(it.Contact.Emails, want) {
		t.Errorf("after Outlook's edit: %+v, want %+v", it.Contact.Emails, want)
	}
	// Outlook refuses a fourth address (observed Graph behaviour).
	w, _ := contactBody(&tidbro.Contact{DisplayName: "x"})
	w.fields["emailAddresses"] = []emailAddress{{Address: "1@x.example"}, {Address: "2@x.example"}, {Address: "3@x.example"}, {Address: "4@x.example"}}
	if _, err := cf.c.do(t.Context(), cf.user, request{Method: http.MethodPost, Path: cf.collPath(), Body: w.fields}, nil); tidbro.ErrorCode(err) != tidbro.EINVALID {
		t.Errorf("four addresses: %v, want refused", err)
	}
}

// Phones, addresses and the rest land on Outlook's own fields; values
// Outlook has no place for come back from tidbro's property; a contact
// made in Outlook reads typed by its fields.
func TestContactFields(t *testing.T) {
	f, cf, peer := newContacts(t)
	c := &tidbro.Contact{
		UID: "urn:uuid:1", GivenName: "Ada", MiddleName: "King", FamilyName: "Lovelace", Prefix: "Countess", Suffix: "II",
		Nickname: "Ada", Organization: "Engines", Department: "Maths", Title: "Analyst",
		Phones: []tidbro.Phone{{Type: "work", Number: "1"}, {Type: "work", Number: "2"}, {Type: "work", Number: "3"},
			{Type: "fax", Number: "4"}, {Type: "pager", Number: "5"}, {Number: "6"}, {Type: "mobile", Number: "7"}, {Type: "home", Number: "8"}},
		Addresses: []tidbro.Address{{Type: "home", Street: "1 Lane", Extended: "Flat 2", POBox: "PO 3", Locality: "Town"},
			{Type: "work", Street: "Office"}, {Type: "work", Street: "Second office"}, {Type: "holiday", Street: "Beach"}},
		URLs: []string{"https://a.example", "https://b.example"}, Note: "line 1\nline 2", Birthday: "--12-10",
		Categories: []string{"VIP"}, Private: true,
	}
	ref := create(t, cf, "fields", c)
	got := fetchContact(t, cf, ref.ID).Contact
	want := c.Clone()
	if (&tidbro.Item{Kind: tidbro.KindContact, Contact: got}).ContentHash() != (&tidbro.Item{Kind: tidbro.KindContact, Contact: want}).ContentHash() {
		t.Errorf("read back\n%+v\nwant\n%+v", got, want)
	}
	s := f.srv.Contacts(f.user)[0]
	if !slices.Equal(s.BusinessPhones, []string{"1", "2"}) || !slices.Equal(s.HomePhones, []string{"8"}) || s.MobilePhone != "7" ||
		s.Title != "Countess" || s.Generation != "II" || s.Birthday == nil || s.Birthday.Year() != 1604 ||
		s.HomeAddress.Street != "1 Lane\nFlat 2\nPO 3" || s.BusinessAddress.Street != "Office" || s.OtherAddress.Street != "Second office" ||
		s.BusinessHomePage != "https://a.example" || s.DisplayName != "Ada King Lovelace" {
		t.Errorf("Outlook holds %+v", s)
	}
	props := map[string]string{}
	for _, p := range s.SingleValueExtendedProperties {
		props[p.ID] = p.Value
	}
	if props[faxProperty] != "4" || props[pagerProperty] != "5" || props[otherPhoneProperty] != "6" || props[sensitivityProperty] != "2" {
		t.Errorf("Outlook's MAPI properties: %v", props)
	}

	// Made in Outlook: typed by Outlook's fields.
	r, err := peer.Put(t.Context(), &tidbro.RemoteItem{Kind: tidbro.KindContact, Contact: &tidbro.Contact{GivenName: "Bob"}})
	if err != nil {
		t.Fatal(err)
	}
	peer.patch(t, r.ID, map[string]any{"businessPhones": []string{"10"}, "homePhones": []string{"11"}, "mobilePhone": "12",
		"homeAddress": map[string]string{"city": "Home town"}, "emailAddresses": []emailAddress{{Address: "bob@example.com"}},
		"birthday": "1990-05-01T11:59:00Z", "displayName": "Bobby"})
	bob := fetchContact(t, cf, r.ID).Contact
	wantPhones := []tidbro.Phone{{Type: "work", Number: "10"}, {Type: "home", Number: "11"}, {Type: "mobile", Number: "12"}}
	if !slices.Equal(bob.Phones, wantPhones) || len(bob.Addresses) != 1 || bob.Addresses[0] != (tidbro.Address{Type: "home", Locality: "Home town"}) ||
		bob.Birthday != "1990-05-01" || bob.DisplayName != "Bobby" || len(bob.Emails) != 1 || bob.Emails[0].Address != "bob@example.com" {
		t.Errorf("Outlook's contact reads as %+v", bob)
	}
	// A contact without a display name: Outlook shows one, tidbro reads none.
	noName := create(t, cf, "noname", &tidbro.Contact{GivenName: "Carl", FamilyName: "Gauss"})
	if got := fetchContact(t, cf, noName.ID).Contact; got.DisplayName != "" {
		t.Errorf("a contact without a display name reads %q", got.DisplayName)
	}
}

// An update writes what changed: what Outlook has that tidbro does not
// model survives, and a renamed contact keeps the display name tidbro
// gives it.
func TestContactUpdateKeepsOutlookFields(t *testing.T) {
	f, cf, peer := newContacts(t)
	ref := create(t, cf, "keep", &tidbro.Contact{DisplayName: "Dr. A. Turing", GivenName: "Alan", FamilyName: "Turing"})
	peer.patch(t, ref.ID, map[string]any{"spouseName": "Nobody", "assistantName": "Joan", "imAddresses": []string{"alan@im.example"}, "fileAs": "Turing, Alan", "displayName": "Dr. A. Turing"})
	it := fetchContact(t, cf, ref.ID)
	it.Contact.GivenName = "Alan M."
	if _, err := cf.Update(t.Context(), it, it.ETag); err != nil {
		t.Fatal(err)
	}
	s := f.srv.Contacts(f.user)[0]
	if s.SpouseName != "Nobody" || s.AssistantName != "Joan" || !slices.Equal(s.ImAddresses, []string{"alan@im.example"}) || s.FileAs != "Turing, Alan" {
		t.Errorf("Outlook's own fields after an update: %+v", s)
	}
	if s.GivenName != "Alan M." || s.DisplayName != "Dr. A. Turing" {
		t.Errorf("after renaming: given %q, display %q; want the app's display name kept", s.GivenName, s.DisplayName)
	}
	// Without Raw (an update the engine did not fetch for), the contact is
	// read first, and the same holds.
	it = fetchContact(t, cf, ref.ID)
	it.Contact.Department, it.Raw = "Codes", nil
	if _, err := cf.Update(t.Context(), it, it.ETag); err != nil {
		t.Fatal(err)
	}
	if s := f.srv.Contacts(f.user)[0]; s.Department != "Codes" || s.SpouseName != "Nobody" {
		t.Errorf("an update without Raw: %+v", s)
	}
}

// An expired delta token is EINVALID, so the engine lists everything
// again; the new listing works.
func TestContactDeltaExpired(t *testing.T) {
	f, cf, peer := newContacts(t)
	ctx := t.Context()
	a := create(t, cf, "a", &tidbro.Contact{DisplayName: "A"})
	first, err := cf.Changes(ctx, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := peer.Delete(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	f.srv.ExpireContactDeltaTokens(f.user)
	if _, err := cf.Changes(ctx, first.Token, nil); tidbro.ErrorCode(err) != tidbro.EINVALID {
		t.Fatalf("Changes from an expired token: %v, want invalid", err)
	}
	b := create(t, cf, "b", &tidbro.Contact{DisplayName: "B"})
	full, err := cf.Changes(ctx, "", nil)
	if err != nil || !full.Full || len(full.Changed) != 1 || full.Changed[0] != b {
		t.Fatalf("the relisting: %+v, %v; want just %s", full, err, b.ID)
	}
	// A calendar's token is not one of a contact folder.
	calTok, err := NewCalendar(f.client, f.user, "").Changes(ctx, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cf.Changes(ctx, calTok.Token, nil); tidbro.ErrorCode(err) != tidbro.EINVALID {
		t.Errorf("a calendar token: %v, want invalid", err)
	}
}

// Connect binds a contacts pair to the mailbox's default contact folder.
func TestConnectContacts(t *testing.T) {
	f := newFake(t)
	c := &Connector{
		Settings: func(context.Context, int64) (*Settings, error) {
			return &Settings{Config: Config{TenantID: "contoso.example", ClientID: "app-1", ClientSecret: "app-secret", GraphURL: f.srv.URL, TokenURL: f.srv.TokenURL}}, nil
		},
		User: func(context.Context, *tidbro.Account) (*tidbro.User, error) {
			return &tidbro.User{Username: "u", Email: f.user}, nil
		},
	}
	p := &tidbro.Pair{Kind: tidbro.KindContact}
	r, err := c.Connect(t.Context(), &tidbro.Account{Kind: tidbro.AccountGraph}, p, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.(*ContactFolder); !ok || p.RemoteID != f.user+"/"+f.srv.ContactFolderID(f.user) || p.RemoteName != "Contacts" {
		t.Errorf("bound to %T %q (%q)", r, p.RemoteID, p.RemoteName)
	}
	if _, err := r.Changes(t.Context(), "", nil); err != nil {
		t.Error(err)
	}
}
