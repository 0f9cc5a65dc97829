package server

import (
	"net/http"

	"github.com/ferryid/ferry/internal/provision"
)

// The admin API's routes of the engine's safety net: the staged deletes of
// the accidental-deletion threshold, the plan of a cycle, and the audit log.

func (s *Server) adminAllowDeletes(w http.ResponseWriter, r *adminRequest) error {
	if err := r.admin.AllowDeletes(r.Context(), r.tenant, r.params["name"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) adminRejectDeletes(w http.ResponseWriter, r *adminRequest) error {
	if err := r.admin.RejectDeletes(r.Context(), r.tenant, r.params["name"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// adminPlan answers the plan of the saved configuration, or, when the body
// is a change of the application, the plan of that change, which is not
// saved.
func (s *Server) adminPlan(w http.ResponseWriter, r *adminRequest) error {
	var ch provision.AppChange
	given, err := s.decodeOptionalAdminBody(w, r.Request, &ch)
	if err != nil {
		return err
	}
	var plan *provision.Plan
	if given {
		plan, err = r.admin.PlanChange(r.Context(), r.tenant, r.params["name"], ch)
	} else {
		plan, err = r.admin.Plan(r.Context(), r.tenant, r.params["name"])
	}
	if err != nil {
		return err
	}
	writeAdminJSON(w, http.StatusOK, plan)
	return nil
}

func (s *Server) adminAudit(w http.ResponseWriter, r *adminRequest) error {
	limit, err := limitParam(r.URL.Query())
	if err != nil {
		return err
	}
	entries, err := r.admin.Audit(r.Context(), r.tenant, r.params["name"], r.URL.Query().Get("before"), limit)
	if err != nil {
		return err
	}
	writeAdminJSON(w, http.StatusOK, nonNil(entries))
	return nil
}
