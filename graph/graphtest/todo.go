package graphtest

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Microsoft To Do (learn.microsoft.com/graph/api/resources/todo-overview):
// a mailbox's task lists (the built-in "Tasks", wellknownListName
// defaultList, and "Flagged emails"), their tasks (todoTask) with
// linkedResources and open extensions, and tasks/delta.
//
// Where To Do's pages are silent the choices are ours, and said so below:
// If-Match with the @odata.etag is honoured (412 when stale), as for
// events; a change to a task's linkedResources or extensions is a change of
// the task (new etag, in delta); $filter on linkedResources/any(r:
// r/externalId eq '…') is answered (To Do documents linkedResources, not
// filtering on them); ids not of Outlook's form are malformed (400), as for
// events.

// TodoTask is a task as the fake stores it, mirroring todoTask's JSON
// (learn.microsoft.com/graph/api/resources/todotask). Times are kept, and
// answered, in UTC; a start or due is the midnight of its date in the zone
// it was written in: To Do keeps dates (its update example answers a due of
// 16:00 Eastern as 04:00 UTC).
type TodoTask struct {
	ID                       string               `json:"id"`
	Title                    string               `json:"title"`
	Body                     ItemBody             `json:"body"`
	Importance               string               `json:"importance"` // low, normal, high
	Status                   string               `json:"status"`     // notStarted, inProgress, completed, waitingOnOthers, deferred
	IsReminderOn             bool                 `json:"isReminderOn"`
	Categories               []string             `json:"categories"`
	HasAttachments           bool                 `json:"hasAttachments"`
	CreatedDateTime          time.Time            `json:"createdDateTime"`
	LastModifiedDateTime     time.Time            `json:"lastModifiedDateTime"`
	BodyLastModifiedDateTime time.Time            `json:"bodyLastModifiedDateTime"`
	StartDateTime            *DateTimeTimeZone    `json:"startDateTime,omitempty"`
	DueDateTime              *DateTimeTimeZone    `json:"dueDateTime,omitempty"`
	CompletedDateTime        *DateTimeTimeZone    `json:"completedDateTime,omitempty"`
	ReminderDateTime         *DateTimeTimeZone    `json:"reminderDateTime,omitempty"`
	Recurrence               *PatternedRecurrence `json:"recurrence,omitempty"`

	// Relationships, answered only when expanded.
	LinkedResources []LinkedResource `json:"-"`
	Extensions      []OpenExtension  `json:"-"`
	ChangeKey       string           `json:"-"` // the @odata.etag's value
}

// LinkedResource is a task's link to the item in a partner application it
// comes from (learn.microsoft.com/graph/api/resources/linkedresource).
type LinkedResource struct {
	ID              string `json:"id"`
	WebURL          string `json:"webUrl,omitempty"`
	ApplicationName string `json:"applicationName,omitempty"`
	DisplayName     string `json:"displayName,omitempty"`
	ExternalID      string `json:"externalId,omitempty"`
}

// OpenExtension is an open extension (openTypeExtension): a name and
// custom data of primitive values or arrays of them.
type OpenExtension struct {
	Name string
	Data map[string]any
}

func (t TodoTask) clone() TodoTask {
	c := t
	c.Categories = slices.Clone(t.Categories)
	for _, p := range []**DateTimeTimeZone{&c.StartDateTime, &c.DueDateTime, &c.CompletedDateTime, &c.ReminderDateTime} {
		if *p != nil {
			v := **p
			*p = &v
		}
	}
	if t.Recurrence != nil {
		r := *t.Recurrence
		r.Pattern.DaysOfWeek = slices.Clone(r.Pattern.DaysOfWeek)
		c.Recurrence = &r
	}
	c.LinkedResources = slices.Clone(t.LinkedResources)
	c.Extensions = nil
	for _, x := range t.Extensions {
		d := map[string]any{}
		for k, v := range x.Data {
			d[k] = v
		}
		c.Extensions = append(c.Extensions, OpenExtension{x.Name, d})
	}
	return c
}

// todoStore is a mailbox's To Do state.
type todoStore struct {
	lists  []*todoList
	deltas map[string]*todoSnapshot // delta token → the round's end state
	pages  map[string]*todoPage     // skip token → page
}

type todoList struct {
	mb                  *mailbox // for change notifications
	id, name, wellKnown string
	tasks               map[string]*TodoTask
	order               []string // task ids in creation order
}

// newTodoStore makes the built-in lists. "Flagged emails" comes first (our
// choice), so that a client must look at wellknownListName.
func newTodoStore(s *Server) *todoStore {
	list := func(name, wellKnown string) *todoList {
		return &todoList{id: s.newEventID(), name: name, wellKnown: wellKnown, tasks: map[string]*TodoTask{}}
	}
	return &todoStore{
		lists:  []*todoList{list("Flagged emails", "flaggedEmails"), list("Tasks", "defaultList")},
		deltas: map[string]*todoSnapshot{},
		pages:  map[string]*todoPage{},
	}
}

func (st *todoStore) list(id string) *todoList {
	for _, l := range st.lists {
		if l.id == id {
			return l
		}
	}
	return nil
}

func (st *todoStore) defaultList() *todoList {
	for _, l := range st.lists {
		if l.wellKnown == "defaultList" {
			return l
		}
	}
	panic("graphtest: a mailbox without its default To Do list")
}

func listJSON(l *todoList) map[string]any {
	return map[string]any{"@odata.type": "#microsoft.graph.todoTaskList", "id": l.id, "displayName": l.name,
		"isOwner": true, "isShared": false, "wellknownListName": l.wellKnown}
}

func (l *todoList) find(id string) (*TodoTask, *apiError) {
	if t := l.tasks[id]; t != nil {
		return t, nil
	}
	if !strings.HasPrefix(id, "AAMk") {
		return nil, &apiError{http.StatusBadRequest, "ErrorInvalidIdMalformed", "Id is malformed."}
	}
	return nil, errNotFound
}

// serveTodo answers /users/{who}/todo/... (rest is what follows "todo").
// s.mu is held.
func (s *Server) serveTodo(q *req, mb *mailbox, who string, rest []string) {
	st := mb.todo
	if len(rest) == 0 || rest[0] != "lists" {
		q.failf(http.StatusBadRequest, "BadRequest", "Resource not found for the segment '%s'.", strings.Join(append([]string{"todo"}, rest...), "/"))
		return
	}
	if len(rest) == 1 {
		if s.method(q, http.MethodGet) {
			var value []any
			for _, l := range st.lists {
				value = append(value, listJSON(l))
			}
			q.json(http.StatusOK, map[string]any{"@odata.context": s.URL + "/$metadata#users('" + who + "')/todo/lists", "value": value})
		}
		return
	}
	l := st.list(rest[1])
	if l == nil {
		q.fail(http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store.")
		return
	}
	rest = rest[2:]
	if len(rest) == 0 {
		if s.method(q, http.MethodGet) {
			q.json(http.StatusOK, listJSON(l))
		}
		return
	}
	if rest[0] != "tasks" {
		q.failf(http.StatusBadRequest, "BadRequest", "Resource not found for the segment '%s'.", rest[0])
		return
	}
	if !strings.EqualFold(q.prefer["outlook.timezone"], "UTC") {
		s.violate("%s: tasks read or written without Prefer: outlook.timezone=\"UTC\"", q.describe())
	}
	switch {
	case len(rest) == 1:
		switch q.r.Method {
		case http.MethodGet:
			s.listTasks(q, l)
		case http.MethodPost:
			s.createTask(q, l)
		default:
			s.method(q, http.MethodGet, http.MethodPost)
		}
		return
	case len(rest) == 2 && rest[1] == "delta":
		if s.method(q, http.MethodGet) {
			s.taskDelta(q, st, l)
		}
		return
	}
	t, aerr := l.find(rest[1])
	if aerr != nil {
		q.fail(aerr.status, aerr.code, aerr.msg)
		return
	}
	rest = rest[2:]
	switch {
	case len(rest) == 0:
		switch q.r.Method {
		case http.MethodGet:
			if o, ok := s.taskOptions(q); ok {
				q.json(http.StatusOK, o.show(t))
			}
		case http.MethodPatch:
			s.patchTask(q, l, t)
		case http.MethodDelete:
			if s.ifMatch(q, t.ChangeKey) {
				delete(l.tasks, t.ID)
				l.order = slices.DeleteFunc(l.order, func(id string) bool { return id == t.ID })
				s.changed(l.mb, "todo:"+l.id, t.ID, "deleted")
				q.noContent()
			}
		default:
			s.method(q, http.MethodGet, http.MethodPatch, http.MethodDelete)
		}
	case rest[0] == "linkedResources" && len(rest) <= 2:
		s.serveLinkedResources(q, t, rest[1:])
	case rest[0] == "extensions" && len(rest) <= 2:
		s.serveExtensions(q, t, rest[1:])
	default:
		q.failf(http.StatusBadRequest, "BadRequest", "Resource not found for the segment '%s'.", rest[len(rest)-1])
	}
}

func (s *Server) bumpTask(t *TodoTask) {
	t.ChangeKey = s.newChangeKey()
	t.LastModifiedDateTime = time.Now().UTC()
}

// ---- reading ----

// todoTaskProperties are the names $select accepts.
var todoTaskProperties = []string{
	"body", "bodyLastModifiedDateTime", "categories", "completedDateTime", "createdDateTime", "dueDateTime",
	"hasAttachments", "id", "importance", "isReminderOn", "lastModifiedDateTime", "recurrence",
	"reminderDateTime", "startDateTime", "status", "title",
}

// taskView is what $select and $expand ask of a task.
type taskView struct {
	sel     []string // nil: every property
	links   bool     // linkedResources
	allExts bool     // every extension
	exts    []string // extensions by name or id (lower case)
}

func (s *Server) taskOptions(q *req) (taskView, bool) {
	v, aerr := parseTaskView(q.r.URL.Query().Get("$select"), q.r.URL.Query().Get("$expand"))
	if aerr != nil {
		q.fail(aerr.status, aerr.code, aerr.msg)
		return v, false
	}
	return v, true
}

func parseTaskView(sel, exp string) (taskView, *apiError) {
	var v taskView
	if strings.TrimSpace(sel) != "" {
		for _, name := range strings.Split(sel, ",") {
			i := slices.IndexFunc(todoTaskProperties, func(p string) bool { return strings.EqualFold(p, strings.TrimSpace(name)) })
			if i < 0 {
				return v, &apiError{http.StatusBadRequest, "RequestBroker--ParseUri", "Could not find a property named '" + strings.TrimSpace(name) + "' on type 'microsoft.graph.todoTask'."}
			}
			v.sel = append(v.sel, todoTaskProperties[i])
		}
	}
	if strings.TrimSpace(exp) == "" {
		return v, nil
	}
	for _, item := range splitOutside(exp, ',') {
		name, opts, _ := strings.Cut(strings.TrimSpace(item), "(")
		switch {
		case strings.EqualFold(name, "linkedResources") && opts == "":
			v.links = true
		case strings.EqualFold(name, "extensions") && opts == "":
			v.allExts = true
		case strings.EqualFold(name, "extensions"):
			opts = strings.TrimSuffix(opts, ")")
			if !expandPropFilter.MatchString(opts) {
				return v, &apiError{http.StatusBadRequest, "BadRequest", "extensions are expanded whole or with $filter=id eq '...': " + item}
			}
			for _, m := range orID.FindAllStringSubmatch(opts, -1) {
				v.exts = append(v.exts, strings.ToLower(unquoteOData(m[1])))
			}
		default:
			return v, &apiError{http.StatusBadRequest, "BadRequest", "graphtest: unsupported $expand " + item + " on a todoTask"}
		}
	}
	return v, nil
}

// extensionID is an open extension's fully qualified name.
func extensionID(name string) string { return "microsoft.graph.openTypeExtension." + name }

// matches reports whether an extension is named by id, its name or its
// fully qualified name (compared without case, our choice).
func (x OpenExtension) matches(id string) bool {
	return strings.EqualFold(id, x.Name) || strings.EqualFold(id, extensionID(x.Name))
}

func extensionJSON(x OpenExtension) map[string]any {
	m := map[string]any{"@odata.type": "#microsoft.graph.openTypeExtension", "id": extensionID(x.Name), "extensionName": x.Name}
	for k, v := range x.Data {
		m[k] = v
	}
	return m
}

func linkedResourceJSON(lr LinkedResource) map[string]any {
	var m map[string]any
	b, _ := json.Marshal(lr)
	json.Unmarshal(b, &m)
	return m
}

// renderTask is a task's JSON as To Do answers it.
func renderTask(t *TodoTask) map[string]any {
	b, err := json.Marshal(t)
	if err != nil {
		panic(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		panic(err)
	}
	m["@odata.etag"] = `W/"` + t.ChangeKey + `"`
	if t.Categories == nil {
		m["categories"] = []any{}
	}
	return m
}

// show renders a task with $select and $expand; id and @odata.etag are
// always there.
func (v taskView) show(t *TodoTask) map[string]any {
	m := renderTask(t)
	if v.sel != nil {
		out := map[string]any{"id": m["id"], "@odata.etag": m["@odata.etag"]}
		for _, k := range v.sel {
			if val, ok := m[k]; ok {
				out[k] = val
			}
		}
		m = out
	}
	if v.links {
		links := []any{}
		for _, lr := range t.LinkedResources {
			links = append(links, linkedResourceJSON(lr))
		}
		m["linkedResources"] = links
	}
	if v.allExts || len(v.exts) > 0 {
		exts := []any{}
		for _, x := range t.Extensions {
			if v.allExts || slices.ContainsFunc(v.exts, x.matches) {
				exts = append(exts, extensionJSON(x))
			}
		}
		m["extensions"] = exts
	}
	return m
}

var linkFilter = regexp.MustCompile(`^(?i:linkedResources/any)\(\s*(\w+)\s*:\s*(\w+)/(?i:externalId)\s+eq\s+` + odataString + `\s*\)$`)

// listTasks answers GET .../tasks, with $filter=linkedResources/any(r:
// r/externalId eq '…') the only filter (the value compared without case,
// as Exchange compares strings; our choice).
func (s *Server) listTasks(q *req, l *todoList) {
	v, ok := s.taskOptions(q)
	if !ok {
		return
	}
	external, filtered := "", false
	if f := q.r.URL.Query().Get("$filter"); f != "" {
		m := linkFilter.FindStringSubmatch(strings.TrimSpace(f))
		if m == nil || m[1] != m[2] {
			q.failf(http.StatusBadRequest, "BadRequest", "graphtest: unsupported $filter %q on tasks (linkedResources/any(r:r/externalId eq '...'))", f)
			return
		}
		external, filtered = unquoteOData(m[3]), true
	}
	items := []any{}
	for _, id := range l.order {
		t := l.tasks[id]
		if filtered && !slices.ContainsFunc(t.LinkedResources, func(lr LinkedResource) bool { return strings.EqualFold(lr.ExternalID, external) }) {
			continue
		}
		items = append(items, v.show(t))
	}
	s.collection(q, "Collection(todoTask)", items, 10)
}

// ---- writing ----

var taskStatuses = []string{"notStarted", "inProgress", "completed", "waitingOnOthers", "deferred"}

// readOnlyTask properties in a body are ignored (our choice, as for
// events).
var readOnlyTask = map[string]bool{"id": true, "createdDateTime": true, "lastModifiedDateTime": true,
	"bodyLastModifiedDateTime": true, "hasAttachments": true}

func (s *Server) createTask(q *req, l *todoList) {
	fields, ok := s.body(q)
	if !ok {
		return
	}
	now := time.Now().UTC()
	t := &TodoTask{ID: s.newEventID(), Body: ItemBody{"text", ""}, Importance: "normal", Status: "notStarted",
		CreatedDateTime: now, BodyLastModifiedDateTime: now}
	if aerr := s.applyTask(t, fields, true); aerr != nil {
		q.fail(aerr.status, aerr.code, aerr.msg)
		return
	}
	s.bumpTask(t)
	l.tasks[t.ID] = t
	l.order = append(l.order, t.ID)
	s.changed(l.mb, "todo:"+l.id, t.ID, "created")
	// The answer includes the links and extensions made with the task (our
	// choice for extensions; the create example shows the links).
	m := taskView{links: len(t.LinkedResources) > 0, allExts: len(t.Extensions) > 0}.show(t)
	m["@odata.context"] = s.URL + "/$metadata#users/todo/lists/tasks/$entity"
	q.json(http.StatusCreated, m)
}

func (s *Server) patchTask(q *req, l *todoList, t *TodoTask) {
	if !s.ifMatch(q, t.ChangeKey) {
		return
	}
	fields, ok := s.body(q)
	if !ok {
		return
	}
	cur := t.clone()
	if aerr := s.applyTask(&cur, fields, false); aerr != nil {
		q.fail(aerr.status, aerr.code, aerr.msg)
		return
	}
	// An empty PATCH changes nothing, so neither does the etag (our
	// choice).
	if len(fields) > 0 {
		s.bumpTask(&cur)
		s.changed(l.mb, "todo:"+l.id, t.ID, "updated")
	}
	*t = cur
	q.json(http.StatusOK, renderTask(t))
}

// applyTask writes the properties of a create or update body onto t.
func (s *Server) applyTask(t *TodoTask, fields map[string]json.RawMessage, create bool) *apiError {
	keys := slices.Sorted(maps.Keys(fields))
	wasCompleted := t.Status == "completed"
	for _, k := range keys {
		raw := fields[k]
		var err error
		switch k {
		case "title":
			err = strictJSON(raw, &t.Title)
		case "body":
			var b ItemBody
			if err = strictJSON(raw, &b); err == nil {
				b.ContentType = strings.ToLower(cmpOr(b.ContentType, "text"))
				switch {
				case b.ContentType != "text" && b.ContentType != "html":
					return invalid("body.contentType must be text or html, not %q", b.ContentType)
				case !create && b.ContentType != "html":
					// "Note that only HTML type is supported" (todotask-update).
					return invalid("body: an update of a task's body must be HTML")
				}
				if b != t.Body {
					t.Body, t.BodyLastModifiedDateTime = b, time.Now().UTC()
				}
			}
		case "importance", "status":
			var v string
			if err = strictJSON(raw, &v); err == nil {
				values := enums["importance"]
				if k == "status" {
					values = taskStatuses
				}
				canon, ok := enumValue(values, v)
				if !ok {
					return invalid("%s: %q is not one of %v", k, v, values)
				}
				if k == "status" {
					t.Status = canon
				} else {
					t.Importance = canon
				}
			}
		case "isReminderOn":
			err = strictJSON(raw, &t.IsReminderOn)
		case "categories":
			t.Categories = nil
			err = strictJSON(raw, &t.Categories)
		case "startDateTime", "dueDateTime", "completedDateTime", "reminderDateTime":
			var d *DateTimeTimeZone
			if err = strictJSON(raw, &d); err == nil {
				dateOnly := k == "startDateTime" || k == "dueDateTime"
				if d, err = taskTime(d, dateOnly); err != nil {
					return zoneError(err, k)
				}
				switch k {
				case "startDateTime":
					t.StartDateTime = d
				case "dueDateTime":
					t.DueDateTime = d
				case "completedDateTime":
					t.CompletedDateTime = d
				default:
					t.ReminderDateTime = d
				}
			}
		case "recurrence":
			var r *PatternedRecurrence
			if err = strictJSON(raw, &r); err == nil {
				t.Recurrence = r
			}
		case "linkedResources", "extensions":
			if !create {
				// Our choice: after the create they are written through the
				// task's own collections.
				return invalid("%s are written through /tasks/{id}/%s once the task exists", k, k)
			}
			var parts []map[string]json.RawMessage
			if err = json.Unmarshal(raw, &parts); err != nil {
				break
			}
			for _, p := range parts {
				if k == "linkedResources" {
					lr, aerr := s.parseLinkedResource(p)
					if aerr != nil {
						return aerr
					}
					t.LinkedResources = append(t.LinkedResources, lr)
					continue
				}
				x, aerr := parseExtension(p)
				if aerr != nil {
					return aerr
				}
				if slices.ContainsFunc(t.Extensions, func(o OpenExtension) bool { return o.matches(x.Name) }) {
					return invalid("extensions: %q is given twice", x.Name)
				}
				t.Extensions = append(t.Extensions, x)
			}
		default:
			if readOnlyTask[k] || strings.HasPrefix(k, "@odata.") {
				continue
			}
			return &apiError{400, "ErrorInvalidProperty", "The property '" + k + "' does not exist on type 'microsoft.graph.todoTask' (or graphtest does not model it)."}
		}
		if err != nil {
			return invalid("%s: %v", k, err)
		}
	}
	// A task completed without a time is stamped now, and one no longer
	// completed loses its time, unless given (our choices; the To Do app
	// does so).
	_, given := fields["completedDateTime"]
	switch {
	case t.Status == "completed" && t.CompletedDateTime == nil:
		t.CompletedDateTime = &DateTimeTimeZone{time.Now().UTC().Format(dtLayout), "UTC"}
	case wasCompleted && t.Status != "completed" && !given:
		t.CompletedDateTime = nil
	}
	if t.Recurrence != nil {
		return checkTaskRecurrence(t)
	}
	return nil
}

// taskTime stores a dateTimeTimeZone in UTC; dateOnly keeps the date it
// names in its zone, at that zone's midnight.
func taskTime(d *DateTimeTimeZone, dateOnly bool) (*DateTimeTimeZone, error) {
	if d == nil {
		return nil, nil
	}
	w, err := givenWall(*d)
	if err != nil {
		return nil, err
	}
	t := w.t
	if dateOnly {
		t = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
	}
	return &DateTimeTimeZone{t.UTC().Format(dtLayout), "UTC"}, nil
}

// checkTaskRecurrence validates a task's pattern and range as an event's
// (recurrencepattern, recurrencerange). A repeating task needs a due date,
// as in the To Do app; its range is not tied to the due date (our choices:
// To Do's pages say neither).
func checkTaskRecurrence(t *TodoTask) *apiError {
	if t.DueDateTime == nil {
		return invalid("A recurring task needs a dueDateTime.")
	}
	sd, err := time.Parse(dateLayout, t.Recurrence.Range.StartDate)
	if err != nil {
		return invalid("recurrence.range.startDate must be a date (2006-01-02)")
	}
	e := Event{IsAllDay: true, Recurrence: t.Recurrence,
		Start: DateTimeTimeZone{sd.Format(dtLayout), "UTC"}, End: DateTimeTimeZone{sd.AddDate(0, 0, 1).Format(dtLayout), "UTC"}}
	return checkRecurrence(&e)
}

func (s *Server) parseLinkedResource(fields map[string]json.RawMessage) (LinkedResource, *apiError) {
	b, _ := json.Marshal(fields)
	var lr LinkedResource
	if err := strictJSON(b, &lr); err != nil {
		return lr, invalid("linkedResource: %v", err)
	}
	lr.ID = s.newGUID() // server generated
	return lr, nil
}

// parseExtension reads an openTypeExtension body: its @odata.type, its
// extensionName and custom data of primitive values or arrays of them.
func parseExtension(fields map[string]json.RawMessage) (OpenExtension, *apiError) {
	var typ, name string
	json.Unmarshal(fields["@odata.type"], &typ)
	json.Unmarshal(fields["extensionName"], &name)
	if !strings.HasSuffix(strings.ToLower(typ), "opentypeextension") {
		return OpenExtension{}, invalid("An open extension needs \"@odata.type\": \"microsoft.graph.openTypeExtension\".")
	}
	if name == "" {
		return OpenExtension{}, invalid("An open extension needs an extensionName.")
	}
	x := OpenExtension{Name: name, Data: map[string]any{}}
	for k, raw := range fields {
		if k == "extensionName" || k == "id" || strings.Contains(k, "@odata.") {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return x, invalid("extension property %s: %v", k, err)
		}
		if !primitive(v) {
			return x, invalid("extension property %s: the data of an open extension are primitive values or arrays of them", k)
		}
		x.Data[k] = v
	}
	return x, nil
}

func primitive(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		return false
	case []any:
		return !slices.ContainsFunc(x, func(e any) bool {
			switch e.(type) {
			case map[string]any, []any:
				return true
			}
			return false
		})
	}
	return true
}

func (s *Server) serveLinkedResources(q *req, t *TodoTask, rest []string) {
	if len(rest) == 0 {
		switch q.r.Method {
		case http.MethodGet:
			items := []any{}
			for _, lr := range t.LinkedResources {
				items = append(items, linkedResourceJSON(lr))
			}
			s.collection(q, "Collection(linkedResource)", items, 10)
		case http.MethodPost:
			fields, ok := s.body(q)
			if !ok {
				return
			}
			lr, aerr := s.parseLinkedResource(fields)
			if aerr != nil {
				q.fail(aerr.status, aerr.code, aerr.msg)
				return
			}
			t.LinkedResources = append(t.LinkedResources, lr)
			s.bumpTask(t)
			q.json(http.StatusCreated, linkedResourceJSON(lr))
		default:
			s.method(q, http.MethodGet, http.MethodPost)
		}
		return
	}
	i := slices.IndexFunc(t.LinkedResources, func(lr LinkedResource) bool { return lr.ID == rest[0] })
	if i < 0 {
		q.fail(http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store.")
		return
	}
	switch q.r.Method {
	case http.MethodGet:
		q.json(http.StatusOK, linkedResourceJSON(t.LinkedResources[i]))
	case http.MethodPatch:
		fields, ok := s.body(q)
		if !ok {
			return
		}
		cur := linkedResourceJSON(t.LinkedResources[i])
		for k, v := range fields {
			cur[k] = v
		}
		lr, aerr := s.parseLinkedResource(rawFields(cur))
		if aerr != nil {
			q.fail(aerr.status, aerr.code, aerr.msg)
			return
		}
		lr.ID = t.LinkedResources[i].ID
		t.LinkedResources[i] = lr
		s.bumpTask(t)
		q.json(http.StatusOK, linkedResourceJSON(lr))
	case http.MethodDelete:
		t.LinkedResources = slices.Delete(t.LinkedResources, i, i+1)
		s.bumpTask(t)
		q.noContent()
	default:
		s.method(q, http.MethodGet, http.MethodPatch, http.MethodDelete)
	}
}

// rawFields re-encodes a decoded object's values.
func rawFields(m map[string]any) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	for k, v := range m {
		out[k], _ = json.Marshal(v)
	}
	return out
}

// serveExtensions answers a task's open extensions. A PATCH replaces the
// custom data: what it leaves out is deleted (opentypeextension-update).
// Creating one that exists is a 409 (our choice).
func (s *Server) serveExtensions(q *req, t *TodoTask, rest []string) {
	if len(rest) == 0 {
		switch q.r.Method {
		case http.MethodGet:
			items := []any{}
			for _, x := range t.Extensions {
				items = append(items, extensionJSON(x))
			}
			s.collection(q, "Collection(openTypeExtension)", items, 10)
		case http.MethodPost:
			fields, ok := s.body(q)
			if !ok {
				return
			}
			x, aerr := parseExtension(fields)
			if aerr != nil {
				q.fail(aerr.status, aerr.code, aerr.msg)
				return
			}
			if slices.ContainsFunc(t.Extensions, func(o OpenExtension) bool { return o.matches(x.Name) }) {
				q.failf(http.StatusConflict, "NameAlreadyExists", "An extension named '%s' exists already.", x.Name)
				return
			}
			t.Extensions = append(t.Extensions, x)
			s.bumpTask(t)
			q.json(http.StatusCreated, extensionJSON(x))
		default:
			s.method(q, http.MethodGet, http.MethodPost)
		}
		return
	}
	i := slices.IndexFunc(t.Extensions, func(x OpenExtension) bool { return x.matches(rest[0]) })
	if i < 0 {
		q.fail(http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store.")
		return
	}
	switch q.r.Method {
	case http.MethodGet:
		q.json(http.StatusOK, extensionJSON(t.Extensions[i]))
	case http.MethodPatch:
		fields, ok := s.body(q)
		if !ok {
			return
		}
		x, aerr := parseExtension(fields)
		if aerr != nil {
			q.fail(aerr.status, aerr.code, aerr.msg)
			return
		}
		if !strings.EqualFold(x.Name, t.Extensions[i].Name) {
			q.fail(http.StatusBadRequest, "BadRequest", "The extensionName of an extension cannot change.")
			return
		}
		x.Name = t.Extensions[i].Name
		t.Extensions[i] = x
		s.bumpTask(t)
		q.json(http.StatusOK, extensionJSON(x))
	case http.MethodDelete:
		t.Extensions = slices.Delete(t.Extensions, i, i+1)
		s.bumpTask(t)
		q.noContent()
	default:
		s.method(q, http.MethodGet, http.MethodPatch, http.MethodDelete)
	}
}

// ---- delta ----

// tasks/delta (learn.microsoft.com/graph/api/todotask-delta): a round is
// computed whole when it starts and served in pages; its delta token keeps
// the list, the $select and $expand of the first request, and a snapshot
// (task id → change key), so the next round reports what differs and
// @removed (reason "deleted": OData's reason for a destroyed entity) for
// tasks gone. Tasks moved to another list are not modelled.

type todoSnapshot struct {
	list string
	view taskView
	snap map[string]string
}

type (
	todoRound = round[*todoSnapshot]
	todoPage  = roundPage[*todoSnapshot]
)

func (s *Server) taskDelta(q *req, st *todoStore, l *todoList) {
	qs := q.r.URL.Query()
	for k := range qs {
		switch k {
		case "$select", "$expand", "$top", "$skiptoken", "$deltatoken":
		default:
			// $filter and $orderby are documented only on receivedDateTime,
			// which a todoTask does not have.
			q.failf(http.StatusBadRequest, "BadRequest", "graphtest: the query parameter '%s' is not supported with tasks delta.", k)
			return
		}
	}
	var pg *todoPage
	switch {
	case qs.Has("$skiptoken"):
		if pg = st.pages[qs.Get("$skiptoken")]; pg == nil || pg.round.next.list != l.id {
			s.gone(q, nil)
			return
		}
	case qs.Get("$deltatoken") != "": // an empty one starts over, as the 410's Location does
		prev := st.deltas[qs.Get("$deltatoken")]
		if prev == nil || prev.list != l.id {
			s.gone(q, nil)
			return
		}
		pg = &todoPage{round: todoDeltaRound(l, prev.view, prev)}
	default:
		v, ok := s.taskOptions(q)
		if !ok {
			return
		}
		pg = &todoPage{round: todoDeltaRound(l, v, nil)}
	}
	size := defaultDeltaPage
	if v, err := strconv.Atoi(q.prefer["odata.maxpagesize"]); err == nil && v > 0 {
		size = v
	}
	if v, err := strconv.Atoi(qs.Get("$top")); err == nil && v > 0 {
		size = v
	}
	servePage(s, q, pg, size, "todoTask", st.pages, st.deltas)
}

// todoDeltaRound computes a round of l since prev (nil: the first).
func todoDeltaRound(l *todoList, v taskView, prev *todoSnapshot) *todoRound {
	next := &todoSnapshot{list: l.id, view: v, snap: map[string]string{}}
	r := &todoRound{next: next, entries: []any{}}
	for _, id := range l.order {
		t := l.tasks[id]
		next.snap[id] = t.ChangeKey
		if prev == nil || prev.snap[id] != t.ChangeKey {
			r.entries = append(r.entries, v.show(t))
		}
	}
	if prev == nil {
		return r
	}
	var gone []string
	for id := range prev.snap {
		if _, ok := next.snap[id]; !ok {
			gone = append(gone, id)
		}
	}
	sort.Strings(gone)
	for _, id := range gone {
		r.entries = append(r.entries, map[string]any{"id": id, "@removed": map[string]any{"reason": "deleted"}})
	}
	return r
}

// ---- direct access for tests ----

// DefaultTodoList is the id of the user's built-in "Tasks" list.
func (s *Server) DefaultTodoList(userID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mustMailbox(userID).todo.defaultList().id
}

// TodoTasks are copies of the tasks of the user's default list, in
// creation order.
func (s *Server) TodoTasks(userID string) []TodoTask {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.mustMailbox(userID).todo.defaultList()
	var out []TodoTask
	for _, id := range l.order {
		out = append(out, l.tasks[id].clone())
	}
	return out
}

// TodoTask is a copy of one task of any of the user's lists.
func (s *Server) TodoTask(userID, id string) (TodoTask, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.mustMailbox(userID).todo.lists {
		if t := l.tasks[id]; t != nil {
			return t.clone(), true
		}
	}
	return TodoTask{}, false
}

// ExpireTodoDeltaTokens forgets every tasks delta and skip token issued so
// far for the mailbox: using one answers 410 Gone, SyncStateNotFound.
func (s *Server) ExpireTodoDeltaTokens(userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.mustMailbox(userID).todo
	st.deltas, st.pages = map[string]*todoSnapshot{}, map[string]*todoPage{}
}
