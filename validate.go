package tidbro

import (
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	_ "time/tzdata" // zone data inside the binary: validation must not depend on the host
	"unicode/utf8"
)

// Size limits for single values. They are generous; they exist so that one
// absurd value is a clear error rather than a slow store.
const (
	MaxIDLen   = 255
	MaxTextLen = 1 << 20 // descriptions, notes
)

func zoneOrUTC(name string) *time.Location {
	if name == "" {
		return time.UTC
	}
	loc, err := LoadZone(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// zones caches time.LoadLocation, which reads the zone's file again and
// builds a new Location (some KB) on every call: it runs for every event
// written out as JSON and every span of a recurring one. A Location is
// safe to share. Names that fail are not kept, and at most maxZones that
// load are, so that no run of odd names can grow the cache without bound.
var (
	zones sync.Map // name → *time.Location
	zoneN atomic.Int32
)

const maxZones = 1000 // the IANA database has some 600 names

// LoadZone is time.LoadLocation through that cache.
func LoadZone(name string) (*time.Location, error) {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	if zoneN.Load() < maxZones {
		// A clone: the name may be part of a bigger string (a parsed
		// item), which the cache would keep forever.
		if _, had := zones.LoadOrStore(strings.Clone(name), loc); !had {
			zoneN.Add(1)
		}
	}
	return loc, nil
}

func validZone(field, name string) error {
	if name == "" {
		return nil
	}
	if name == "Local" || strings.HasPrefix(name, "/") || strings.Contains(name, "..") {
		return Invalid(field, "%q is not an IANA time zone name", name)
	}
	if _, err := LoadZone(name); err != nil {
		return Invalid(field, "%q is not an IANA time zone name (such as Europe/Stockholm)", name)
	}
	return nil
}

// ValidZone checks an IANA time zone name; empty is allowed.
func ValidZone(field, name string) error { return validZone(field, name) }

const dateLayout = "2006-01-02"

func formatTime(t time.Time, dateOnly bool, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	if dateOnly {
		return t.UTC().Format(dateLayout)
	}
	return t.In(loc).Format(time.RFC3339)
}

// parseTime reads an RFC 3339 date-time or a plain date (dateOnly).
func parseTime(field, s string) (t time.Time, dateOnly bool, err error) {
	if s == "" {
		return time.Time{}, false, nil
	}
	if len(s) == len(dateLayout) {
		t, err = time.Parse(dateLayout, s)
		if err != nil {
			return time.Time{}, false, Invalid(field, "%q is not a date (YYYY-MM-DD)", s)
		}
		return t, true, nil
	}
	t, err = time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, false, Invalid(field, "%q is not an RFC 3339 date-time (such as 2026-05-04T09:00:00+02:00) or a date", s)
	}
	return t, false, nil
}

func parseTimes(field string, ss []string) ([]time.Time, error) {
	var out []time.Time
	for i, s := range ss {
		t, _, err := parseTime(fmt.Sprintf("%s[%d]", field, i), s)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// normalizeTime makes equal instants equal values: UTC, whole seconds; for
// dates, midnight UTC of the date as written.
func normalizeTime(t time.Time, dateOnly bool) time.Time {
	if t.IsZero() {
		return t
	}
	if dateOnly {
		y, m, d := t.Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	return t.UTC().Truncate(time.Second)
}

func oneOf(field, v string, allowed []string) error {
	if slices.Contains(allowed, v) {
		return nil
	}
	return Invalid(field, "%q is not one of %s", v, strings.Join(allowed[1:], ", "))
}

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s
}

func validURL(field, s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return Invalid(field, "%q is not an absolute URL", s)
	}
	return nil
}

// validStrings checks UTF-8 and sizes of a body's free-text values.
func validStrings(p string, texts map[string]string, categories []string, extra map[string]string) error {
	for name, v := range texts {
		if err := validText(p+name, v, MaxTextLen); err != nil {
			return err
		}
	}
	for i, c := range categories {
		if err := validText(fmt.Sprintf("%scategories[%d]", p, i), c, MaxIDLen); err != nil {
			return err
		}
		if c == "" {
			return Invalid(fmt.Sprintf("%scategories[%d]", p, i), "a category cannot be empty")
		}
	}
	for k, v := range extra {
		if k == "" || validText(p+"extra", k, MaxIDLen) != nil {
			return Invalid(p+"extra", "extra field names must be non-empty text of at most %d bytes", MaxIDLen)
		}
		if err := validText(p+"extra."+k, v, MaxTextLen); err != nil {
			return err
		}
	}
	return nil
}

func validText(field, v string, max int) error {
	if !utf8.ValidString(v) {
		return Invalid(field, "not valid UTF-8")
	}
	if len(v) > max {
		return Errorf(ETOOLARGE, "%s is %d bytes, over the limit of %d", field, len(v), max).withField(field)
	}
	return nil
}

func (e *Error) withField(f string) *Error { e.Field = f; return e }

// ValidAppID checks an app id: non-empty UTF-8 text without control
// characters or slashes, at most MaxIDLen bytes.
func ValidAppID(field, id string) error {
	if id == "" {
		return Invalid(field, "is required")
	}
	if err := validText(field, id, MaxIDLen); err != nil {
		return err
	}
	for _, r := range id {
		if r < 0x20 || r == 0x7f || r == '/' {
			return Invalid(field, "%q contains a slash or a control character", id)
		}
	}
	return nil
}

var durationRE = regexp.MustCompile(`^([+-])?P(?:(\d+)W|(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?)$`)

// ParseDuration parses an RFC 5545 duration such as -PT15M, P1D or P2W.
func ParseDuration(s string) (time.Duration, error) {
	m := durationRE.FindStringSubmatch(s)
	if m == nil || s == "P" || s == "-P" || s == "+P" || strings.HasSuffix(s, "T") {
		return 0, fmt.Errorf("%q is not an RFC 5545 duration (such as -PT15M)", s)
	}
	num := func(i int) time.Duration {
		n, _ := strconv.Atoi(m[i])
		return time.Duration(n)
	}
	d := num(2)*7*24*time.Hour + num(3)*24*time.Hour + num(4)*time.Hour + num(5)*time.Minute + num(6)*time.Second
	if m[1] == "-" {
		d = -d
	}
	return d, nil
}

// ValidText checks a text value: valid UTF-8, at most max bytes.
func ValidText(field, v string, max int) error { return validText(field, v, max) }
