package graphtest_test

import (
	"net/url"
	"strings"
	"testing"
)

// todoList is the path of alice's default To Do list.
func todoList(t *testing.T, c *client, uid string) string {
	t.Helper()
	lists := values(c.must(200, "GET", "/users/"+uid+"/todo/lists", nil))
	if len(lists) != 2 || lists[0]["wellknownListName"] != "flaggedEmails" || lists[1]["wellknownListName"] != "defaultList" || lists[1]["displayName"] != "Tasks" {
		t.Fatalf("lists: %v", lists)
	}
	return "/users/" + uid + "/todo/lists/" + lists[1]["id"].(string)
}

// A task is made with its links and extensions; they come back when
// expanded, and changing one changes the task's etag.
func TestTodoCreateWithLinksAndExtensions(t *testing.T) {
	s, c := newClient(t)
	uid := s.AddUser("alice@contoso.com", "alice@contoso.com", true)
	list := todoList(t, c, uid)
	task := c.must(201, "POST", list+"/tasks", obj{
		"title":           "A new task",
		"linkedResources": []obj{{"webUrl": "https://crm.example/7", "applicationName": "CRM", "displayName": "Offer 7", "externalId": "crm-7"}},
		"extensions":      []obj{{"@odata.type": "microsoft.graph.openTypeExtension", "extensionName": "com.example.x", "n": 2, "tags": []string{"a"}}},
	})
	links, _ := task["linkedResources"].([]any)
	exts, _ := task["extensions"].([]any)
	if task["status"] != "notStarted" || task["importance"] != "normal" || len(links) != 1 || len(exts) != 1 {
		t.Fatalf("created: %v", task)
	}
	lr := links[0].(obj)
	if lr["id"] == "" || lr["externalId"] != "crm-7" || lr["webUrl"] != "https://crm.example/7" {
		t.Errorf("link: %v", lr)
	}
	path := list + "/tasks/" + task["id"].(string)
	if got := c.must(200, "GET", path, nil); got["linkedResources"] != nil || got["extensions"] != nil {
		t.Errorf("relationships without $expand: %v", got)
	}
	q := url.Values{"$expand": {"linkedResources,extensions($filter=id eq 'com.example.x')"}}
	got := c.must(200, "GET", path+"?"+q.Encode(), nil)
	if x := got["extensions"].([]any)[0].(obj); x["id"] != "microsoft.graph.openTypeExtension.com.example.x" || x["n"] != 2.0 {
		t.Errorf("expanded extension: %v", x)
	}

	// A PATCH of an extension replaces its data.
	c.must(200, "PATCH", path+"/extensions/com.example.x", obj{"@odata.type": "microsoft.graph.openTypeExtension", "extensionName": "com.example.x", "m": "new"})
	x := c.must(200, "GET", path+"/extensions/microsoft.graph.openTypeExtension.com.example.x", nil)
	if x["m"] != "new" || x["n"] != nil {
		t.Errorf("after PATCH: %v", x)
	}
	c.must(409, "POST", path+"/extensions", obj{"@odata.type": "microsoft.graph.openTypeExtension", "extensionName": "com.example.x"})
	after := c.must(200, "GET", path, nil)
	if after["@odata.etag"] == task["@odata.etag"] {
		t.Errorf("an extension's change kept the task's etag %v", after["@odata.etag"])
	}
	c.must(201, "POST", path+"/linkedResources", obj{"applicationName": "Other", "displayName": "Other"})
	if again := c.must(200, "GET", path, nil); again["@odata.etag"] == after["@odata.etag"] {
		t.Errorf("a new link kept the task's etag")
	}
	if out := c.must(400, "PATCH", path, obj{"linkedResources": []obj{}}); errCode(out) != "ErrorInvalidRequest" {
		t.Errorf("links in a task PATCH: %v", out)
	}
}

// Writes as To Do documents them: dates kept without their time, HTML
// bodies only in updates, If-Match honoured, ids checked.
func TestTodoWrites(t *testing.T) {
	s, c := newClient(t)
	uid := s.AddUser("alice@contoso.com", "alice@contoso.com", true)
	list := todoList(t, c, uid)
	task := c.must(201, "POST", list+"/tasks", obj{"title": "Shop for dinner", "body": obj{"contentType": "text", "content": "milk"}})
	path := list + "/tasks/" + task["id"].(string)
	etag := task["@odata.etag"].(string)

	// The update example: a due at 16:00 Eastern is kept as that date.
	upd := c.must(200, "PATCH", path, obj{"dueDateTime": at("2020-07-25T16:00:00", "Eastern Standard Time")}, "If-Match", etag)
	if due := upd["dueDateTime"].(obj); due["dateTime"] != "2020-07-25T04:00:00.0000000" || due["timeZone"] != "UTC" {
		t.Errorf("due: %v", due)
	}
	if out := c.must(412, "PATCH", path, obj{"title": "lost"}, "If-Match", etag); errCode(out) != "ErrorIrresolvableConflict" {
		t.Errorf("stale PATCH: %v", out)
	}
	c.must(412, "DELETE", path, nil, "If-Match", etag)
	c.must(400, "PATCH", path, obj{"body": obj{"contentType": "text", "content": "eggs"}})
	c.must(200, "PATCH", path, obj{"body": obj{"contentType": "html", "content": "<p>eggs</p>"}})
	c.must(400, "PATCH", path, obj{"status": "cancelled"})
	c.must(400, "PATCH", path, obj{"colour": "red"})

	done := c.must(200, "PATCH", path, obj{"status": "completed"})
	if done["completedDateTime"] == nil {
		t.Errorf("completed without a time: %v", done)
	}
	if back := c.must(200, "PATCH", path, obj{"status": "inProgress"}); back["completedDateTime"] != nil {
		t.Errorf("reopened: %v", back)
	}
	rec := obj{"pattern": obj{"type": "daily", "interval": 1}, "range": obj{"type": "noEnd", "startDate": "2020-07-25"}}
	c.must(200, "PATCH", path, obj{"recurrence": rec})
	undated := c.must(201, "POST", list+"/tasks", obj{"title": "Some day"})
	c.must(400, "PATCH", list+"/tasks/"+undated["id"].(string), obj{"recurrence": rec})

	if out := c.must(400, "GET", list+"/tasks/not-an-id", nil); errCode(out) != "ErrorInvalidIdMalformed" {
		t.Errorf("malformed id: %v", out)
	}
	c.must(404, "GET", list+"/tasks/AAMkADgone", nil)
	c.must(204, "DELETE", path, nil)
	c.must(404, "GET", path, nil)
}

// Tasks are found by a linked resource's externalId.
func TestTodoFilterByExternalID(t *testing.T) {
	s, c := newClient(t)
	uid := s.AddUser("alice@contoso.com", "alice@contoso.com", true)
	list := todoList(t, c, uid)
	for _, id := range []string{"k-1", "k-2"} {
		c.must(201, "POST", list+"/tasks", obj{"title": id, "linkedResources": []obj{{"applicationName": "tidbro", "externalId": id}}})
	}
	c.must(201, "POST", list+"/tasks", obj{"title": "none"})
	q := url.Values{"$filter": {"linkedResources/any(r:r/externalId eq 'k-2')"}, "$expand": {"linkedResources"}, "$select": {"id"}}
	got := values(c.must(200, "GET", list+"/tasks?"+q.Encode(), nil))
	if len(got) != 1 || got[0]["title"] != nil || got[0]["linkedResources"].([]any)[0].(obj)["externalId"] != "k-2" {
		t.Errorf("filtered: %v", got)
	}
	c.must(400, "GET", list+"/tasks?"+url.Values{"$filter": {"title eq 'k-1'"}}.Encode(), nil)
}

// tasks/delta: a first round lists everything, the next what changed and
// @removed for deleted tasks; an expired token answers 410.
func TestTodoDelta(t *testing.T) {
	s, c := newClient(t)
	uid := s.AddUser("alice@contoso.com", "alice@contoso.com", true)
	list := todoList(t, c, uid)
	var ids []string
	for _, title := range []string{"a", "b", "c"} {
		ids = append(ids, c.must(201, "POST", list+"/tasks", obj{"title": title})["id"].(string))
	}
	entries, link, pages := deltaAll(c, list+"/tasks/delta?$select=title", "Prefer", "odata.maxpagesize=2")
	if len(entries) != 3 || pages != 2 || entries[0]["title"] != "a" || entries[0]["status"] != nil {
		t.Fatalf("first round: %d pages, %v", pages, entries)
	}
	c.must(200, "PATCH", list+"/tasks/"+ids[0], obj{"title": "a2"})
	c.must(204, "DELETE", list+"/tasks/"+ids[1], nil)
	entries, next, _ := deltaAll(c, link)
	if len(entries) != 2 || entries[0]["title"] != "a2" || entries[1]["id"] != ids[1] || entries[1]["@removed"].(obj)["reason"] != "deleted" {
		t.Errorf("second round: %v", entries)
	}
	if again, _, _ := deltaAll(c, next); len(again) != 0 {
		t.Errorf("nothing changed: %v", again)
	}
	s.ExpireTodoDeltaTokens(uid)
	status, h, out := c.do("GET", next, nil)
	if status != 410 || errCode(out) != "SyncStateNotFound" || !strings.HasSuffix(h.Get("Location"), "$deltatoken=") {
		t.Errorf("expired: %d %v %q", status, out, h.Get("Location"))
	}
	if entries, _, _ := deltaAll(c, h.Get("Location")); len(entries) != 2 {
		t.Errorf("resync from the Location: %v", entries)
	}
}
