package notify

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// Event types the engine sends. Type is free text; these are the ones Ferry uses.
const (
	// TypeQuarantine: the application entered quarantine, or its reason changed.
	TypeQuarantine = "quarantine"
	// TypeDeletesStaged: a cycle's disables and deletes exceeded the deletion threshold and were staged.
	TypeDeletesStaged = "deletes-staged"
	// TypeFailures: the digest of an application's failed objects.
	TypeFailures = "failures"
)

// An Event is one notification. The engine composes it; notify only delivers it. An email carries
// Subject and Text; a webhook carries the whole Event as JSON.
type Event struct {
	// ID identifies the event. It is required, is sent as the Ferry-Event-Id header and in the
	// email's Message-ID, and stays the same on every retry, so receivers can drop duplicates.
	ID string `json:"id"`
	// Type says what happened, e.g. TypeQuarantine. Required.
	Type string `json:"type"`
	// Tenant and App name the tenant and the application the event is about.
	Tenant string `json:"tenant"`
	App    string `json:"app"`
	// At is when it happened; Notify sets it to the current time when zero.
	At time.Time `json:"at"`
	// Subject is the email's subject line; line breaks are replaced by spaces.
	Subject string `json:"subject"`
	// Text is the plain-text body of the email.
	Text string `json:"text"`
	// Data is any JSON-able detail for webhook receivers (counts, reasons, samples).
	Data any `json:"data,omitempty"`
}

func (ev Event) validate() error {
	if ev.ID == "" {
		return errors.New("event has no ID: give each event an ID that stays the same if it is sent again")
	}
	if ev.Type == "" {
		return errors.New("event has no Type: use e.g. notify.TypeQuarantine")
	}
	// Both go into header fields.
	for name, v := range map[string]string{"ID": ev.ID, "Type": ev.Type} {
		if strings.ContainsFunc(v, unicode.IsControl) {
			return fmt.Errorf("event %s %q has a control character", name, v)
		}
	}
	return nil
}
