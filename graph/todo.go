package graph

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tidbro/tidbro"
)

// Microsoft To Do (learn.microsoft.com/graph/api/resources/todotask) holds
// less than tidbro's task: importance (low, normal, high) for priorities
// 0-9, five statuses without a cancelled one, dates without times, and no
// percent, UID or assignee. tidbro keeps its own values in an open
// extension on each task it writes (its "shadow") and reads each back only
// while To Do's own field still agrees with it, so an edit in To Do wins.
// Reminders and recurrence, which tidbro's task does not model, stay as To
// Do has them: updates patch only what changed. The key of a create, and
// the link back to the app item, are in a linkedResource: To Do has no
// transactionId.
const (
	linkApp    = "tidbro"          // applicationName of tidbro's linkedResource
	shadowName = "com.tidbro.task" // extensionName of tidbro's open extension
	shadowType = "microsoft.graph.openTypeExtension"
)

// taskQuery is what a task is read with: its links and tidbro's extension.
var taskQuery = url.Values{"$expand": {"linkedResources,extensions($filter=id eq '" + shadowName + "')"}}.Encode()

// The Graph shapes of To Do (todoTask, linkedResource, openTypeExtension).
type (
	todoTask struct {
		ID      string `json:"id"`
		ETag    string `json:"@odata.etag"`
		Removed *struct {
			Reason string `json:"reason"`
		} `json:"@removed"`
		Title             string           `json:"title"`
		Body              *itemBody        `json:"body"`
		Status            string           `json:"status"`
		Importance        string           `json:"importance"`
		Categories        []string         `json:"categories"`
		StartDateTime     *dateTimeTZ      `json:"startDateTime"`
		DueDateTime       *dateTimeTZ      `json:"dueDateTime"`
		CompletedDateTime *dateTimeTZ      `json:"completedDateTime"`
		Created           string           `json:"createdDateTime"`
		LastModified      string           `json:"lastModifiedDateTime"`
		LinkedResources   []linkedResource `json:"linkedResources"`
		Extensions        []taskShadow     `json:"extensions"`
	}
	linkedResource struct {
		ID              string `json:"id,omitempty"`
		WebURL          string `json:"webUrl,omitempty"`
		ApplicationName string `json:"applicationName,omitempty"`
		DisplayName     string `json:"displayName,omitempty"`
		ExternalID      string `json:"externalId,omitempty"`
	}
	// taskShadow is tidbro's open extension: the task's exact values.
	taskShadow struct {
		ODataType string `json:"@odata.type"`
		Name      string `json:"extensionName"`
		UID       string `json:"uid,omitempty"`
		Assignee  string `json:"assignee,omitempty"`
		Status    string `json:"status,omitempty"`
		Priority  int    `json:"priority,omitempty"`
		Percent   int    `json:"percent,omitempty"`
		Start     string `json:"start,omitempty"`
		Due       string `json:"due,omitempty"`
		Completed string `json:"completed,omitempty"`
		AllDay    bool   `json:"allDay,omitempty"`
		TimeZone  string `json:"timeZone,omitempty"`
	}
)

// TaskList is one mailbox's To Do list as a tidbro.Remote.
type TaskList struct {
	c    *Client
	user string // the mailbox: a user id
	list string // a todoTaskList id
	subscriptions
}

// NewTaskList binds to a user's To Do list.
func NewTaskList(c *Client, userID, listID string) *TaskList {
	return &TaskList{c: c, user: userID, list: listID,
		subscriptions: subscriptions{c: c, user: userID, resource: "users/" + userID + "/todo/lists/" + listID + "/tasks", now: time.Now}}
}

var (
	_ tidbro.Remote     = (*TaskList)(nil)
	_ tidbro.Finder     = (*TaskList)(nil)
	_ tidbro.Subscriber = (*TaskList)(nil)
)

func (l *TaskList) Capabilities() tidbro.Capabilities {
	return tidbro.Capabilities{SyncTokens: true, ServerIDs: true, Kinds: []tidbro.Kind{tidbro.KindTask}, MaxBatch: maxBatch}
}

func (l *TaskList) listPath() string {
	return "/users/" + url.PathEscape(l.user) + "/todo/lists/" + url.PathEscape(l.list)
}

func (l *TaskList) taskPath(id string) string { return l.listPath() + "/tasks/" + url.PathEscape(id) }

// todoSyncState is the sync token: the delta link of the last round.
type todoSyncState struct {
	Link string `json:"l"`
}

// Changes reads the list's tasks/delta, from the token's delta link or
// from the start. A task reported removed was deleted, unless the reason
// is OData's "changed": it only left the list (moved to another one).
func (l *TaskList) Changes(ctx context.Context, token string, _ *tidbro.TimeRange) (*tidbro.RemoteChanges, error) {
	link := l.listPath() + "/tasks/delta?$select=id"
	if token != "" {
		var st todoSyncState
		b, err := decodeToken(token)
		if err == nil {
			err = json.Unmarshal(b, &st)
		}
		if err != nil || !strings.Contains(st.Link, "/tasks/delta") {
			return nil, tidbro.Errorf(tidbro.EINVALID, "not a To Do sync token of this connector")
		}
		link = st.Link
	}
	changed := map[string]string{}
	removed := map[string]bool{} // id → deleted
	next, err := deltaRound(ctx, l.c, l.user, link, "tasks delta of the To Do list", func(g todoTask) {
		if g.Removed != nil {
			delete(changed, g.ID)
			removed[g.ID] = !strings.EqualFold(g.Removed.Reason, "changed")
			return
		}
		delete(removed, g.ID)
		changed[g.ID] = g.ETag
	})
	if err != nil {
		return nil, err
	}
	out := &tidbro.RemoteChanges{Full: token == ""}
	for _, id := range sortedKeys(changed) {
		out.Changed = append(out.Changed, tidbro.RemoteRef{ID: id, ETag: changed[id]})
	}
	if !out.Full {
		for _, id := range sortedKeys(removed) {
			out.Removed = append(out.Removed, tidbro.Removed{ID: id, Deleted: removed[id]})
		}
	}
	b, _ := json.Marshal(todoSyncState{Link: next})
	out.Token = encodeToken(b)
	return out, nil
}

// Fetch reads tasks with their links and tidbro's extension, in batches of
// 20.
func (l *TaskList) Fetch(ctx context.Context, ids []string) ([]*tidbro.RemoteItem, []tidbro.ItemError, error) {
	return fetchEach(ctx, l.c, l.user, ids, "To Do task", func(id string) string { return l.taskPath(id) + "?" + taskQuery }, todoItem)
}

func todoItem(g *todoTask, raw []byte) (*tidbro.RemoteItem, error) {
	t, err := toTask(g)
	if err != nil {
		return nil, err
	}
	modified, _ := time.Parse(time.RFC3339Nano, g.LastModified)
	return &tidbro.RemoteItem{ID: g.ID, ETag: g.ETag, Kind: tidbro.KindTask, Modified: modified, Task: t, Raw: raw}, nil
}

// Create finds the task an earlier Create with key made, or posts one with
// tidbro's linkedResource (the key as its externalId, the app item's URL as
// its webUrl) and extension, both made with the task in one request, then
// settles twins.
func (l *TaskList) Create(ctx context.Context, key string, it *tidbro.RemoteItem) (tidbro.RemoteRef, error) {
	t := it.Task
	if t == nil {
		return tidbro.RemoteRef{}, tidbro.Errorf(tidbro.EINVALID, "no task to create")
	}
	if ref, found, err := l.Find(ctx, key); err != nil || found {
		return ref, err
	}
	body := taskBody(t, false)
	for k, v := range body {
		if v == nil {
			delete(body, k)
		}
	}
	body["linkedResources"] = []linkedResource{{ApplicationName: linkApp, DisplayName: t.Summary, ExternalID: key, WebURL: t.URL}}
	body["extensions"] = []taskShadow{shadowOf(t)}
	var g todoTask
	if err := l.write(ctx, request{Method: http.MethodPost, Path: l.listPath() + "/tasks", Body: body, Unsafe: true}, &g); err != nil {
		return tidbro.RemoteRef{}, err
	}
	return l.settle(ctx, key, tidbro.RemoteRef{ID: g.ID, ETag: g.ETag})
}

// settle keeps one task of key: a post retried after a 5xx may have made
// it twice, and To Do has no transactionId to prevent that. The oldest
// stays, so that two writers settling at once agree.
func (l *TaskList) settle(ctx context.Context, key string, made tidbro.RemoteRef) (tidbro.RemoteRef, error) {
	twins, err := l.keyed(ctx, key)
	if err != nil {
		return tidbro.RemoteRef{}, fmt.Errorf("task %s is created; looking for a twin: %w", made.ID, err)
	}
	keep := made
	if len(twins) > 0 && twins[0].ID != made.ID {
		keep = tidbro.RemoteRef{ID: twins[0].ID, ETag: twins[0].ETag}
	}
	for _, g := range twins {
		if g.ID == keep.ID {
			continue
		}
		if err := l.Delete(ctx, g.ID, ""); err != nil {
			return tidbro.RemoteRef{}, fmt.Errorf("removing task %s, a twin of %s: %w", g.ID, keep.ID, err)
		}
	}
	return keep, nil
}

// Find looks for the task an earlier Create with key made (tidbro.Finder).
func (l *TaskList) Find(ctx context.Context, key string) (tidbro.RemoteRef, bool, error) {
	ts, err := l.keyed(ctx, key)
	if err != nil || len(ts) == 0 {
		return tidbro.RemoteRef{}, false, err
	}
	return tidbro.RemoteRef{ID: ts[0].ID, ETag: ts[0].ETag}, true, nil
}

// keyed lists the tasks whose tidbro linkedResource carries key, oldest
// first. The answer is checked here too: To Do's pages document
// linkedResources, not filtering on them.
func (l *TaskList) keyed(ctx context.Context, key string) ([]todoTask, error) {
	f := fmt.Sprintf("linkedResources/any(r:r/externalId eq '%s')", strings.ReplaceAll(key, "'", "''"))
	link := l.listPath() + "/tasks?" + url.Values{"$filter": {f}, "$expand": {"linkedResources"}, "$select": {"id,createdDateTime"}}.Encode()
	var out []todoTask
	err := eachPage(ctx, l.c, l.user, link, func(tasks []todoTask) bool {
		for _, g := range tasks {
			if own := ownLink(g.LinkedResources); own != nil && own.ExternalID == key {
				out = append(out, g)
			}
		}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("finding the To Do task of %s: %w", key, err)
	}
	slices.SortFunc(out, func(a, b todoTask) int {
		ta, _ := time.Parse(time.RFC3339Nano, a.Created)
		tb, _ := time.Parse(time.RFC3339Nano, b.Created)
		return cmp.Or(ta.Compare(tb), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// Update patches the To Do fields that changed since the remote's version
// (it.Raw, or read now), so that what tidbro does not model (reminders,
// recurrence, checklists, HTML notes) stays; then tidbro's extension and
// link when they changed.
func (l *TaskList) Update(ctx context.Context, it *tidbro.RemoteItem, ifMatch string) (tidbro.RemoteRef, error) {
	if ifMatch == "" {
		return tidbro.RemoteRef{}, tidbro.Errorf(tidbro.EPRECONDITION, "an update needs the etag it replaces")
	}
	t := it.Task
	if t == nil {
		return tidbro.RemoteRef{}, tidbro.Errorf(tidbro.EINVALID, "no task to write")
	}
	prev, err := l.previous(ctx, it, ifMatch)
	if err != nil {
		return tidbro.RemoteRef{}, err
	}
	body := taskBody(t, true)
	if old, err := toTask(prev); err == nil {
		for k, v := range taskBody(old, true) {
			if jsonEqual(body[k], v) {
				delete(body, k)
			}
		}
	}
	want, have := shadowOf(t), findShadow(prev)
	shadowChanged := have == nil || have.values() != want.values()
	link := l.linkWrite(prev, t)
	if len(body) == 0 && !shadowChanged && link == nil {
		return tidbro.RemoteRef{ID: it.ID, ETag: ifMatch}, nil
	}
	// The PATCH carries the precondition, empty when only tidbro's own
	// records change.
	var g todoTask
	r := request{Method: http.MethodPatch, Path: l.taskPath(it.ID), Body: body, Headers: map[string]string{"If-Match": ifMatch}}
	if err := l.write(ctx, r, &g); err != nil {
		if tidbro.ErrorCode(err) == tidbro.EPRECONDITION {
			return tidbro.RemoteRef{}, tidbro.Errorf(tidbro.EPRECONDITION, "%s changed in To Do", it.ID)
		}
		return tidbro.RemoteRef{}, err
	}
	if !shadowChanged && link == nil {
		return tidbro.RemoteRef{ID: it.ID, ETag: g.ETag}, nil
	}
	if shadowChanged {
		r := request{Method: http.MethodPost, Path: l.taskPath(it.ID) + "/extensions", Body: want, Unsafe: true}
		if have != nil {
			r = request{Method: http.MethodPatch, Path: l.taskPath(it.ID) + "/extensions/" + shadowName, Body: want}
		}
		if err := l.write(ctx, r, nil); err != nil {
			return tidbro.RemoteRef{}, fmt.Errorf("task %s is updated, tidbro's extension on it not yet: %w", it.ID, err)
		}
	}
	if link != nil {
		if err := l.write(ctx, *link, nil); err != nil {
			return tidbro.RemoteRef{}, fmt.Errorf("task %s is updated, its link to the app not yet: %w", it.ID, err)
		}
	}
	// The extension and the link are part of the task: its etag changed.
	return l.ref(ctx, it.ID)
}

// previous is the task as the update finds it: from it.Raw, or read (when
// the engine had no reason to fetch it), failing if it changed since
// ifMatch.
func (l *TaskList) previous(ctx context.Context, it *tidbro.RemoteItem, ifMatch string) (*todoTask, error) {
	var g todoTask
	if len(it.Raw) > 0 && json.Unmarshal(it.Raw, &g) == nil && g.ID != "" {
		return &g, nil
	}
	if _, err := l.c.do(ctx, l.user, request{Method: http.MethodGet, Path: l.taskPath(it.ID) + "?" + taskQuery}, &g); err != nil {
		return nil, fmt.Errorf("reading task %s before updating it: %w", it.ID, err)
	}
	if g.ETag != ifMatch {
		return nil, tidbro.Errorf(tidbro.EPRECONDITION, "%s changed in To Do", it.ID)
	}
	return &g, nil
}

// linkWrite is the write that makes the task's link carry t's URL, or nil
// when it does: tidbro's own link is patched, or made for a task born in To
// Do (without a key: tidbro did not create it).
func (l *TaskList) linkWrite(prev *todoTask, t *tidbro.Task) *request {
	if t.URL == linkURL(prev.LinkedResources) {
		return nil
	}
	if own := ownLink(prev.LinkedResources); own != nil {
		var u any = t.URL
		if t.URL == "" {
			u = nil
		}
		return &request{Method: http.MethodPatch, Path: l.taskPath(prev.ID) + "/linkedResources/" + url.PathEscape(own.ID),
			Body: map[string]any{"webUrl": u}}
	}
	return &request{Method: http.MethodPost, Path: l.taskPath(prev.ID) + "/linkedResources",
		Body: linkedResource{ApplicationName: linkApp, DisplayName: t.Summary, WebURL: t.URL}, Unsafe: true}
}

// write sends a write in the mailbox's next batch and decodes its answer.
func (l *TaskList) write(ctx context.Context, r request, out any) error {
	a, err := l.c.box(l.user).writes.do(ctx, r)
	if err != nil {
		return err
	}
	return a.answer(r, out)
}

// ref reads a task's current etag.
func (l *TaskList) ref(ctx context.Context, id string) (tidbro.RemoteRef, error) {
	var g todoTask
	if _, err := l.c.do(ctx, l.user, request{Method: http.MethodGet, Path: l.taskPath(id) + "?$select=id"}, &g); err != nil {
		return tidbro.RemoteRef{}, fmt.Errorf("reading the etag of task %s: %w", id, err)
	}
	return tidbro.RemoteRef{ID: g.ID, ETag: g.ETag}, nil
}

// Delete removes the task if its etag is still ifMatch ("" for any); one
// that is gone is deleted already.
func (l *TaskList) Delete(ctx context.Context, id, ifMatch string) error {
	return deleteItem(ctx, l.c, l.user, l.taskPath(id), id, ifMatch, "To Do")
}

// ---- mapping ----

var (
	todoStatuses = map[string]string{"notStarted": "needs-action", "inProgress": "in-process", "completed": "completed",
		"waitingOnOthers": "in-process", "deferred": "needs-action"}
	// A cancelled task is put off in To Do (deferred), the nearest status it
	// has; tidbro's extension says cancelled.
	tidbroStatuses = map[string]string{"": "notStarted", "needs-action": "notStarted", "in-process": "inProgress",
		"completed": "completed", "cancelled": "deferred"}
)

func todoStatus(s string) string { return tidbroStatuses[s] }

// importance is a priority's RFC 5545 band: 1-4 high, 5 (and undefined)
// normal, 6-9 low.
func importance(p int) string {
	switch {
	case p >= 1 && p <= 4:
		return "high"
	case p >= 6:
		return "low"
	}
	return "normal"
}

func priorityOf(imp string) int {
	switch strings.ToLower(imp) {
	case "high":
		return 1
	case "low":
		return 9
	}
	return 0
}

// dueDay is the date To Do holds for a start or due: an all-day task's
// date, a timed one's date in its zone; as midnight UTC.
func dueDay(p *time.Time, allDay bool, zoneName string) *time.Time {
	if p == nil {
		return nil
	}
	t := p.UTC()
	if l := zone(zoneName); l != nil && !allDay {
		t = p.In(l)
	}
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return &d
}

// todoDate reads a start or due as its date. To Do keeps the date of a
// midnight in the writer's zone, and answers it in UTC; a midnight
// anywhere from UTC-11 to UTC+13 is within 13 hours before or 11 after
// midnight UTC of its own date.
func todoDate(d *dateTimeTZ) (*time.Time, error) {
	if d == nil || d.DateTime == "" {
		return nil, nil
	}
	t, err := parseTime(d)
	if err != nil {
		return nil, err
	}
	t = t.Add(13 * time.Hour)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return &day, nil
}

func todoInstant(d *dateTimeTZ) (*time.Time, error) {
	if d == nil || d.DateTime == "" {
		return nil, nil
	}
	t, err := parseTime(d)
	return &t, err
}

func dayTZ(p *time.Time) any {
	if p == nil {
		return nil
	}
	return dateTimeTZ{DateTime: p.UTC().Format("2006-01-02T15:04:05"), TimeZone: "UTC"}
}

func stamp(p *time.Time) string {
	if p == nil {
		return ""
	}
	return p.UTC().Format(time.RFC3339)
}

func unstamp(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil
	}
	return &t
}

func sameTime(a, b *time.Time) bool {
	return a == nil && b == nil || a != nil && b != nil && a.Equal(*b)
}

// toTask reads a To Do task into tidbro's model, tidbro's extension where
// To Do still agrees with it.
func toTask(g *todoTask) (*tidbro.Task, error) {
	t := &tidbro.Task{Summary: g.Title, Description: text(g.Body), Categories: g.Categories,
		Status: todoStatuses[g.Status], Priority: priorityOf(g.Importance), URL: linkURL(g.LinkedResources)}
	var err error
	if t.Start, err = todoDate(g.StartDateTime); err != nil {
		return nil, fmt.Errorf("startDateTime: %w", err)
	}
	if t.Due, err = todoDate(g.DueDateTime); err != nil {
		return nil, fmt.Errorf("dueDateTime: %w", err)
	}
	if t.Completed, err = todoInstant(g.CompletedDateTime); err != nil {
		return nil, fmt.Errorf("completedDateTime: %w", err)
	}
	t.AllDay = t.Start != nil || t.Due != nil
	if sh := findShadow(g); sh != nil {
		sh.apply(t, g)
	}
	return t, nil
}

// apply puts tidbro's exact values into t where g's own fields are still
// what tidbro wrote for them.
func (sh *taskShadow) apply(t *tidbro.Task, g *todoTask) {
	t.UID, t.Assignee = sh.UID, sh.Assignee
	if importance(sh.Priority) == importance(t.Priority) {
		t.Priority = sh.Priority
	}
	// Either way round: tidbro's in-process is written inProgress, and
	// To Do's waitingOnOthers read in-process.
	if todoStatus(sh.Status) == g.Status || todoStatuses[g.Status] == sh.Status {
		t.Status, t.Percent = sh.Status, sh.Percent
	}
	start, due := unstamp(sh.Start), unstamp(sh.Due)
	if sameTime(dueDay(start, sh.AllDay, sh.TimeZone), t.Start) && sameTime(dueDay(due, sh.AllDay, sh.TimeZone), t.Due) {
		t.Start, t.Due, t.AllDay, t.TimeZone = start, due, sh.AllDay, sh.TimeZone
	}
	if c := unstamp(sh.Completed); c != nil && t.Completed != nil && c.UTC().Format(time.DateOnly) == t.Completed.UTC().Format(time.DateOnly) {
		t.Completed = c
	}
}

func findShadow(g *todoTask) *taskShadow {
	for i := range g.Extensions {
		if strings.EqualFold(g.Extensions[i].Name, shadowName) {
			return &g.Extensions[i]
		}
	}
	return nil
}

func shadowOf(t *tidbro.Task) taskShadow {
	return taskShadow{ODataType: shadowType, Name: shadowName, UID: t.UID, Assignee: t.Assignee, Status: t.Status,
		Priority: t.Priority, Percent: t.Percent, Start: stamp(t.Start), Due: stamp(t.Due), Completed: stamp(t.Completed),
		AllDay: t.AllDay, TimeZone: t.TimeZone}
}

// values is the shadow without its annotation, for comparison.
func (sh taskShadow) values() taskShadow {
	sh.ODataType, sh.Name = "", ""
	return sh
}

// ownLink is tidbro's linkedResource of a task, if it has one.
func ownLink(ls []linkedResource) *linkedResource {
	for i := range ls {
		if ls[i].ApplicationName == linkApp {
			return &ls[i]
		}
	}
	return nil
}

// linkURL is the task's URL: tidbro's link's, else the first link's that
// has one (the e-mail a task was flagged from).
func linkURL(ls []linkedResource) string {
	if own := ownLink(ls); own != nil {
		return own.WebURL
	}
	for _, l := range ls {
		if l.WebURL != "" {
			return l.WebURL
		}
	}
	return ""
}

// taskBody writes a task as To Do's create or update body (update bodies
// are HTML: the only kind the update documents). Values To Do cannot hold
// exactly go to tidbro's extension (shadowOf).
func taskBody(t *tidbro.Task, update bool) map[string]any {
	body := itemBody{ContentType: "text", Content: t.Description}
	if update {
		body = itemBody{ContentType: "html", Content: strings.ReplaceAll(html.EscapeString(t.Description), "\n", "<br>")}
	}
	b := map[string]any{
		"title":         t.Summary,
		"body":          body,
		"importance":    importance(t.Priority),
		"status":        todoStatus(t.Status),
		"categories":    nonNil(t.Categories),
		"startDateTime": dayTZ(dueDay(t.Start, t.AllDay, t.TimeZone)),
		"dueDateTime":   dayTZ(dueDay(t.Due, t.AllDay, t.TimeZone)),
	}
	// To Do stamps a completion time itself when none is given.
	switch {
	case t.Completed != nil:
		b["completedDateTime"] = dateTimeTZ{DateTime: t.Completed.UTC().Format("2006-01-02T15:04:05"), TimeZone: "UTC"}
	case t.Status != "completed":
		b["completedDateTime"] = nil
	}
	return b
}

// ---- binding ----

// bindTaskList finds a mailbox's user id and default To Do list (the
// built-in "Tasks", wellknownListName defaultList) and its name, for a
// task pair's RemoteID "userID/listID".
func (c *Client) bindTaskList(ctx context.Context, mailbox string) (userID, listID, name string, err error) {
	if userID, err = c.userID(ctx, mailbox); err != nil {
		return "", "", "", err
	}
	type todoList struct {
		ID                string `json:"id"`
		DisplayName       string `json:"displayName"`
		WellknownListName string `json:"wellknownListName"`
	}
	var found *todoList
	err = eachPage(ctx, c, userID, "/users/"+url.PathEscape(userID)+"/todo/lists", func(lists []todoList) bool {
		if i := slices.IndexFunc(lists, func(v todoList) bool { return v.WellknownListName == "defaultList" }); i >= 0 {
			found = &lists[i]
		}
		return found == nil
	})
	switch {
	case err != nil:
		return "", "", "", fmt.Errorf("listing the To Do lists of %s: %w", mailbox, err)
	case found != nil:
		return userID, found.ID, found.DisplayName, nil
	}
	return "", "", "", &tidbro.Error{Code: tidbro.ENOTFOUND, Field: "mailbox", Message: fmt.Sprintf("mailbox %q has no default To Do list", mailbox)}
}

// userID finds a mailbox's directory id.
func (c *Client) userID(ctx context.Context, mailbox string) (string, error) {
	var u struct {
		ID string `json:"id"`
	}
	if _, err := c.do(ctx, mailbox, request{Method: http.MethodGet, Path: "/users/" + url.PathEscape(mailbox) + "?$select=id"}, &u); err != nil {
		if tidbro.ErrorCode(err) == tidbro.ENOTFOUND {
			return "", &tidbro.Error{Code: tidbro.ENOTFOUND, Field: "mailbox", Message: fmt.Sprintf("no user %q in the directory", mailbox)}
		}
		return "", err
	}
	return u.ID, nil
}
