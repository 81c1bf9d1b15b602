package davserver

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidbro/tidbro"
)

// The document area, /dav/files/USER/: a plain WebDAV tree (RFC 4918,
// class 1, 2 and 3) per user beside the calendars, for the documents a
// business app keeps with its contacts and activities, and for any WebDAV
// client (Windows Explorer, Finder, davfs2). Collections are made and
// removed freely here, unlike the fixed calendar and address-book
// collections; clients' properties are kept as they were set. Locks are
// in locks.go.

func filesPath(u string) string { return Prefix + "files/" + escSeg(u) + "/" }

// fileHref is a resource's URL path; collections end in "/".
func (q *request) fileHref(f *tidbro.File) string {
	href := filesPath(q.user.Username)
	if f.Path != "" {
		segs := strings.Split(f.Path, "/")
		for i, s := range segs {
			segs[i] = escSeg(s)
		}
		href += strings.Join(segs, "/")
		if f.Collection {
			href += "/"
		}
	}
	return href
}

const allowFiles = "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, MKCOL, COPY, MOVE, LOCK, UNLOCK"

// serveFile answers a request for the resource at fpath in the user's
// document area. The If header holds, or the request is refused before
// anything is read; the lock tokens it submits go with every write, and
// the store refuses a write that changes what a lock covers without its
// token.
func (q *request) serveFile(fpath string) error {
	tokens, ok, err := q.checkIf(fpath)
	if !ok || err != nil {
		return err
	}
	q.files = q.s.store.WithLockTokens(tokens)
	err = q.serveFileMethod(fpath, tokens)
	var locked *tidbro.LockedError
	if errors.As(err, &locked) {
		q.locked(locked)
		return nil
	}
	return err
}

func (q *request) serveFileMethod(fpath string, tokens []string) error {
	switch q.r.Method {
	case "PROPFIND":
		return q.filePropfind(fpath)
	case "PROPPATCH":
		return q.fileProppatch(fpath)
	case http.MethodGet, http.MethodHead:
		return q.fileGet(fpath)
	case http.MethodPut:
		return q.filePut(fpath)
	case http.MethodDelete:
		err := q.files.DeleteFile(q.ctx, q.user.TenantID, q.user.ID, fpath, q.ifMatch())
		if err == nil {
			q.w.WriteHeader(http.StatusNoContent)
		}
		return err
	case "MKCOL":
		return q.fileMkcol(fpath)
	case "COPY", "MOVE":
		return q.fileCopyMove(fpath)
	case "LOCK":
		return q.fileLock(fpath, tokens)
	case "UNLOCK":
		return q.fileUnlock(fpath)
	}
	q.w.Header().Set("Allow", allowFiles)
	http.Error(q.w, q.r.Method+" is not supported in the document area", http.StatusMethodNotAllowed)
	return nil
}

// ifMatch is the one ETag an If-Match header names, unquoted; a list
// cannot be checked atomically and is refused by never matching.
func (q *request) ifMatch() string {
	im := strings.TrimSpace(q.r.Header.Get("If-Match"))
	if im == "" {
		return ""
	}
	if tag, err := strconv.Unquote(im); err == nil && !strings.Contains(im, ",") {
		return tag
	}
	return "\x00" // no ETag is this
}

func quoteETag(f *tidbro.File) string { return `"` + f.ETag + `"` }

func (q *request) fileGet(fpath string) error {
	f, data, err := q.files.FileContent(q.ctx, q.user.TenantID, q.user.ID, fpath)
	if err != nil {
		return err
	}
	if f.Collection {
		return q.fileIndex(f)
	}
	h := q.w.Header()
	h.Set("ETag", quoteETag(f))
	h.Set("Content-Type", f.ContentType)
	// ServeContent answers conditional and range requests.
	http.ServeContent(q.w, q.r, "", f.Modified, bytes.NewReader(data))
	return nil
}

// fileIndex lists a collection for people who open it in a browser.
func (q *request) fileIndex(f *tidbro.File) error {
	members, err := q.files.Files(q.ctx, q.user.TenantID, q.user.ID, f.Path, false)
	if err != nil {
		return err
	}
	var b strings.Builder
	title := "/" + f.Path
	b.WriteString("<!doctype html>\n<meta charset=utf-8><title>" + html.EscapeString(title) + "</title>\n<h1>" + html.EscapeString(title) + "</h1>\n<ul>\n")
	for _, m := range members {
		name := path.Base(m.Path)
		if m.Collection {
			name += "/"
		}
		fmt.Fprintf(&b, "<li><a href=\"%s\">%s</a></li>\n", html.EscapeString(q.fileHref(m)), html.EscapeString(name))
	}
	b.WriteString("</ul>\n")
	q.w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, err = io.WriteString(q.w, b.String())
	return err
}

func (q *request) filePut(fpath string) error {
	if q.r.Header.Get("Content-Range") != "" {
		http.Error(q.w, "partial PUT (Content-Range) is not supported: send the whole document", http.StatusBadRequest)
		return nil
	}
	if old, err := q.files.File(q.ctx, q.user.TenantID, q.user.ID, fpath); err == nil && old.Collection {
		q.w.Header().Set("Allow", "OPTIONS, GET, HEAD, DELETE, PROPFIND, PROPPATCH, COPY, MOVE, LOCK, UNLOCK")
		http.Error(q.w, "this is a collection; PUT a document inside it", http.StatusMethodNotAllowed)
		return nil
	}
	data, err := io.ReadAll(io.LimitReader(q.r.Body, tidbro.MaxFileSize+1))
	if err != nil {
		return err
	}
	if len(data) > tidbro.MaxFileSize {
		return tidbro.Errorf(tidbro.ETOOLARGE, "a document is at most %d MiB", tidbro.MaxFileSize>>20)
	}
	ct := q.r.Header.Get("Content-Type")
	if ct == "" {
		ct = mime.TypeByExtension(path.Ext(fpath))
	}
	if ct == "" {
		ct = "application/octet-stream"
	}
	f := &tidbro.File{TenantID: q.user.TenantID, OwnerID: q.user.ID, Path: fpath, ContentType: ct}
	stored, created, err := q.files.PutFile(q.ctx, f, data, q.ifMatch(), q.r.Header.Get("If-None-Match") == "*")
	if err != nil {
		return err
	}
	q.w.Header().Set("ETag", quoteETag(stored))
	if created {
		q.w.Header().Set("Location", q.fileHref(stored))
		q.w.WriteHeader(http.StatusCreated)
	} else {
		q.w.WriteHeader(http.StatusNoContent)
	}
	return nil
}

func (q *request) fileMkcol(fpath string) error {
	// A body would be an extended MKCOL (RFC 5689), which this area has no
	// use for: its collections are plain.
	if q.r.ContentLength > 0 || q.r.ContentLength < 0 && q.r.Body != nil && hasBody(q.r) {
		http.Error(q.w, "MKCOL takes no body here: the document area has plain collections only", http.StatusUnsupportedMediaType)
		return nil
	}
	if _, err := q.files.File(q.ctx, q.user.TenantID, q.user.ID, fpath); err == nil {
		q.w.Header().Set("Allow", allowFiles)
		http.Error(q.w, "something exists at this URL already", http.StatusMethodNotAllowed)
		return nil
	}
	f, err := q.files.MakeCollection(q.ctx, q.user.TenantID, q.user.ID, fpath)
	if err != nil {
		return err
	}
	q.w.Header().Set("Location", q.fileHref(f))
	q.w.WriteHeader(http.StatusCreated)
	return nil
}

// hasBody reads one byte of a body of unknown length.
func hasBody(r *http.Request) bool {
	var b [1]byte
	n, _ := r.Body.Read(b[:])
	return n > 0
}

// fileCopyMove answers COPY and MOVE within the user's document area.
func (q *request) fileCopyMove(src string) error {
	dest := q.r.Header.Get("Destination")
	u, err := url.Parse(dest)
	if dest == "" || err != nil {
		http.Error(q.w, "a "+q.r.Method+" needs a Destination header with a URL", http.StatusBadRequest)
		return nil
	}
	if u.Host != "" && !strings.EqualFold(u.Host, q.r.Host) {
		http.Error(q.w, "the destination is on another server", http.StatusBadGateway)
		return nil
	}
	res, ok := resolvePath(u.EscapedPath(), q.user.Username)
	if !ok || res.kind != resFile {
		davError(q.w, http.StatusForbidden, xml.Name{}, "documents can be copied and moved only within your document area, "+filesPath(q.user.Username))
		return nil
	}
	overwrite := true
	switch q.r.Header.Get("Overwrite") {
	case "", "T":
	case "F":
		overwrite = false
	default:
		http.Error(q.w, "Overwrite is T or F", http.StatusBadRequest)
		return nil
	}
	deep := true
	switch depth := q.r.Header.Get("Depth"); {
	case depth == "" || depth == "infinity":
	case depth == "0" && q.r.Method == "COPY":
		deep = false
	default:
		http.Error(q.w, q.r.Method+" takes Depth infinity"+map[bool]string{true: " or 0"}[q.r.Method == "COPY"], http.StatusBadRequest)
		return nil
	}
	var created bool
	if q.r.Method == "COPY" {
		created, err = q.files.CopyFile(q.ctx, q.user.TenantID, q.user.ID, src, res.name, deep, overwrite)
	} else {
		created, err = q.files.MoveFile(q.ctx, q.user.TenantID, q.user.ID, src, res.name, overwrite)
	}
	if err != nil {
		return err
	}
	if created {
		q.w.WriteHeader(http.StatusCreated)
	} else {
		q.w.WriteHeader(http.StatusNoContent)
	}
	return nil
}

// maxDeepFiles bounds a Depth infinity PROPFIND; beyond it clients walk
// the tree level by level (RFC 4918 9.1, propfind-finite-depth).
const maxDeepFiles = 10000

func (q *request) filePropfind(fpath string) error {
	pf, ok, err := q.readPropfind()
	if !ok || err != nil {
		return err
	}
	f, err := q.files.File(q.ctx, q.user.TenantID, q.user.ID, fpath)
	if err != nil {
		return err
	}
	want, namesOnly := pf.want()
	ms := newMultistatus()
	q.describeFile(ms, f, want, namesOnly)
	depth := q.r.Header.Get("Depth")
	if f.Collection && depth != "0" {
		deep := depth == "" || depth == "infinity"
		members, err := q.files.Files(q.ctx, q.user.TenantID, q.user.ID, fpath, deep)
		if err != nil {
			return err
		}
		if len(members) > maxDeepFiles {
			davError(q.w, http.StatusForbidden, name(nsDAV, "propfind-finite-depth"),
				fmt.Sprintf("this collection holds over %d resources: ask with Depth 1", maxDeepFiles))
			return nil
		}
		for _, m := range members {
			q.describeFile(ms, m, want, namesOnly)
		}
	}
	ms.write(q.w)
	return nil
}

// describeFile adds a resource of the document area to ms: its live
// properties and the ones clients set.
func (q *request) describeFile(ms *multistatus, f *tidbro.File, want []xml.Name, namesOnly bool) {
	static := func(s string) func() (string, error) { return func() (string, error) { return s, nil } }
	principal := hrefXML(principalPath(q.user.Username))
	values := map[xml.Name]func() (string, error){
		pResourceType:     static(""),
		pCreationDate:     static(f.Created.UTC().Format(time.RFC3339)),
		pGetLastModified:  static(f.Modified.UTC().Format(http.TimeFormat)),
		pOwner:            static(principal),
		pCurrentPrincipal: static(principal),
		pSupportedLock:    static(supportedLock),
		pLockDiscovery: func() (string, error) {
			locks, err := q.areaLocks()
			return q.lockDiscovery(f, locks), err
		},
		pPrivileges: static(privilegeSet("read", "write", "write-properties", "write-content", "bind", "unbind",
			"read-current-user-privilege-set")),
	}
	if f.Collection {
		values[pResourceType] = static("<d:collection/>")
	} else {
		values[pGetETag] = static(esc(quoteETag(f)))
		values[pGetContentType] = static(esc(f.ContentType))
		values[pGetContentLength] = static(strconv.FormatInt(f.Size, 10))
	}
	if f.Path == "" {
		values[pDisplayName] = static("Documents")
	}
	for _, p := range f.Props {
		values[xml.Name{Space: p.Space, Local: p.Local}] = static(p.Value)
	}
	if want == nil && !namesOnly {
		for _, n := range allProps {
			if _, ok := values[n]; ok {
				want = append(want, n)
			}
		}
		for _, p := range f.Props {
			if n := (xml.Name{Space: p.Space, Local: p.Local}); !slices.Contains(want, n) {
				want = append(want, n)
			}
		}
	}
	addProps(ms, q.fileHref(f), values, want, namesOnly)
}

// liveFileProp tells the properties tidbro computes, which clients cannot
// set: every DAV: property but the two RFC 4918 leaves to clients.
func liveFileProp(n xml.Name) bool {
	return n.Space == nsDAV && n.Local != "displayname" && n.Local != "getcontentlanguage"
}

// propUpdate is one instruction of a PROPPATCH, in document order.
type propUpdate struct {
	remove bool
	name   xml.Name
	value  string
}

func (q *request) fileProppatch(fpath string) error {
	body, err := readXML(q.r)
	if err != nil {
		return err
	}
	ups, err := parsePropertyUpdate(body)
	if err != nil {
		davError(q.w, http.StatusBadRequest, xml.Name{}, "the PROPPATCH body is not a DAV:propertyupdate: "+err.Error())
		return nil
	}
	f, err := q.files.File(q.ctx, q.user.TenantID, q.user.ID, fpath)
	if err != nil {
		return err
	}
	var order []xml.Name
	seen := map[xml.Name]bool{}
	protected := false
	for _, u := range ups {
		if !seen[u.name] {
			seen[u.name] = true
			order = append(order, u.name)
		}
		protected = protected || liveFileProp(u.name)
	}
	ms := newMultistatus()
	if protected {
		// All or nothing (RFC 4918 9.2): the protected ones fail, the rest
		// fail with them.
		var forbidden, dependent []xml.Name
		for _, n := range order {
			if liveFileProp(n) {
				forbidden = append(forbidden, n)
			} else {
				dependent = append(dependent, n)
			}
		}
		ms.b.WriteString("<d:response>" + hrefXML(q.fileHref(f)))
		propstat(ms, forbidden, "403 Forbidden", "<d:error><d:cannot-modify-protected-property/></d:error>")
		propstat(ms, dependent, "424 Failed Dependency", "")
		ms.b.WriteString("</d:response>")
		ms.write(q.w)
		return nil
	}
	props := f.Props
	for _, u := range ups {
		i := -1
		for j, p := range props {
			if p.Space == u.name.Space && p.Local == u.name.Local {
				i = j
			}
		}
		switch {
		case u.remove && i >= 0:
			props = append(props[:i:i], props[i+1:]...)
		case !u.remove && i >= 0:
			props[i].Value = u.value
		case !u.remove:
			props = append(props, tidbro.DeadProp{Space: u.name.Space, Local: u.name.Local, Value: u.value})
		}
	}
	if err := q.files.SetFileProps(q.ctx, q.user.TenantID, q.user.ID, fpath, props); err != nil {
		return err
	}
	ms.b.WriteString("<d:response>" + hrefXML(q.fileHref(f)))
	propstat(ms, order, "200 OK", "")
	ms.b.WriteString("</d:response>")
	ms.write(q.w)
	return nil
}

func propstat(ms *multistatus, names []xml.Name, status, extra string) {
	if len(names) == 0 {
		return
	}
	ms.b.WriteString("<d:propstat><d:prop>")
	for _, n := range names {
		ms.b.WriteString(element(n, ""))
	}
	ms.b.WriteString("</d:prop><d:status>HTTP/1.1 " + status + "</d:status>" + extra + "</d:propstat>")
}

// parsePropertyUpdate reads a DAV:propertyupdate: its set and remove
// instructions in document order, with each value kept as a
// self-contained XML fragment.
func parsePropertyUpdate(body []byte) ([]propUpdate, error) {
	if err := checkNamespaces(body); err != nil {
		return nil, err
	}
	d := xml.NewDecoder(bytes.NewReader(body))
	root, err := nextStart(d)
	if err != nil {
		return nil, err
	}
	if root.Name != name(nsDAV, "propertyupdate") {
		return nil, fmt.Errorf("the root element is {%s}%s", root.Name.Space, root.Name.Local)
	}
	var ups []propUpdate
	err = children(d, func(op xml.StartElement) error {
		remove := op.Name == name(nsDAV, "remove")
		if !remove && op.Name != name(nsDAV, "set") {
			return d.Skip()
		}
		return children(d, func(container xml.StartElement) error {
			if container.Name != name(nsDAV, "prop") {
				return d.Skip()
			}
			return children(d, func(p xml.StartElement) error {
				u := propUpdate{remove: remove, name: p.Name}
				var err error
				if remove {
					err = d.Skip()
				} else {
					u.value, err = fragment(d)
				}
				ups = append(ups, u)
				return err
			})
		})
	})
	return ups, err
}

// children calls fn for each child element of the element d is in, up to
// its end; fn reads the child to its end (d.Skip, at least).
func children(d *xml.Decoder, fn func(xml.StartElement) error) error {
	for {
		t, err := d.Token()
		if err != nil {
			return err
		}
		switch t := t.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			if err := fn(t); err != nil {
				return err
			}
		}
	}
}

func nextStart(d *xml.Decoder) (xml.StartElement, error) {
	for {
		t, err := d.Token()
		if err != nil {
			return xml.StartElement{}, err
		}
		if se, ok := t.(xml.StartElement); ok {
			return se, nil
		}
	}
}

// checkNamespaces refuses a prefix bound to the empty namespace
// (xmlns:p=""), which XML Namespaces 1.0 forbids and encoding/xml accepts.
func checkNamespaces(body []byte) error {
	d := xml.NewDecoder(bytes.NewReader(body))
	for {
		t, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if se, ok := t.(xml.StartElement); ok {
			for _, a := range se.Attr {
				if a.Name.Space == "xmlns" && a.Value == "" {
					return fmt.Errorf("the prefix %q is bound to no namespace (xmlns:%s=\"\")", a.Name.Local, a.Name.Local)
				}
			}
		}
	}
}

const nsXML = "http://www.w3.org/XML/1998/namespace"

// fragment reads an element's content, up to its end, as XML that declares
// its own namespaces: each element says its namespace as the default one
// where it differs from its parent's, so the fragment means the same
// inside any element that has no default namespace.
func fragment(d *xml.Decoder) (string, error) {
	var b strings.Builder
	scope := []string{""}
	for {
		t, err := d.Token()
		if err != nil {
			return "", err
		}
		switch t := t.(type) {
		case xml.StartElement:
			b.WriteString("<" + t.Name.Local)
			if t.Name.Space != scope[len(scope)-1] {
				b.WriteString(` xmlns="` + attrEsc(t.Name.Space) + `"`)
			}
			n := 0
			for _, a := range t.Attr {
				switch {
				case a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns":
				case a.Name.Space == "":
					b.WriteString(" " + a.Name.Local + `="` + attrEsc(a.Value) + `"`)
				case a.Name.Space == nsXML:
					b.WriteString(" xml:" + a.Name.Local + `="` + attrEsc(a.Value) + `"`)
				default:
					n++
					fmt.Fprintf(&b, ` xmlns:a%d="%s" a%d:%s="%s"`, n, attrEsc(a.Name.Space), n, a.Name.Local, attrEsc(a.Value))
				}
			}
			b.WriteString(">")
			scope = append(scope, t.Name.Space)
		case xml.EndElement:
			if len(scope) == 1 {
				return b.String(), nil
			}
			scope = scope[:len(scope)-1]
			b.WriteString("</" + t.Name.Local + ">")
		case xml.CharData:
			b.WriteString(esc(string(t)))
		}
	}
}
