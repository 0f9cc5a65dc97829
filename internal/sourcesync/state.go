package sourcesync

import (
	"time"
)

// Pass kinds.
const (
	KindFull        = "full"
	KindIncremental = "incremental"
)

// Pass outcomes.
const (
	// OutcomeSuccess: the pass read the whole directory (or every change)
	// and wrote every change it planned.
	OutcomeSuccess = "success"
	// OutcomePartial: the pass finished, but some objects failed to write;
	// Failures says which and why.
	OutcomePartial = "partial"
	// OutcomeGuarded: the read guard held back disables, deletes and
	// membership removals; Guard says why. Creates and updates went ahead.
	OutcomeGuarded = "guarded"
	// OutcomeFailed: the pass did not finish (the server went away, a size
	// limit, a refused bind); it changed nothing, and Error says why.
	OutcomeFailed = "failed"
)

// maxFailures bounds the failures a pass's record keeps.
const maxFailures = 20

// Pass is the record of one pass: what it read, what it did, and why it
// did not do more.
type Pass struct {
	Kind    string    `json:"kind"`
	Trigger string    `json:"trigger"` // "schedule" or "manual"
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended"`
	Outcome string    `json:"outcome"`
	// Error says why a failed pass did not finish.
	Error string `json:"error,omitempty"`
	// Guard says why the read guard held changes back, and Withheld how
	// many.
	Guard    string `json:"guard,omitempty"`
	Withheld int    `json:"withheld,omitempty"`
	// ConfigVersion is the version of the source the pass ran with.
	ConfigVersion int64  `json:"configVersion"`
	Counts        Counts `json:"counts"`
	// Failures are the objects that failed to write (at most 20), and
	// Notes what the pass could not use (entries that do not map, ...).
	Failures []string `json:"failures,omitempty"`
	Notes    []string `json:"notes,omitempty"`
	// Advice says what to do about a pass that failed or was guarded.
	Advice string `json:"advice,omitempty"`
}

// Counts are a pass's numbers.
type Counts struct {
	ReadUsers      int `json:"readUsers"`
	ReadGroups     int `json:"readGroups"`
	Created        int `json:"created"`
	Updated        int `json:"updated"`
	Disabled       int `json:"disabled"`
	Deleted        int `json:"deleted"`
	MembersAdded   int `json:"membersAdded"`
	MembersRemoved int `json:"membersRemoved"`
	Failed         int `json:"failed"`
}

// Mark is ldapsource.Mark as stored and shown: where the next incremental
// pass starts.
type Mark struct {
	Attribute string `json:"attribute"`
	Value     string `json:"value"`
	Server    string `json:"server,omitempty"`
}

// State is what a source's passes leave for the next one and for the
// administrator: the store keeps it as the source's state.
type State struct {
	Last *Pass `json:"last,omitempty"`
	// LastSuccess is when the last pass that finished ended.
	LastSuccess time.Time `json:"lastSuccess,omitzero"`
	// Mark is where the next incremental pass starts: the mark of the last
	// pass that finished unguarded. A failed or guarded pass keeps it.
	Mark *Mark `json:"mark,omitempty"`
	// NextPass is when the scheduler runs the next pass; NextFull when the
	// next pass is a full one.
	NextPass time.Time `json:"nextPass,omitzero"`
	NextFull time.Time `json:"nextFull,omitzero"`
}
