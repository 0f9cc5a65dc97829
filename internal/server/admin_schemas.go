package server

import (
	"net/http"
	"net/url"

	"github.com/ferryid/ferry/internal/extensions"
)

// The admin API's extension schemas (package extensions): /schemas and
// below. A declaration takes effect on the tenant's next SCIM request
// (tenantCatalog).

func (s *Server) adminListSchemas(w http.ResponseWriter, r *adminRequest) error {
	list, err := s.extensions.List(r.Context(), r.tenant)
	return answer(w, list, err)
}

func (s *Server) adminAddSchema(w http.ResponseWriter, r *adminRequest) error {
	var in extensions.NewSchema
	if err := s.decodeAdminBody(w, r.Request, &in); err != nil {
		return err
	}
	v, err := s.extensions.Add(r.Context(), r.tenant, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", adminPrefix+"/schemas/"+url.PathEscape(v.ID))
	writeAdminJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) adminGetSchema(w http.ResponseWriter, r *adminRequest) error {
	v, err := s.extensions.Get(r.Context(), r.tenant, r.params["urn"])
	return answer(w, v, err)
}

// adminRemoveSchema removes a schema; one that resources hold values of
// is a 409 unless force=true, which removes the values too.
func (s *Server) adminRemoveSchema(w http.ResponseWriter, r *adminRequest) error {
	force, err := boolParam(r.URL.Query(), "force")
	if err != nil {
		return err
	}
	res, err := s.extensions.Remove(r.Context(), r.tenant, r.params["urn"], force)
	return answer(w, res, err)
}
