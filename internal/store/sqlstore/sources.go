package sqlstore

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlfilter"
)

// The sources table: store.Sources written once for both backends, which
// lend SourceStore their reads, writes and the reading of their drivers' errors
// (SourceDB). The statements are the same in both dialects but for their
// placeholders.

// SourceDB is what a backend lends SourceStore.
type SourceDB struct {
	// Backend names the backend in errors ("sqlite", "postgres").
	Backend string
	Dialect sqlfilter.Dialect
	// Read runs fn on a connection or snapshot that reads.
	Read func(ctx context.Context, fn func(Querier) error) error
	// Write runs fn in one write transaction.
	Write func(ctx context.Context, fn func(SourceTx) error) error
	// NameTaken reports whether err is the violation of the unique index
	// of sources' names (sources_name_key).
	NameTaken func(err error) bool
	// Lock ends the SELECT of a row that the write then updates: " FOR
	// UPDATE" where rows are locked, "" where the write is alone.
	Lock string
}

// SourceTx is a backend's write as SourceStore uses it.
type SourceTx interface {
	Querier
	// Exec runs a statement and returns the number of rows it changed.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	// Now is the write's time, to the millisecond.
	Now() time.Time
	// LeaseNow is the time leases are held against: the database
	// server's clock where replicas share one.
	LeaseNow(ctx context.Context) (time.Time, error)
}

// SourceStore implements store.Sources on a SourceDB.
type SourceStore struct{ DB SourceDB }

// MaxSourceName bounds a source's name, in characters.
const MaxSourceName = 64

const sourceColumns = `id, tenant_id, name, type, config, secret, enabled, version, created_at, last_modified,
	state, lease_owner, lease_expires, lease_generation`

// sql returns q with its $N placeholders in the backend's dialect.
func (s SourceStore) sql(q string) string { return inDialect(s.DB.Dialect, q) }

// inDialect returns q, written with $N placeholders, in dialect d's.
func inDialect(d sqlfilter.Dialect, q string) string {
	if _, ok := d.(sqlfilter.Postgres); ok {
		return q
	}
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		if q[i] != '$' {
			b.WriteByte(q[i])
			continue
		}
		j := i + 1
		for j < len(q) && q[j] >= '0' && q[j] <= '9' {
			j++
		}
		n, _ := strconv.Atoi(q[i+1 : j])
		b.WriteString(d.Placeholder(n))
		i = j - 1
	}
	return b.String()
}

func scanSource(row Row) (*store.Source, error) {
	var src store.Source
	if err := row.Scan(&src.ID, &src.TenantID, &src.Name, &src.Type, &src.Config, &src.Secret, &src.Enabled, &src.Version,
		TextTime(&src.Created), TextTime(&src.LastModified), &src.State, &src.Lease.Owner, TextTime(&src.Lease.Expires),
		&src.Lease.Generation); err != nil {
		return nil, err
	}
	return &src, nil
}

func sourceNotFound(what string) *store.Error {
	return store.NotFound("source %q not found", what)
}

func (s SourceStore) wrap(err error, format string, args ...any) error {
	return Wrap(err, s.DB.Backend+": "+format, args...)
}

func checkSource(src *store.Source) error {
	switch n := utf8.RuneCountInString(src.Name); {
	case n == 0:
		return store.Invalid("a source needs a name")
	case n > MaxSourceName:
		return store.Invalid("a source's name has at most %d characters", MaxSourceName)
	case !utf8.ValidString(src.Name) || strings.ContainsRune(src.Name, 0):
		return store.Invalid("source name %q is not valid text", src.Name)
	}
	if src.Type == "" {
		return store.Invalid("source %q has no type", src.Name)
	}
	return CheckJSON("source config", src.Config)
}

// CreateSource implements store.Sources.
func (s SourceStore) CreateSource(ctx context.Context, src *store.Source) error {
	if err := checkSource(src); err != nil {
		return err
	}
	c := *src
	if c.ID == "" {
		c.ID = store.NewID()
	}
	var now time.Time
	err := s.DB.Write(ctx, func(w SourceTx) error {
		now = w.Now()
		_, err := w.Exec(ctx, s.sql(`INSERT INTO sources (id, tenant_id, name, name_key, type, config, secret, enabled,
			version, created_at, last_modified, lease_owner, lease_generation) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $9, '', 0)`),
			c.ID, c.TenantID, c.Name, sqlfilter.FoldKey(c.Name), c.Type, JSONText(c.Config), Blob(c.Secret), c.Enabled,
			sqlfilter.TimeKey(now))
		if err != nil && s.DB.NameTaken(err) {
			return store.Errorf(store.ErrNameTaken, "a source named %q already exists", c.Name)
		}
		return err
	})
	if err != nil {
		return s.wrap(err, "create source %s", c.Name)
	}
	c.Version, c.Created, c.LastModified, c.State, c.Lease = 1, now, now, nil, store.SourceLease{}
	*src = c
	return nil
}

func (s SourceStore) read(ctx context.Context, what, where string, args ...any) (*store.Source, error) {
	var src *store.Source
	err := s.DB.Read(ctx, func(q Querier) (err error) {
		src, err = scanSource(q.QueryRow(ctx, s.sql(`SELECT `+sourceColumns+` FROM sources WHERE `+where), args...))
		return NoRowsAs(err, sourceNotFound(what))
	})
	return src, s.wrap(err, "read source %s", what)
}

// Source implements store.Sources.
func (s SourceStore) Source(ctx context.Context, tenantID, id string) (*store.Source, error) {
	return s.read(ctx, id, `tenant_id = $1 AND id = $2`, tenantID, id)
}

// SourceByName implements store.Sources.
func (s SourceStore) SourceByName(ctx context.Context, tenantID, name string) (*store.Source, error) {
	return s.read(ctx, name, `tenant_id = $1 AND name_key = $2`, tenantID, sqlfilter.FoldKey(name))
}

// Sources implements store.Sources.
func (s SourceStore) Sources(ctx context.Context, tenantID string) ([]*store.Source, error) {
	query, args := `SELECT `+sourceColumns+` FROM sources ORDER BY tenant_id, name_key`, []any(nil)
	if tenantID != "" {
		query, args = s.sql(`SELECT `+sourceColumns+` FROM sources WHERE tenant_id = $1 ORDER BY name_key`), []any{tenantID}
	}
	var out []*store.Source
	err := s.DB.Read(ctx, func(q Querier) (err error) {
		out, err = List(ctx, q, scanSource, query, args...)
		return err
	})
	return out, s.wrap(err, "list sources")
}

// UpdateSource implements store.Sources.
func (s SourceStore) UpdateSource(ctx context.Context, tenantID, id string, ifVersion int64, change func(*store.Source) error) (*store.Source, error) {
	var out *store.Source
	err := s.DB.Write(ctx, func(w SourceTx) error {
		cur, err := scanSource(w.QueryRow(ctx, s.sql(`SELECT `+sourceColumns+` FROM sources WHERE tenant_id = $1 AND id = $2`+s.DB.Lock), tenantID, id))
		if err != nil {
			return NoRowsAs(err, sourceNotFound(id))
		}
		if ifVersion != 0 && cur.Version != ifVersion {
			return VersionMismatch("source", cur.Name, cur.Version, ifVersion)
		}
		next := *cur
		next.Config, next.Secret = bytes.Clone(cur.Config), bytes.Clone(cur.Secret)
		if err := change(&next); err != nil {
			return err
		}
		// What change cannot set.
		next.ID, next.TenantID, next.Name, next.Type, next.Version, next.Created, next.LastModified, next.State, next.Lease =
			cur.ID, cur.TenantID, cur.Name, cur.Type, cur.Version, cur.Created, cur.LastModified, cur.State, cur.Lease
		if err := checkSource(&next); err != nil {
			return err
		}
		if bytes.Equal(next.Config, cur.Config) && bytes.Equal(next.Secret, cur.Secret) && next.Enabled == cur.Enabled {
			out = cur
			return nil
		}
		now := w.Now()
		if _, err := w.Exec(ctx, s.sql(`UPDATE sources SET config = $3, secret = $4, enabled = $5, version = version + 1,
			last_modified = $6 WHERE tenant_id = $1 AND id = $2`), tenantID, id, JSONText(next.Config), Blob(next.Secret),
			next.Enabled, sqlfilter.TimeKey(now)); err != nil {
			return err
		}
		next.Version++
		next.LastModified = now
		out = &next
		return nil
	})
	if err != nil {
		return nil, s.wrap(err, "update source %s", id)
	}
	return out, nil
}

// DeleteSource implements store.Sources.
func (s SourceStore) DeleteSource(ctx context.Context, tenantID, id string) error {
	err := s.DB.Write(ctx, func(w SourceTx) error {
		n, err := w.Exec(ctx, s.sql(`DELETE FROM sources WHERE tenant_id = $1 AND id = $2`), tenantID, id)
		if err == nil && n == 0 {
			err = sourceNotFound(id)
		}
		return err
	})
	return s.wrap(err, "delete source %s", id)
}

// ClaimSource implements store.Sources. The generation grows when the
// lease passes to an owner that did not hold it unexpired, as ClaimJob's.
func (s SourceStore) ClaimSource(ctx context.Context, id, owner string, ttl time.Duration) (store.SourceLease, bool, error) {
	if owner == "" || ttl <= 0 {
		return store.SourceLease{}, false, fmt.Errorf("%s: claim source %s: an owner and a positive ttl are needed", s.DB.Backend, id)
	}
	var lease store.SourceLease
	var held bool
	err := s.DB.Write(ctx, func(w SourceTx) error {
		now, err := w.LeaseNow(ctx)
		if err != nil {
			return err
		}
		n, err := w.Exec(ctx, s.sql(`UPDATE sources SET lease_owner = $2, lease_expires = $3,
			lease_generation = CASE WHEN lease_owner = $2 AND lease_expires > $4 THEN lease_generation ELSE lease_generation + 1 END
			WHERE id = $1 AND (lease_owner = $2 OR lease_owner = '' OR lease_expires IS NULL OR lease_expires <= $4)`),
			id, owner, sqlfilter.TimeKey(now.Add(ttl)), sqlfilter.TimeKey(now))
		if err != nil {
			return err
		}
		held = n == 1
		lease, err = s.lease(ctx, w, id)
		return err
	})
	if err != nil {
		return store.SourceLease{}, false, s.wrap(err, "claim source %s", id)
	}
	return lease, held, nil
}

func (s SourceStore) lease(ctx context.Context, q Querier, id string) (store.SourceLease, error) {
	var l store.SourceLease
	err := q.QueryRow(ctx, s.sql(`SELECT lease_owner, lease_expires, lease_generation FROM sources WHERE id = $1`+s.DB.Lock), id).
		Scan(&l.Owner, TextTime(&l.Expires), &l.Generation)
	return l, NoRowsAs(err, sourceNotFound(id))
}

// ReleaseSource implements store.Sources.
func (s SourceStore) ReleaseSource(ctx context.Context, id, owner string) error {
	err := s.DB.Write(ctx, func(w SourceTx) error {
		now, err := w.LeaseNow(ctx)
		if err != nil {
			return err
		}
		_, err = w.Exec(ctx, s.sql(`UPDATE sources SET lease_owner = '', lease_expires = CASE WHEN lease_expires > $3 THEN $3
			ELSE lease_expires END WHERE id = $1 AND lease_owner = $2 AND lease_owner <> ''`), id, owner, sqlfilter.TimeKey(now))
		return err
	})
	return s.wrap(err, "release source %s", id)
}

// PutSourceState implements store.Sources.
func (s SourceStore) PutSourceState(ctx context.Context, id string, fence store.SourceLease, state []byte) error {
	if err := CheckJSON("source state", state); err != nil {
		return err
	}
	err := s.DB.Write(ctx, func(w SourceTx) error {
		cur, err := s.lease(ctx, w, id)
		if err != nil {
			return err
		}
		now, err := w.LeaseNow(ctx)
		if err != nil {
			return err
		}
		switch {
		case fence.Owner == "":
			return fmt.Errorf("%w: the fence names no owner", store.ErrLeaseLost)
		case cur.Owner != fence.Owner || cur.Generation != fence.Generation:
			return fmt.Errorf("%w: %s's lease of generation %d is gone: the lease is at generation %d, held by %q",
				store.ErrLeaseLost, fence.Owner, fence.Generation, cur.Generation, cur.Owner)
		case !cur.Held(now):
			return fmt.Errorf("%w: %s's lease of generation %d expired at %s", store.ErrLeaseLost,
				fence.Owner, fence.Generation, cur.Expires.UTC().Format(time.RFC3339Nano))
		}
		_, err = w.Exec(ctx, s.sql(`UPDATE sources SET state = $2 WHERE id = $1`), id, JSONText(state))
		return err
	})
	return s.wrap(err, "write state of source %s", id)
}
