package provision

import (
	"encoding/json"
	"fmt"
)

// An administrator steers a job through its application's record, never
// through its job state: the job state belongs to the process running the
// job, which rewrites it page after page, and a request written there
// would be lost under the next save (a configuration saved during a cycle
// used to be forgotten that way). The application's record holds, besides
// the configuration and On/Off, a small control record that the running
// job reads at every page and the scheduler before every cycle. The
// Service writes it (service_jobs.go); the Engine only reads it.

// control is the engine's JSON control record (store.App.Control).
type control struct {
	// ConfigVersion grows with every saved change that can change what the
	// target should hold (the configuration, the Secret Token) and with
	// every restart. A job whose last full cycle ran on an older version
	// runs a full cycle on the newest, and a cycle that sees it grow ends
	// at its next page so that one can start.
	ConfigVersion int64 `json:"configVersion"`
	// ResetVersion is the ConfigVersion at which a reset was asked: before
	// that version's full cycle the job forgets its links, watermark and
	// escrows and matches everything anew.
	ResetVersion int64 `json:"resetVersion,omitempty"`
	// Retry grows with every ferry apps retry: the job retries every
	// object in escrow at once.
	Retry int64 `json:"retry,omitempty"`
	// Release grows with every passing Test Connection: a job quarantined
	// for failures tries again at once.
	Release int64 `json:"release,omitempty"`
	// AllowDeletes and RejectDeletes name a staged set of disables and
	// deletes an administrator allowed or rejected.
	AllowDeletes  string `json:"allowDeletes,omitempty"`
	RejectDeletes string `json:"rejectDeletes,omitempty"`
}

func decodeControl(b []byte) (control, error) {
	var c control
	if len(b) == 0 {
		return c, nil
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return control{}, fmt.Errorf("the application's control record does not decode: %w", err)
	}
	return c, nil
}

func (c control) encode() []byte {
	b, _ := json.Marshal(c) // a struct of integers always encodes
	return b
}
