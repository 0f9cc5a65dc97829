package server

import (
	"net/http"
	"strconv"

	"github.com/ferryid/ferry/internal/directory"
	"github.com/ferryid/ferry/internal/scim"
)

// The directory's routes of the admin API (ferry users, ferry groups):
// see package directory. Users and groups are named by userName or
// displayName, or by id.

// directoryQuery is what a listing of users or groups takes.
var directoryQuery = []string{"filter", "offset", "limit"}

// listArgs reads a listing's filter, offset and limit.
func listArgs(r *adminRequest) (filterText string, offset, limit int, err error) {
	q := r.URL.Query()
	for name, dst := range map[string]*int{"offset": &offset, "limit": &limit} {
		if v := q.Get(name); v != "" {
			if *dst, err = strconv.Atoi(v); err != nil {
				return "", 0, 0, scim.BadRequest(scim.InvalidValue, "%s must be a number, not %q", name, v)
			}
		}
	}
	return q.Get("filter"), offset, limit, nil
}

func (s *Server) adminListUsers(w http.ResponseWriter, r *adminRequest) error {
	f, offset, limit, err := listArgs(r)
	if err != nil {
		return err
	}
	users, total, err := s.directory.Users(r.Context(), r.tenant, f, offset, limit)
	if err != nil {
		return err
	}
	writeAdminJSON(w, http.StatusOK, directory.UserList{Users: users, Total: total})
	return nil
}

func (s *Server) adminCreateUser(w http.ResponseWriter, r *adminRequest) error {
	var in directory.NewUser
	if err := s.decodeAdminBody(w, r.Request, &in); err != nil {
		return err
	}
	u, err := s.directory.CreateUser(r.Context(), r.tenant, in)
	if err != nil {
		return err
	}
	writeAdminJSON(w, http.StatusCreated, u)
	return nil
}

func (s *Server) adminGetUser(w http.ResponseWriter, r *adminRequest) error {
	u, err := s.directory.User(r.Context(), r.tenant, r.params["name"])
	if err != nil {
		return err
	}
	writeAdminJSON(w, http.StatusOK, u)
	return nil
}

func (s *Server) adminDeleteUser(w http.ResponseWriter, r *adminRequest) error {
	if err := s.directory.DeleteUser(r.Context(), r.tenant, r.params["name"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) adminDisableUser(w http.ResponseWriter, r *adminRequest) error {
	return s.setActive(w, r, false)
}

func (s *Server) adminEnableUser(w http.ResponseWriter, r *adminRequest) error {
	return s.setActive(w, r, true)
}

func (s *Server) setActive(w http.ResponseWriter, r *adminRequest, active bool) error {
	u, _, err := s.directory.SetActive(r.Context(), r.tenant, r.params["name"], active)
	if err != nil {
		return err
	}
	writeAdminJSON(w, http.StatusOK, u)
	return nil
}

func (s *Server) adminListGroups(w http.ResponseWriter, r *adminRequest) error {
	f, offset, limit, err := listArgs(r)
	if err != nil {
		return err
	}
	groups, total, err := s.directory.Groups(r.Context(), r.tenant, f, offset, limit)
	if err != nil {
		return err
	}
	writeAdminJSON(w, http.StatusOK, directory.GroupList{Groups: groups, Total: total})
	return nil
}

func (s *Server) adminCreateGroup(w http.ResponseWriter, r *adminRequest) error {
	var in directory.NewGroup
	if err := s.decodeAdminBody(w, r.Request, &in); err != nil {
		return err
	}
	g, err := s.directory.CreateGroup(r.Context(), r.tenant, in.DisplayName)
	if err != nil {
		return err
	}
	writeAdminJSON(w, http.StatusCreated, g)
	return nil
}

func (s *Server) adminGetGroup(w http.ResponseWriter, r *adminRequest) error {
	g, err := s.directory.Group(r.Context(), r.tenant, r.params["name"])
	if err != nil {
		return err
	}
	writeAdminJSON(w, http.StatusOK, g)
	return nil
}

func (s *Server) adminDeleteGroup(w http.ResponseWriter, r *adminRequest) error {
	if err := s.directory.DeleteGroup(r.Context(), r.tenant, r.params["name"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) adminAddMember(w http.ResponseWriter, r *adminRequest) error {
	var in directory.NewMember
	if err := s.decodeAdminBody(w, r.Request, &in); err != nil {
		return err
	}
	g, _, err := s.directory.AddMember(r.Context(), r.tenant, r.params["name"], in.User)
	if err != nil {
		return err
	}
	writeAdminJSON(w, http.StatusOK, g)
	return nil
}

func (s *Server) adminRemoveMember(w http.ResponseWriter, r *adminRequest) error {
	g, _, err := s.directory.RemoveMember(r.Context(), r.tenant, r.params["name"], r.params["user"])
	if err != nil {
		return err
	}
	writeAdminJSON(w, http.StatusOK, g)
	return nil
}
