package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tidbro/tidbro"
)

// readObject reads a JSON object body. Invalid UTF-8 is refused (the JSON
// decoder would silently replace it) and the error names the field.
func readObject(r *http.Request) (map[string]json.RawMessage, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, tidbro.Invalid("", "a JSON object body is required")
	}
	if !utf8.Valid(body) {
		return nil, tidbro.Invalid(invalidUTF8Path(body, ""), "the value is not valid UTF-8")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return nil, jsonError(err)
	}
	if obj == nil {
		return nil, tidbro.Invalid("", "the body must be a JSON object")
	}
	return obj, nil
}

// decodeStrict decodes obj into v, refusing unknown fields.
func decodeStrict(obj map[string]json.RawMessage, v any) error {
	b, err := json.Marshal(obj)
	if err != nil {
		return jsonError(err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return jsonError(err)
	}
	return nil
}

// jsonError turns decoder errors into EINVALID errors that name the field.
func jsonError(err error) error {
	var te *tidbro.Error
	var se *json.SyntaxError
	var ute *json.UnmarshalTypeError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &te), errors.As(err, &mbe):
		return err
	case errors.As(err, &se):
		return tidbro.Invalid("", "malformed JSON at byte offset %d: %s", se.Offset, strings.TrimPrefix(se.Error(), "json: "))
	case errors.As(err, &ute):
		if ute.Field == "" {
			return tidbro.Invalid("", "the body must be a JSON object")
		}
		return tidbro.Invalid(ute.Field, "expected %s, got JSON %s", jsonTypeName(ute.Type.String()), ute.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return tidbro.Invalid("", "malformed JSON: unexpected end of input")
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name, _ = strconv.Unquote(name)
		return tidbro.Invalid(name, "unknown field %q", name)
	}
	return tidbro.Invalid("", "malformed JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}

func jsonTypeName(goType string) string {
	switch {
	case goType == "string" || goType == "time.Time":
		return "a string"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "int") || strings.HasPrefix(goType, "float"):
		return "a number"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	}
	return "an object"
}

// invalidUTF8Path finds the first value or key with invalid UTF-8 and
// returns its path (a.b[2].c).
func invalidUTF8Path(raw []byte, path string) string {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) == nil {
		// Keys are compared as decoded; an invalid key decodes to U+FFFD.
		for k, v := range obj {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if strings.ContainsRune(k, utf8.RuneError) {
				return p
			}
			if !utf8.Valid(v) {
				return invalidUTF8Path(v, p)
			}
		}
		return path
	}
	var arr []json.RawMessage
	if json.Unmarshal(raw, &arr) == nil {
		for i, v := range arr {
			if !utf8.Valid(v) {
				return invalidUTF8Path(v, fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
	return path
}
