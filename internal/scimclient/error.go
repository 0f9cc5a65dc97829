package scimclient

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Code classifies a failure with the error codes of Entra ID's provisioning
// logs (https://learn.microsoft.com/entra/identity/monitoring-health/howto-analyze-provisioning-logs),
// so that an administrator who knows those logs reads Ferry's the same way,
// and the engine can decide from one value whether to escrow, drop a link or
// stop.
type Code string

// The codes a Client reports. All but CodeBadRequest, CodeUnexpectedStatus
// and CodeEgressRefused are names from Entra's catalogue.
const (
	// CodeEntryConflict: the target answered 409 Conflict.
	CodeEntryConflict Code = "EntryConflict"
	// CodeTooManyRequests: the target answered 429; transient.
	CodeTooManyRequests Code = "TooManyRequests"
	// CodeInternalServerError: the target answered 5xx (other than 501);
	// transient.
	CodeInternalServerError Code = "InternalServerError"
	// CodeWebExceptionProtocolError: no HTTP response at all (connection
	// refused or reset, TLS or DNS failure); transient.
	CodeWebExceptionProtocolError Code = "WebExceptionProtocolError"
	// CodeTimeout: no complete response within the request timeout;
	// transient.
	CodeTimeout Code = "Timeout"
	// CodeUnauthorized: the target answered 401; the token is wrong or
	// expired.
	CodeUnauthorized Code = "Unauthorized"
	// CodeInsufficientRights: the target answered 403.
	CodeInsufficientRights Code = "InsufficientRights"
	// CodeInvalidAnchor: a request addressed to a linked object's id
	// answered 404, so the object Ferry created or matched is gone; the
	// engine drops the link and matches again. See IsNotFound.
	CodeInvalidAnchor Code = "InvalidAnchor"
	// CodeMethodNotAllowed: the target answered 405.
	CodeMethodNotAllowed Code = "MethodNotAllowed"
	// CodeNotImplemented: the target answered 501.
	CodeNotImplemented Code = "NotImplemented"
	// CodeUnprocessableEntity: the target answered 422.
	CodeUnprocessableEntity Code = "UnprocessableEntity"
	// CodeServiceIncompatible: the target's answer breaks the protocol: a
	// body that is not the SCIM message expected, a created resource without
	// an id, a 404 to a query, a query that ignores its filter.
	CodeServiceIncompatible Code = "SystemForCrossDomainIdentityManagementServiceIncompatible"
	// CodeDuplicateTargetEntries: a match query found more than one object
	// (reported by Match, not FindBy).
	CodeDuplicateTargetEntries Code = "DuplicateTargetEntries"
	// CodeBadRequest: the target answered 400, usually with a SCIM scimType
	// saying which attribute it rejects. Entra's catalogue has no code of
	// its own for this.
	CodeBadRequest Code = "BadRequest"
	// CodeUnexpectedStatus: any other status the request did not expect, a
	// redirect among them (the default HTTP client does not follow them).
	CodeUnexpectedStatus Code = "UnexpectedStatus"
	// CodeEgressRefused: the HTTP client's egress policy refused to connect
	// to the target's address (see package egress); nothing was sent. Not
	// transient: only the operator can allow the address.
	CodeEgressRefused Code = "EgressRefused"
)

// Error is a failed request to the target: what was sent, what came back,
// and how the engine should treat it. Method and URL never carry credentials
// and no field holds the token.
type Error struct {
	Method string // HTTP method
	URL    string // request URL as sent, without credentials
	// Status is the HTTP status received, or 0 when no response arrived.
	Status int
	// ScimType and Detail come from the target's SCIM Error body, on one
	// line and cut to 64 and 200 characters, or Detail describes the
	// failure in Ferry's words. A body that is not a SCIM error is never
	// shown: Detail gives only its content type and length.
	ScimType string
	Detail   string
	// Expected, when set, says what the request needed to pass; Test
	// Connection and Create set it.
	Expected string
	Code     Code
	// Attempts is how many times the request was sent.
	Attempts int
	// Retryable reports whether the failure is transient and the operation
	// is worth trying again later (Entra escrows such objects).
	Retryable bool
	// Err is the underlying cause: the transport error, or the *scim.Error
	// decoded from the body. It may be nil.
	Err error

	retryAfter bool // the response carried a Retry-After the Client honours
}

// Error reads like
//
//	GET https://x/scim/v2/Users?filter=userName eq "…" returned 401 Unauthorized; expected 200 with an empty ListResponse: bad token
//
// with the query shown decoded so that an administrator can read the filter.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Method)
	b.WriteByte(' ')
	b.WriteString(readableURL(e.URL))
	switch {
	case e.Status != 0:
		fmt.Fprintf(&b, " returned %d", e.Status)
		if t := http.StatusText(e.Status); t != "" {
			b.WriteString(" " + t)
		}
	case e.Code == CodeTimeout:
		b.WriteString(" timed out")
	default:
		b.WriteString(" failed")
	}
	if e.Expected != "" {
		b.WriteString("; expected " + e.Expected)
	}
	if e.ScimType != "" || e.Detail != "" {
		b.WriteString(": ")
		if e.ScimType != "" {
			b.WriteString("(" + e.ScimType + ") ")
		}
		b.WriteString(e.Detail)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	return strings.TrimSpace(b.String())
}

// Unwrap returns the underlying cause, so that errors.Is(err,
// context.DeadlineExceeded) and scim.AsError work through an *Error.
func (e *Error) Unwrap() error { return e.Err }

// IsNotFound reports whether err says that an object addressed by its id
// (Get, Patch, Delete, member changes) no longer exists in the target: code
// InvalidAnchor. The engine then drops the link and matches again. A query
// that finds nothing is not an error and a 404 to a query is not this.
func IsNotFound(err error) bool {
	return CodeOf(err) == CodeInvalidAnchor
}

// CodeOf returns the Code of err if it is or wraps an *Error, and "" if not
// (for example when the caller's context was cancelled).
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// classify maps an HTTP status to a Code and whether it is transient. byID
// says the request addressed one object by its id, where 404 means the
// object is gone rather than the endpoint being wrong.
func classify(status int, byID bool) (Code, bool) {
	switch {
	case status == http.StatusBadRequest:
		return CodeBadRequest, false
	case status == http.StatusUnauthorized:
		return CodeUnauthorized, false
	case status == http.StatusForbidden:
		return CodeInsufficientRights, false
	case status == http.StatusNotFound && byID:
		return CodeInvalidAnchor, false
	case status == http.StatusNotFound:
		return CodeServiceIncompatible, false
	case status == http.StatusMethodNotAllowed:
		return CodeMethodNotAllowed, false
	case status == http.StatusConflict:
		return CodeEntryConflict, false
	case status == http.StatusUnprocessableEntity:
		return CodeUnprocessableEntity, false
	case status == http.StatusTooManyRequests:
		return CodeTooManyRequests, true
	case status == http.StatusNotImplemented:
		return CodeNotImplemented, false
	case status >= 500 && status <= 599:
		return CodeInternalServerError, true
	default:
		return CodeUnexpectedStatus, false
	}
}

// readableURL shows the query of u decoded, falling back to u as it is.
func readableURL(u string) string {
	base, query, ok := strings.Cut(u, "?")
	if !ok {
		return u
	}
	q, err := url.QueryUnescape(query)
	if err != nil {
		return u
	}
	return base + "?" + q
}
