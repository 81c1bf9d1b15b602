package davserver_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

func lockInfo(scope, owner string) string {
	return `<?xml version="1.0" encoding="utf-8"?><d:lockinfo xmlns:d="DAV:"><d:lockscope><d:` + scope +
		`/></d:lockscope><d:locktype><d:write/></d:locktype>` + owner + `</d:lockinfo>`
}

// lock takes a lock as user and returns its token.
func (e *env) lock(want int, user, path, scope string, headers ...string) string {
	e.t.Helper()
	res, body := e.must(want, user, "LOCK", path, lockInfo(scope, ""), headers...)
	tok := strings.TrimSuffix(strings.TrimPrefix(res.Header.Get("Lock-Token"), "<"), ">")
	if !strings.HasPrefix(tok, "urn:uuid:") || !strings.Contains(body, "<d:href>"+tok+"</d:href>") {
		e.t.Fatalf("LOCK %s: Lock-Token %q, body\n%s", path, res.Header.Get("Lock-Token"), body)
	}
	return tok
}

// wantLocked checks a 423 that names the lock root.
func wantLocked(t *testing.T, what, body, condition, root string) {
	t.Helper()
	if !strings.Contains(body, "<d:"+condition+"><d:href>"+root+"</d:href></d:"+condition+">") {
		t.Errorf("%s: the 423 does not name %s in %s:\n%s", what, root, condition, body)
	}
}

// Locks are in the document area only, and it says so; the rest of the
// tree neither advertises nor takes them.
func TestLockCapabilities(t *testing.T) {
	e := newEnv(t)
	res, _ := e.must(http.StatusOK, "", "OPTIONS", "/dav/files/alice/", "")
	if res.Header.Get("DAV") != "1, 2, 3" || !strings.Contains(res.Header.Get("Allow"), "LOCK, UNLOCK") {
		t.Errorf("OPTIONS of the document area: DAV %q, Allow %q", res.Header.Get("DAV"), res.Header.Get("Allow"))
	}
	for _, p := range []string{"/dav/", "/dav/calendars/alice/calendar/", "/dav/addressbooks/alice/contacts/"} {
		res, _ := e.must(http.StatusOK, "", "OPTIONS", p, "")
		if dav := res.Header.Get("DAV"); strings.Contains(dav, "2") || !strings.Contains(dav, "calendar-access") ||
			strings.Contains(res.Header.Get("Allow"), "LOCK") {
			t.Errorf("OPTIONS %s: DAV %q, Allow %q", p, dav, res.Header.Get("Allow"))
		}
	}
	res, _ = e.must(http.StatusMethodNotAllowed, "alice", "LOCK", "/dav/calendars/alice/calendar/", lockInfo("exclusive", ""))
	if strings.Contains(res.Header.Get("Allow"), "LOCK") {
		t.Errorf("a calendar allows %s", res.Header.Get("Allow"))
	}
	_, body := e.must(http.StatusMultiStatus, "alice", "PROPFIND", "/dav/calendars/alice/calendar/", prop("d:supportedlock"), "Depth", "0")
	if strings.Contains(body, "lockentry") {
		t.Errorf("a calendar offers locks:\n%s", body)
	}
	_, body = e.must(http.StatusMultiStatus, "alice", "PROPFIND", "/dav/files/alice/", prop("d:supportedlock"), "Depth", "0")
	for _, scope := range []string{"exclusive", "shared"} {
		if !strings.Contains(body, "<d:lockscope><d:"+scope+"/></d:lockscope><d:locktype><d:write/></d:locktype>") {
			t.Errorf("supportedlock lacks %s write locks:\n%s", scope, body)
		}
	}
}

func TestLockUnlock(t *testing.T) {
	e := newEnv(t)
	const doc = "/dav/files/alice/offer.odt"
	// A lock on an unmapped URL makes an empty document; the owner comes
	// back as sent.
	res, body := e.must(http.StatusCreated, "alice", "LOCK", doc,
		lockInfo("exclusive", `<d:owner><d:href>mailto:alice@example.com</d:href> at her desk</d:owner>`), "Timeout", "Second-120", "Depth", "0")
	tok := strings.Trim(res.Header.Get("Lock-Token"), "<>")
	for _, want := range []string{
		"<d:locktype><d:write/></d:locktype>", "<d:lockscope><d:exclusive/></d:lockscope>", "<d:depth>0</d:depth>",
		`<d:owner><href xmlns="DAV:">mailto:alice@example.com</href> at her desk</d:owner>`,
		"<d:locktoken><d:href>" + tok + "</d:href></d:locktoken>", "<d:lockroot><d:href>" + doc + "</d:href></d:lockroot>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("LOCK answer lacks %s:\n%s", want, body)
		}
	}
	if !regexp.MustCompile(`<d:timeout>Second-1(19|20)</d:timeout>`).MatchString(body) {
		t.Errorf("LOCK answer: timeout is not 120 seconds:\n%s", body)
	}
	if _, got := e.must(http.StatusOK, "alice", "GET", doc, ""); got != "" {
		t.Errorf("the locked empty resource holds %q", got)
	}
	_, disc := e.must(http.StatusMultiStatus, "alice", "PROPFIND", doc, prop("d:lockdiscovery"), "Depth", "0")
	if !strings.Contains(disc, tok) || !strings.Contains(disc, "at her desk") {
		t.Errorf("lockdiscovery does not list the lock:\n%s", disc)
	}

	// One exclusive lock at a time; 423 names the lock in the way.
	for _, scope := range []string{"exclusive", "shared"} {
		_, body := e.must(http.StatusLocked, "alice", "LOCK", doc, lockInfo(scope, ""))
		wantLocked(t, scope+" LOCK on an exclusive lock", body, "no-conflicting-lock", doc)
	}
	_, body = e.must(http.StatusLocked, "alice", "PUT", doc, "draft")
	wantLocked(t, "PUT without the token", body, "lock-token-submitted", doc)
	e.must(http.StatusNoContent, "alice", "PUT", doc, "draft", "If", "(<"+tok+">)")

	// A refresh names the lock in the If header and restarts its timeout.
	e.must(http.StatusBadRequest, "alice", "LOCK", doc, "")
	_, body = e.must(http.StatusOK, "alice", "LOCK", doc, "", "If", "(<"+tok+">)", "Timeout", "Second-3000")
	if !strings.Contains(body, tok) || !regexp.MustCompile(`Second-(2999|3000)<`).MatchString(body) {
		t.Errorf("refresh answer:\n%s", body)
	}
	e.must(http.StatusPreconditionFailed, "alice", "LOCK", doc, "", "If", "(<urn:uuid:00000000-0000-4000-8000-000000000000>)")

	// UNLOCK needs the token of a lock on the request URI.
	e.must(http.StatusBadRequest, "alice", "UNLOCK", doc, "")
	_, body = e.must(http.StatusConflict, "alice", "UNLOCK", doc, "", "Lock-Token", "<urn:uuid:00000000-0000-4000-8000-000000000000>")
	if !strings.Contains(body, "lock-token-matches-request-uri") {
		t.Errorf("UNLOCK with a wrong token:\n%s", body)
	}
	e.must(http.StatusCreated, "alice", "PUT", "/dav/files/alice/other.txt", "x")
	e.must(http.StatusConflict, "alice", "UNLOCK", "/dav/files/alice/other.txt", "", "Lock-Token", "<"+tok+">")
	e.must(http.StatusNoContent, "alice", "UNLOCK", doc, "", "Lock-Token", "<"+tok+">")
	e.must(http.StatusNoContent, "alice", "PUT", doc, "final")

	// Shared locks share.
	s1 := e.lock(http.StatusOK, "alice", doc, "shared")
	s2 := e.lock(http.StatusOK, "alice", doc, "shared")
	e.must(http.StatusLocked, "alice", "LOCK", doc, lockInfo("exclusive", ""))
	_, disc = e.must(http.StatusMultiStatus, "alice", "PROPFIND", doc, prop("d:lockdiscovery"), "Depth", "0")
	if !strings.Contains(disc, s1) || !strings.Contains(disc, s2) {
		t.Errorf("lockdiscovery does not list both shared locks:\n%s", disc)
	}
	// Either token will do.
	e.must(http.StatusNoContent, "alice", "PUT", doc, "shared edit", "If", "(<"+s2+">)")

	// A copy takes no lock along; a move leaves it and deletion ends it.
	e.must(http.StatusCreated, "alice", "COPY", doc, "", "Destination", e.url+"/dav/files/alice/copy.odt")
	_, disc = e.must(http.StatusMultiStatus, "alice", "PROPFIND", "/dav/files/alice/copy.odt", prop("d:lockdiscovery"), "Depth", "0")
	if strings.Contains(disc, "activelock") {
		t.Errorf("a copy is locked:\n%s", disc)
	}
	e.must(http.StatusLocked, "alice", "MOVE", doc, "", "Destination", e.url+"/dav/files/alice/moved.odt")
	e.must(http.StatusCreated, "alice", "MOVE", doc, "", "Destination", e.url+"/dav/files/alice/moved.odt",
		"If", "<"+e.url+doc+"> (<"+s1+">) (<"+s2+">)")
	_, disc = e.must(http.StatusMultiStatus, "alice", "PROPFIND", "/dav/files/alice/moved.odt", prop("d:lockdiscovery"), "Depth", "0")
	if strings.Contains(disc, "activelock") {
		t.Errorf("the lock moved with its document:\n%s", disc)
	}
	e.must(http.StatusCreated, "alice", "PUT", doc, "a new document, unlocked")

	// A lock that makes a document needs its collection's lock's token.
	e.must(http.StatusCreated, "alice", "MKCOL", "/dav/files/alice/shared/", "")
	coll := e.lock(http.StatusOK, "alice", "/dav/files/alice/shared/", "shared", "Depth", "0")
	_, body = e.must(http.StatusLocked, "alice", "LOCK", "/dav/files/alice/shared/new.txt", lockInfo("exclusive", ""))
	wantLocked(t, "LOCK of a new member", body, "lock-token-submitted", "/dav/files/alice/shared/")
	e.lock(http.StatusCreated, "alice", "/dav/files/alice/shared/new.txt", "exclusive", "If", "</dav/files/alice/shared/> (<"+coll+">)")
	e.must(http.StatusConflict, "alice", "LOCK", "/dav/files/alice/missing/new.txt", lockInfo("exclusive", ""))
	e.must(http.StatusBadRequest, "alice", "LOCK", doc, lockInfo("exclusive", ""), "Depth", "1")
	e.must(http.StatusBadRequest, "alice", "LOCK", doc, `<d:lockinfo xmlns:d="DAV:"><d:lockscope><d:exclusive/></d:lockscope><d:locktype><d:read/></d:locktype></d:lockinfo>`)
}

// Another user can neither see alice's locks nor use her tokens; her URLs
// are not found whatever the method.
func TestLockIsolation(t *testing.T) {
	e := newEnv(t)
	const doc = "/dav/files/alice/contract.pdf"
	e.must(http.StatusCreated, "alice", "PUT", doc, "signed")
	tok := e.lock(http.StatusOK, "alice", doc, "exclusive")
	for _, m := range []string{"LOCK", "UNLOCK", "PUT", "DELETE", "PROPFIND"} {
		res, body := e.do("bob", m, doc, lockInfo("exclusive", ""), "Lock-Token", "<"+tok+">", "If", "(<"+tok+">)")
		if res.StatusCode != http.StatusNotFound || strings.Contains(body, tok) {
			t.Errorf("%s of alice's locked document as bob: %d\n%s", m, res.StatusCode, body)
		}
	}

	// Bob's document of the same name is his own, with his own locks.
	const his = "/dav/files/bob/contract.pdf"
	e.must(http.StatusCreated, "bob", "PUT", his, "bob's")
	bobs := e.lock(http.StatusOK, "bob", his, "exclusive")
	_, disc := e.must(http.StatusMultiStatus, "bob", "PROPFIND", "/dav/files/bob/", prop("d:lockdiscovery"), "Depth", "infinity")
	if strings.Contains(disc, tok) || !strings.Contains(disc, bobs) {
		t.Errorf("bob's lockdiscovery:\n%s", disc)
	}
	// Alice's token is no token of his: not a state of his document, not a
	// lock he can remove, not a state of her URL as he sees it.
	e.must(http.StatusPreconditionFailed, "bob", "PUT", his, "x", "If", "(<"+tok+">)")
	e.must(http.StatusLocked, "bob", "PUT", his, "x", "If", "(Not <"+tok+">)")
	e.must(http.StatusPreconditionFailed, "bob", "PUT", his, "x", "If", "<"+e.url+doc+"> (<"+tok+">)")
	e.must(http.StatusConflict, "bob", "UNLOCK", his, "", "Lock-Token", "<"+tok+">")
	e.must(http.StatusNoContent, "bob", "PUT", his, "bob's edit", "If", "(<"+bobs+">)")

	// Alice's lock is intact, and holds against her without the token.
	e.must(http.StatusLocked, "alice", "PUT", doc, "x")
	e.must(http.StatusConflict, "alice", "UNLOCK", "/dav/files/alice/", "", "Lock-Token", "<"+bobs+">")
}

// A lock that times out frees its resource by itself.
func TestLockExpiry(t *testing.T) {
	e := newEnv(t)
	const doc = "/dav/files/alice/notes.txt"
	e.must(http.StatusCreated, "alice", "PUT", doc, "v1")
	tok := e.lock(http.StatusOK, "alice", doc, "exclusive", "Timeout", "Second-1")
	e.must(http.StatusLocked, "alice", "PUT", doc, "v2")
	time.Sleep(1100 * time.Millisecond)
	e.must(http.StatusNoContent, "alice", "PUT", doc, "v2")
	_, disc := e.must(http.StatusMultiStatus, "alice", "PROPFIND", doc, prop("d:lockdiscovery"), "Depth", "0")
	if strings.Contains(disc, "activelock") {
		t.Errorf("an expired lock is listed:\n%s", disc)
	}
	e.must(http.StatusPreconditionFailed, "alice", "LOCK", doc, "", "If", "(<"+tok+">)")
	e.must(http.StatusConflict, "alice", "UNLOCK", doc, "", "Lock-Token", "<"+tok+">")
	e.lock(http.StatusOK, "alice", doc, "exclusive")

	// Timeouts are the server's to bound.
	for timeout, want := range map[string]string{"Second-100000": "Second-3600", "Infinite": "Second-3600", "": "Second-600", "Second-x, Second-30": "Second-30"} {
		e.must(http.StatusCreated, "alice", "PUT", "/dav/files/alice/t.txt", "")
		_, body := e.must(http.StatusOK, "alice", "LOCK", "/dav/files/alice/t.txt", lockInfo("shared", ""), "Timeout", timeout)
		if !strings.Contains(body, want) {
			t.Errorf("Timeout %q: want %s\n%s", timeout, want, body)
		}
		tok := regexp.MustCompile(`urn:uuid:[0-9a-f-]+`).FindString(body)
		e.must(http.StatusNoContent, "alice", "DELETE", "/dav/files/alice/t.txt", "", "If", "(<"+tok+">)")
	}
}

// A depth-infinity lock on a collection covers everything in it, what is
// added later included; a depth-0 one its membership only.
func TestLockCollection(t *testing.T) {
	e := newEnv(t)
	const coll = "/dav/files/alice/project/"
	e.must(http.StatusCreated, "alice", "MKCOL", coll, "")
	e.must(http.StatusCreated, "alice", "MKCOL", coll+"sub/", "")
	e.must(http.StatusCreated, "alice", "PUT", coll+"sub/plan.txt", "v1")
	e.must(http.StatusCreated, "alice", "PUT", "/dav/files/alice/outside.txt", "o")
	tok := e.lock(http.StatusOK, "alice", coll, "exclusive", "Depth", "infinity")

	dest := func(p string) []string { return []string{"Destination", e.url + p} }
	for _, w := range []struct {
		method, path string
		headers      []string
	}{
		{"PUT", coll + "sub/plan.txt", nil},
		{"PUT", coll + "sub/new.txt", nil},
		{"MKCOL", coll + "sub/more/", nil},
		{"DELETE", coll + "sub/plan.txt", nil},
		{"DELETE", coll + "sub/", nil},
		{"PROPPATCH", coll + "sub/plan.txt", nil},
		{"MOVE", coll + "sub/plan.txt", dest("/dav/files/alice/plan.txt")},
		{"MOVE", "/dav/files/alice/outside.txt", dest(coll + "sub/outside.txt")},
		{"COPY", "/dav/files/alice/outside.txt", dest(coll + "outside.txt")},
		{"LOCK", coll + "sub/plan.txt", nil},
	} {
		body := ""
		switch w.method {
		case "PROPPATCH":
			body = `<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><d:displayname>x</d:displayname></d:prop></d:set></d:propertyupdate>`
		case "LOCK":
			body = lockInfo("shared", "")
		}
		res, got := e.do("alice", w.method, w.path, body, w.headers...)
		if res.StatusCode != http.StatusLocked {
			t.Errorf("%s %s without the token: %d, want 423\n%s", w.method, w.path, res.StatusCode, got)
			continue
		}
		cond := "lock-token-submitted"
		if w.method == "LOCK" {
			cond = "no-conflicting-lock"
		}
		wantLocked(t, w.method+" "+w.path, got, cond, coll)
	}
	// Reading, and copying out, change nothing locked.
	e.must(http.StatusOK, "alice", "GET", coll+"sub/plan.txt", "")
	e.must(http.StatusCreated, "alice", "COPY", coll+"sub/plan.txt", "", dest("/dav/files/alice/plan-copy.txt")...)

	// With the token, untagged (about the request URI, which the lock
	// covers) or tagged with the lock's root, the writes go through.
	e.must(http.StatusNoContent, "alice", "PUT", coll+"sub/plan.txt", "v2", "If", "(<"+tok+">)")
	e.must(http.StatusCreated, "alice", "PUT", coll+"new.txt", "n", "If", "<"+e.url+coll+"> (<"+tok+">)")
	e.must(http.StatusCreated, "alice", "MOVE", "/dav/files/alice/outside.txt", "", append(dest(coll+"outside.txt"), "If", "<"+coll+"> (<"+tok+">)")...)
	e.must(http.StatusNoContent, "alice", "DELETE", coll+"sub/", "", "If", "(<"+tok+">)")
	// The lock is the collection's, and stays.
	_, disc := e.must(http.StatusMultiStatus, "alice", "PROPFIND", coll+"new.txt", prop("d:lockdiscovery"), "Depth", "0")
	e.must(http.StatusLocked, "alice", "PUT", coll+"new.txt", "x")
	if !strings.Contains(disc, tok) || !strings.Contains(disc, "<d:lockroot><d:href>"+coll+"</d:href></d:lockroot>") {
		t.Errorf("a member's lockdiscovery does not show the collection's lock:\n%s", disc)
	}
	e.must(http.StatusNoContent, "alice", "UNLOCK", coll+"new.txt", "", "Lock-Token", "<"+tok+">")

	// Depth 0: members may change, membership may not.
	tok = e.lock(http.StatusOK, "alice", coll, "exclusive", "Depth", "0")
	e.must(http.StatusNoContent, "alice", "PUT", coll+"new.txt", "changed")
	e.must(http.StatusLocked, "alice", "PUT", coll+"another.txt", "x")
	e.must(http.StatusLocked, "alice", "DELETE", coll+"new.txt", "")
	e.lock(http.StatusOK, "alice", coll+"new.txt", "exclusive")
	// The token of a lock on the collection is a state of the collection,
	// not of a new member.
	e.must(http.StatusPreconditionFailed, "alice", "PUT", coll+"another.txt", "x", "If", "(<"+tok+">)")
	e.must(http.StatusCreated, "alice", "PUT", coll+"another.txt", "x", "If", "<"+coll+"> (<"+tok+">)")
}

// An If header that does not hold is 412, before any lock is looked at; one
// that holds without submitting the token of a lock in the way is 423.
func TestLockIfHeader(t *testing.T) {
	e := newEnv(t)
	const doc = "/dav/files/alice/report.txt"
	res, _ := e.must(http.StatusCreated, "alice", "PUT", doc, "v1")
	etag := res.Header.Get("ETag")
	tok := e.lock(http.StatusOK, "alice", doc, "exclusive")
	e.must(http.StatusCreated, "alice", "PUT", "/dav/files/alice/free.txt", "f")

	for _, c := range []struct {
		ifHeader string
		want     int
	}{
		{"(<DAV:no-lock>)", http.StatusPreconditionFailed},
		{`(["nope"])`, http.StatusPreconditionFailed},
		{"(<" + tok + `> ["nope"])`, http.StatusPreconditionFailed},
		{"(<" + tok + "x>)", http.StatusPreconditionFailed},
		{"(Not <DAV:no-lock>)", http.StatusLocked},
		{"([" + etag + "])", http.StatusLocked},
		{"(<" + tok + "x>) (Not <DAV:no-lock>)", http.StatusLocked},
		{"(Not <" + tok + ">) (Not <DAV:no-lock>)", http.StatusLocked},
		{"</dav/files/alice/free.txt> (Not <DAV:no-lock>)", http.StatusLocked},
		{"(<" + tok + "> [" + etag + "])", http.StatusNoContent},
		{"(<DAV:no-lock>) (<" + tok + ">)", http.StatusNoContent},
		{"<" + e.url + doc + "> (<" + tok + ">)", http.StatusNoContent},
		{"(<" + tok + ">", http.StatusBadRequest},
		{"<" + e.url + doc + ">", http.StatusBadRequest},
		{"(<" + tok + ">) <" + e.url + doc + "> (<" + tok + ">)", http.StatusBadRequest},
	} {
		res, body := e.do("alice", "PUT", doc, "v1", "If", c.ifHeader)
		if res.StatusCode != c.want {
			t.Errorf("PUT with If: %s: %d, want %d\n%s", c.ifHeader, res.StatusCode, c.want, body)
		}
	}
	// Unlocked, only the conditions count.
	e.must(http.StatusPreconditionFailed, "alice", "PUT", "/dav/files/alice/free.txt", "f", "If", "(<DAV:no-lock>)")
	e.must(http.StatusNoContent, "alice", "PUT", "/dav/files/alice/free.txt", "f", "If", "(Not <DAV:no-lock>)")
	e.must(http.StatusPreconditionFailed, "alice", "GET", "/dav/files/alice/free.txt", "", "If", `(["nope"])`)
}
