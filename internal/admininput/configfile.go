package admininput

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"

	"github.com/ferryid/ferry/internal/provision"
)

// ConfigFile reads --config-file: a configuration in the admin API's JSON
// form, or the application ferry apps show --json prints (an AppView),
// whose configuration it takes and whose other fields it returns for the
// caller to ignore or use. Unknown fields are refused, as the server would.
func ConfigFile(path string) (*provision.Config, *provision.AppView, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("--config-file: %w", err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil || top == nil {
		return nil, nil, fmt.Errorf("--config-file %s: want a JSON object, a configuration or the output of ferry apps show --json: %s", path, jsonProblem(err))
	}
	raw, isApp := top["config"]
	var from *provision.AppView
	if isApp {
		known := jsonFields(reflect.TypeFor[provision.AppView]())
		for k := range top {
			if !slices.Contains(known, k) {
				return nil, nil, fmt.Errorf("--config-file %s: unknown field %q: an application (ferry apps show --json) has only %s",
					path, k, strings.Join(known, ", "))
			}
		}
		// The application's other fields, for the caller: only the
		// configuration is sent.
		delete(top, "config")
		rest, _ := json.Marshal(top)
		from = &provision.AppView{}
		if err := json.Unmarshal(rest, from); err != nil {
			return nil, nil, fmt.Errorf("--config-file %s: %s", path, jsonProblem(err))
		}
	} else {
		raw = b
	}
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, nil, fmt.Errorf("--config-file %s: config is null; want the configuration", path)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var cfg provision.Config
	if err := dec.Decode(&cfg); err != nil {
		where := ""
		if isApp {
			where = "config: "
		}
		return nil, nil, fmt.Errorf("--config-file %s: %s%s", path, where, jsonProblem(err))
	}
	return &cfg, from, nil
}

// jsonFields lists the JSON names of a struct type's fields.
func jsonFields(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

// jsonProblem says what a JSON decoding error found, without Go's
// "json: " prefix.
func jsonProblem(err error) string {
	if err == nil {
		return "null"
	}
	if e, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && e.Field != "" {
		return fmt.Sprintf("%s must be %s, not %s", e.Field, jsonKind(e.Type.Kind()), e.Value)
	}
	if e, ok := errors.AsType[*json.SyntaxError](err); ok {
		return fmt.Sprintf("malformed JSON at byte offset %d: %s", e.Offset, strings.TrimPrefix(e.Error(), "json: "))
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// jsonKind names a Go kind as JSON does.
func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	}
	return "a number"
}
