package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// outlookPatch edits an item as a user in Outlook or To Do would: a plain
// PATCH with the app's own token, no etag, no tidbro property.
func (g *gx) outlookPatch(path, body string) {
	g.t.Helper()
	res, err := http.PostForm(g.fake.TokenURL, url.Values{"grant_type": {"client_credentials"}, "client_id": {"tidbro-app"},
		"client_secret": {"app-secret"}, "scope": {g.fake.Scope}})
	if err != nil {
		g.t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	req, _ := http.NewRequest("PATCH", g.fake.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Add("Prefer", `IdType="ImmutableId"`)
	req.Header.Add("Prefer", `outlook.timezone="UTC"`)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		g.t.Fatalf("PATCH %s: %s", path, res.Status)
	}
}

func (g *gx) appField(kind, id, field string) any {
	g.t.Helper()
	return g.call("GET", "/v1/users/alice/"+kind+"/"+id, "", 200)[field]
}

// To Do tasks and Outlook contacts, two-way: the app's task and contact
// (with a photo) reach the mailbox, edits in To Do and Outlook come back,
// an app edit goes out, and deletions follow both ways.
func TestGraphEndToEndTasksAndContacts(t *testing.T) {
	g := newGraphE2E(t, `{"direction":"two-way","conflicts":"groupware","kinds":["task","contact"]}`)
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	var pic bytes.Buffer
	if err := png.Encode(&pic, img); err != nil {
		t.Fatal(err)
	}
	due := time.Now().AddDate(0, 0, 7).UTC().Truncate(24 * time.Hour)
	g.call("PUT", "/v1/users/alice/tasks/T1", fmt.Sprintf(`{"summary":"Send the offer","due":%q,"priority":1,"url":"https://crm.example/tasks/T1"}`, due.Format(time.RFC3339)), 201)
	g.call("PUT", "/v1/users/alice/tasks/T2", `{"summary":"Order parts"}`, 201)
	g.call("PUT", "/v1/users/alice/contacts/C1", fmt.Sprintf(`{"givenName":"Ada","familyName":"Lovelace","organization":"Analytical Engines",
		"emails":[{"type":"work","address":"ada@engines.example"}],"phones":[{"type":"mobile","number":"+46 70 123 45 67"}],
		"photo":{"mediaType":"image/png","data":%q}}`, base64.StdEncoding.EncodeToString(pic.Bytes())), 201)
	if out := g.sync(); !strings.Contains(out, "bob/outlook/tasks: not set up") || !strings.Contains(out, "bob/outlook/contacts: not set up") {
		t.Fatalf("bob's task and contact pairs are not reported as not set up:\n%s", out)
	}

	tasks := g.fake.TodoTasks(g.alice)
	if len(tasks) != 2 {
		t.Fatalf("To Do holds %d tasks, want 2", len(tasks))
	}
	var offer string
	for _, tk := range tasks {
		if tk.Title == "Send the offer" {
			offer = tk.ID
			if tk.Importance != "high" || tk.DueDateTime == nil || len(tk.LinkedResources) != 1 || tk.LinkedResources[0].WebURL != "https://crm.example/tasks/T1" {
				t.Fatalf("the offer task in To Do: %+v", tk)
			}
		}
	}
	contacts := g.fake.Contacts(g.alice)
	if len(contacts) != 1 || contacts[0].GivenName != "Ada" || len(contacts[0].EmailAddresses) != 1 || contacts[0].MobilePhone != "+46 70 123 45 67" {
		t.Fatalf("Outlook's contacts: %+v", contacts)
	}
	if p, ok := g.fake.ContactPhoto(g.alice, contacts[0].ID); !ok || !bytes.Equal(p.Data, pic.Bytes()) {
		t.Fatal("the contact's photo did not reach Outlook byte for byte")
	}

	// Edits on the groupware side come back to the app.
	list := g.fake.DefaultTodoList(g.alice)
	g.outlookPatch("/users/"+g.alice+"/todo/lists/"+list+"/tasks/"+offer, `{"status":"completed"}`)
	g.outlookPatch("/users/"+g.alice+"/contactFolders/contacts/contacts/"+contacts[0].ID, `{"jobTitle":"Countess"}`)
	g.sync()
	if got := g.appField("tasks", "T1", "status"); got != "completed" {
		t.Errorf("the task completed in To Do is %v in the app", got)
	}
	if got := g.appField("contacts", "C1", "title"); got != "Countess" {
		t.Errorf("the contact's title edited in Outlook is %v in the app", got)
	}
	if g.appField("contacts", "C1", "photo") == nil {
		t.Error("the app's photo is gone after an Outlook edit")
	}

	// An app edit goes out; a deletion in the app removes the task.
	g.call("PUT", "/v1/users/alice/contacts/C1", `{"givenName":"Ada","familyName":"King","organization":"Analytical Engines","title":"Countess",
		"emails":[{"type":"work","address":"ada@engines.example"}]}`, 200)
	g.call("DELETE", "/v1/users/alice/tasks/T2", "", 204)
	g.sync()
	if c := g.fake.Contacts(g.alice); len(c) != 1 || c[0].Surname != "King" {
		t.Errorf("the app's edit in Outlook: %+v", c)
	}
	if tasks := g.fake.TodoTasks(g.alice); len(tasks) != 1 || tasks[0].ID != offer {
		t.Errorf("To Do after the app deleted a task: %+v", tasks)
	}
}
