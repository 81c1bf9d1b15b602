package api

import (
	"net/http"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/engine"
	"github.com/tidbro/tidbro/scheduler"
)

var (
	ifMatch     = param{"If-Match", `the item's current version as returned in ETag ("3"); 412 when it differs`}
	ifNoneMatch = param{"If-None-Match", `"*": create only, 412 when the item exists`}
)

func (s *Server) registerRoutes() {
	s.add(route{method: "GET", pattern: "/healthz", public: true, summary: "Liveness: the process serves HTTP.",
		response: statusBody{}, handle: s.healthz})
	s.add(route{method: "GET", pattern: "/readyz", public: true, summary: "Readiness: the database answers (503 when not).",
		response: statusBody{}, handle: s.readyz})
	s.add(route{method: "GET", pattern: "/v1/openapi.json", public: true, summary: "This OpenAPI 3.1 document.",
		handle: s.openapi})

	s.add(route{method: "GET", pattern: "/v1/users", summary: "List the tenant's users.",
		response: usersBody{}, handle: s.listUsers})
	s.add(route{method: "PUT", upsert: true, pattern: "/v1/users/{username}", summary: "Create or update a user (201 when created).",
		request: userBody{}, response: tidbro.User{}, handle: s.putUser})
	s.add(route{method: "GET", pattern: "/v1/users/{username}", summary: "Get a user.",
		response: tidbro.User{}, handle: s.getUser})
	s.add(route{method: "DELETE", pattern: "/v1/users/{username}", status: http.StatusNoContent,
		summary: "Delete a user: their accounts go, their items become deletions in the change feed.", handle: s.deleteUser})

	for _, k := range tidbro.Kinds {
		doc := itemDocs[k]
		coll := "/v1/users/{username}/" + k.Plural()
		var window []param
		if k != tidbro.KindContact {
			window = []param{
				{"from", "RFC 3339 date-time or date: keep items occurring at or after it (recurring events by their instances)"},
				{"to", "RFC 3339 date-time or date: keep items occurring before it"},
			}
		}
		s.add(route{method: "GET", pattern: coll, summary: "List the user's " + k.Plural() + ", ordered by start, in pages.",
			query:    append(window, param{"limit", "page size, at most 1000 (default 100)"}, param{"cursor", "next from the previous page"}),
			response: doc.page, handle: s.listItems(k)})
		s.add(route{method: "PUT", upsert: true, pattern: coll + "/{appId}", headers: []param{ifMatch, ifNoneMatch},
			summary: "Create or update (idempotent upsert by app id) a " + string(k) + "; 201 when created. " +
				"App ids are unique per tenant and kind: putting an existing id under another user reassigns the item.",
			request: doc.item, response: doc.item, handle: s.putItem(k)})
		s.add(route{method: "GET", pattern: coll + "/{appId}", summary: "Get a " + string(k) + ".",
			response: doc.item, handle: s.getItem(k)})
		s.add(route{method: "DELETE", pattern: coll + "/{appId}", headers: []param{ifMatch}, status: http.StatusNoContent,
			summary: "Delete a " + string(k) + " (it stays in the change feed as a deletion).", handle: s.deleteItem(k)})
		s.add(route{method: "GET", pattern: coll + "/{appId}/links", summary: "Where the " + string(k) + " lives in the user's groupware: per account its remote id, " +
			"when it was last in step, its pending write or error, and a link that opens it there (Outlook on the web) when the groupware tells one.",
			response: itemLinksBody{}, handle: s.itemLinks(k)})
	}

	s.add(route{method: "GET", pattern: "/v1/changes", summary: "The tenant's change feed after a cursor, oldest first: one entry per change; an entry carries the item when it is the item's newest change.",
		query:    []param{{"since", `cursor from a previous "next"; empty for the beginning, "now" for the current end`}, {"limit", "at most 1000 (default 100)"}},
		response: changesBody{}, handle: s.changes})

	s.add(route{method: "GET", pattern: "/v1/users/{username}/log", summary: "The user's sync log: every action of every run with the rule that decided it, newest first.",
		query: []param{{"before", "next from the previous page"}, {"limit", "at most 1000 (default 100)"}}, response: logBody{}, handle: s.userLog})
	s.add(route{method: "GET", pattern: "/v1/users/{username}/holds", summary: "Deletions held for a decision (policy deletions hold).",
		response: holdsBody{}, handle: s.listHolds})
	s.add(route{method: "PUT", pattern: "/v1/users/{username}/holds/{id}", status: http.StatusNoContent,
		summary: "Decide a held deletion: propagate it, or restore the item; the next run carries it out.",
		request: decisionBody{}, handle: s.decideHold})
	s.add(route{method: "GET", pattern: "/v1/settings/job-mapping", summary: "The tenant's job field mapping: templates that render a job into the event groupware sees.",
		response: engine.JobMapping{}, handle: s.getJobMapping})
	s.add(route{method: "PUT", pattern: "/v1/settings/job-mapping", summary: "Set the job field mapping (text/template over the job: {{.Summary}}, {{.Extra.customer}}, {{.AppID}}).",
		request: engine.JobMapping{}, response: engine.JobMapping{}, handle: s.putJobMapping})
	s.add(route{method: "GET", pattern: "/v1/users/{username}/accounts", summary: "List the user's groupware accounts.",
		response: accountsBody{}, handle: s.listAccounts})
	s.add(route{method: "PUT", upsert: true, pattern: "/v1/users/{username}/accounts/{name}",
		summary: "Create or update a groupware account (201 when created). The password is stored encrypted and never returned; omit it to keep the stored one.",
		request: accountBody{}, response: accountBody{}, handle: s.putAccount})
	s.add(route{method: "GET", pattern: "/v1/users/{username}/accounts/{name}", summary: "Get a groupware account (without its password).",
		response: accountBody{}, handle: s.getAccount})
	s.add(route{method: "DELETE", pattern: "/v1/users/{username}/accounts/{name}", status: http.StatusNoContent,
		summary: "Delete a groupware account.", handle: s.deleteAccount})
	s.add(route{method: "POST", pattern: "/v1/users/{username}/app-passwords", status: http.StatusCreated,
		summary: "Make an app password for the user's CalDAV/CardDAV clients (HTTP Basic with the username on /dav/). The password is in this answer only; only its hash is stored.",
		request: newAppPasswordBody{}, response: appPasswordBody{}, handle: s.createAppPassword})
	s.add(route{method: "GET", pattern: "/v1/users/{username}/app-passwords", summary: "List the user's app passwords (without the passwords).",
		response: appPasswordsBody{}, handle: s.listAppPasswords})
	s.add(route{method: "DELETE", pattern: "/v1/users/{username}/app-passwords/{id}", status: http.StatusNoContent,
		summary: "Revoke an app password: clients using it are refused from the next request.", handle: s.revokeAppPassword})
	s.add(route{method: "POST", pattern: "/v1/sync", status: http.StatusAccepted,
		summary: "Run now: ask for runs of every pair, a user's, an account's or one pair (user, account, kind); full: \"Full sync now\"; since: \"sync from date\". tidbro serve starts them within a moment.",
		request: syncRequestBody{}, response: syncRequestedBody{}, handle: s.requestSync})
	s.add(route{method: "GET", pattern: "/v1/users/{username}/status", summary: "What synchronisation does for the user: per account and pair the last run, the next, errors, parked state, decisions waiting and items in scope.",
		response: userStatusBody{}, handle: s.userStatus})
	s.add(route{method: "GET", pattern: "/v1/settings/schedule", summary: "The tenant's interval between scheduled runs (accounts may set their own in policy.interval).",
		response: scheduler.Settings{}, handle: s.getSchedule})
	s.add(route{method: "PUT", pattern: "/v1/settings/schedule", summary: "Set the tenant's interval between scheduled runs (a duration such as 10m; at least 30s).",
		request: scheduler.Settings{}, response: scheduler.Settings{}, handle: s.putSchedule})
	s.add(route{method: "GET", pattern: "/v1/settings/graph", summary: "The tenant's Microsoft Graph app registration (without its secrets) and mailbox rule.",
		response: graphSettingsBody{}, handle: s.getGraphSettings})
	s.add(route{method: "PUT", pattern: "/v1/settings/graph", summary: "Set the tenant's Graph app (tenantId, clientId, clientSecret or certificate and key, graphUrl and tokenUrl for national clouds) and mailboxRule (email, username, or a pattern with {username}). Secrets are stored encrypted and never returned; omit them to keep the stored ones.",
		request: graphSettingsBody{}, response: graphSettingsBody{}, handle: s.putGraphSettings})
	s.add(route{method: "GET", pattern: "/v1/settings/dav", summary: "How the DAV server treats its clients' writes (direction, ownership, contactCreates).",
		response: tidbro.DAVPolicy{}, handle: s.getDAVPolicy})
	s.add(route{method: "PUT", pattern: "/v1/settings/dav", summary: "Set the DAV policy: direction two-way | app-to-groupware (collections read-only), ownership shared | origin, contactCreates allow | refuse.",
		request: tidbro.DAVPolicy{}, response: tidbro.DAVPolicy{}, handle: s.putDAVPolicy})
}

type statusBody struct {
	Status string `json:"status"`
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, statusBody{"ok"})
	return nil
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	if err := s.store.Ping(r.Context()); err != nil {
		s.log.Warn("not ready", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, statusBody{"database unavailable"})
		return nil
	}
	writeJSON(w, http.StatusOK, statusBody{"ready"})
	return nil
}
