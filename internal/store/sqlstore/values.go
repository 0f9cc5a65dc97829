package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlfilter"
)

// JSONText is what a column holding a JSON document is bound to: its
// text, or NULL for none (nil or empty alike). Text, which a SQLite TEXT
// column keeps as it is (a []byte would be stored as a BLOB) and a
// PostgreSQL json one takes as it is.
func JSONText(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

// Blob is what a column of bytes (a SQLite BLOB, a PostgreSQL bytea) is
// bound to: b, or NULL for none (nil or empty alike).
func Blob(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// TextTime is a scan destination for a time stored as text in
// sqlfilter.TimeLayout, which database/sql and pgx read alike:
// row.Scan(TextTime(&t)). A NULL leaves t as it is.
func TextTime(t *time.Time) sql.Scanner { return textTime{t} }

type textTime struct{ t *time.Time }

func (d textTime) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case nil:
		return nil
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Errorf("a time is stored as text, not as %T", src)
	}
	t, err := time.Parse(sqlfilter.TimeLayout, s)
	if err != nil {
		return err
	}
	*d.t = t
	return nil
}

// NoRows reports whether err is a one-row query's finding no row: both
// database/sql's sql.ErrNoRows and pgx's pgx.ErrNoRows, which wraps it.
func NoRows(err error) bool {
	return errors.Is(err, sql.ErrNoRows)
}

// NoRowsAs returns notFound when err is a one-row query's finding no row
// (see NoRows), and err otherwise.
func NoRowsAs(err, notFound error) error {
	if NoRows(err) {
		return notFound
	}
	return err
}

// Wrap returns err as a backend returns it: prefixed with what was being
// done, which names the backend ("sqlite: read application x"), unless
// it is nil or a caller's mistake (a *store.Error), whose detail is
// written for the client and says enough.
func Wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[*store.Error](err); ok {
		return err
	}
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), err)
}

// defaultPage and maxPage bound a page of the provisioning records that
// are listed a page at a time: provisioning logs, escrows and audit
// entries.
const (
	defaultPage = 100
	maxPage     = 1000
)

// PageLimit is the page size of a LogQuery, an EscrowQuery or an
// AuditQuery whose Limit is n: 100 when n is zero, at most 1000.
func PageLimit(n int) int {
	switch {
	case n <= 0:
		return defaultPage
	case n > maxPage:
		return maxPage
	}
	return n
}

// checkedWrite is the shape of the writes whose flow this package holds:
// check what the caller gave before the write, run the backend's write,
// which returns its time, and once it has committed set what the caller
// gave from what was stored.
func checkedWrite[T any](check func() (T, error), write func(T) (time.Time, error), done func(T, time.Time)) error {
	v, err := check()
	if err != nil {
		return err
	}
	now, err := write(v)
	if err != nil {
		return err
	}
	done(v, now)
	return nil
}
