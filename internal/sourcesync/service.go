package sourcesync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ferryid/ferry/internal/ldapsource"
	"github.com/ferryid/ferry/internal/store"
)

// What the admin API asks of the sources, and the answers it gives.

// Source is a source as the admin API shows it: never its password.
type Source struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Type         string    `json:"type"`
	Enabled      bool      `json:"enabled"`
	Version      int64     `json:"version"`
	Created      time.Time `json:"created"`
	LastModified time.Time `json:"lastModified"`
	Config       Config    `json:"config"`
	// BindPasswordSet says that a bind password is stored; it is
	// write-only.
	BindPasswordSet bool   `json:"bindPasswordSet"`
	Status          Status `json:"status"`
}

// Status is where a source's passes stand.
type Status struct {
	// State is "off" (not enabled: no scheduled passes), "running" (a
	// pass holds the lease) or "idle".
	State string `json:"state"`
	// RunningIn names the process running a pass.
	RunningIn string `json:"runningIn,omitempty"`
	Last      *Pass  `json:"last,omitempty"`
	// LastSuccess is when the last pass that finished ended.
	LastSuccess time.Time `json:"lastSuccess,omitzero"`
	Mark        *Mark     `json:"mark,omitempty"`
	NextPass    time.Time `json:"nextPass,omitzero"`
	NextFull    time.Time `json:"nextFull,omitzero"`
}

// CreateInput is a new source.
type CreateInput struct {
	Name         string `json:"name"`
	Type         string `json:"type,omitempty"` // "ldap", the default
	Config       Config `json:"config"`
	BindPassword string `json:"bindPassword,omitempty"`
	// Enabled: scheduled passes run; true when absent.
	Enabled *bool `json:"enabled,omitempty"`
}

// UpdateInput changes a source; absent fields stay as they are.
type UpdateInput struct {
	Enabled *bool `json:"enabled,omitempty"`
	// Config replaces the configuration whole.
	Config       *Config `json:"config,omitempty"`
	BindPassword *string `json:"bindPassword,omitempty"`
	// Version, when not zero, is the version the change was made against:
	// a source changed since is not updated.
	Version int64 `json:"version,omitempty"`
}

// DeleteResult says what became of a deleted source's objects.
type DeleteResult struct {
	Name           string `json:"name"`
	ReleasedUsers  int    `json:"releasedUsers"`
	ReleasedGroups int    `json:"releasedGroups"`
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// check validates cfg with password as the source name would run.
func check(name string, cfg Config, password string) error {
	if err := cfg.LDAP(name, password).Validate(); err != nil {
		return invalid("%s", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return nil
}

// Create stores a new source of the tenant.
func (r *Runner) Create(ctx context.Context, tenantID string, in CreateInput) (*Source, error) {
	if in.Type == "" {
		in.Type = store.SourceTypeLDAP
	}
	if in.Type != store.SourceTypeLDAP {
		return nil, invalid("type %q is not a source type: the type is %q (LDAP and Active Directory)", in.Type, store.SourceTypeLDAP)
	}
	if err := check(in.Name, in.Config, in.BindPassword); err != nil {
		return nil, err
	}
	cfg, err := json.Marshal(in.Config)
	if err != nil {
		return nil, err
	}
	src := &store.Source{ID: store.NewID(), TenantID: tenantID, Name: in.Name, Type: in.Type, Config: cfg,
		Enabled: in.Enabled == nil || *in.Enabled}
	if in.BindPassword != "" {
		src.Secret = r.sealer.Seal([]byte(in.BindPassword), sealContext(src.ID))
	}
	if err := r.st.CreateSource(ctx, src); err != nil {
		return nil, err
	}
	return r.view(src)
}

// Get reads a source by name, ignoring case.
func (r *Runner) Get(ctx context.Context, tenantID, name string) (*Source, error) {
	src, err := r.st.SourceByName(ctx, tenantID, name)
	if err != nil {
		return nil, err
	}
	return r.view(src)
}

// List lists the tenant's sources by name.
func (r *Runner) List(ctx context.Context, tenantID string) ([]*Source, error) {
	srcs, err := r.st.Sources(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := make([]*Source, 0, len(srcs))
	for _, src := range srcs {
		v, err := r.view(src)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Update changes a source's configuration, password or enabled state.
// The change is checked whole before it is saved; a running pass finishes
// with the configuration it started with.
func (r *Runner) Update(ctx context.Context, tenantID, name string, in UpdateInput) (*Source, error) {
	cur, err := r.st.SourceByName(ctx, tenantID, name)
	if err != nil {
		return nil, err
	}
	if in.Version != 0 && in.Version != cur.Version {
		return nil, store.Errorf(store.ErrVersionMismatch, "source %q is at version %d, not %d", cur.Name, cur.Version, in.Version)
	}
	cfg, err := decodeConfig(cur.Config)
	if err != nil {
		return nil, err
	}
	password, err := r.password(cur)
	if err != nil {
		return nil, err
	}
	if in.Config != nil {
		cfg = *in.Config
	}
	if in.BindPassword != nil {
		password = *in.BindPassword
	}
	if err := check(cur.Name, cfg, password); err != nil {
		return nil, err
	}
	config, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	// Written on the condition of the version read: a change made
	// meanwhile is not overwritten with this one's checks.
	src, err := r.st.UpdateSource(ctx, tenantID, cur.ID, cur.Version, func(s *store.Source) error {
		s.Config = config
		if in.BindPassword != nil {
			s.Secret = nil
			if password != "" {
				s.Secret = r.sealer.Seal([]byte(password), sealContext(s.ID))
			}
		}
		if in.Enabled != nil {
			s.Enabled = *in.Enabled
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r.view(src)
}

// Sync runs a pass of the source now, full when asked (or when due), and
// returns its record. allowShrink lets the pass through the read guard's
// shrink check once. A pass running already is ErrBusy.
func (r *Runner) Sync(ctx context.Context, tenantID, name string, full, allowShrink bool) (*Pass, error) {
	src, end, err := r.claimHere(ctx, tenantID, name)
	if err != nil {
		return nil, err
	}
	defer end()
	return r.pass(ctx, src, full, allowShrink, "manual")
}

// claimHere reads the source called name and marks it as busy in this
// process, unless a pass of it runs here; end unmarks it.
func (r *Runner) claimHere(ctx context.Context, tenantID, name string) (src *store.Source, end func(), err error) {
	if src, err = r.st.SourceByName(ctx, tenantID, name); err != nil {
		return nil, nil, err
	}
	if !r.begin(src.ID) {
		return nil, nil, fmt.Errorf("%w: this server runs a pass of source %s; try again when it ends", ErrBusy, src.Name)
	}
	return src, func() { r.end(src.ID) }, nil
}

// Delete deletes a source. A source that owns objects in the directory is
// refused (ErrOwnsObjects) unless release is set: then its objects are
// released first, their externalId (the source's marker) removed, and they
// stay in the directory as objects SCIM clients and administrators manage.
// No pass runs meanwhile: Delete holds the source's lease.
func (r *Runner) Delete(ctx context.Context, tenantID, name string, release bool) (*DeleteResult, error) {
	src, end, err := r.claimHere(ctx, tenantID, name)
	if err != nil {
		return nil, err
	}
	defer end()
	res := &DeleteResult{Name: src.Name}
	err = r.withLease(ctx, src, func(ctx context.Context, f *fence) error {
		owned, err := ldapsource.LoadOwned(ctx, r.st, tenantID, src.Name)
		if err != nil {
			return err
		}
		if n := len(owned.Users) + len(owned.Groups); n > 0 && !release {
			return fmt.Errorf("%w: source %s owns %d users and %d groups; delete with release (ferry sources delete %s --release, "+
				"or ?release=true) to keep them as ordinary objects, their externalId removed", ErrOwnsObjects,
				src.Name, len(owned.Users), len(owned.Groups), src.Name)
		}
		marker := ldapsource.Marker(src.Name)
		for typ, objs := range map[string]map[string]*store.Resource{store.UserType: owned.Users, store.GroupType: owned.Groups} {
			for _, o := range objs {
				if err := f.check(ctx); err != nil {
					return err
				}
				_, err := r.st.Update(ctx, tenantID, typ, o.ID, 0, func(cur *store.Resource) error {
					if ext, _ := cur.Doc.String("externalId"); strings.HasPrefix(ext, marker) {
						delete(cur.Doc, "externalId")
					}
					return nil
				})
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("release %s %s: %w", strings.ToLower(typ), o.ID, err)
				}
				if typ == store.UserType {
					res.ReleasedUsers++
				} else {
					res.ReleasedGroups++
				}
			}
		}
		return r.st.DeleteSource(ctx, tenantID, src.ID)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// view is src as the admin API shows it.
func (r *Runner) view(src *store.Source) (*Source, error) {
	cfg, err := decodeConfig(src.Config)
	if err != nil {
		return nil, err
	}
	st, err := decodeState(src.State)
	if err != nil {
		return nil, err
	}
	v := &Source{ID: src.ID, Name: src.Name, Type: src.Type, Enabled: src.Enabled, Version: src.Version, Created: src.Created,
		LastModified: src.LastModified, Config: cfg, BindPasswordSet: len(src.Secret) > 0,
		Status: Status{State: "idle", Last: st.Last, LastSuccess: st.LastSuccess, Mark: st.Mark, NextPass: st.NextPass, NextFull: st.NextFull}}
	switch {
	case src.Lease.Held(r.opts.Now()):
		v.Status.State, v.Status.RunningIn = "running", src.Lease.Owner
	case !src.Enabled:
		v.Status.State = "off"
	}
	return v, nil
}
