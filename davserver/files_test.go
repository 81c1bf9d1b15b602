package davserver_test

import (
	"net/http"
	"strings"
	"testing"
)

// The document area is each user's own: another user's URLs are not found,
// whatever the method, and nothing can be copied into them.
func TestFilesIsolation(t *testing.T) {
	e := newEnv(t)
	e.must(http.StatusCreated, "alice", "MKCOL", "/dav/files/alice/offers/", "")
	e.must(http.StatusCreated, "alice", "PUT", "/dav/files/alice/offers/q1.txt", "secret offer", "Content-Type", "text/plain")
	for _, m := range []string{"GET", "PROPFIND", "PUT", "DELETE", "MKCOL", "PROPPATCH", "COPY", "MOVE"} {
		res, body := e.do("bob", m, "/dav/files/alice/offers/q1.txt", "", "Destination", e.url+"/dav/files/bob/x.txt")
		if res.StatusCode != http.StatusNotFound || strings.Contains(body, "secret") {
			t.Errorf("%s of alice's document as bob: %d %q, want 404", m, res.StatusCode, body)
		}
	}
	// Alice cannot copy into bob's area, nor into her calendar.
	for _, dest := range []string{"/dav/files/bob/q1.txt", "/dav/calendars/alice/calendar/q1.ics"} {
		e.must(http.StatusForbidden, "alice", "COPY", "/dav/files/alice/offers/q1.txt", "", "Destination", e.url+dest)
	}
	e.must(http.StatusBadGateway, "alice", "COPY", "/dav/files/alice/offers/q1.txt", "", "Destination", "http://elsewhere.example/dav/files/alice/q1.txt")
	_, listing := e.must(http.StatusMultiStatus, "bob", "PROPFIND", "/dav/files/bob/", "", "Depth", "infinity")
	if strings.Contains(listing, "offers") {
		t.Errorf("bob's area lists alice's files:\n%s", listing)
	}
}

func TestFilesReadWrite(t *testing.T) {
	e := newEnv(t)
	const base = "/dav/files/alice/"
	// The area is found from the DAV root, as a collection.
	_, root := e.must(http.StatusMultiStatus, "alice", "PROPFIND", "/dav/", prop("d:resourcetype"), "Depth", "1")
	if !strings.Contains(root, "<d:href>"+base+"</d:href>") {
		t.Errorf("PROPFIND /dav/ does not list %s:\n%s", base, root)
	}

	e.must(http.StatusCreated, "alice", "MKCOL", base+"Kunden/", "")
	res, _ := e.must(http.StatusCreated, "alice", "PUT", base+"Kunden/Angebot März.pdf", "%PDF-1.4 first", "Content-Type", "application/pdf")
	tag := res.Header.Get("ETag")
	if tag == "" {
		t.Fatal("PUT returned no ETag")
	}
	res, body := e.must(http.StatusOK, "alice", "GET", base+"Kunden/Angebot%20M%C3%A4rz.pdf", "")
	if body != "%PDF-1.4 first" || res.Header.Get("Content-Type") != "application/pdf" || res.Header.Get("ETag") != tag {
		t.Errorf("GET: %q, %s, %s", body, res.Header.Get("Content-Type"), res.Header.Get("ETag"))
	}
	// Ranges and conditional GETs.
	_, part := e.must(http.StatusPartialContent, "alice", "GET", base+"Kunden/Angebot März.pdf", "", "Range", "bytes=0-3")
	if part != "%PDF" {
		t.Errorf("range GET: %q", part)
	}
	e.must(http.StatusNotModified, "alice", "GET", base+"Kunden/Angebot März.pdf", "", "If-None-Match", tag)

	// Writes are conditional on the ETag when asked.
	e.must(http.StatusPreconditionFailed, "alice", "PUT", base+"Kunden/Angebot März.pdf", "lost update", "If-Match", `"stale"`)
	e.must(http.StatusPreconditionFailed, "alice", "PUT", base+"Kunden/Angebot März.pdf", "lost update", "If-None-Match", "*")
	res, _ = e.must(http.StatusNoContent, "alice", "PUT", base+"Kunden/Angebot März.pdf", "%PDF-1.4 second", "If-Match", tag)
	if res.Header.Get("ETag") == tag {
		t.Errorf("a changed document kept its ETag %s", tag)
	}
	e.must(http.StatusPreconditionFailed, "alice", "DELETE", base+"Kunden/Angebot März.pdf", "", "If-Match", tag)

	// A collection is not a document, nor the reverse.
	e.must(http.StatusMethodNotAllowed, "alice", "PUT", base+"Kunden/", "x")
	e.must(http.StatusConflict, "alice", "PUT", base+"Kunden/Angebot März.pdf/inner.txt", "x")
	e.must(http.StatusConflict, "alice", "PUT", base+"Lieferanten/a.txt", "x")

	// Depth infinity lists the tree; a browser gets an index.
	e.must(http.StatusCreated, "alice", "MKCOL", base+"Kunden/2026/", "")
	_, tree := e.must(http.StatusMultiStatus, "alice", "PROPFIND", base, prop("d:getcontentlength"), "Depth", "infinity")
	for _, href := range []string{base + "Kunden/", base + "Kunden/2026/", base + "Kunden/Angebot%20M%C3%A4rz.pdf"} {
		if !strings.Contains(tree, "<d:href>"+href+"</d:href>") {
			t.Errorf("Depth infinity does not list %s:\n%s", href, tree)
		}
	}
	if !strings.Contains(tree, "<d:getcontentlength>15</d:getcontentlength>") {
		t.Errorf("Depth infinity: no content length of the document:\n%s", tree)
	}
	_, index := e.must(http.StatusOK, "alice", "GET", base+"Kunden/", "")
	if !strings.Contains(index, `href="`+base+`Kunden/Angebot%20M%C3%A4rz.pdf"`) || !strings.Contains(index, "2026/") {
		t.Errorf("collection index:\n%s", index)
	}

	// Deleting a collection deletes what it holds; the root stays.
	e.must(http.StatusNoContent, "alice", "DELETE", base+"Kunden/", "")
	e.must(http.StatusNotFound, "alice", "GET", base+"Kunden/Angebot März.pdf", "")
	e.must(http.StatusForbidden, "alice", "DELETE", base, "")
	e.must(http.StatusRequestEntityTooLarge, "alice", "PUT", base+"huge.bin", strings.Repeat("x", 10<<20+1))
}

// Properties clients set are kept and served with everything else; the
// ones tidbro computes cannot be set, and then nothing of the request is
// applied.
func TestFilesProperties(t *testing.T) {
	e := newEnv(t)
	const doc = "/dav/files/alice/notes.txt"
	e.must(http.StatusCreated, "alice", "PUT", doc, "hello")
	e.must(http.StatusMultiStatus, "alice", "PROPPATCH", doc, `<?xml version="1.0"?>
<d:propertyupdate xmlns:d="DAV:" xmlns:z="urn:example:crm"><d:set><d:prop>
<z:customer>K-1001 &amp; Söhne</z:customer>
<z:links><z:link href="crm://K-1001">record<inner>x</inner></z:link><plain>no namespace</plain></z:links>
<d:displayname>Notes</d:displayname>
</d:prop></d:set></d:propertyupdate>`)
	_, all := e.must(http.StatusMultiStatus, "alice", "PROPFIND", doc, `<d:propfind xmlns:d="DAV:"><d:allprop/></d:propfind>`, "Depth", "0")
	for _, want := range []string{
		`<x:customer xmlns:x="urn:example:crm">K-1001 &amp; Söhne</x:customer>`,
		`<link xmlns="urn:example:crm" href="crm://K-1001">record<inner xmlns="">x</inner></link><plain>no namespace</plain>`,
		`<d:displayname>Notes</d:displayname>`,
		`<d:getcontentlength>5</d:getcontentlength>`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("allprop lacks %s:\n%s", want, all)
		}
	}

	res, body := e.must(http.StatusMultiStatus, "alice", "PROPPATCH", doc, `<d:propertyupdate xmlns:d="DAV:" xmlns:z="urn:example:crm">
<d:set><d:prop><z:customer>K-2002</z:customer><d:getetag>"forged"</d:getetag></d:prop></d:set></d:propertyupdate>`)
	if !strings.Contains(body, "403 Forbidden") || !strings.Contains(body, "424 Failed Dependency") || res.StatusCode != http.StatusMultiStatus {
		t.Errorf("PROPPATCH of a protected property:\n%s", body)
	}
	_, after := e.must(http.StatusMultiStatus, "alice", "PROPFIND", doc, `<d:propfind xmlns:d="DAV:" xmlns:z="urn:example:crm"><d:prop><z:customer/></d:prop></d:propfind>`, "Depth", "0")
	if !strings.Contains(after, "K-1001") {
		t.Errorf("a refused PROPPATCH changed a property:\n%s", after)
	}

	// Properties move with their document.
	e.must(http.StatusCreated, "alice", "MOVE", doc, "", "Destination", e.url+"/dav/files/alice/moved.txt")
	_, moved := e.must(http.StatusMultiStatus, "alice", "PROPFIND", "/dav/files/alice/moved.txt", `<d:propfind xmlns:d="DAV:" xmlns:z="urn:example:crm"><d:prop><z:customer/></d:prop></d:propfind>`, "Depth", "0")
	if !strings.Contains(moved, "K-1001") {
		t.Errorf("MOVE lost a property:\n%s", moved)
	}
}
