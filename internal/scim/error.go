package scim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// Error detail types (RFC 7644 §3.12, Table 9). They travel in Error.ScimType.
const (
	InvalidFilter = "invalidFilter"
	TooMany       = "tooMany"
	Uniqueness    = "uniqueness"
	Mutability    = "mutability"
	InvalidSyntax = "invalidSyntax"
	InvalidPath   = "invalidPath"
	NoTarget      = "noTarget"
	InvalidValue  = "invalidValue"
	InvalidVers   = "invalidVers"
	Sensitive     = "sensitive"
	// InvalidCursor and ExpiredCursor are the errors of cursor-based
	// pagination (RFC 9865 §2.1): a cursor the service provider did not
	// issue (or not for this query), and one older than its cursorTimeout.
	InvalidCursor = "invalidCursor"
	ExpiredCursor = "expiredCursor"
)

// Error is a SCIM protocol error: an HTTP status, an optional scimType and a
// human-readable detail. Every part of the protocol core reports client
// mistakes as *Error so that the HTTP edge can answer them without guessing.
type Error struct {
	Status   int    // HTTP status code, e.g. 400
	ScimType string // one of the scimType constants, or "" when none applies
	Detail   string // what went wrong, written for the person reading the response
}

// Errorf returns an *Error with the given status and scimType and a formatted detail.
func Errorf(status int, scimType, format string, args ...any) *Error {
	return &Error{Status: status, ScimType: scimType, Detail: fmt.Sprintf(format, args...)}
}

// BadRequest returns a 400 *Error with the given scimType and a formatted detail.
func BadRequest(scimType, format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, scimType, format, args...)
}

func (e *Error) Error() string {
	if e.ScimType != "" {
		return fmt.Sprintf("scim %d %s: %s", e.Status, e.ScimType, e.Detail)
	}
	return fmt.Sprintf("scim %d: %s", e.Status, e.Detail)
}

// AsError reports whether err is, or wraps, an *Error and returns it.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

type errorJSON struct {
	Schemas  []string        `json:"schemas"`
	ScimType string          `json:"scimType,omitempty"`
	Detail   string          `json:"detail,omitempty"`
	Status   json.RawMessage `json:"status"`
}

// MarshalJSON encodes the error as a SCIM Error message (RFC 7644 §3.12),
// with status as a string as the RFC's examples and real clients expect.
func (e *Error) MarshalJSON() ([]byte, error) {
	status, _ := json.Marshal(strconv.Itoa(e.Status))
	return json.Marshal(errorJSON{
		Schemas:  []string{ErrorURN},
		ScimType: e.ScimType,
		Detail:   e.Detail,
		Status:   status,
	})
}

// UnmarshalJSON decodes a SCIM Error message. It accepts status as a string
// or as a number, because some service providers (Okta's examples among
// them) send a number.
func (e *Error) UnmarshalJSON(data []byte) error {
	var raw errorJSON
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	var status int
	var s string
	if err := json.Unmarshal(raw.Status, &s); err == nil {
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("scim error status %q is not a number", s)
		}
		status = n
	} else if err := json.Unmarshal(raw.Status, &status); err != nil {
		return fmt.Errorf("scim error status %s is neither a string nor a number", raw.Status)
	}
	*e = Error{Status: status, ScimType: raw.ScimType, Detail: raw.Detail}
	return nil
}
