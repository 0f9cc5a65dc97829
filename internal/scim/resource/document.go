// Package resource is the SCIM resource document model: a JSON object that
// keeps values exactly as the client sent them, decoded without loss, and
// normalized and validated against a resource type's schemas (RFC 7643).
//
// A Document is deliberately a plain map rather than a Go struct: clients send
// attributes Ferry has never heard of, values must round-trip unchanged
// (numbers keep their text through json.Number), and the same document is
// filtered, patched and projected by code driven by schema data.
package resource

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ferryid/ferry/internal/scim"
)

// Document is a SCIM resource as a JSON object. Values are string, bool,
// json.Number, []any or map[string]any; extension attributes live under their
// schema URN key. A normalized document (see Normalize) uses the schemas'
// canonical attribute names as keys and holds no nulls.
type Document map[string]any

// Decode parses a JSON object. Numbers are kept as json.Number so that their
// text survives. Anything but a single JSON object is an invalidSyntax error.
func Decode(data []byte) (Document, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, syntaxError(data, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, scim.BadRequest(scim.InvalidSyntax, "request body has data after the JSON object")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, scim.BadRequest(scim.InvalidSyntax, "request body must be a JSON object, got %s", kindOf(v))
	}
	return Document(m), nil
}

// syntaxError turns an encoding/json error into an invalidSyntax *scim.Error
// naming where the JSON broke.
func syntaxError(data []byte, err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return scim.BadRequest(scim.InvalidSyntax, "request body is not valid JSON at byte %d: %v", se.Offset, se)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		if len(bytes.TrimSpace(data)) == 0 {
			return scim.BadRequest(scim.InvalidSyntax, "request body is empty")
		}
		return scim.BadRequest(scim.InvalidSyntax, "request body is truncated JSON")
	default:
		return scim.BadRequest(scim.InvalidSyntax, "request body is not valid JSON: %v", err)
	}
}

// kindOf names a decoded JSON value's kind for error messages.
func kindOf(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return fmt.Sprintf("the string %q", truncate(v, 40))
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	default:
		return fmt.Sprintf("%T", v)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Lookup finds the key of m equal to name ignoring case. The exact key is
// tried first: normalized documents use canonical names, so the fold is only
// paid for as-sent input.
func Lookup(m map[string]any, name string) (key string, value any, ok bool) {
	if v, ok := m[name]; ok {
		return name, v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return k, v, true
		}
	}
	return "", nil, false
}

// Clone returns a deep copy of d, so that a failed change can be abandoned
// without touching the original.
func (d Document) Clone() Document {
	if d == nil {
		return nil
	}
	return Document(cloneMap(d))
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = CloneValue(v)
	}
	return out
}

// CloneValue returns a deep copy of a decoded JSON value.
func CloneValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return cloneMap(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = CloneValue(e)
		}
		return out
	default:
		return v
	}
}

// String returns the top-level string attribute name (looked up ignoring case).
func (d Document) String(name string) (string, bool) {
	_, v, ok := Lookup(d, name)
	if !ok {
		return "", false
	}
	s, ok := v.(string)
	return s, ok
}

// Bool returns the top-level boolean attribute name (looked up ignoring case).
func (d Document) Bool(name string) (bool, bool) {
	_, v, ok := Lookup(d, name)
	if !ok {
		return false, false
	}
	b, ok := v.(bool)
	return b, ok
}
