package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ferryid/ferry/internal/provision"
	"github.com/ferryid/ferry/internal/scim"
)

const jsonContentType = "application/json"

// adminError is the admin API's error body.
type adminError struct {
	Status int `json:"status"`
	// Error is the status in a few words: "not found", "conflict".
	Error  string `json:"error"`
	Detail string `json:"detail"`
	// ScimType refines a 400 as SCIM's errors do: invalidValue,
	// invalidSyntax, ...
	ScimType  string `json:"scimType,omitempty"`
	RequestID string `json:"requestId,omitempty"`
}

// writeAdminJSON writes v as a JSON response.
func writeAdminJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only a type the engine got wrong fails to encode; there is no
		// logger here, and the status says what happened.
		body, _ = json.Marshal(adminError{Status: http.StatusInternalServerError, Error: "internal error", Detail: "internal error: the response could not be encoded"})
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", jsonContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

// writeAdminError answers a client's mistake.
func writeAdminError(w http.ResponseWriter, e *scim.Error) {
	writeAdminJSON(w, e.Status, adminError{
		Status:   e.Status,
		Error:    strings.ToLower(http.StatusText(e.Status)),
		Detail:   e.Detail,
		ScimType: e.ScimType,
	})
}

// writeInternalError answers a failure of the server's own, saying
// nothing of its cause.
func writeInternalError(w http.ResponseWriter, requestID string) {
	writeAdminJSON(w, http.StatusInternalServerError, adminError{
		Status:    http.StatusInternalServerError,
		Error:     "internal error",
		Detail:    "internal error (request id " + requestID + ")",
		RequestID: requestID,
	})
}

// decodeAdminBody reads a JSON request body of at most MaxBodyBytes into
// v. Unknown fields are refused, so that a misspelt setting is an error
// rather than silently ignored; a malformed body's error gives the byte
// offset of the problem.
func (s *Server) decodeAdminBody(w http.ResponseWriter, r *http.Request, v any) error {
	given, err := s.decodeOptionalAdminBody(w, r, v)
	if err == nil && !given {
		return scim.BadRequest(scim.InvalidSyntax, "the request body is empty; send a JSON object")
	}
	return err
}

// decodeOptionalAdminBody is decodeAdminBody for a request whose body may
// be left out: it reports whether there was one (an empty body is none).
func (s *Server) decodeOptionalAdminBody(w http.ResponseWriter, r *http.Request, v any) (bool, error) {
	return decodeAdminJSON(w, r, v, s.cfg.MaxBodyBytes, "")
}

// decodeAdminJSON decodes a JSON body of at most limit bytes into v,
// refusing unknown fields; it reports whether there was a body. setting,
// when not "", names what raises the limit.
func decodeAdminJSON(w http.ResponseWriter, r *http.Request, v any, limit int64, setting string) (bool, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != jsonContentType {
			return false, scim.Errorf(http.StatusUnsupportedMediaType, "", "Content-Type %q is not supported; send %s", ct, jsonContentType)
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			if setting != "" {
				return false, scim.Errorf(http.StatusRequestEntityTooLarge, "", "request body is larger than %d bytes (%s)", limit, setting)
			}
			return false, scim.Errorf(http.StatusRequestEntityTooLarge, "", "request body is larger than %d bytes", limit)
		}
		return false, scim.BadRequest(scim.InvalidSyntax, "request body could not be read: %v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return false, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return true, jsonError(err, dec.InputOffset(), len(body))
	}
	if _, err := dec.Token(); err != io.EOF {
		return true, scim.BadRequest(scim.InvalidSyntax, "malformed JSON at byte offset %d: more data after the JSON object", dec.InputOffset())
	}
	return true, nil
}

// jsonError explains a decoding error, with the byte offset where the
// decoder stopped. The error's own offsets are used only when the decoder
// made the error: one that a type's UnmarshalJSON returned counts from the
// start of that value.
func jsonError(err error, offset int64, size int) error {
	if e, ok := err.(*json.SyntaxError); ok {
		return scim.BadRequest(scim.InvalidSyntax, "malformed JSON at byte offset %d: %v", e.Offset, e)
	}
	if e, ok := err.(*json.UnmarshalTypeError); ok {
		field := e.Field
		if field == "" {
			field = "the body"
		}
		return scim.BadRequest(scim.InvalidValue, "at byte offset %d: %s must be %s, not %s", e.Offset, field, jsonTypeName(e.Type.Kind().String()), e.Value)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return scim.BadRequest(scim.InvalidSyntax, "malformed JSON at byte offset %d: the body ends inside a value", size)
	}
	if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return scim.BadRequest(scim.InvalidValue, "at byte offset %d: unknown field %s", offset, field)
	}
	// A value the type's own UnmarshalJSON refused: a duration, a scoping
	// operator.
	return scim.BadRequest(scim.InvalidValue, "at byte offset %d: %v", offset, err)
}

// jsonTypeName names a Go kind as JSON does.
func jsonTypeName(kind string) string {
	switch kind {
	case "struct", "map":
		return "an object"
	case "slice", "array":
		return "an array"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "a number"
	}
	return kind
}

// strictQuery refuses query parameters other than those named, and any
// given twice, so that a misspelt parameter is not silently ignored.
func strictQuery(q url.Values, names ...string) (url.Values, error) {
	for k, vs := range q {
		if !slices.Contains(names, k) {
			if len(names) == 0 {
				return nil, scim.BadRequest(scim.InvalidValue, "unknown query parameter %q; this endpoint takes none", k)
			}
			return nil, scim.BadRequest(scim.InvalidValue, "unknown query parameter %q; this endpoint takes %s", k, strings.Join(names, ", "))
		}
		if len(vs) > 1 {
			return nil, scim.BadRequest(scim.InvalidValue, "query parameter %q is given %d times", k, len(vs))
		}
	}
	return q, nil
}

// boolParam reads a query parameter that is true or false; absent is
// false.
func boolParam(q url.Values, name string) (bool, error) {
	if !q.Has(name) {
		return false, nil
	}
	switch v := q.Get(name); v {
	case "true":
		return true, nil
	case "false":
		return false, nil
	default:
		return false, scim.BadRequest(scim.InvalidValue, "%s=%s: want true or false", name, v)
	}
}

// limitParam reads a limit query parameter: a positive integer, or 0 when
// absent. The engine refuses one above its maximum, saying what it is.
func limitParam(q url.Values) (int, error) {
	v := q.Get("limit")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, scim.BadRequest(scim.InvalidValue, "limit=%s: want a positive integer (at most %d)", v, provision.MaxLogLimit)
	}
	return n, nil
}

// auditQuery are the query parameters of GET /apps/{name}/audit.
var auditQuery = []string{"before", "limit"}

// logQuery are the query parameters of GET /apps/{name}/logs.
var logQuery = []string{"user", "action", "status", "since", "until", "before", "limit"}

// logFilter reads the query of GET /apps/{name}/logs. The engine checks
// the action, the status and the limit's maximum, and lists the valid
// values when one is wrong.
func logFilter(query url.Values) (provision.LogFilter, error) {
	q, err := strictQuery(query, logQuery...)
	if err != nil {
		return provision.LogFilter{}, err
	}
	f := provision.LogFilter{User: q.Get("user"), Action: q.Get("action"), Status: q.Get("status"), Before: q.Get("before")}
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		v := q.Get(t.name)
		if v == "" {
			continue
		}
		if *t.dst, err = time.Parse(time.RFC3339, v); err != nil {
			return provision.LogFilter{}, scim.BadRequest(scim.InvalidValue, "%s=%s: want an RFC 3339 time such as 2026-01-02T15:04:05Z", t.name, v)
		}
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && f.Until.Before(f.Since) {
		return provision.LogFilter{}, scim.BadRequest(scim.InvalidValue, "until (%s) is before since (%s)", q.Get("until"), q.Get("since"))
	}
	if f.Limit, err = limitParam(q); err != nil {
		return provision.LogFilter{}, err
	}
	return f, nil
}
