package graph

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/remotetest"
)

// todoPeer edits the list as another client would: plain POST, PATCH and
// DELETE, without etags and without tidbro's linkedResource. The suite
// expects back every value tidbro models, and To Do's own fields cannot
// hold a priority of 2, so the peer writes tidbro's extension too, as
// another tidbro-aware writer would; TestTodoAppEdits covers edits that
// only To Do's own fields carry.
type todoPeer struct{ l *TaskList }

func (p *todoPeer) Put(ctx context.Context, it *tidbro.RemoteItem) (tidbro.RemoteRef, error) {
	t := it.Task
	if it.ID == "" {
		body := taskBody(t, false)
		for k, v := range body {
			if v == nil {
				delete(body, k)
			}
		}
		body["extensions"] = []taskShadow{shadowOf(t)}
		var g todoTask
		if _, err := p.l.c.do(ctx, p.l.user, request{Method: http.MethodPost, Path: p.l.listPath() + "/tasks", Body: body}, &g); err != nil {
			return tidbro.RemoteRef{}, err
		}
		return tidbro.RemoteRef{ID: g.ID, ETag: g.ETag}, nil
	}
	if _, err := p.l.c.do(ctx, p.l.user, request{Method: http.MethodPatch, Path: p.l.taskPath(it.ID), Body: taskBody(t, true)}, nil); err != nil {
		return tidbro.RemoteRef{}, err
	}
	ext := request{Method: http.MethodPatch, Path: p.l.taskPath(it.ID) + "/extensions/" + shadowName, Body: shadowOf(t)}
	if _, err := p.l.c.do(ctx, p.l.user, ext, nil); tidbro.ErrorCode(err) == tidbro.ENOTFOUND {
		ext.Method, ext.Path = http.MethodPost, p.l.taskPath(it.ID)+"/extensions"
		_, err = p.l.c.do(ctx, p.l.user, ext, nil)
		if err != nil {
			return tidbro.RemoteRef{}, err
		}
	} else if err != nil {
		return tidbro.RemoteRef{}, err
	}
	return p.l.ref(ctx, it.ID)
}

func (p *todoPeer) Delete(ctx context.Context, id string) error {
	_, err := p.l.c.do(ctx, p.l.user, request{Method: http.MethodDelete, Path: p.l.taskPath(id)}, nil)
	return err
}

// newTodo is a fake tenant with the user's default To Do list bound.
func newTodo(t *testing.T) (*fakeTenant, *TaskList) {
	f := newFake(t)
	user, list, _, err := f.client.bindTaskList(t.Context(), f.user)
	if err != nil {
		t.Fatalf("binding the task list: %v", err)
	}
	return f, NewTaskList(f.client, user, list)
}

// plain sends a request as the To Do app would (no etag, nothing of
// tidbro's) and decodes the answer.
func plain(t *testing.T, l *TaskList, method, path string, body any) todoTask {
	t.Helper()
	var g todoTask
	if _, err := l.c.do(t.Context(), l.user, request{Method: method, Path: path, Body: body}, &g); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return g
}

func fetchTask(t *testing.T, l *TaskList, id string) *tidbro.RemoteItem {
	t.Helper()
	items, errs, err := l.Fetch(t.Context(), []string{id})
	if err != nil || len(errs) != 0 || len(items) != 1 {
		t.Fatalf("Fetch(%s): %d items, item errors %v, error %v", id, len(items), errs, err)
	}
	return items[0]
}

// The remote contract suite for To Do tasks against the fake Graph.
func TestTodoContract(t *testing.T) {
	remotetest.Run(t, func(t *testing.T) remotetest.Harness {
		_, l := newTodo(t)
		return remotetest.Harness{Remote: l, Peer: &todoPeer{l: l}, Kind: tidbro.KindTask}
	})
}

// Connect binds a task pair to the default list ("Tasks"), not merely the
// first one (the fake lists "Flagged emails" first).
func TestConnectTasks(t *testing.T) {
	f := newFake(t)
	c := &Connector{
		Settings: func(context.Context, int64) (*Settings, error) {
			return &Settings{Config: Config{TenantID: "contoso.example", ClientID: "app-1", ClientSecret: "app-secret", GraphURL: f.srv.URL, TokenURL: f.srv.TokenURL}}, nil
		},
		User: func(_ context.Context, a *tidbro.Account) (*tidbro.User, error) {
			return &tidbro.User{Username: a.Name, Email: a.Name}, nil
		},
	}
	acc := &tidbro.Account{Kind: tidbro.AccountGraph, Name: f.user}
	p := &tidbro.Pair{Kind: tidbro.KindTask}
	r, err := c.Connect(t.Context(), acc, p, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.(*TaskList); !ok || p.RemoteID != f.user+"/"+f.srv.DefaultTodoList(f.user) || p.RemoteName != "Tasks" {
		t.Errorf("bound to %T %q (%q), want the default list", r, p.RemoteID, p.RemoteName)
	}
	if _, err := r.Changes(t.Context(), "", nil); err != nil {
		t.Error(err)
	}
	if _, err := c.Connect(t.Context(), acc, &tidbro.Pair{Kind: tidbro.KindTask, RemoteID: "no-slash"}, true); tidbro.ErrorCode(err) != tidbro.EINVALID {
		t.Errorf("a pair bound to no list: %v, want EINVALID", err)
	}
	_, err = c.Connect(t.Context(), &tidbro.Account{Kind: tidbro.AccountGraph, Name: "nobody@contoso.example"}, &tidbro.Pair{Kind: tidbro.KindTask}, true)
	if tidbro.ErrorCode(err) != tidbro.ENOTFOUND || tidbro.ErrorField(err) != "mailbox" {
		t.Errorf("binding an unknown mailbox: %v, want ENOTFOUND on mailbox", err)
	}
}

// An expired delta token is EINVALID (the engine then lists everything),
// and a new round from the start works.
func TestTodoDeltaExpired(t *testing.T) {
	f, l := newTodo(t)
	ctx := t.Context()
	ref, err := l.Create(ctx, "k-expired", remotetest.Sample(tidbro.KindTask, 1))
	if err != nil {
		t.Fatal(err)
	}
	first, err := l.Changes(ctx, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	f.srv.ExpireTodoDeltaTokens(f.user)
	if _, err := l.Changes(ctx, first.Token, nil); tidbro.ErrorCode(err) != tidbro.EINVALID {
		t.Fatalf("Changes from an expired token: %v, want EINVALID", err)
	}
	again, err := l.Changes(ctx, "", nil)
	if err != nil || !again.Full || len(again.Changed) != 1 || again.Changed[0] != ref {
		t.Fatalf("relisting after the 410: %+v, %v; want a full listing of %v", again, err, ref)
	}
	if _, err := l.Changes(ctx, encodeToken([]byte(`{"l":"/users/x/calendar/calendarView/delta"}`)), nil); tidbro.ErrorCode(err) != tidbro.EINVALID {
		t.Errorf("Changes from a calendar's token: %v, want EINVALID", err)
	}
}

// Create leaves a linkedResource back to the app item (its URL, tidbro's
// name, the key); Find finds the task by it; a new URL patches that link;
// a task born in To Do gets one when the app gives it a URL.
func TestTodoLinkedResource(t *testing.T) {
	f, l := newTodo(t)
	ctx := t.Context()
	it := remotetest.Sample(tidbro.KindTask, 1)
	it.Task.URL = "https://crm.example/tasks/42"
	ref, err := l.Create(ctx, "tidbro-3-42", it)
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := f.srv.TodoTask(f.user, ref.ID)
	if len(stored.LinkedResources) != 1 {
		t.Fatalf("the task has links %+v, want one", stored.LinkedResources)
	}
	lr := stored.LinkedResources[0]
	if lr.ApplicationName != "tidbro" || lr.ExternalID != "tidbro-3-42" || lr.WebURL != it.Task.URL || lr.DisplayName != it.Task.Summary {
		t.Errorf("the link is %+v, want tidbro's, with the key, the URL and the title", lr)
	}
	if got, found, err := l.Find(ctx, "tidbro-3-42"); err != nil || !found || got != ref {
		t.Errorf("Find(key) = %v, %v, %v; want %v", got, found, err, ref)
	}
	if _, found, err := l.Find(ctx, "tidbro-3-43"); err != nil || found {
		t.Errorf("Find(another key) = %v, %v; want not found", found, err)
	}

	got := fetchTask(t, l, ref.ID)
	if got.Task.URL != it.Task.URL {
		t.Errorf("fetched URL %q, want %q", got.Task.URL, it.Task.URL)
	}
	got.Task.URL = "https://crm.example/tasks/42?tab=notes"
	if _, err := l.Update(ctx, got, got.ETag); err != nil {
		t.Fatal(err)
	}
	stored, _ = f.srv.TodoTask(f.user, ref.ID)
	if len(stored.LinkedResources) != 1 || stored.LinkedResources[0].ID != lr.ID || stored.LinkedResources[0].WebURL != got.Task.URL {
		t.Errorf("after a new URL the links are %+v, want link %s with %s", stored.LinkedResources, lr.ID, got.Task.URL)
	}

	born := plain(t, l, http.MethodPost, l.listPath()+"/tasks", map[string]any{"title": "Call back"})
	b := fetchTask(t, l, born.ID)
	b.Task.URL = "https://crm.example/tasks/43"
	if _, err := l.Update(ctx, b, b.ETag); err != nil {
		t.Fatal(err)
	}
	stored, _ = f.srv.TodoTask(f.user, born.ID)
	if len(stored.LinkedResources) != 1 || stored.LinkedResources[0].ApplicationName != "tidbro" || stored.LinkedResources[0].ExternalID != "" {
		t.Errorf("a To Do task given a URL has links %+v, want tidbro's, without a key", stored.LinkedResources)
	}
	if u := fetchTask(t, l, born.ID).Task.URL; u != b.Task.URL {
		t.Errorf("its URL reads %q, want %q", u, b.Task.URL)
	}
}

// What tidbro does not model — a recurrence, a reminder, an HTML note —
// survives its updates; with or without the remote's own version at hand.
func TestTodoUnknownFieldsKept(t *testing.T) {
	f, l := newTodo(t)
	ctx := t.Context()
	born := plain(t, l, http.MethodPost, l.listPath()+"/tasks", map[string]any{
		"title":            "Water the plants",
		"body":             map[string]string{"contentType": "html", "content": "<p>The <b>big</b> ones first</p>"},
		"importance":       "high",
		"dueDateTime":      map[string]string{"dateTime": "2026-05-04T00:00:00", "timeZone": "W. Europe Standard Time"},
		"isReminderOn":     true,
		"reminderDateTime": map[string]string{"dateTime": "2026-05-04T07:30:00", "timeZone": "UTC"},
		"recurrence": map[string]any{
			"pattern": map[string]any{"type": "weekly", "interval": 1, "daysOfWeek": []string{"monday"}},
			"range":   map[string]any{"type": "noEnd", "startDate": "2026-05-04"},
		},
	})
	it := fetchTask(t, l, born.ID)
	want := tidbro.Task{Summary: "Water the plants", Description: "The big ones first", Status: "needs-action", Priority: 1, AllDay: true}
	due := time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)
	if got := *it.Task; got.Summary != want.Summary || got.Description != want.Description || got.Status != want.Status ||
		got.Priority != want.Priority || !got.AllDay || got.Due == nil || !got.Due.Equal(due) {
		t.Fatalf("read %+v (due %v), want %+v due %v", got, got.Due, want, due)
	}

	it.Task.Summary = "Water all the plants"
	ref, err := l.Update(ctx, it, it.ETag)
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := f.srv.TodoTask(f.user, born.ID)
	if stored.Recurrence == nil || stored.Recurrence.Pattern.Type != "weekly" || !stored.IsReminderOn || stored.ReminderDateTime == nil ||
		stored.Body.ContentType != "html" || stored.Body.Content != "<p>The <b>big</b> ones first</p>" || stored.Title != "Water all the plants" {
		t.Errorf("after tidbro's update the task is %+v, want the new title and its recurrence, reminder and HTML note", stored)
	}
	if stored.DueDateTime == nil || stored.DueDateTime.DateTime != born.DueDateTime.DateTime {
		t.Errorf("the due date became %+v, want %+v untouched", stored.DueDateTime, born.DueDateTime)
	}

	// Without Raw (the engine did not fetch it): the task is read first, a
	// stale etag refused, and the rest still kept.
	bare := &tidbro.RemoteItem{ID: born.ID, Kind: tidbro.KindTask, Task: it.Task.Clone()}
	bare.Task.Categories = []string{"Garden"}
	if _, err := l.Update(ctx, bare, it.ETag); tidbro.ErrorCode(err) != tidbro.EPRECONDITION {
		t.Errorf("Update without Raw and a stale etag: %v, want EPRECONDITION", err)
	}
	if _, err := l.Update(ctx, bare, ref.ETag); err != nil {
		t.Fatal(err)
	}
	stored, _ = f.srv.TodoTask(f.user, born.ID)
	if len(stored.Categories) != 1 || stored.Recurrence == nil || stored.Body.Content != "<p>The <b>big</b> ones first</p>" {
		t.Errorf("after an update without Raw the task is %+v, want the category and its recurrence and note", stored)
	}
}

// tidbro's exact values come back while To Do's own fields agree with
// them; an edit in To Do (which knows importance, five statuses and dates
// only) wins.
func TestTodoAppEdits(t *testing.T) {
	_, l := newTodo(t)
	ctx := t.Context()
	berlin, _ := time.LoadLocation("Europe/Berlin")
	due := time.Date(2026, 4, 10, 0, 30, 0, 0, berlin) // still April 9 in UTC
	completed := time.Date(2026, 4, 9, 17, 5, 0, 0, time.UTC)
	task := &tidbro.Task{UID: "task-7@crm.example", Summary: "Review the offer", Due: &due, TimeZone: "Europe/Berlin",
		Status: "cancelled", Priority: 2, Percent: 40, Assignee: "Ada", Completed: &completed}
	ref, err := l.Create(ctx, "k-app", &tidbro.RemoteItem{Kind: tidbro.KindTask, Task: task})
	if err != nil {
		t.Fatal(err)
	}
	got := fetchTask(t, l, ref.ID)
	if g, w := mustJSON(t, got.Task), mustJSON(t, task); g != w {
		t.Fatalf("read back\n %s\nwant\n %s", g, w)
	}
	var g todoTask
	if err := json.Unmarshal(got.Raw, &g); err != nil {
		t.Fatal(err)
	}
	if g.Importance != "high" || g.Status != "deferred" || g.DueDateTime == nil || g.DueDateTime.DateTime[:10] != "2026-04-10" {
		t.Errorf("To Do holds importance %s, status %s, due %+v; want high, deferred, April 10", g.Importance, g.Status, g.DueDateTime)
	}

	// The user makes it unimportant and moves it to April 12.
	plain(t, l, http.MethodPatch, l.taskPath(ref.ID), map[string]any{"importance": "low",
		"dueDateTime": map[string]string{"dateTime": "2026-04-12T00:00:00", "timeZone": "W. Europe Standard Time"}})
	after := fetchTask(t, l, ref.ID).Task
	day := time.Date(2026, 4, 12, 0, 0, 0, 0, time.UTC)
	if after.Priority != 9 || after.Due == nil || !after.Due.Equal(day) || !after.AllDay || after.TimeZone != "" {
		t.Errorf("after To Do's edit: priority %d, due %v, all day %v, zone %q; want 9, %v, true, none", after.Priority, after.Due, after.AllDay, after.TimeZone, day)
	}
	if after.Status != "cancelled" || after.Percent != 40 || after.UID != task.UID || after.Assignee != "Ada" {
		t.Errorf("after To Do's edit: status %s, percent %d, uid %q, assignee %q; want what To Do did not touch", after.Status, after.Percent, after.UID, after.Assignee)
	}

	// Then completes it.
	plain(t, l, http.MethodPatch, l.taskPath(ref.ID), map[string]any{"status": "completed"})
	if done := fetchTask(t, l, ref.ID).Task; done.Status != "completed" || done.Percent != 0 {
		t.Errorf("completed in To Do: status %s, percent %d; want completed, 0", done.Status, done.Percent)
	}

	// Waiting on others is in process to tidbro: its percent stays, and
	// tidbro's next update leaves To Do's status alone.
	busy := remotetest.Sample(tidbro.KindTask, 2)
	busy.Task.Percent = 50
	ref, err = l.Create(ctx, "k-waiting", busy)
	if err != nil {
		t.Fatal(err)
	}
	plain(t, l, http.MethodPatch, l.taskPath(ref.ID), map[string]any{"status": "waitingOnOthers"})
	waiting := fetchTask(t, l, ref.ID)
	if waiting.Task.Status != "in-process" || waiting.Task.Percent != 50 {
		t.Errorf("waiting on others: status %s, percent %d; want in-process, 50", waiting.Task.Status, waiting.Task.Percent)
	}
	waiting.Task.Summary = "Chase the board"
	if _, err := l.Update(ctx, waiting, waiting.ETag); err != nil {
		t.Fatal(err)
	}
	var held todoTask
	if err := json.Unmarshal(fetchTask(t, l, ref.ID).Raw, &held); err != nil || held.Status != "waitingOnOthers" || held.Title != "Chase the board" {
		t.Errorf("after tidbro's update To Do has status %s, title %q (%v); want waitingOnOthers, the new title", held.Status, held.Title, err)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A task whose fields cannot be read is an item error, not a failed call.
func TestTodoUnreadable(t *testing.T) {
	raw := []byte(`{"id":"AAMkx","@odata.etag":"W/\"1\"","title":"x","dueDateTime":{"dateTime":"tomorrow","timeZone":"UTC"}}`)
	var g todoTask
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	if _, err := todoItem(&g, raw); err == nil {
		t.Errorf("a due of %q read without error", g.DueDateTime.DateTime)
	}
}

// A create that a retry made twice settles on the oldest task of the key,
// and the other goes.
func TestTodoTwins(t *testing.T) {
	f, l := newTodo(t)
	link := []linkedResource{{ApplicationName: linkApp, ExternalID: "tidbro-1-9"}}
	first := plain(t, l, http.MethodPost, l.listPath()+"/tasks", map[string]any{"title": "Twin", "linkedResources": link})
	second := plain(t, l, http.MethodPost, l.listPath()+"/tasks", map[string]any{"title": "Twin", "linkedResources": link})
	other := plain(t, l, http.MethodPost, l.listPath()+"/tasks", map[string]any{"title": "Other", "linkedResources": []linkedResource{{ApplicationName: "CRM", ExternalID: "tidbro-1-9"}}})
	ref, err := l.settle(t.Context(), "tidbro-1-9", tidbro.RemoteRef{ID: second.ID, ETag: second.ETag})
	if err != nil {
		t.Fatal(err)
	}
	if ref.ID != first.ID || ref.ETag != first.ETag {
		t.Errorf("settled on %v, want the first task %s/%s", ref, first.ID, first.ETag)
	}
	var ids []string
	for _, x := range f.srv.TodoTasks(f.user) {
		ids = append(ids, x.ID)
	}
	if len(ids) != 2 || ids[0] != first.ID || ids[1] != other.ID {
		t.Errorf("the list holds %v, want the first twin and another app's task [%s %s]", ids, first.ID, other.ID)
	}
}
