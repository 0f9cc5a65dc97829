package csvimport

import (
	"context"
	"strings"

	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
)

// Request is an import as the admin API takes it (POST /api/v1/import).
type Request struct {
	// CSV is the file's text.
	CSV string `json:"csv"`
	// Key is KeyUserName (the default) or KeyExternalID.
	Key string `json:"key,omitempty"`
	// Columns map headers to SCIM paths over the default mappings (see
	// Options.Columns).
	Columns map[string]string `json:"columns,omitempty"`
	// DryRun plans the import and writes nothing.
	DryRun bool `json:"dryRun,omitempty"`
	// DeleteMissing and Force are PlanOptions'.
	DeleteMissing bool `json:"deleteMissing,omitempty"`
	Force         bool `json:"force,omitempty"`
}

// Result is what an import did, or would do in a dry run.
type Result struct {
	Key    string `json:"key"`
	DryRun bool   `json:"dryRun"`
	Rows   int    `json:"rows"` // the file's data rows, bad ones included
	Counts Counts `json:"counts"`
	// Errors are the rows that failed, in the order of the file, then the
	// failures of groups and managers.
	Errors []RowError `json:"errors"`
	// IgnoredColumns are the headers no mapping knows.
	IgnoredColumns []string `json:"ignoredColumns"`
	// Refused says why delete-missing was refused, in which case nothing
	// was written and Counts are what the import would have done without
	// the disables; "" when it was not asked for or went ahead.
	Refused string `json:"refused,omitempty"`
}

// Progress is a line of an import's progress stream (application/x-ndjson):
// Done of Total users written, then a last line with the Result.
type Progress struct {
	Done   int     `json:"done"`
	Total  int     `json:"total"`
	Result *Result `json:"result,omitempty"`
}

// FileError is a file an import cannot use at all: no header, no key
// column, a mapping to a path the schema lacks. It is the caller's
// mistake, not the server's.
type FileError struct{ Err error }

func (e *FileError) Error() string { return e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

// Run reads req's file, plans it against the tenant's directory and,
// unless it is a dry run, carries the plan out (see Apply). progress, when
// not nil, follows the writes. A file that cannot be used is a
// *FileError.
func Run(ctx context.Context, st store.Store, tenantID string, rt *schema.ResourceType, req Request, progress func(done, total int)) (*Result, error) {
	f, err := Read(strings.NewReader(req.CSV), rt, Options{Key: req.Key, Columns: req.Columns})
	if err != nil {
		return nil, &FileError{err}
	}
	dir, err := LoadDirectory(ctx, st, tenantID, f.Key)
	if err != nil {
		return nil, err
	}
	p := MakePlan(f, rt, dir, PlanOptions{DeleteMissing: req.DeleteMissing, Force: req.Force})
	if req.DryRun || p.Refused != "" {
		return result(f, p, req.DryRun), nil
	}
	out, err := Apply(ctx, st, tenantID, rt, dir, p, progress)
	if err != nil {
		return nil, err
	}
	r := result(f, p, false)
	r.Counts, r.Errors = out.Counts, out.Errors
	if r.Errors == nil {
		r.Errors = []RowError{}
	}
	return r, nil
}

// result is the Result of a plan, before it is applied.
func result(f *File, p *Plan, dryRun bool) *Result {
	r := &Result{Key: f.Key, DryRun: dryRun, Rows: len(f.Rows) + len(f.Errors), Counts: p.Counts,
		Errors: p.Errors, IgnoredColumns: f.Ignored, Refused: p.Refused}
	if r.Errors == nil {
		r.Errors = []RowError{}
	}
	if r.IgnoredColumns == nil {
		r.IgnoredColumns = []string{}
	}
	return r
}
