package sqlite

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"

	"github.com/ferryid/ferry/internal/store"
	"github.com/ferryid/ferry/internal/store/sqlstore"
)

// ErrNotOwner is returned by Open with Options.Owner when another process
// holds the database's owner lock: another ferry serve serves it.
var ErrNotOwner = errors.New("another process serves this database")

// ownerLockSuffix names the owner lock file, next to the database.
const ownerLockSuffix = "-serve.lock"

// takeOwnership locks path's owner lock file for the life of the process
// (or until release), without waiting. The lock is the operating system's
// (flock), so it ends with the process however the process ends.
func takeOwnership(path string) (release func(), err error) {
	f, err := os.OpenFile(path+ownerLockSuffix, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: owner lock: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("sqlite: %s: %w (%v)", path, ErrNotOwner, err)
	}
	fmt.Fprintf(f, "%d\n", os.Getpid())
	return sync.OnceFunc(func() { f.Close() }), nil
}

// WatchCommits implements store.CommitWatcher: when the store was opened
// with Options.Owner, every write to the directory goes through its
// writer, which calls fn after each commit and before the commit's
// writes return. Resource writes from other processes are excluded by the
// owner lock: the CLI commands that open the database themselves (ferry
// tokens, ferry admins, ferry migrate) write no resources.
func (s *Store) WatchCommits(fn func(store.Commit)) bool {
	if !s.owner {
		return false
	}
	s.watchMu.Lock()
	defer s.watchMu.Unlock()
	s.watchers = append(s.watchers, fn)
	return true
}

// notify tells the watchers of a commit; the writer calls it.
func (s *Store) notify(c store.Commit) {
	if len(c.Resources) == 0 && len(c.Schemas) == 0 {
		return
	}
	s.catalogs.Invalidate(c.Schemas)
	s.watchMu.Lock()
	watchers := s.watchers
	s.watchMu.Unlock()
	for _, fn := range watchers {
		fn(c)
	}
}

// changed records that the write changed a resource (or its memberships)
// by op.
func (w *wtx) changed(tenant, typ, id string, op store.ChangeOp) {
	w.commit.Resources = append(w.commit.Resources, store.ResourceKey{TenantID: tenant, Type: typ, ID: id})
	if op == store.OpCreate || op == store.OpDelete {
		tt := store.TenantType{TenantID: tenant, Type: typ}
		if !slices.Contains(w.commit.Reordered, tt) {
			w.commit.Reordered = append(w.commit.Reordered, tt)
		}
	}
}

// wroteRow records the row a create (created) or an update wrote of r,
// as it now stands, with d its row form.
func (w *wtx) wroteRow(r *store.Resource, d sqlstore.Document, created bool) {
	w.commit.Rows = append(w.commit.Rows, store.CommitRow{
		Key:     store.ResourceKey{TenantID: r.TenantID, Type: r.Type, ID: r.ID},
		Version: r.Version, Created: r.Created, LastModified: r.LastModified, DocJSON: r.DocJSON,
		NameKey: d.NameKey.String, Display: d.Display.String, New: created,
	})
}

// wroteEdges records that the write added (or removed) the members ms of
// the group.
func (w *wtx) wroteEdges(tenantID string, group sqlstore.Member, ms []sqlstore.Member, removed bool) {
	g := store.Member{ID: group.ID, Type: store.GroupType, Display: group.Display.String}
	for _, m := range ms {
		w.commit.Edges = append(w.commit.Edges, store.EdgeChange{TenantID: tenantID, Group: g,
			Member: store.Member{ID: m.ID, Type: m.Type, Display: m.Display.String}, Removed: removed})
	}
}
