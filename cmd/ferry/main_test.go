package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ferryid/ferry/internal/storeopen"
)

// runCommand runs the ferry command in-process as main does, and returns
// its output and exit status.
func runCommand(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runCommandContext(t, context.Background(), stdin, args...)
}

// runCommandContext is runCommand with a context, which Ctrl-C cancels in
// main.
func runCommandContext(t *testing.T, ctx context.Context, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := newRootCommand()
	var out, errs bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errs)
	cmd.SetIn(strings.NewReader(stdin))
	if err := cmd.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(&errs, "ferry:", err)
		return out.String(), errs.String(), 1
	}
	return out.String(), errs.String(), 0
}

// isPostgres reports whether a --database value names a PostgreSQL
// database, for the end-to-end tests that run on either.
func isPostgres(database string) bool { return storeopen.IsPostgres(database) }
