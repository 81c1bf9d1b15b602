package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
)

// area is one user's document area, with helpers that fail the test on
// unexpected errors.
type area struct {
	t                 *testing.T
	s                 tidbro.Store
	tenantID, ownerID int64
}

func newArea(t *testing.T, s tidbro.Store, u *tidbro.User) *area {
	return &area{t: t, s: s, tenantID: u.TenantID, ownerID: u.ID}
}

// doc returns the File PutFile is given for path.
func (a *area) doc(path, contentType string) *tidbro.File {
	return &tidbro.File{TenantID: a.tenantID, OwnerID: a.ownerID, Path: path, ContentType: contentType}
}

// put creates or replaces a document without preconditions.
func (a *area) put(path, contentType, data string) *tidbro.File {
	a.t.Helper()
	f, _, err := a.s.PutFile(a.t.Context(), a.doc(path, contentType), []byte(data), "", false)
	if err != nil {
		a.t.Fatalf("PutFile %q: %v", path, err)
	}
	return f
}

func (a *area) mkcol(path string) *tidbro.File {
	a.t.Helper()
	f, err := a.s.MakeCollection(a.t.Context(), a.tenantID, a.ownerID, path)
	if err != nil {
		a.t.Fatalf("MakeCollection %q: %v", path, err)
	}
	return f
}

func (a *area) file(path string) *tidbro.File {
	a.t.Helper()
	f, err := a.s.File(a.t.Context(), a.tenantID, a.ownerID, path)
	if err != nil {
		a.t.Fatalf("File %q: %v", path, err)
	}
	return f
}

// content returns a document and its content as a string.
func (a *area) content(path string) (*tidbro.File, string) {
	a.t.Helper()
	f, data, err := a.s.FileContent(a.t.Context(), a.tenantID, a.ownerID, path)
	if err != nil {
		a.t.Fatalf("FileContent %q: %v", path, err)
	}
	return f, string(data)
}

// gone fails unless path is ENOTFOUND through File and FileContent.
func (a *area) gone(path, what string) {
	a.t.Helper()
	_, err := a.s.File(a.t.Context(), a.tenantID, a.ownerID, path)
	wantCode(a.t, err, tidbro.ENOTFOUND, what+": File "+path)
	_, _, err = a.s.FileContent(a.t.Context(), a.tenantID, a.ownerID, path)
	wantCode(a.t, err, tidbro.ENOTFOUND, what+": FileContent "+path)
}

func (a *area) list(path string, deep bool) []*tidbro.File {
	a.t.Helper()
	fs, err := a.s.Files(a.t.Context(), a.tenantID, a.ownerID, path, deep)
	if err != nil {
		a.t.Fatalf("Files %q (deep %v): %v", path, deep, err)
	}
	return fs
}

// paths lists the paths of Files(path, deep).
func (a *area) paths(path string, deep bool) []string {
	a.t.Helper()
	return filePaths(a.list(path, deep))
}

// wantPaths fails unless Files(path, deep) lists exactly want, in order.
func (a *area) wantPaths(path string, deep bool, want ...string) {
	a.t.Helper()
	if want == nil {
		want = []string{}
	}
	if got := a.paths(path, deep); !slices.Equal(got, want) {
		a.t.Errorf("Files(%q, deep %v) = %q, want %q", path, deep, got, want)
	}
}

func (a *area) setProps(path string, props ...tidbro.DeadProp) {
	a.t.Helper()
	if err := a.s.SetFileProps(a.t.Context(), a.tenantID, a.ownerID, path, props); err != nil {
		a.t.Fatalf("SetFileProps %q: %v", path, err)
	}
}

func (a *area) wantProps(path string, want ...tidbro.DeadProp) {
	a.t.Helper()
	if got := a.file(path).Props; !sameProps(got, want) {
		a.t.Errorf("props of %q = %+v, want %+v", path, got, want)
	}
}

// fileView is what the suite compares of a resource: everything but times
// and ids, with a document's content.
type fileView struct {
	Path        string
	Collection  bool
	ContentType string
	Size        int64
	ETag        string
	Props       []tidbro.DeadProp
	Content     string
}

// snap describes the resources below root (root itself not included), with
// paths relative to root, content and ETags. Each listed resource must
// equal what File returns for it.
func (a *area) snap(root string) []fileView {
	a.t.Helper()
	out := []fileView{}
	for _, f := range a.list(root, true) {
		same(a.t, "Files("+root+") entry", f, a.file(f.Path))
		v := view(f)
		if !f.Collection {
			_, v.Content = a.content(f.Path)
		}
		rel := strings.TrimPrefix(f.Path, root)
		if root != "" {
			rel = strings.TrimPrefix(rel, "/")
		}
		v.Path = rel
		out = append(out, v)
	}
	return out
}

func view(f *tidbro.File) fileView {
	v := fileView{Path: f.Path, Collection: f.Collection, ContentType: f.ContentType, Size: f.Size, ETag: f.ETag, Props: f.Props}
	if len(v.Props) == 0 {
		v.Props = nil
	}
	return v
}

// withoutETags drops the ETags of a snapshot, for comparing copies.
func withoutETags(vs []fileView) []fileView {
	out := slices.Clone(vs)
	for i := range out {
		out[i].ETag = ""
	}
	return out
}

func wantSnap(t *testing.T, what string, got, want []fileView) {
	t.Helper()
	if !slices.EqualFunc(got, want, func(a, b fileView) bool {
		return a.Path == b.Path && a.Collection == b.Collection && a.ContentType == b.ContentType &&
			a.Size == b.Size && a.ETag == b.ETag && a.Content == b.Content && sameProps(a.Props, b.Props)
	}) {
		t.Errorf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

func sameProps(a, b []tidbro.DeadProp) bool {
	return len(a) == len(b) && (len(a) == 0 || slices.Equal(a, b))
}

func filePaths(fs []*tidbro.File) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.Path)
	}
	return out
}

// same fails unless got and want agree on what the suite compares.
func same(t *testing.T, what string, got, want *tidbro.File) {
	t.Helper()
	if got.TenantID != want.TenantID || got.OwnerID != want.OwnerID || got.Path != want.Path || got.Collection != want.Collection ||
		got.ContentType != want.ContentType || got.Size != want.Size || got.ETag != want.ETag || !sameProps(got.Props, want.Props) {
		t.Errorf("%s = %+v, want %+v", what, got, want)
	}
}

// recent fails unless tm is set and within a minute of now.
func recent(t *testing.T, what string, tm time.Time) {
	t.Helper()
	if now := time.Now(); tm.IsZero() || tm.Before(now.Add(-time.Minute)) || tm.After(now.Add(time.Minute)) {
		t.Errorf("%s = %v, want a time within a minute of %v", what, tm, now)
	}
}

// checkDoc fails unless f is the document path owned by a with the given
// content type and size.
func (a *area) checkDoc(what string, f *tidbro.File, path, contentType string, size int) {
	a.t.Helper()
	if f.TenantID != a.tenantID || f.OwnerID != a.ownerID || f.Path != path || f.Collection ||
		f.ContentType != contentType || f.Size != int64(size) || f.ETag == "" {
		a.t.Errorf("%s = %+v, want document %q (tenant %d, owner %d) of type %q, %d bytes, with an ETag",
			what, f, path, a.tenantID, a.ownerID, contentType, size)
	}
	recent(a.t, what+" Created", f.Created)
	recent(a.t, what+" Modified", f.Modified)
}

// checkCol fails unless f is the collection path owned by a.
func (a *area) checkCol(what string, f *tidbro.File, path string) {
	a.t.Helper()
	if f.TenantID != a.tenantID || f.OwnerID != a.ownerID || f.Path != path || !f.Collection || f.ContentType != "" || f.ETag != "" {
		a.t.Errorf("%s = %+v, want collection %q (tenant %d, owner %d) without content type or ETag",
			what, f, path, a.tenantID, a.ownerID)
	}
}

// populate makes a tree whose names tell byte order from tree order and
// catch prefix and LIKE-pattern mistakes:
//
//	a/ a/x/ a/x/y.txt a/z  "a b"  a-b/ a-b/c  a0/ a0/c  ab  q_r/ q_r/in  qxr/ qxr/out
//	p%/ p%/in  pp/ pp/out  b\/ b\/in  b/ b/in  Z  ä.txt
func (a *area) populate() []string {
	a.t.Helper()
	a.mkcol("a")
	a.mkcol("a/x")
	a.put("a/x/y.txt", "text/plain", "y")
	a.put("a/z", "text/plain", "z")
	a.put("a b", "text/plain", "a b")
	a.mkcol("a-b")
	a.put("a-b/c", "text/plain", "a-b/c")
	a.mkcol("a0")
	a.put("a0/c", "text/plain", "a0/c")
	a.put("ab", "text/plain", "ab")
	a.mkcol("q_r")
	a.put("q_r/in", "text/plain", "q_r/in")
	a.mkcol("qxr")
	a.put("qxr/out", "text/plain", "qxr/out")
	a.mkcol("p%")
	a.put("p%/in", "text/plain", "p%/in")
	a.mkcol("pp")
	a.put("pp/out", "text/plain", "pp/out")
	a.mkcol(`b\`)
	a.put(`b\/in`, "text/plain", `b\/in`)
	a.mkcol("b")
	a.put("b/in", "text/plain", "b/in")
	a.put("Z", "text/plain", "Z")
	a.put("ä.txt", "text/plain; charset=utf-8", "ä")
	all := []string{"a", "a/x", "a/x/y.txt", "a/z", "a b", "a-b", "a-b/c", "a0", "a0/c", "ab", "q_r", "q_r/in", "qxr", "qxr/out",
		"p%", "p%/in", "pp", "pp/out", `b\`, `b\/in`, "b", "b/in", "Z", "ä.txt"}
	slices.Sort(all) // byte order
	return all
}

// children returns the paths of all whose parent is dir.
func children(all []string, dir string) []string {
	out := []string{}
	for _, p := range all {
		if tidbro.FileParent(p) == dir {
			out = append(out, p)
		}
	}
	return out
}

// below returns the paths of all strictly below dir.
func below(all []string, dir string) []string {
	out := []string{}
	for _, p := range all {
		if dir == "" || strings.HasPrefix(p, dir+"/") {
			out = append(out, p)
		}
	}
	return out
}

func testFiles(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, _ := setup(t, s)
	a := newArea(t, s, alice)

	// The root exists in a fresh store, and is empty.
	root := a.file("")
	a.checkCol("root of a fresh area", root, "")
	if len(root.Props) != 0 {
		t.Errorf("root of a fresh area has props %+v", root.Props)
	}
	a.wantPaths("", false)
	a.wantPaths("", true)

	all := a.populate()
	if got := a.paths("", true); !slices.Equal(got, all) {
		t.Errorf("deep listing of the root, in byte order:\n got  %q\n want %q", got, all)
	}
	a.wantPaths("", false, children(all, "")...)
	for _, dir := range []string{"a", "a/x", "a-b", "a0", "q_r", "qxr", "p%", "pp", `b\`, "b"} {
		a.wantPaths(dir, false, children(all, dir)...)
		a.wantPaths(dir, true, below(all, dir)...)
	}
	a.wantPaths("a", true, "a/x", "a/x/y.txt", "a/z") // spelled out, in case the helpers are wrong
	a.wantPaths("a", false, "a/x", "a/z")

	// Listing entries are the resources as File returns them, props included.
	a.setProps("a/z", tidbro.DeadProp{Space: "urn:x", Local: "p", Value: "v"})
	a.setProps("a/x", tidbro.DeadProp{Space: "urn:x", Local: "q", Value: "w"})
	a.snap("")
	for _, f := range a.list("a", false) {
		same(t, "Files(a) entry", f, a.file(f.Path))
		if len(f.Props) != 1 {
			t.Errorf("Files(a) entry %q has props %+v, want its one prop", f.Path, f.Props)
		}
	}

	// Files does not check that path is a collection.
	a.wantPaths("a/z", false)
	a.wantPaths("a/z", true)
	a.wantPaths("nope", false)
	a.wantPaths("nope", true)

	// File and FileContent.
	f, data := a.content("a/x/y.txt")
	a.checkDoc("FileContent a/x/y.txt", f, "a/x/y.txt", "text/plain", 1)
	if data != "y" {
		t.Errorf("content of a/x/y.txt = %q, want %q", data, "y")
	}
	same(t, "File a/x/y.txt", a.file("a/x/y.txt"), f)
	a.checkCol("File a/x", a.file("a/x"), "a/x")
	f, data = a.content("ä.txt")
	if f.ContentType != "text/plain; charset=utf-8" || data != "ä" {
		t.Errorf("ä.txt = %+v, %q", f, data)
	}
	for _, p := range []string{"nope", "a/nope", "a/x/y.txt/more", "a/z/more", "A", "a/X"} {
		a.gone(p, "missing resource")
	}
	_, _, err := s.FileContent(ctx, tn.ID, alice.ID, "nope/deeper")
	wantCode(t, err, tidbro.ENOTFOUND, "FileContent below a missing collection")

	// A unicode path with spaces.
	a.mkcol("Dokumente")
	a.put("Dokumente/Übersicht 2026 – Entwurf.pdf", "application/pdf", "%PDF")
	a.wantPaths("Dokumente", false, "Dokumente/Übersicht 2026 – Entwurf.pdf")
	if _, data := a.content("Dokumente/Übersicht 2026 – Entwurf.pdf"); data != "%PDF" {
		t.Errorf("content of a unicode path = %q", data)
	}
}

func testMakeCollection(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, _ := setup(t, s)
	a := newArea(t, s, alice)
	mk := func(path string) error {
		_, err := s.MakeCollection(ctx, tn.ID, alice.ID, path)
		return err
	}

	c := a.mkcol("docs")
	a.checkCol("MakeCollection docs", c, "docs")
	recent(t, "MakeCollection Created", c.Created)
	recent(t, "MakeCollection Modified", c.Modified)
	if len(c.Props) != 0 {
		t.Errorf("new collection %+v has props", c)
	}
	got := a.file("docs")
	same(t, "File docs", got, c)
	recent(t, "File docs Created", got.Created)
	recent(t, "File docs Modified", got.Modified)
	a.wantPaths("", true, "docs")

	a.setProps("docs", tidbro.DeadProp{Local: "keep", Value: "me"})
	wantCode(t, mk("docs"), tidbro.ECONFLICT, "MakeCollection on an existing collection")
	a.wantProps("docs", tidbro.DeadProp{Local: "keep", Value: "me"})
	wantCode(t, mk(""), tidbro.ECONFLICT, "MakeCollection on the root")

	wantCode(t, mk("missing/sub"), tidbro.ECONFLICT, "MakeCollection with a missing parent")
	wantCode(t, mk("missing/sub/deeper"), tidbro.ECONFLICT, "MakeCollection with missing ancestors")
	a.gone("missing", "parent of a refused MakeCollection")
	a.gone("missing/sub", "refused MakeCollection")

	a.put("docs/f.txt", "text/plain", "f")
	wantCode(t, mk("docs/f.txt"), tidbro.ECONFLICT, "MakeCollection on an existing document")
	wantCode(t, mk("docs/f.txt/sub"), tidbro.ECONFLICT, "MakeCollection below a document")
	if f, data := a.content("docs/f.txt"); f.Collection || data != "f" {
		t.Errorf("document after refused MakeCollections = %+v, %q", f, data)
	}

	nested := a.mkcol("docs/sub")
	a.checkCol("MakeCollection docs/sub", nested, "docs/sub")
	a.mkcol("docs/sub/deeper")
	a.wantPaths("", true, "docs", "docs/f.txt", "docs/sub", "docs/sub/deeper")

	for _, p := range []string{"docs//b", "docs/", "/docs", "/docs/x", "docs/../x", "docs/..", "docs/.", "docs/./x", ".", "..", "../x",
		"docs/a\x00b", "docs/a\nb", "docs/a\tb", "docs/a\x7fb", "docs/\xff", "//"} {
		wantCode(t, mk(p), tidbro.EINVALID, fmt.Sprintf("MakeCollection %q", p))
	}
	a.wantPaths("", true, "docs", "docs/f.txt", "docs/sub", "docs/sub/deeper")
}

func testPutFile(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, _ := setup(t, s)
	a := newArea(t, s, alice)
	put := func(path, contentType, data, ifMatch string, ifNoneMatch bool) (*tidbro.File, bool, error) {
		return s.PutFile(ctx, a.doc(path, contentType), []byte(data), ifMatch, ifNoneMatch)
	}
	wantContent := func(path, contentType, data string) *tidbro.File {
		t.Helper()
		f, got := a.content(path)
		if got != data || f.ContentType != contentType || f.Size != int64(len(data)) {
			t.Errorf("%s = %+v with %q, want type %q and content %q", path, f, got, contentType, data)
		}
		return f
	}

	a.mkcol("docs")
	f, created, err := put("docs/a.txt", "text/plain", "hello", "", false)
	noErr(t, err)
	if !created {
		t.Error("PutFile of a new document: created = false")
	}
	a.checkDoc("PutFile docs/a.txt", f, "docs/a.txt", "text/plain", 5)
	first := wantContent("docs/a.txt", "text/plain", "hello")
	same(t, "FileContent after PutFile", first, f)
	same(t, "File after PutFile", a.file("docs/a.txt"), f)

	// Replacing with other content changes the ETag, not the creation time.
	time.Sleep(5 * time.Millisecond)
	f2, created, err := put("docs/a.txt", "text/markdown", "hello world", "", false)
	noErr(t, err)
	if created {
		t.Error("PutFile replacing a document: created = true")
	}
	a.checkDoc("PutFile replacing docs/a.txt", f2, "docs/a.txt", "text/markdown", 11)
	if f2.ETag == first.ETag {
		t.Errorf("ETag %q did not change with the content", f2.ETag)
	}
	second := wantContent("docs/a.txt", "text/markdown", "hello world")
	same(t, "FileContent after replacing", second, f2)
	if !second.Created.Equal(first.Created) {
		t.Errorf("Created changed on replace: %v, then %v", first.Created, second.Created)
	}
	if second.Modified.Before(first.Modified) {
		t.Errorf("Modified went back on replace: %v, then %v", first.Modified, second.Modified)
	}

	// The same content again keeps the ETag.
	f3, created, err := put("docs/a.txt", "text/markdown", "hello world", "", false)
	noErr(t, err)
	if created || f3.ETag != second.ETag {
		t.Errorf("PutFile of identical content: created %v, ETag %q, want false and %q", created, f3.ETag, second.ETag)
	}

	// Preconditions.
	f4, created, err := put("docs/a.txt", "text/plain", "v4", second.ETag, false)
	noErr(t, err)
	if created || f4.ETag == second.ETag {
		t.Errorf("PutFile with the right If-Match: created %v, ETag %q (was %q)", created, f4.ETag, second.ETag)
	}
	_, _, err = put("docs/a.txt", "text/plain", "v5", second.ETag, false)
	wantCode(t, err, tidbro.EPRECONDITION, "PutFile with a stale If-Match")
	_, _, err = put("docs/a.txt", "text/plain", "v5", `"nope"`, false)
	wantCode(t, err, tidbro.EPRECONDITION, "PutFile with a wrong If-Match")
	_, _, err = put("docs/a.txt", "text/plain", "v5", "", true)
	wantCode(t, err, tidbro.EPRECONDITION, "PutFile with If-None-Match on an existing document")
	_, _, err = put("docs/a.txt", "text/plain", "v5", f4.ETag, true)
	wantCode(t, err, tidbro.EPRECONDITION, "PutFile with both preconditions on an existing document")
	same(t, "document after refused writes", wantContent("docs/a.txt", "text/plain", "v4"), f4)

	_, _, err = put("docs/new.txt", "text/plain", "new", f4.ETag, false)
	wantCode(t, err, tidbro.EPRECONDITION, "PutFile with If-Match on a missing document")
	a.gone("docs/new.txt", "refused If-Match create")
	f, created, err = put("docs/new.txt", "text/plain", "new", "", true)
	noErr(t, err)
	if !created {
		t.Error("PutFile with If-None-Match on a missing document: created = false")
	}
	a.checkDoc("PutFile with If-None-Match", f, "docs/new.txt", "text/plain", 3)

	// Parents must be collections.
	_, _, err = put("missing/a.txt", "text/plain", "x", "", false)
	wantCode(t, err, tidbro.ECONFLICT, "PutFile with a missing parent")
	_, _, err = put("docs/missing/a.txt", "text/plain", "x", "", false)
	wantCode(t, err, tidbro.ECONFLICT, "PutFile with a missing parent in a collection")
	_, _, err = put("docs/a.txt/b.txt", "text/plain", "x", "", false)
	wantCode(t, err, tidbro.ECONFLICT, "PutFile below a document")
	a.gone("missing", "parent of a refused PutFile")
	a.gone("docs/missing", "parent of a refused PutFile")

	// A collection cannot be overwritten by a document.
	a.put("docs/child.txt", "text/plain", "child")
	_, _, err = put("docs", "text/plain", "x", "", false)
	wantCode(t, err, tidbro.ECONFLICT, "PutFile over a collection")
	_, _, err = put("", "text/plain", "x", "", false)
	wantCode(t, err, tidbro.ECONFLICT, "PutFile over the root")
	a.checkCol("collection after a refused PutFile", a.file("docs"), "docs")
	wantContent("docs/child.txt", "text/plain", "child")

	// Properties survive replacing the content.
	props := []tidbro.DeadProp{{Space: "urn:x", Local: "b", Value: "1"}, {Space: "urn:x", Local: "a", Value: "2"}}
	a.setProps("docs/a.txt", props...)
	f = a.put("docs/a.txt", "text/plain", "v6")
	if !sameProps(f.Props, props) {
		t.Errorf("PutFile returned props %+v, want the kept %+v", f.Props, props)
	}
	a.wantProps("docs/a.txt", props...)
	if f, _ := a.content("docs/a.txt"); !sameProps(f.Props, props) {
		t.Errorf("FileContent props after replace = %+v, want %+v", f.Props, props)
	}
	// A new document has none.
	if f := a.put("docs/fresh.txt", "text/plain", "x"); len(f.Props) != 0 {
		t.Errorf("new document has props %+v", f.Props)
	}

	// Empty documents, and bytes that are not text.
	f, _, err = s.PutFile(ctx, a.doc("docs/empty", "application/octet-stream"), nil, "", false)
	noErr(t, err)
	a.checkDoc("PutFile of an empty document", f, "docs/empty", "application/octet-stream", 0)
	emptyTag := f.ETag
	f, _, err = s.PutFile(ctx, a.doc("docs/empty2", ""), []byte{}, "", false)
	noErr(t, err)
	if f.Size != 0 || f.ContentType != "" || f.ETag == "" {
		t.Errorf("empty document without a content type = %+v", f)
	}
	for _, p := range []string{"docs/empty", "docs/empty2"} {
		_, data, err := s.FileContent(ctx, tn.ID, alice.ID, p)
		noErr(t, err)
		if len(data) != 0 {
			t.Errorf("content of the empty %s = %q", p, data)
		}
	}
	if f := a.put("docs/empty", "application/octet-stream", "now full"); f.ETag == emptyTag {
		t.Error("ETag of an empty document did not change with content")
	}
	bin := make([]byte, 512)
	for i := range bin {
		bin[i] = byte(i)
	}
	_, _, err = s.PutFile(ctx, a.doc("docs/bin", "application/octet-stream"), bin, "", false)
	noErr(t, err)
	if _, data, err := s.FileContent(ctx, tn.ID, alice.ID, "docs/bin"); err != nil || !bytes.Equal(data, bin) {
		t.Errorf("binary content did not round-trip: %v, %d bytes", err, len(data))
	}

	for _, p := range []string{"docs//b", "docs/", "/docs/x", "docs/../x", "docs/./x", "docs/..", "..", "docs/a\x00b", "docs/a\rb", "docs/\xff\xfe"} {
		_, _, err := put(p, "text/plain", "x", "", false)
		wantCode(t, err, tidbro.EINVALID, fmt.Sprintf("PutFile %q", p))
	}
	a.wantPaths("", true, "docs", "docs/a.txt", "docs/bin", "docs/child.txt", "docs/empty", "docs/empty2", "docs/fresh.txt", "docs/new.txt")
}

func testFileLimits(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, _ := setup(t, s)
	a := newArea(t, s, alice)

	big := bytes.Repeat([]byte("0123456789abcdef"), tidbro.MaxFileSize/16)
	f, _, err := s.PutFile(ctx, a.doc("big", "application/octet-stream"), big, "", false)
	noErr(t, err)
	if f.Size != tidbro.MaxFileSize {
		t.Errorf("size of a document of MaxFileSize = %d", f.Size)
	}
	if _, data, err := s.FileContent(ctx, tn.ID, alice.ID, "big"); err != nil || !bytes.Equal(data, big) {
		t.Errorf("document of MaxFileSize did not round-trip: %v, %d bytes", err, len(data))
	}
	tooBig := append(big, 'x')
	_, _, err = s.PutFile(ctx, a.doc("too-big", "application/octet-stream"), tooBig, "", false)
	wantCode(t, err, tidbro.ETOOLARGE, "PutFile over MaxFileSize")
	a.gone("too-big", "refused large document")
	_, _, err = s.PutFile(ctx, a.doc("big", "application/octet-stream"), tooBig, "", false)
	wantCode(t, err, tidbro.ETOOLARGE, "PutFile replacing with more than MaxFileSize")
	if got := a.file("big"); got.Size != tidbro.MaxFileSize || got.ETag != f.ETag {
		t.Errorf("document after a refused large replace = %+v, want %+v", got, f)
	}
	noErr(t, s.DeleteFile(ctx, tn.ID, alice.ID, "big", ""))

	// Paths: MaxFileSegment bytes a name, MaxFilePath bytes in all.
	seg := func(c byte, n int) string { return strings.Repeat(string(c), n) }
	p := seg('a', tidbro.MaxFileSegment)
	a.mkcol(p)
	for _, c := range []byte{'b', 'c'} {
		p += "/" + seg(c, tidbro.MaxFileSegment)
		a.mkcol(p)
	}
	p += "/" + seg('d', tidbro.MaxFilePath-len(p)-3)
	a.mkcol(p)
	long := p + "/e"
	if len(long) != tidbro.MaxFilePath {
		t.Fatalf("test bug: path of %d bytes", len(long))
	}
	a.put(long, "text/plain", "long")
	if _, data := a.content(long); data != "long" {
		t.Errorf("content at a path of MaxFilePath bytes = %q", data)
	}
	a.wantPaths(p, false, long)
	_, _, err = s.PutFile(ctx, a.doc(long+"f", "text/plain"), []byte("x"), "", false)
	wantCode(t, err, tidbro.ETOOLARGE, "PutFile at a path over MaxFilePath")
	_, err = s.MakeCollection(ctx, tn.ID, alice.ID, long+"f")
	wantCode(t, err, tidbro.ETOOLARGE, "MakeCollection at a path over MaxFilePath")
	_, _, err = s.PutFile(ctx, a.doc(seg('x', tidbro.MaxFileSegment+1), "text/plain"), []byte("x"), "", false)
	wantCode(t, err, tidbro.ETOOLARGE, "PutFile with a name over MaxFileSegment")
	_, err = s.MakeCollection(ctx, tn.ID, alice.ID, seg('x', tidbro.MaxFileSegment+1))
	wantCode(t, err, tidbro.ETOOLARGE, "MakeCollection with a name over MaxFileSegment")

	// Properties: MaxDeadProps a resource, MaxDeadPropSize bytes a value.
	a.put("doc", "text/plain", "doc")
	var props []tidbro.DeadProp
	for i := range tidbro.MaxDeadProps {
		props = append(props, tidbro.DeadProp{Space: "urn:limits", Local: fmt.Sprintf("p%03d", tidbro.MaxDeadProps-i), Value: fmt.Sprint(i)})
	}
	props[0].Value = strings.Repeat("v", tidbro.MaxDeadPropSize)
	a.setProps("doc", props...)
	a.wantProps("doc", props...)
	err = s.SetFileProps(ctx, tn.ID, alice.ID, "doc", append(slices.Clone(props), tidbro.DeadProp{Space: "urn:limits", Local: "one-more"}))
	wantCode(t, err, tidbro.ETOOLARGE, "SetFileProps with more than MaxDeadProps")
	err = s.SetFileProps(ctx, tn.ID, alice.ID, "doc", []tidbro.DeadProp{{Space: "urn:limits", Local: "big", Value: strings.Repeat("v", tidbro.MaxDeadPropSize+1)}})
	wantCode(t, err, tidbro.ETOOLARGE, "SetFileProps with a value over MaxDeadPropSize")
	a.wantProps("doc", props...)
}

func testFileIsolation(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, bob := setup(t, s)
	beta := newTenant(t, s, "beta")
	olga := newUser(t, s, beta.ID, "olga")
	a, b, o := newArea(t, s, alice), newArea(t, s, bob), newArea(t, s, olga)

	a.mkcol("shared")
	a.put("shared/doc.txt", "text/plain", "alice's")
	a.put("alice-only.txt", "text/plain", "secret")
	rootProps := []tidbro.DeadProp{{Space: "urn:x", Local: "owner", Value: "alice"}}
	a.setProps("", rootProps...)
	a.setProps("shared", rootProps...)
	want := a.snap("")

	for _, other := range []*area{b, o, {t: t, s: s, tenantID: beta.ID, ownerID: alice.ID}, {t: t, s: s, tenantID: tn.ID, ownerID: olga.ID}} {
		what := fmt.Sprintf("tenant %d, owner %d", other.tenantID, other.ownerID)
		for _, p := range []string{"shared", "shared/doc.txt", "alice-only.txt"} {
			other.gone(p, what)
		}
		if got := other.paths("", true); len(got) != 0 {
			t.Errorf("%s: deep listing of the root = %q, want nothing", what, got)
		}
		if got := other.paths("shared", true); len(got) != 0 {
			t.Errorf("%s: deep listing of shared = %q, want nothing", what, got)
		}
		if root, err := s.File(ctx, other.tenantID, other.ownerID, ""); err == nil && len(root.Props) != 0 {
			t.Errorf("%s: root has alice's props %+v", what, root.Props)
		}
	}

	// Bob's area is his own: writes there need his collections and leave
	// alice's alone.
	_, _, err := s.PutFile(ctx, b.doc("shared/doc.txt", "text/plain"), []byte("bob's"), "", false)
	wantCode(t, err, tidbro.ECONFLICT, "bob's PutFile below alice's collection")
	_, err = s.MakeCollection(ctx, bob.TenantID, bob.ID, "shared/sub")
	wantCode(t, err, tidbro.ECONFLICT, "bob's MakeCollection below alice's collection")
	_, _, err = s.PutFile(ctx, b.doc("alice-only.txt", "text/plain"), []byte("bob's"), "", false)
	noErr(t, err) // bob's own document of that name
	noErr(t, s.DeleteFile(ctx, bob.TenantID, bob.ID, "alice-only.txt", ""))
	_, _, err = s.PutFile(ctx, b.doc("alice-only.txt", "text/plain"), []byte("x"), "", true)
	noErr(t, err) // alice's document does not make bob's If-None-Match fail
	noErr(t, s.DeleteFile(ctx, bob.TenantID, bob.ID, "alice-only.txt", ""))
	aliceTag := a.file("alice-only.txt").ETag
	_, _, err = s.PutFile(ctx, b.doc("alice-only.txt", "text/plain"), []byte("x"), aliceTag, false)
	wantCode(t, err, tidbro.EPRECONDITION, "bob's If-Match with alice's ETag")

	b.mkcol("shared")
	b.put("shared/doc.txt", "text/plain", "bob's")
	b.put("shared/bob.txt", "text/plain", "bob's")
	if _, data := b.content("shared/doc.txt"); data != "bob's" {
		t.Errorf("bob's document = %q", data)
	}
	wantCode(t, s.DeleteFile(ctx, bob.TenantID, bob.ID, "alice-only.txt", ""), tidbro.ENOTFOUND, "bob deleting alice's document")
	wantCode(t, s.SetFileProps(ctx, bob.TenantID, bob.ID, "alice-only.txt", rootProps), tidbro.ENOTFOUND, "bob setting props on alice's document")
	_, err = s.CopyFile(ctx, bob.TenantID, bob.ID, "alice-only.txt", "stolen.txt", true, false)
	wantCode(t, err, tidbro.ENOTFOUND, "bob copying alice's document")
	_, err = s.MoveFile(ctx, bob.TenantID, bob.ID, "alice-only.txt", "stolen.txt", false)
	wantCode(t, err, tidbro.ENOTFOUND, "bob moving alice's document")
	must(s.CopyFile(ctx, bob.TenantID, bob.ID, "shared", "copied", true, false))(t)
	must(s.MoveFile(ctx, bob.TenantID, bob.ID, "copied", "moved", false))(t)
	b.setProps("shared", tidbro.DeadProp{Local: "owner", Value: "bob"})
	b.wantPaths("", true, "moved", "moved/bob.txt", "moved/doc.txt", "shared", "shared/bob.txt", "shared/doc.txt")
	noErr(t, s.DeleteFile(ctx, bob.TenantID, bob.ID, "shared", ""))
	noErr(t, s.DeleteFile(ctx, bob.TenantID, bob.ID, "moved", ""))
	b.wantPaths("", true)

	wantSnap(t, "alice's area after bob's writes", a.snap(""), want)
	a.wantProps("", rootProps...)
	if got := o.paths("", true); len(got) != 0 {
		t.Errorf("olga's area = %q, want nothing", got)
	}
}

func testDeleteFile(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, _ := setup(t, s)
	a := newArea(t, s, alice)
	del := func(path, ifMatch string) error { return s.DeleteFile(ctx, tn.ID, alice.ID, path, ifMatch) }
	all := a.populate()
	without := func(dir string) {
		all = slices.DeleteFunc(all, func(p string) bool { return p == dir || strings.HasPrefix(p, dir+"/") })
	}

	z := a.file("a/z")
	wantCode(t, del("a/z", `"nope"`), tidbro.EPRECONDITION, "DeleteFile with a wrong If-Match")
	same(t, "document after a refused delete", a.file("a/z"), z)
	a.put("a/z", "text/plain", "z2")
	wantCode(t, del("a/z", z.ETag), tidbro.EPRECONDITION, "DeleteFile with a stale If-Match")
	z = a.file("a/z")
	noErr(t, del("a/z", z.ETag))
	a.gone("a/z", "deleted with If-Match")
	without("a/z")
	a.wantPaths("", true, all...)

	wantCode(t, del("a", `"nope"`), tidbro.EPRECONDITION, "DeleteFile of a collection with an If-Match")
	a.wantPaths("", true, all...)

	// A collection goes with everything below it, and nothing beside it.
	noErr(t, del("a", ""))
	for _, p := range []string{"a", "a/x", "a/x/y.txt"} {
		a.gone(p, "below a deleted collection")
	}
	without("a")
	a.wantPaths("", true, all...)
	a.wantPaths("a", true)
	wantCode(t, del("a", ""), tidbro.ENOTFOUND, "DeleteFile of a deleted collection")
	wantCode(t, del("a/x/y.txt", ""), tidbro.ENOTFOUND, "DeleteFile below a deleted collection")
	wantCode(t, del("nope", ""), tidbro.ENOTFOUND, "DeleteFile of a missing resource")

	for _, dir := range []string{"q_r", "p%", `b\`} {
		noErr(t, del(dir, ""))
		without(dir)
		a.wantPaths("", true, all...)
	}

	wantCode(t, del("", ""), tidbro.EFORBIDDEN, "DeleteFile of the root")
	a.wantPaths("", true, all...)

	if err := del("ab//x", ""); err == nil {
		t.Error("DeleteFile of an invalid path succeeded")
	} else if code := tidbro.ErrorCode(err); code != tidbro.EINVALID && code != tidbro.ENOTFOUND {
		t.Errorf("DeleteFile of an invalid path: %v, want %s or %s", err, tidbro.EINVALID, tidbro.ENOTFOUND)
	}

	// A deleted path can be made again, from scratch.
	a.setProps("a-b", tidbro.DeadProp{Local: "old", Value: "x"})
	a.setProps("a-b/c", tidbro.DeadProp{Local: "old", Value: "x"})
	noErr(t, del("a-b", ""))
	c := a.mkcol("a-b")
	if len(c.Props) != 0 {
		t.Errorf("collection made again has its old props %+v", c.Props)
	}
	a.wantProps("a-b")
	a.wantPaths("a-b", true)
	f := a.put("a-b/c", "text/plain", "again")
	if len(f.Props) != 0 {
		t.Errorf("document made again has its old props %+v", f.Props)
	}
	a.wantProps("a-b/c")
	a.mkcol("a")
	a.wantPaths("a", true)

	// Deleting everything leaves the root.
	for _, f := range a.list("", false) {
		noErr(t, del(f.Path, ""))
	}
	a.wantPaths("", true)
	a.checkCol("root of an emptied area", a.file(""), "")
}

// copyFixture makes src (a tree with props), doc.txt and neighbours of src
// whose names share its prefix.
func copyFixture(a *area) {
	a.t.Helper()
	a.mkcol("src")
	a.setProps("src", tidbro.DeadProp{Space: "urn:x", Local: "col", Value: "src"})
	a.put("src/d1.txt", "text/plain", "one")
	a.setProps("src/d1.txt", tidbro.DeadProp{Space: "urn:x", Local: "z", Value: "1"}, tidbro.DeadProp{Space: "urn:x", Local: "a", Value: "2"})
	a.mkcol("src/sub")
	a.setProps("src/sub", tidbro.DeadProp{Local: "sub", Value: "<b xmlns=\"urn:b\">bold</b>"})
	a.put("src/sub/d2.bin", "application/octet-stream", "two")
	a.mkcol("src/sub/empty")
	a.mkcol("src-b")
	a.put("src-b/keep", "text/plain", "keep")
	a.put("src0", "text/plain", "src0")
	a.put("doc.txt", "text/plain", "doc")
	a.setProps("doc.txt", tidbro.DeadProp{Space: "urn:x", Local: "doc", Value: "ü"})
}

func testCopyFile(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, _ := setup(t, s)
	a := newArea(t, s, alice)
	cp := func(src, dst string, deep, overwrite bool) (bool, error) {
		return s.CopyFile(ctx, tn.ID, alice.ID, src, dst, deep, overwrite)
	}
	copyFixture(a)
	srcTree := a.snap("src")

	// A document, with its content type and props.
	doc, docData := a.content("doc.txt")
	for _, deep := range []bool{false, true} {
		dst := fmt.Sprintf("copy-%v.txt", deep)
		created, err := cp("doc.txt", dst, deep, false)
		noErr(t, err)
		if !created {
			t.Errorf("CopyFile to a new %s: created = false", dst)
		}
		f, data := a.content(dst)
		a.checkDoc("copied document", f, dst, doc.ContentType, len(docData))
		if data != docData || !sameProps(f.Props, doc.Props) {
			t.Errorf("copied document = %+v with %q, want %+v with %q", f, data, doc, docData)
		}
	}
	same(t, "source of a copy", a.file("doc.txt"), doc)
	// The copy's props are its own.
	a.setProps("copy-false.txt", tidbro.DeadProp{Local: "mine"})
	a.wantProps("doc.txt", doc.Props...)
	noErr(t, s.DeleteFile(ctx, tn.ID, alice.ID, "copy-false.txt", ""))
	same(t, "source after deleting its copy", a.file("doc.txt"), doc)

	// A collection, deep.
	created, err := cp("src", "dst", true, false)
	noErr(t, err)
	if !created {
		t.Error("deep CopyFile to a new dst: created = false")
	}
	a.checkCol("copied collection", a.file("dst"), "dst")
	a.wantProps("dst", a.file("src").Props...)
	wantSnap(t, "deep copy", withoutETags(a.snap("dst")), withoutETags(srcTree))
	wantSnap(t, "source of a deep copy", a.snap("src"), srcTree)
	// Into a collection, and next to the source under a name it prefixes.
	a.mkcol("into")
	must(cp("src", "into/src", true, false))(t)
	wantSnap(t, "deep copy into a collection", withoutETags(a.snap("into/src")), withoutETags(srcTree))
	must(cp("src", "srcx", true, false))(t)
	wantSnap(t, "deep copy to a name the source prefixes", withoutETags(a.snap("srcx")), withoutETags(srcTree))
	must(cp("src/sub", "sub-copy", true, false))(t)
	wantSnap(t, "deep copy of a nested collection", withoutETags(a.snap("sub-copy")), withoutETags(a.snap("src/sub")))

	// A collection, shallow: an empty collection with the props.
	created, err = cp("src", "shallow", false, false)
	noErr(t, err)
	if !created {
		t.Error("shallow CopyFile: created = false")
	}
	a.checkCol("shallow copy", a.file("shallow"), "shallow")
	a.wantProps("shallow", a.file("src").Props...)
	a.wantPaths("shallow", true)

	// An existing destination without overwrite: nothing changes.
	before := a.snap("")
	for _, c := range []struct{ src, dst string }{{"src", "dst"}, {"doc.txt", "dst"}, {"doc.txt", "copy-true.txt"}, {"src", "copy-true.txt"}, {"src/sub", "sub-copy"}} {
		for _, deep := range []bool{false, true} {
			_, err := cp(c.src, c.dst, deep, false)
			wantCode(t, err, tidbro.EPRECONDITION, fmt.Sprintf("CopyFile %s to the existing %s without overwrite (deep %v)", c.src, c.dst, deep))
		}
	}
	wantSnap(t, "area after refused copies", a.snap(""), before)

	// With overwrite the destination is replaced entirely.
	a.put("dst/old.txt", "text/plain", "old")
	a.mkcol("dst/oldcol")
	a.put("dst/oldcol/x", "text/plain", "x")
	a.setProps("dst", tidbro.DeadProp{Local: "dst-only", Value: "gone"})
	oldTag := a.file("dst/d1.txt").ETag
	a.put("src/d1.txt", "text/plain", "one, changed")
	srcTree = a.snap("src")
	created, err = cp("src", "dst", true, true)
	noErr(t, err)
	if created {
		t.Error("CopyFile over an existing dst: created = true")
	}
	wantSnap(t, "overwriting deep copy", withoutETags(a.snap("dst")), withoutETags(srcTree))
	a.wantProps("dst", a.file("src").Props...)
	a.gone("dst/old.txt", "child of an overwritten destination")
	a.gone("dst/oldcol/x", "grandchild of an overwritten destination")
	if f := a.file("dst/d1.txt"); f.ETag == oldTag {
		t.Errorf("ETag of an overwritten document kept %q though its content changed", oldTag)
	}
	// A document over a collection, a collection over a document.
	created, err = cp("doc.txt", "dst", false, true)
	noErr(t, err)
	if created {
		t.Error("CopyFile of a document over a collection: created = true")
	}
	if f, data := a.content("dst"); f.Collection || data != docData || !sameProps(f.Props, doc.Props) {
		t.Errorf("document copied over a collection = %+v with %q", f, data)
	}
	a.wantPaths("dst", true)
	a.gone("dst/d1.txt", "child of a collection overwritten by a document")
	created, err = cp("src", "copy-true.txt", true, true)
	noErr(t, err)
	if created {
		t.Error("CopyFile of a collection over a document: created = true")
	}
	a.checkCol("collection copied over a document", a.file("copy-true.txt"), "copy-true.txt")
	wantSnap(t, "collection copied over a document", withoutETags(a.snap("copy-true.txt")), withoutETags(srcTree))
	// Shallow over a collection with members: they go.
	created, err = cp("src", "into/src", false, true)
	noErr(t, err)
	if created {
		t.Error("shallow CopyFile over a collection: created = true")
	}
	a.wantPaths("into/src", true)

	// Refusals, each leaving the area as it was.
	before = a.snap("")
	for _, c := range []struct {
		src, dst        string
		deep, overwrite bool
		code, what      string
	}{
		{"doc.txt", "nope/doc.txt", false, false, tidbro.ECONFLICT, "destination parent missing"},
		{"src", "nope/deeper/src", true, true, tidbro.ECONFLICT, "destination ancestors missing"},
		{"doc.txt", "src0/doc.txt", false, true, tidbro.ECONFLICT, "destination parent a document"},
		{"nope", "nope2", true, false, tidbro.ENOTFOUND, "source missing"},
		{"src/nope", "nope2", true, true, tidbro.ENOTFOUND, "source missing in a collection"},
		{"", "rootcopy", true, false, tidbro.EFORBIDDEN, "copying the root"},
		{"", "rootcopy", false, true, tidbro.EFORBIDDEN, "copying the root shallow"},
		{"src", "src/inner", true, false, tidbro.EFORBIDDEN, "copying a collection into itself"},
		{"src", "src/sub/inner", true, true, tidbro.EFORBIDDEN, "copying a collection deep into itself"},
		{"src", "src", true, true, tidbro.EFORBIDDEN, "copying a collection onto itself"},
		{"doc.txt", "doc.txt", false, true, tidbro.EFORBIDDEN, "copying a document onto itself"},
		{"doc.txt", "a//b", false, false, tidbro.EINVALID, "invalid destination"},
		{"doc.txt", "../b", false, true, tidbro.EINVALID, "invalid destination"},
	} {
		_, err := cp(c.src, c.dst, c.deep, c.overwrite)
		wantCode(t, err, c.code, fmt.Sprintf("CopyFile %q to %q (deep %v, overwrite %v): %s", c.src, c.dst, c.deep, c.overwrite, c.what))
	}
	// Replacing the root would delete the area.
	if _, err := cp("doc.txt", "", false, true); err == nil {
		t.Error("CopyFile of a document over the root succeeded")
	}
	if _, err := cp("src", "", true, true); err == nil {
		t.Error("CopyFile of a collection over the root succeeded")
	}
	wantSnap(t, "area after refused copies", a.snap(""), before)
	a.checkCol("root after refused copies", a.file(""), "")
}

func testMoveFile(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, _ := setup(t, s)
	a := newArea(t, s, alice)
	mv := func(src, dst string, overwrite bool) (bool, error) {
		return s.MoveFile(ctx, tn.ID, alice.ID, src, dst, overwrite)
	}
	copyFixture(a)
	srcTree := a.snap("src")
	srcCol := a.file("src")

	// A document.
	doc, docData := a.content("doc.txt")
	created, err := mv("doc.txt", "moved.txt", false)
	noErr(t, err)
	if !created {
		t.Error("MoveFile to a new path: created = false")
	}
	a.gone("doc.txt", "source of a move")
	f, data := a.content("moved.txt")
	a.checkDoc("moved document", f, "moved.txt", doc.ContentType, len(docData))
	if data != docData || !sameProps(f.Props, doc.Props) {
		t.Errorf("moved document = %+v with %q, want %+v with %q", f, data, doc, docData)
	}

	// A collection, with everything below it, and nothing beside it.
	created, err = mv("src", "dst", false)
	noErr(t, err)
	if !created {
		t.Error("MoveFile of a collection to a new path: created = false")
	}
	for _, p := range []string{"src", "src/d1.txt", "src/sub", "src/sub/d2.bin", "src/sub/empty"} {
		a.gone(p, "below the source of a move")
	}
	a.wantPaths("src", true)
	a.wantProps("dst", srcCol.Props...)
	wantSnap(t, "moved collection", withoutETags(a.snap("dst")), withoutETags(srcTree))
	a.wantPaths("", false, "dst", "moved.txt", "src-b", "src0")
	a.wantPaths("src-b", true, "src-b/keep")
	// To a name it prefixes, into a collection, and back.
	must(mv("dst", "dstx", false))(t)
	a.mkcol("into")
	must(mv("dstx", "into/dst", false))(t)
	wantSnap(t, "collection moved twice", withoutETags(a.snap("into/dst")), withoutETags(srcTree))
	must(mv("into/dst", "dst", false))(t)
	a.wantPaths("into", true)
	wantSnap(t, "collection moved back", withoutETags(a.snap("dst")), withoutETags(srcTree))
	// A member out of its collection.
	must(mv("dst/sub/d2.bin", "d2.bin", false))(t)
	a.gone("dst/sub/d2.bin", "moved member")
	if _, data := a.content("d2.bin"); data != "two" {
		t.Errorf("moved member = %q", data)
	}
	must(mv("d2.bin", "dst/sub/d2.bin", false))(t)

	// An existing destination without overwrite: nothing changes.
	a.mkcol("target")
	a.put("target/old.txt", "text/plain", "old")
	a.setProps("target", tidbro.DeadProp{Local: "target-only"})
	before := a.snap("")
	for _, c := range []struct{ src, dst string }{{"dst", "target"}, {"moved.txt", "target"}, {"dst", "src0"}, {"moved.txt", "src0"}} {
		_, err := mv(c.src, c.dst, false)
		wantCode(t, err, tidbro.EPRECONDITION, fmt.Sprintf("MoveFile %s to the existing %s without overwrite", c.src, c.dst))
	}
	wantSnap(t, "area after refused moves", a.snap(""), before)

	// With overwrite the destination is replaced entirely.
	created, err = mv("dst", "target", true)
	noErr(t, err)
	if created {
		t.Error("MoveFile over an existing collection: created = true")
	}
	a.gone("dst", "source of an overwriting move")
	a.gone("target/old.txt", "child of an overwritten destination")
	a.wantProps("target", srcCol.Props...)
	wantSnap(t, "overwriting move", withoutETags(a.snap("target")), withoutETags(srcTree))
	created, err = mv("moved.txt", "src0", true)
	noErr(t, err)
	if created {
		t.Error("MoveFile over an existing document: created = true")
	}
	a.gone("moved.txt", "source of an overwriting move")
	if f, data := a.content("src0"); data != docData || f.ContentType != doc.ContentType || !sameProps(f.Props, doc.Props) {
		t.Errorf("document moved over a document = %+v with %q", f, data)
	}
	must(mv("src0", "target/sub", true))(t) // a document over a collection
	a.wantPaths("target/sub", true)
	if _, data := a.content("target/sub"); data != docData {
		t.Errorf("document moved over a collection has %q", data)
	}
	a.gone("target/sub/d2.bin", "member of a collection overwritten by a move")

	// Refusals, each leaving the area as it was.
	before = a.snap("")
	for _, c := range []struct {
		src, dst   string
		overwrite  bool
		code, what string
	}{
		{"target", "target/inner", false, tidbro.EFORBIDDEN, "moving a collection into itself"},
		{"target", "target/sub/inner", true, tidbro.EFORBIDDEN, "moving a collection deep into itself"},
		{"target", "target", true, tidbro.EFORBIDDEN, "moving a collection onto itself"},
		{"target/sub", "target/sub", true, tidbro.EFORBIDDEN, "moving a document onto itself"},
		{"", "rootmove", false, tidbro.EFORBIDDEN, "moving the root"},
		{"nope", "nope2", false, tidbro.ENOTFOUND, "source missing"},
		{"target/nope", "nope2", true, tidbro.ENOTFOUND, "source missing in a collection"},
		{"target", "nope/target", false, tidbro.ECONFLICT, "destination parent missing"},
		{"target/d1.txt", "target/sub/d1.txt", true, tidbro.ECONFLICT, "destination parent a document"},
		{"target", "a//b", false, tidbro.EINVALID, "invalid destination"},
	} {
		_, err := mv(c.src, c.dst, c.overwrite)
		wantCode(t, err, c.code, fmt.Sprintf("MoveFile %q to %q (overwrite %v): %s", c.src, c.dst, c.overwrite, c.what))
	}
	if _, err := mv("target", "", true); err == nil {
		t.Error("MoveFile over the root succeeded")
	}
	wantSnap(t, "area after refused moves", a.snap(""), before)
	a.checkCol("root after refused moves", a.file(""), "")
}

func testFileProps(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, bob := setup(t, s)
	a, b := newArea(t, s, alice), newArea(t, s, bob)

	// The root takes props before anything else exists.
	rootProps := []tidbro.DeadProp{
		{Space: "http://apple.com/ns/ical/", Local: "calendar-color", Value: "#FF0000"},
		{Space: "", Local: "no-namespace", Value: "plain"},
	}
	a.setProps("", rootProps...)
	a.wantProps("", rootProps...)
	a.checkCol("root with props", a.file(""), "")
	a.wantPaths("", true)
	b.wantProps("")

	a.put("doc.txt", "text/plain", "doc")
	a.mkcol("col")
	a.wantProps("doc.txt")
	a.wantProps("col")

	// Order is the order given, not by name; names may repeat across spaces.
	props := []tidbro.DeadProp{
		{Space: "urn:ns", Local: "zeta", Value: `<x:z xmlns:x="urn:ns">zeta</x:z>`},
		{Space: "", Local: "alpha", Value: "plain text"},
		{Space: "urn:ns", Local: "mid", Value: "ünïcødé ✓ 日本語 🙂"},
		{Space: "urn:other", Local: "zeta", Value: "same local, other space"},
		{Space: "urn:ns", Local: "xml", Value: "<a xmlns=\"urn:a\">\n\t<b attr='&quot;q&quot;'>&lt;&amp;&gt;</b>\n</a>"},
	}
	a.setProps("doc.txt", props...)
	a.wantProps("doc.txt", props...)
	if f, _ := a.content("doc.txt"); !sameProps(f.Props, props) {
		t.Errorf("FileContent props = %+v, want %+v", f.Props, props)
	}
	for _, f := range a.list("", false) {
		if f.Path == "doc.txt" && !sameProps(f.Props, props) {
			t.Errorf("Files entry props = %+v, want %+v", f.Props, props)
		}
	}
	for _, f := range a.list("", true) {
		if f.Path == "doc.txt" && !sameProps(f.Props, props) {
			t.Errorf("deep Files entry props = %+v, want %+v", f.Props, props)
		}
	}
	a.wantProps("col")
	a.wantProps("", rootProps...)

	// A new set replaces the whole set: one dropped, one changed, one
	// added, one with an empty value.
	next := []tidbro.DeadProp{
		{Space: "urn:ns", Local: "zeta", Value: "changed"},
		{Space: "urn:ns", Local: "mid", Value: "ünïcødé ✓ 日本語 🙂"},
		{Space: "urn:other", Local: "zeta", Value: "same local, other space"},
		{Space: "urn:ns", Local: "added", Value: ""},
	}
	a.setProps("doc.txt", next...)
	a.wantProps("doc.txt", next...)
	f := a.file("doc.txt")
	if f.ETag == "" || f.Size != 3 || f.ContentType != "text/plain" {
		t.Errorf("document after SetFileProps = %+v", f)
	}
	if _, data := a.content("doc.txt"); data != "doc" {
		t.Errorf("content after SetFileProps = %q", data)
	}

	a.setProps("col", props...)
	a.wantProps("col", props...)
	a.wantProps("doc.txt", next...)
	a.setProps("col")
	a.wantProps("col")
	a.setProps("doc.txt", []tidbro.DeadProp{}...)
	a.wantProps("doc.txt")
	a.setProps("", rootProps[1:]...)
	a.wantProps("", rootProps[1:]...)

	wantCode(t, s.SetFileProps(ctx, tn.ID, alice.ID, "nope", props), tidbro.ENOTFOUND, "SetFileProps on a missing path")
	wantCode(t, s.SetFileProps(ctx, tn.ID, alice.ID, "col/nope", props), tidbro.ENOTFOUND, "SetFileProps on a missing member")
	wantCode(t, s.SetFileProps(ctx, tn.ID, alice.ID, "doc.txt/nope", props), tidbro.ENOTFOUND, "SetFileProps below a document")
	a.gone("nope", "SetFileProps on a missing path")
	a.wantPaths("", true, "col", "doc.txt")
	b.wantProps("")
}

// testFileConcurrency races writers on one area: conditional creates have
// one winner, unconditional ones all succeed, and creates racing with the
// deletion of their parent never leave a resource without its collection.
func testFileConcurrency(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, _ := setup(t, s)
	a := newArea(t, s, alice)
	const workers = 8

	race := func(what string, fn func(w int) error, okCode string) (wins int) {
		t.Helper()
		errs := make([]error, workers)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() { errs[w] = fn(w) })
		}
		wg.Wait()
		for w, err := range errs {
			switch tidbro.ErrorCode(err) {
			case "":
				wins++
			case okCode:
			default:
				t.Errorf("%s, worker %d: %v (code %q), want success or %q", what, w, err, tidbro.ErrorCode(err), okCode)
			}
		}
		return wins
	}

	var mu sync.Mutex
	createdBy := -1
	if n := race("PutFile with If-None-Match", func(w int) error {
		_, created, err := s.PutFile(ctx, a.doc("once.txt", "text/plain"), []byte(fmt.Sprint(w)), "", true)
		if err == nil && created {
			mu.Lock()
			createdBy = w
			mu.Unlock()
		}
		return err
	}, tidbro.EPRECONDITION); n != 1 {
		t.Errorf("%d of %d PutFile with If-None-Match succeeded, want 1", n, workers)
	}
	if _, data := a.content("once.txt"); createdBy < 0 || data != fmt.Sprint(createdBy) {
		t.Errorf("once.txt holds %q, written by worker %d", data, createdBy)
	}

	if n := race("MakeCollection", func(int) error {
		_, err := s.MakeCollection(ctx, tn.ID, alice.ID, "dir")
		return err
	}, tidbro.ECONFLICT); n != 1 {
		t.Errorf("%d of %d MakeCollection of one path succeeded, want 1", n, workers)
	}

	var creates int
	if n := race("PutFile", func(w int) error {
		_, created, err := s.PutFile(ctx, a.doc("dir/free.txt", "text/plain"), []byte(fmt.Sprint(w)), "", false)
		if err == nil && created {
			mu.Lock()
			creates++
			mu.Unlock()
		}
		return err
	}, ""); n != workers || creates != 1 {
		t.Errorf("%d of %d unconditional PutFile succeeded, %d created; want all, 1", n, workers, creates)
	}

	tag := a.file("once.txt").ETag
	if n := race("PutFile with If-Match", func(w int) error {
		_, _, err := s.PutFile(ctx, a.doc("once.txt", "text/plain"), []byte(fmt.Sprintf("after %d", w)), tag, false)
		return err
	}, tidbro.EPRECONDITION); n != 1 {
		t.Errorf("%d of %d PutFile with one If-Match succeeded, want 1: a lost update", n, workers)
	}

	if n := race("DeleteFile", func(int) error {
		return s.DeleteFile(ctx, tn.ID, alice.ID, "dir", "")
	}, tidbro.ENOTFOUND); n != 1 {
		t.Errorf("%d of %d DeleteFile of one path succeeded, want 1", n, workers)
	}

	// Creates below a collection that is deleted and made again meanwhile.
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range 20 {
				var err error
				switch (w + i) % 4 {
				case 0:
					_, err = s.MakeCollection(ctx, tn.ID, alice.ID, "p")
				case 1:
					_, _, err = s.PutFile(ctx, a.doc(fmt.Sprintf("p/c%d-%d", w, i), "text/plain"), []byte("c"), "", false)
				case 2:
					_, err = s.MakeCollection(ctx, tn.ID, alice.ID, fmt.Sprintf("p/d%d-%d", w, i))
				case 3:
					err = s.DeleteFile(ctx, tn.ID, alice.ID, "p", "")
				}
				switch code := tidbro.ErrorCode(err); code {
				case "", tidbro.ECONFLICT, tidbro.ENOTFOUND:
				default:
					t.Errorf("worker %d, step %d: %v (code %q)", w, i, err, code)
					return
				}
			}
		})
	}
	wg.Wait()
	cols := map[string]bool{"": true}
	for _, f := range a.list("", true) {
		if !cols[tidbro.FileParent(f.Path)] {
			t.Errorf("%q is listed without its parent collection", f.Path)
		}
		if f.Collection {
			cols[f.Path] = true
		}
		if _, err := s.File(ctx, tn.ID, alice.ID, f.Path); err != nil {
			t.Errorf("File %q, listed: %v", f.Path, err)
		}
	}
}

// A deleted user's documents go with them: a user of that name made again
// finds an empty area, and nothing can be written for a deleted user.
func testFileDeleteUser(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, bob := setup(t, s)
	a, b := newArea(t, s, alice), newArea(t, s, bob)
	a.mkcol("offers")
	a.put("offers/q1.txt", "text/plain", "secret")
	a.setProps("", tidbro.DeadProp{Space: "urn:x", Local: "p", Value: "v"})
	b.put("kept.txt", "text/plain", "bob's")

	noErr(t, s.DeleteUser(ctx, tn.ID, "alice"))
	_, _, err := s.PutFile(ctx, a.doc("late.txt", "text/plain"), []byte("x"), "", false)
	wantCode(t, err, tidbro.ENOTFOUND, "PutFile for a deleted user")
	_, err = s.MakeCollection(ctx, tn.ID, alice.ID, "late")
	wantCode(t, err, tidbro.ENOTFOUND, "MakeCollection for a deleted user")

	again := &tidbro.User{TenantID: tn.ID, Username: "alice"}
	must(s.PutUser(ctx, again))(t)
	a2 := newArea(t, s, again)
	a2.wantPaths("", true)
	a2.gone("offers/q1.txt", "a document of the user before deletion")
	a2.wantProps("")
	if _, data := b.content("kept.txt"); data != "bob's" {
		t.Errorf("bob's document after alice's deletion: %q", data)
	}
}
