package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The OpenAPI document is built from the route table, and schemas from the
// Go types by reflection, so the document cannot drift from the code.

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, s.OpenAPI())
	return nil
}

var pathParamRE = regexp.MustCompile(`\{([^}]+)\}`)

// OpenAPI returns the OpenAPI 3.1 document of every route.
func (s *Server) OpenAPI() map[string]any {
	g := &schemaGen{components: map[string]any{}}
	errSchema := g.schema(reflect.TypeOf(errorBody{}))
	paths := map[string]map[string]any{}
	for _, rt := range s.routes {
		op := map[string]any{
			"summary":     rt.summary,
			"operationId": strings.ToLower(rt.method) + operationName(rt.pattern),
		}
		var params []any
		for _, m := range pathParamRE.FindAllStringSubmatch(rt.pattern, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for _, p := range rt.query {
			params = append(params, map[string]any{"name": p.name, "in": "query", "description": p.description, "schema": map[string]any{"type": "string"}})
		}
		for _, p := range rt.headers {
			params = append(params, map[string]any{"name": p.name, "in": "header", "description": p.description, "schema": map[string]any{"type": "string"}})
		}
		if params != nil {
			op["parameters"] = params
		}
		if rt.request != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(rt.request))}}}
		}
		ok := map[string]any{"description": http.StatusText(rt.status)}
		if rt.response != nil {
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(rt.response))}}
		}
		responses := map[string]any{strconv.Itoa(rt.status): ok}
		if rt.upsert {
			responses["201"] = ok
		}
		responses["default"] = map[string]any{"description": "an error", "content": map[string]any{
			"application/json": map[string]any{"schema": errSchema}}}
		op["responses"] = responses
		if !rt.public {
			op["security"] = []any{map[string]any{"bearer": []any{}}}
		}
		if paths[rt.pattern] == nil {
			paths[rt.pattern] = map[string]any{}
		}
		paths[rt.pattern][strings.ToLower(rt.method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "tidbro REST API",
			"version":     s.version,
			"description": "Errors are {\"error\":{\"code\",\"message\",\"field\"}}; codes: invalid 400, unauthorized 401, forbidden 403, not_found 404, conflict 409, precondition_failed 412, too_large 413, internal 500.",
		},
		"paths": paths,
		"components": map[string]any{
			"schemas":         g.components,
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
		},
	}
}

func operationName(pattern string) string {
	var b strings.Builder
	for _, part := range strings.Split(pattern, "/") {
		part = strings.Trim(part, "{}")
		part = strings.TrimSuffix(part, ".json")
		if part == "" || part == "v1" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

type schemaGen struct{ components map[string]any }

var (
	timeType = reflect.TypeOf(time.Time{})
	rawType  = reflect.TypeOf(json.RawMessage{})
)

func (g *schemaGen) schema(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == rawType || t.Kind() == reflect.Interface:
		return map[string]any{}
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		return map[string]any{"type": "string", "contentEncoding": "base64"}
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Struct:
		// Named domain types become shared components (Event refers to
		// itself through overrides); the API's own shapes stay inline.
		if t.PkgPath() == "github.com/tidbro/tidbro" {
			if _, ok := g.components[t.Name()]; !ok {
				g.components[t.Name()] = map[string]any{} // placeholder stops recursion
				g.components[t.Name()] = g.object(t)
			}
			return map[string]any{"$ref": "#/components/schemas/" + t.Name()}
		}
		return g.object(t)
	}
	return map[string]any{}
}

func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	g.fields(t, props)
	return map[string]any{"type": "object", "properties": props}
}

func (g *schemaGen) fields(t reflect.Type, props map[string]any) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			g.fields(ft, props)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "-" {
			// Fields with custom JSON encoding name their wire form in a
			// schema tag: "name,format".
			st := f.Tag.Get("schema")
			if st == "" {
				continue
			}
			n, format, _ := strings.Cut(st, ",")
			s := map[string]any{"type": "string", "format": format, "description": "RFC 3339 date-time, or a date (YYYY-MM-DD) for all-day values"}
			if f.Type.Kind() == reflect.Slice {
				s = map[string]any{"type": "array", "items": s}
			}
			props[n] = s
			continue
		}
		if name == "" {
			name = f.Name
		}
		props[name] = g.schema(f.Type)
	}
}
