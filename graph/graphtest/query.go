package graphtest

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// odataString is an OData string literal: single quotes, ” for a quote.
const odataString = `'((?:[^']|'')*)'`

func unquoteOData(s string) string { return strings.ReplaceAll(s, "''", "'") }

var userFilter = regexp.MustCompile(`^(?i)(mail|userPrincipalName)\s+eq\s+` + odataString + `$`)

// selectUser keeps id and the selected properties of a user; properties the
// fake does not model are left out rather than refused.
func selectUser(obj map[string]any, sel string) map[string]any {
	if strings.TrimSpace(sel) == "" {
		return obj
	}
	out := map[string]any{"id": obj["id"]}
	for _, name := range strings.Split(sel, ",") {
		for k, v := range obj {
			if strings.EqualFold(k, strings.TrimSpace(name)) {
				out[k] = v
			}
		}
	}
	return out
}

// selectEvent keeps @odata.etag, id and the $select properties of a rendered
// event; extra names are valid only here (cancelledOccurrences,
// exceptionOccurrences on a series master got by id) and taken from extra.
// An unknown name is a 400, as Graph answers.
func selectEvent(obj map[string]any, sel []string, extra map[string]any) map[string]any {
	if sel == nil {
		return obj
	}
	out := map[string]any{"id": obj["id"], "@odata.etag": obj["@odata.etag"]}
	for _, k := range sel {
		if v, ok := obj[k]; ok {
			out[k] = v
		} else if v, ok := extra[k]; ok {
			out[k] = v
		}
	}
	// Expanded extended properties survive a $select.
	if v, ok := obj["singleValueExtendedProperties"]; ok {
		out["singleValueExtendedProperties"] = v
	}
	return out
}

// parseSelect checks a $select against the event properties and returns the
// canonical names (nil without $select).
func parseSelect(sel string) ([]string, *apiError) {
	if strings.TrimSpace(sel) == "" {
		return nil, nil
	}
	var out []string
	for _, name := range strings.Split(sel, ",") {
		name = strings.TrimSpace(name)
		canon := ""
		for _, k := range eventProperties {
			if strings.EqualFold(k, name) {
				canon = k
			}
		}
		if canon == "" {
			return nil, &apiError{400, "RequestBroker--ParseUri", fmt.Sprintf("Could not find a property named '%s' on type 'microsoft.graph.event'.", name)}
		}
		out = append(out, canon)
	}
	return out, nil
}

// propKey normalises a single-value extended property id
// (learn.microsoft.com/graph/api/resources/extended-properties-overview)
// for comparison: "{type} {guid} Name {name}", "{type} {guid} Id 0x…" or
// "{type} 0x…"; the type, GUID and hex tags compare case-insensitively, the
// Name exactly, as documented.
func propKey(id string) (string, bool) {
	typ, rest, ok := strings.Cut(strings.TrimSpace(id), " ")
	if !ok || typ == "" {
		return "", false
	}
	typ = strings.ToLower(typ)
	rest = strings.TrimSpace(rest)
	if strings.HasPrefix(strings.ToLower(rest), "0x") {
		return typ + " " + strings.ToLower(rest), !strings.Contains(rest, " ")
	}
	if !strings.HasPrefix(rest, "{") {
		return "", false
	}
	guid, rest, ok := strings.Cut(rest, "}")
	if !ok || len(guid) != 37 {
		return "", false
	}
	kind, val, ok := strings.Cut(strings.TrimSpace(rest), " ")
	switch {
	case !ok || val == "":
		return "", false
	case strings.EqualFold(kind, "Name"):
		return typ + " " + strings.ToLower(guid) + "} name " + val, true
	case strings.EqualFold(kind, "Id") && strings.HasPrefix(strings.ToLower(val), "0x"):
		return typ + " " + strings.ToLower(guid) + "} id " + strings.ToLower(val), true
	}
	return "", false
}

// expandOpts is what $expand asked of an event.
type expandOpts struct {
	props      []string // propKeys of the singleValueExtendedProperties to include
	exceptions bool     // exceptionOccurrences
}

var (
	expandPropFilter = regexp.MustCompile(`^\$filter=\s*id\s+eq\s+` + odataString + `((?:\s+or\s+id\s+eq\s+` + odataString + `)*)$`)
	orID             = regexp.MustCompile(`id\s+eq\s+` + odataString)
)

// parseExpand reads $expand=singleValueExtendedProperties($filter=id eq
// '…') (several ids joined by "or") and exceptionOccurrences.
func parseExpand(s string) (expandOpts, error) {
	var e expandOpts
	if strings.TrimSpace(s) == "" {
		return e, nil
	}
	for _, item := range splitOutside(s, ',') {
		item = strings.TrimSpace(item)
		name, opts, _ := strings.Cut(item, "(")
		switch {
		case strings.EqualFold(name, "exceptionOccurrences") && opts == "":
			e.exceptions = true
		case strings.EqualFold(name, "singleValueExtendedProperties"):
			opts = strings.TrimSuffix(opts, ")")
			if !expandPropFilter.MatchString(opts) {
				// The REST API cannot fetch all extended properties of an
				// item in one call: a filter on id is needed.
				return e, fmt.Errorf("singleValueExtendedProperties must be expanded with $filter=id eq '...': %q", item)
			}
			for _, m := range orID.FindAllStringSubmatch(opts, -1) {
				k, ok := propKey(unquoteOData(m[1]))
				if !ok {
					return e, fmt.Errorf("invalid extended property id %q", unquoteOData(m[1]))
				}
				e.props = append(e.props, k)
			}
		default:
			return e, fmt.Errorf("graphtest: unsupported $expand %q", item)
		}
	}
	return e, nil
}

var eventPropFilter = regexp.MustCompile(`^singleValueExtendedProperties/(?i:any)\(\s*(\w+)\s*:\s*(\w+)/id\s+eq\s+` + odataString +
	`(?:\s+and\s+(\w+)/value\s+eq\s+` + odataString + `)?\s*\)$`)

// propFilter is $filter=singleValueExtendedProperties/Any(ep: ep/id eq
// '…' and ep/value eq '…'), the documented form (ep/id with a slash).
type propFilter struct {
	key, value string
	hasValue   bool
}

// matches reports whether an item with these extended properties passes
// the filter (a nil filter passes everything).
func (pf *propFilter) matches(props []ExtendedProperty) bool {
	if pf == nil {
		return true
	}
	return slices.ContainsFunc(props, func(p ExtendedProperty) bool {
		k, _ := propKey(p.ID)
		// The value compares case-insensitively, as documented.
		return k == pf.key && (!pf.hasValue || strings.EqualFold(p.Value, pf.value))
	})
}

func parseEventFilter(f string) (propFilter, error) {
	m := eventPropFilter.FindStringSubmatch(strings.TrimSpace(f))
	if m == nil || m[1] != m[2] || (m[4] != "" && m[4] != m[1]) {
		return propFilter{}, fmt.Errorf("graphtest: unsupported $filter %q (singleValueExtendedProperties/Any(ep: ep/id eq '...' and ep/value eq '...'))", f)
	}
	k, ok := propKey(unquoteOData(m[3]))
	if !ok {
		return propFilter{}, fmt.Errorf("invalid extended property id %q", unquoteOData(m[3]))
	}
	return propFilter{key: k, value: unquoteOData(m[5]), hasValue: m[4] != ""}, nil
}
