package davserver

import (
	"bytes"
	"fmt"
	"strings"

	goical "github.com/emersion/go-ical"
	"github.com/emersion/go-vcard"
	"github.com/tidbro/tidbro"
)

// matchCalendar tests an item against a calendar-query filter (RFC 4791
// 9.7). Time ranges on the item's own component use its recurrence-aware
// extent; text, parameter and presence tests run on the representation.
func matchCalendar(it *tidbro.Item, data []byte, f *compFilter) (bool, error) {
	cal, err := goical.NewDecoder(bytes.NewReader(data)).Decode()
	if err != nil {
		return false, nil // not ours to judge: it matches nothing
	}
	return matchComps(it, cal.Component, f)
}

func matchComps(it *tidbro.Item, c *goical.Component, f *compFilter) (bool, error) {
	for _, cf := range f.Comps {
		ok, err := matchComp(it, c.Children, &cf)
		if err != nil || !ok {
			return false, err
		}
	}
	for _, pf := range f.Props {
		ok, err := matchProp(c, &pf)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

func matchComp(it *tidbro.Item, comps []*goical.Component, cf *compFilter) (bool, error) {
	var cands []*goical.Component
	for _, c := range comps {
		if strings.EqualFold(c.Name, cf.Name) {
			cands = append(cands, c)
		}
	}
	if cf.IsNotDefined != nil {
		return len(cands) == 0, nil
	}
	if len(cands) == 0 {
		return false, nil
	}
	if cf.TimeRange != nil {
		r, err := parseRange(cf.TimeRange)
		if err != nil {
			return false, err
		}
		switch strings.ToUpper(cf.Name) {
		case "VEVENT":
			if it.Event == nil || !it.Event.Occurs(r.From, r.To) {
				return false, nil
			}
		case "VTODO":
			// RFC 4791 9.9: a task without dates matches any range.
			if it.Task != nil {
				if from, to, ok := it.Task.Span(); ok && (from.After(r.To) || to.Before(r.From)) {
					return false, nil
				}
			}
		}
		// Ranges on alarms are not tested: the answer may be wider than asked.
	}
	for _, c := range cands {
		ok, err := matchComps(it, c, cf)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

func matchProp(c *goical.Component, pf *propFilter) (bool, error) {
	props := c.Props.Values(strings.ToUpper(pf.Name))
	if pf.IsNotDefined != nil {
		return len(props) == 0, nil
	}
	if len(props) == 0 {
		return false, nil
	}
	for _, p := range props {
		ok, err := matchOneProp(&p, pf)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

func matchOneProp(p *goical.Prop, pf *propFilter) (bool, error) {
	if pf.TextMatch != nil {
		ok, err := textMatches(pf.TextMatch, p.Value, "contains")
		if err != nil || !ok {
			return false, err
		}
	}
	for _, param := range pf.Params {
		v := p.Params.Get(strings.ToUpper(param.Name))
		if param.IsNotDefined != nil {
			if v != "" {
				return false, nil
			}
			continue
		}
		if v == "" {
			return false, nil
		}
		if param.TextMatch != nil {
			ok, err := textMatches(param.TextMatch, v, "contains")
			if err != nil || !ok {
				return false, err
			}
		}
	}
	return true, nil
}

// textMatches applies a text-match: the collations of RFC 4790 that
// CalDAV and CardDAV require, negation, and CardDAV's match types.
func textMatches(tm *textMatch, value, defaultType string) (bool, error) {
	want, got := tm.Value, value
	switch tm.Collation {
	case "", "i;ascii-casemap", "i;unicode-casemap":
		want, got = strings.ToLower(want), strings.ToLower(got)
	case "i;octet":
	default:
		return false, fmt.Errorf("collation %q is not supported", tm.Collation)
	}
	mt := tm.MatchType
	if mt == "" {
		mt = defaultType
	}
	var ok bool
	switch mt {
	case "equals":
		ok = got == want
	case "contains":
		ok = strings.Contains(got, want)
	case "starts-with":
		ok = strings.HasPrefix(got, want)
	case "ends-with":
		ok = strings.HasSuffix(got, want)
	default:
		return false, fmt.Errorf("match-type %q is not supported", mt)
	}
	if tm.Negate == "yes" {
		ok = !ok
	}
	return ok, nil
}

// matchCard tests a card against an addressbook-query filter (RFC 6352
// 10.5): test is anyof (the default) or allof over the prop-filters.
func matchCard(data []byte, test string, filters []cardPropFilter) bool {
	if len(filters) == 0 {
		return true
	}
	card, err := vcard.NewDecoder(bytes.NewReader(data)).Decode()
	if err != nil {
		return false
	}
	all := test == "allof"
	for _, pf := range filters {
		ok := matchCardProp(card, &pf)
		if ok && !all {
			return true
		}
		if !ok && all {
			return false
		}
	}
	return all
}

func matchCardProp(card vcard.Card, pf *cardPropFilter) bool {
	fields := card[strings.ToUpper(pf.Name)]
	if pf.IsNotDefined != nil {
		return len(fields) == 0
	}
	if len(fields) == 0 {
		return false
	}
	if len(pf.TextMatches) == 0 && len(pf.Params) == 0 {
		return true
	}
	all := pf.Test == "allof"
	var tests []func(*vcard.Field) bool
	for i := range pf.TextMatches {
		tm := &pf.TextMatches[i]
		tests = append(tests, func(f *vcard.Field) bool {
			ok, err := textMatches(tm, f.Value, "contains")
			return err == nil && ok
		})
	}
	for i := range pf.Params {
		pp := &pf.Params[i]
		tests = append(tests, func(f *vcard.Field) bool {
			v := strings.Join(f.Params[strings.ToUpper(pp.Name)], ",")
			if pp.IsNotDefined != nil {
				return v == ""
			}
			if pp.TextMatch == nil {
				return v != ""
			}
			ok, err := textMatches(pp.TextMatch, v, "contains")
			return err == nil && ok
		})
	}
	for _, t := range tests {
		ok := false
		for _, f := range fields {
			if t(f) {
				ok = true
				break
			}
		}
		if ok && !all {
			return true
		}
		if !ok && all {
			return false
		}
	}
	return all
}
