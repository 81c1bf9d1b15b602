package api

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestOpenAPIDocumentsEveryRoute walks the route table, which is the only
// way handlers get registered, and checks the served document against it;
// then it calls every documented operation and checks a real route (not the
// fallback) answers.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	a := newTestAPI(t)
	r := a.do("GET", "/v1/openapi.json", "", nil)
	if r.status != 200 {
		t.Fatalf("openapi.json: %d", r.status)
	}
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	documented := 0
	for _, ops := range doc.Paths {
		documented += len(ops)
	}
	if documented != len(a.srv.routes) {
		t.Errorf("%d operations documented, %d routes", documented, len(a.srv.routes))
	}
	params := regexp.MustCompile(`\{([^}]+)\}`)
	for _, rt := range a.srv.routes {
		op, ok := doc.Paths[rt.pattern][strings.ToLower(rt.method)]
		if !ok {
			t.Errorf("%s %s is not documented", rt.method, rt.pattern)
			continue
		}
		if s, _ := op["summary"].(string); s == "" {
			t.Errorf("%s %s has no summary", rt.method, rt.pattern)
		}
		if _, ok := op["responses"].(map[string]any)["default"]; !ok {
			t.Errorf("%s %s does not document its error response", rt.method, rt.pattern)
		}
		ps, _ := json.Marshal(op["parameters"])
		for _, m := range params.FindAllStringSubmatch(rt.pattern, -1) {
			if !strings.Contains(string(ps), `"name":"`+m[1]+`"`) {
				t.Errorf("%s %s does not document path parameter %s", rt.method, rt.pattern, m[1])
			}
		}
		if rt.request != nil && op["requestBody"] == nil {
			t.Errorf("%s %s does not document its request body", rt.method, rt.pattern)
		}
	}
	// Event schemas name the fields whose JSON is custom-encoded.
	if !strings.Contains(string(r.body), `"rrule"`) || !strings.Contains(string(r.body), `"exdates"`) || !strings.Contains(string(r.body), `"start"`) {
		t.Error("event schema lacks start/rrule/exdates")
	}

	a.must(201, "PUT", "/v1/users/u", `{}`)
	for path, ops := range doc.Paths {
		concrete := params.ReplaceAllStringFunc(path, func(p string) string {
			if p == "{username}" {
				return "u"
			}
			return "x"
		})
		for method := range ops {
			res := a.do(strings.ToUpper(method), concrete, a.token, `{}`)
			if res.status == http.StatusMethodNotAllowed || strings.Contains(string(res.body), noRouteMessage) {
				t.Errorf("documented %s %s is not served: %d %s", method, path, res.status, res.body)
			}
		}
	}
}
