package davserver

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tidbro/tidbro"
)

func name(space, local string) xml.Name { return xml.Name{Space: space, Local: local} }

var (
	pResourceType     = name(nsDAV, "resourcetype")
	pDisplayName      = name(nsDAV, "displayname")
	pGetETag          = name(nsDAV, "getetag")
	pGetContentType   = name(nsDAV, "getcontenttype")
	pGetContentLength = name(nsDAV, "getcontentlength")
	pGetLastModified  = name(nsDAV, "getlastmodified")
	pCreationDate     = name(nsDAV, "creationdate")
	pCurrentPrincipal = name(nsDAV, "current-user-principal")
	pPrincipalURL     = name(nsDAV, "principal-URL")
	pPrincipalColls   = name(nsDAV, "principal-collection-set")
	pOwner            = name(nsDAV, "owner")
	pPrivileges       = name(nsDAV, "current-user-privilege-set")
	pReports          = name(nsDAV, "supported-report-set")
	pSyncToken        = name(nsDAV, "sync-token")
	pSupportedLock    = name(nsDAV, "supportedlock")
	pLockDiscovery    = name(nsDAV, "lockdiscovery")
	pCTag             = name(nsCS, "getctag")
	pCalendarHome     = name(nsCalDAV, "calendar-home-set")
	pUserAddresses    = name(nsCalDAV, "calendar-user-address-set")
	pUserType         = name(nsCalDAV, "calendar-user-type")
	pComponents       = name(nsCalDAV, "supported-calendar-component-set")
	pCalendarData     = name(nsCalDAV, "supported-calendar-data")
	pCalDescription   = name(nsCalDAV, "calendar-description")
	pMaxResourceSize  = name(nsCalDAV, "max-resource-size")
	pCalendarDataProp = name(nsCalDAV, "calendar-data")
	pAddressBookHome  = name(nsCardDAV, "addressbook-home-set")
	pAddressData      = name(nsCardDAV, "supported-address-data")
	pAddressDesc      = name(nsCardDAV, "addressbook-description")
	pMaxCardSize      = name(nsCardDAV, "max-resource-size")
	pAddressDataProp  = name(nsCardDAV, "address-data")
	pCalendarColor    = name(nsApple, "calendar-color")
)

// allProps are what allprop returns, per resource kind (RFC 4918 leaves
// out expensive and computed properties; so does this).
var allProps = []xml.Name{pResourceType, pDisplayName, pGetETag, pGetContentType, pGetContentLength, pGetLastModified,
	pCurrentPrincipal, pOwner, pSyncToken, pCTag, pSupportedLock, pLockDiscovery}

// propfind answers PROPFIND on a resource and, with Depth 1, its members.
func (q *request) propfind(res resource) error {
	pf, ok, err := q.readPropfind()
	if !ok || err != nil {
		return err
	}
	want, namesOnly := pf.want()
	depth := q.r.Header.Get("Depth")
	if depth == "" {
		depth = "infinity"
	}
	ms := newMultistatus()
	if err := q.describe(ms, res, want, namesOnly); err != nil {
		return err
	}
	if depth != "0" {
		// Depth infinity is answered as 1: the tree is two levels deep
		// below a home, and a client walking it asks level by level anyway.
		if err := q.members(res, func(m resource, it *tidbro.Item) error {
			if it != nil {
				return q.describeObject(ms, m.coll, it, want, namesOnly)
			}
			return q.describe(ms, m, want, namesOnly)
		}); err != nil {
			return err
		}
	}
	ms.write(q.w)
	return nil
}

// readPropfind reads a PROPFIND body; when it is not one, it answers 400
// and ok is false.
func (q *request) readPropfind() (pf propfindBody, ok bool, err error) {
	body, err := readXML(q.r)
	if err != nil {
		return pf, false, err
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return pf, true, nil
	}
	if err := checkNamespaces(body); err != nil {
		davError(q.w, http.StatusBadRequest, xml.Name{}, "the PROPFIND body is not well-formed XML: "+err.Error())
		return pf, false, nil
	}
	if err := xml.Unmarshal(body, &pf); err != nil {
		davError(q.w, http.StatusBadRequest, xml.Name{}, "the PROPFIND body is not well-formed XML: "+err.Error())
		return pf, false, nil
	}
	if root, _ := rootName(body); root != name(nsDAV, "propfind") {
		davError(q.w, http.StatusBadRequest, xml.Name{}, "a PROPFIND body is a DAV:propfind element")
		return pf, false, nil
	}
	return pf, true, nil
}

// want is the properties asked for: nil for allprop.
func (pf *propfindBody) want() (want []xml.Name, namesOnly bool) {
	if pf.PropName != nil {
		return nil, true
	}
	if pf.Prop == nil {
		return nil, false
	}
	return pf.Prop.list(), false
}

// members calls fn for each member of a collection resource: sub-resources,
// or a collection's items (it set).
func (q *request) members(res resource, fn func(resource, *tidbro.Item) error) error {
	switch res.kind {
	case resRoot:
		for _, k := range []resKind{resPrincipals, resCalendarHome, resAddressBookHome, resFile} {
			if err := fn(resource{kind: k}, nil); err != nil {
				return err
			}
		}
	case resPrincipals:
		return fn(resource{kind: resPrincipal}, nil)
	case resCalendarHome, resAddressBookHome:
		for _, c := range collections {
			if c.home == res.kind {
				if err := fn(resource{kind: resCollection, coll: c}, nil); err != nil {
					return err
				}
			}
		}
	case resCollection:
		return q.eachItem(res.coll, tidbro.TimeRange{}, func(it *tidbro.Item) error { return fn(resource{kind: resObject, coll: res.coll}, it) })
	}
	return nil
}

// eachItem walks a collection's live items in pages: those that occur
// in r, or all of them when r is zero.
func (q *request) eachItem(c *collection, r tidbro.TimeRange, fn func(*tidbro.Item) error) error {
	for _, k := range c.kinds {
		cursor := ""
		for {
			items, next, err := q.s.store.Items(q.ctx, tidbro.ItemQuery{TenantID: q.user.TenantID, OwnerID: q.user.ID, Kind: k,
				From: r.From, To: r.To, Cursor: cursor, Limit: tidbro.MaxPageSize})
			if err != nil {
				return err
			}
			for _, it := range items {
				if err := fn(it); err != nil {
					return err
				}
			}
			if next == "" {
				break
			}
			cursor = next
		}
	}
	return nil
}

// describe adds a non-object resource to ms.
func (q *request) describe(ms *multistatus, res resource, want []xml.Name, namesOnly bool) error {
	if res.kind == resFile {
		f, err := q.s.store.File(q.ctx, q.user.TenantID, q.user.ID, res.name)
		if err == nil {
			q.describeFile(ms, f, want, namesOnly)
		}
		return err
	}
	href := q.href(res)
	values, err := q.props(res)
	if err != nil {
		return err
	}
	addProps(ms, href, values, want, namesOnly)
	return nil
}

// describeObject adds an item's resource to ms; the representation is made
// only when a property needs it.
func (q *request) describeObject(ms *multistatus, c *collection, it *tidbro.Item, want []xml.Name, namesOnly bool) error {
	values := map[xml.Name]func() (string, error){
		pResourceType:   func() (string, error) { return "", nil },
		pGetETag:        func() (string, error) { return esc(etag(it)), nil },
		pGetContentType: func() (string, error) { return esc(c.mediaType), nil },
		pGetLastModified: func() (string, error) {
			return it.Updated.UTC().Format(http.TimeFormat), nil
		},
		pCreationDate: func() (string, error) { return it.Created.UTC().Format(time.RFC3339), nil },
		pOwner:        func() (string, error) { return hrefXML(principalPath(q.user.Username)), nil },
		pCurrentPrincipal: func() (string, error) {
			return hrefXML(principalPath(q.user.Username)), nil
		},
		pGetContentLength: func() (string, error) {
			data, err := q.representation(it)
			return strconv.Itoa(len(data)), err
		},
		pSupportedLock: func() (string, error) { return "", nil },
		pLockDiscovery: func() (string, error) { return "", nil },
	}
	dataProp := pCalendarDataProp
	if c.contacts() {
		dataProp = pAddressDataProp
	}
	values[dataProp] = func() (string, error) {
		data, err := q.representation(it)
		return esc(string(data)), err
	}
	values[pPrivileges] = func() (string, error) { return q.privileges(c, it), nil }
	if namesOnly || want == nil {
		delete(values, dataProp) // not part of allprop
	}
	addProps(ms, q.objectPath(c, it), values, want, namesOnly)
	return nil
}

// addProps answers the wanted properties from values (allprop when want
// is nil; names only for propname).
func addProps(ms *multistatus, href string, values map[xml.Name]func() (string, error), want []xml.Name, namesOnly bool) {
	var found []prop
	var missing []xml.Name
	if namesOnly {
		for n := range values {
			found = append(found, prop{name: n})
		}
		sortProps(found)
		ms.response(href, found, nil)
		return
	}
	if want == nil {
		for _, n := range allProps {
			if _, ok := values[n]; ok {
				want = append(want, n)
			}
		}
	}
	for _, n := range want {
		f, ok := values[n]
		if !ok {
			missing = append(missing, n)
			continue
		}
		v, err := f()
		if err != nil {
			missing = append(missing, n) // the rest of the answer still holds
			continue
		}
		found = append(found, prop{name: n, inner: v})
	}
	ms.response(href, found, missing)
}

func sortProps(ps []prop) {
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ps[j].name.Space+ps[j].name.Local < ps[j-1].name.Space+ps[j-1].name.Local; j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}

func (q *request) href(res resource) string {
	u := q.user.Username
	switch res.kind {
	case resPrincipals:
		return Prefix + "principals/"
	case resPrincipal:
		return principalPath(u)
	case resCalendarHome, resAddressBookHome:
		return homePath(res.kind, u)
	case resCollection:
		return collectionPath(res.coll, u)
	}
	return Prefix
}

// props are the live properties of a non-object resource.
func (q *request) props(res resource) (map[xml.Name]func() (string, error), error) {
	u := q.user
	static := func(s string) func() (string, error) { return func() (string, error) { return s, nil } }
	v := map[xml.Name]func() (string, error){
		pCurrentPrincipal: static(hrefXML(principalPath(u.Username))),
		pPrincipalColls:   static(hrefXML(Prefix + "principals/")),
		pOwner:            static(hrefXML(principalPath(u.Username))),
		pSupportedLock:    static(""),
		pLockDiscovery:    static(""),
		pPrivileges:       static(privilegeSet("read", "read-current-user-privilege-set")),
	}
	switch res.kind {
	case resRoot, resPrincipals:
		v[pResourceType] = static("<d:collection/>")
		v[pDisplayName] = static("tidbro")
	case resPrincipal:
		name := u.DisplayName
		if name == "" {
			name = u.Username
		}
		v[pResourceType] = static("<d:principal/>")
		v[pDisplayName] = static(esc(name))
		v[pPrincipalURL] = static(hrefXML(principalPath(u.Username)))
		v[pCalendarHome] = static(hrefXML(homePath(resCalendarHome, u.Username)))
		v[pAddressBookHome] = static(hrefXML(homePath(resAddressBookHome, u.Username)))
		v[pUserType] = static("INDIVIDUAL")
		if u.Email != "" {
			v[pUserAddresses] = static(hrefXML("mailto:"+u.Email) + hrefXML(principalPath(u.Username)))
		} else {
			v[pUserAddresses] = static(hrefXML(principalPath(u.Username)))
		}
	case resCalendarHome, resAddressBookHome:
		v[pResourceType] = static("<d:collection/>")
		v[pDisplayName] = static(esc(u.Username))
	case resCollection:
		c := res.coll
		head, err := q.s.store.CollectionHead(q.ctx, u.TenantID, u.ID, c.kinds)
		if err != nil {
			return nil, err
		}
		v[pDisplayName] = static(esc(c.display))
		v[pSyncToken] = static(esc(syncToken(head)))
		v[pCTag] = static(esc(strconv.FormatInt(head, 10)))
		v[pPrivileges] = static(q.privileges(c, nil))
		v[pGetContentType] = static("httpd/unix-directory")
		if c.contacts() {
			v[pResourceType] = static("<d:collection/><card:addressbook/>")
			v[pAddressData] = static(`<card:address-data-type content-type="text/vcard" version="3.0"/><card:address-data-type content-type="text/vcard" version="4.0"/>`)
			v[pAddressDesc] = static(esc(fmt.Sprintf("%s's contacts in the app", u.Username)))
			v[pMaxCardSize] = static(strconv.Itoa(MaxObject))
			v[pReports] = static(reportSet("sync-collection", "card:addressbook-multiget", "card:addressbook-query"))
		} else {
			v[pResourceType] = static("<d:collection/><c:calendar/>")
			v[pComponents] = static(`<c:comp name="` + c.comp + `"/>`)
			v[pCalendarData] = static(`<c:calendar-data content-type="text/calendar" version="2.0"/>`)
			v[pCalDescription] = static(esc(fmt.Sprintf("%s's %s in the app", u.Username, strings.ToLower(c.display))))
			v[pMaxResourceSize] = static(strconv.Itoa(MaxObject))
			v[pReports] = static(reportSet("sync-collection", "c:calendar-multiget", "c:calendar-query", "c:free-busy-query"))
			if c == calendar {
				v[pCalendarColor] = static("#2E7D32FF")
			} else {
				v[pCalendarColor] = static("#1565C0FF")
			}
		}
	}
	return v, nil
}

func reportSet(reports ...string) string {
	var b strings.Builder
	for _, r := range reports {
		if !strings.Contains(r, ":") {
			r = "d:" + r
		}
		b.WriteString("<d:supported-report><d:report><" + r + "/></d:report></d:supported-report>")
	}
	return b.String()
}

func privilegeSet(privs ...string) string {
	var b strings.Builder
	for _, p := range privs {
		b.WriteString("<d:privilege><d:" + p + "/></d:privilege>")
	}
	return b.String()
}

// privileges is what the user may do with a collection (it nil) or an
// item, under the tenant's DAV policy.
func (q *request) privileges(c *collection, it *tidbro.Item) string {
	privs := []string{"read", "read-current-user-privilege-set"}
	if q.refusal(c, it, false) == "" {
		privs = append(privs, "write-content", "unbind")
		if it == nil && q.refusal(c, nil, true) == "" {
			privs = append(privs, "bind")
		}
	}
	return privilegeSet(privs...)
}

// syncTokenPrefix makes feed positions the URIs RFC 6578 wants.
const syncTokenPrefix = "urn:tidbro:sync:"

func syncToken(head int64) string { return syncTokenPrefix + strconv.FormatInt(head, 10) }

func parseSyncToken(tok string) (int64, bool) {
	s, ok := strings.CutPrefix(strings.TrimSpace(tok), syncTokenPrefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n >= 0
}

// proppatch refuses to change properties: the collections' properties are
// tidbro's, and dead properties are not kept. RFC 4918 wants a 207 naming
// each property's fate.
func (q *request) proppatch(res resource) error {
	body, err := readXML(q.r)
	if err != nil {
		return err
	}
	var pp struct {
		Set []struct {
			Prop names `xml:"DAV: prop"`
		} `xml:"DAV: set"`
		Remove []struct {
			Prop names `xml:"DAV: prop"`
		} `xml:"DAV: remove"`
	}
	if err := xml.Unmarshal(body, &pp); err != nil {
		davError(q.w, http.StatusBadRequest, xml.Name{}, "the PROPPATCH body is not well-formed XML")
		return nil
	}
	var all []xml.Name
	for _, s := range pp.Set {
		all = append(all, s.Prop.list()...)
	}
	for _, s := range pp.Remove {
		all = append(all, s.Prop.list()...)
	}
	ms := newMultistatus()
	ms.b.WriteString("<d:response><d:href>" + esc(q.r.URL.EscapedPath()) + "</d:href><d:propstat><d:prop>")
	for _, n := range all {
		ms.b.WriteString(element(n, ""))
	}
	ms.b.WriteString("</d:prop><d:status>HTTP/1.1 403 Forbidden</d:status>" +
		"<d:error><d:cannot-modify-protected-property/></d:error>" +
		"<d:responsedescription>tidbro keeps these properties itself; they cannot be changed.</d:responsedescription></d:propstat></d:response>")
	ms.write(q.w)
	return nil
}
