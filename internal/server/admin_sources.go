package server

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/sourcesync"
)

// The directory's sources (ferry sources): see package sourcesync. A
// source is named by its name, ignoring case. Its bind password is
// write-only: no answer carries it.

// EnableSources serves the sources' routes of the admin API over r. Call
// it before Handler; without it, they answer 404.
func (s *Server) EnableSources(r *sourcesync.Runner) {
	s.sources = r
}

// sourcesOf returns the runner, or the 404 of a server without one.
func (s *Server) sourcesOf() (*sourcesync.Runner, error) {
	if s.sources == nil {
		return nil, scim.Errorf(http.StatusNotFound, "", "the directory's sources are not enabled on this server")
	}
	return s.sources, nil
}

// sourceError chooses the HTTP answer to the runner's errors; the store's
// are answered as everywhere else.
func sourceError(err error) error {
	switch {
	case errors.Is(err, sourcesync.ErrInvalid):
		return scim.BadRequest(scim.InvalidValue, "%s", err.Error())
	case errors.Is(err, sourcesync.ErrBusy), errors.Is(err, sourcesync.ErrOwnsObjects):
		return scim.Errorf(http.StatusConflict, "", "%s", err.Error())
	}
	return err
}

// withSources runs fn with the runner and answers its result with status.
func (s *Server) withSources(w http.ResponseWriter, status int, fn func(rn *sourcesync.Runner) (any, error)) error {
	rn, err := s.sourcesOf()
	if err != nil {
		return err
	}
	v, err := fn(rn)
	if err != nil {
		return sourceError(err)
	}
	writeAdminJSON(w, status, v)
	return nil
}

func (s *Server) adminListSources(w http.ResponseWriter, r *adminRequest) error {
	return s.withSources(w, http.StatusOK, func(rn *sourcesync.Runner) (any, error) {
		list, err := rn.List(r.Context(), r.tenant)
		return nonNil(list), err
	})
}

func (s *Server) adminCreateSource(w http.ResponseWriter, r *adminRequest) error {
	var in sourcesync.CreateInput
	if err := s.decodeAdminBody(w, r.Request, &in); err != nil {
		return err
	}
	return s.withSources(w, http.StatusCreated, func(rn *sourcesync.Runner) (any, error) {
		return rn.Create(r.Context(), r.tenant, in)
	})
}

func (s *Server) adminGetSource(w http.ResponseWriter, r *adminRequest) error {
	return s.withSources(w, http.StatusOK, func(rn *sourcesync.Runner) (any, error) {
		return rn.Get(r.Context(), r.tenant, r.params["name"])
	})
}

func (s *Server) adminSourceStatus(w http.ResponseWriter, r *adminRequest) error {
	return s.withSources(w, http.StatusOK, func(rn *sourcesync.Runner) (any, error) {
		src, err := rn.Get(r.Context(), r.tenant, r.params["name"])
		if err != nil {
			return nil, err
		}
		return src.Status, nil
	})
}

func (s *Server) adminUpdateSource(w http.ResponseWriter, r *adminRequest) error {
	var in sourcesync.UpdateInput
	if err := s.decodeAdminBody(w, r.Request, &in); err != nil {
		return err
	}
	return s.withSources(w, http.StatusOK, func(rn *sourcesync.Runner) (any, error) {
		return rn.Update(r.Context(), r.tenant, r.params["name"], in)
	})
}

func (s *Server) adminDeleteSource(w http.ResponseWriter, r *adminRequest) error {
	release, err := boolParam(r.URL.Query(), "release")
	if err != nil {
		return err
	}
	return s.withSources(w, http.StatusOK, func(rn *sourcesync.Runner) (any, error) {
		return rn.Delete(r.Context(), r.tenant, r.params["name"], release)
	})
}

// isSourceSync reports whether path is a source's sync, which may take as
// long as an import (see withTimeout).
func isSourceSync(path string) bool {
	rest, ok := strings.CutPrefix(path, adminPrefix+"/sources/")
	return ok && strings.HasSuffix(rest, "/sync") && strings.Count(rest, "/") == 1
}

// adminSyncSource runs a pass now and answers its record: a pass that
// failed or was guarded is a 200 whose outcome says so. It may take as
// long as an import (withTimeout).
func (s *Server) adminSyncSource(w http.ResponseWriter, r *adminRequest) error {
	q := r.URL.Query()
	full, err := boolParam(q, "full")
	if err != nil {
		return err
	}
	allowShrink, err := boolParam(q, "allow-shrink")
	if err != nil {
		return err
	}
	return s.withSources(w, http.StatusOK, func(rn *sourcesync.Runner) (any, error) {
		// A pass that has begun finishes and records its outcome even if
		// the client stops waiting: ferry sources status shows it then.
		return rn.Sync(context.WithoutCancel(r.Context()), r.tenant, r.params["name"], full, allowShrink)
	})
}
