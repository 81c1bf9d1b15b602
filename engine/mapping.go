package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"text/template"

	"github.com/tidbro/tidbro"
)

// JobMappingKey is the tenant setting that holds the job field mapping.
const JobMappingKey = "job-mapping"

// JobMapping renders a job's fields into the event groupware sees. Each
// field is a text/template over the job: {{.Summary}}, {{.Location}},
// {{.Extra.customer}}, {{.AppID}}, {{.Type}}, {{.Owner}}. An empty template
// keeps the job's own value.
type JobMapping struct {
	Summary     string   `json:"summary,omitempty"`
	Location    string   `json:"location,omitempty"`
	Description string   `json:"description,omitempty"`
	URL         string   `json:"url,omitempty"` // deep link back into the app
	Categories  []string `json:"categories,omitempty"`

	compiled map[string]*template.Template
}

// Compile parses the templates; an error names the field.
func (m *JobMapping) Compile() error {
	m.compiled = map[string]*template.Template{}
	fields := map[string]string{"summary": m.Summary, "location": m.Location, "description": m.Description, "url": m.URL}
	for i, c := range m.Categories {
		fields[fmt.Sprintf("categories[%d]", i)] = c
	}
	for name, src := range fields {
		if src == "" {
			continue
		}
		t, err := template.New(name).Option("missingkey=zero").Parse(src)
		if err != nil {
			return tidbro.Invalid(name, "job mapping template: %v", err)
		}
		m.compiled[name] = t
	}
	return nil
}

// ParseJobMapping reads and compiles a stored mapping.
func ParseJobMapping(b []byte) (JobMapping, error) {
	var m JobMapping
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			return m, tidbro.Invalid("", "job mapping: %v", err)
		}
	}
	return m, m.Compile()
}

// jobData is what the templates see.
type jobData struct {
	tidbro.Event
	AppID string
	Type  string
	Owner string
}

// Render returns the event groupware should hold for a job.
func (m *JobMapping) Render(it *tidbro.Item) (*tidbro.Event, error) {
	ev := cloneEvent(it.Event)
	// Render runs concurrently and must not write m: templates are compiled
	// before (an empty mapping needs none).
	if m.compiled == nil && (m.Summary != "" || m.Location != "" || m.Description != "" || m.URL != "" || len(m.Categories) > 0) {
		return nil, fmt.Errorf("job mapping used before Compile")
	}
	data := jobData{Event: *it.Event, AppID: it.AppID, Type: it.Type, Owner: it.Owner}
	exec := func(name string) (string, bool, error) {
		t := m.compiled[name]
		if t == nil {
			return "", false, nil
		}
		var b bytes.Buffer
		if err := t.Execute(&b, data); err != nil {
			return "", false, tidbro.Invalid(name, "job mapping: %v", err)
		}
		return strings.TrimSpace(b.String()), true, nil
	}
	for name, dst := range map[string]*string{"summary": &ev.Summary, "location": &ev.Location, "description": &ev.Description, "url": &ev.URL} {
		v, ok, err := exec(name)
		if err != nil {
			return nil, err
		}
		if ok {
			*dst = v
		}
	}
	if len(m.Categories) > 0 {
		ev.Categories = nil
		for i := range m.Categories {
			v, _, err := exec(fmt.Sprintf("categories[%d]", i))
			if err != nil {
				return nil, err
			}
			if v != "" {
				ev.Categories = append(ev.Categories, v)
			}
		}
	}
	// Groupware never needs the app's private fields of a job.
	ev.Extra = nil
	return ev, nil
}
