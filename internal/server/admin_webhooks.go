package server

import (
	"net/http"
	"net/url"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/webhooks"
)

// The admin API's webhooks (package webhooks): /webhooks and below.

// EnableWebhooks serves the admin API's webhook routes over w. Without it
// they answer 404.
func (s *Server) EnableWebhooks(w *webhooks.Service) {
	s.webhooks = w
}

// hooks returns the webhook service, or the 404 of a server without one.
func (s *Server) hooks() (*webhooks.Service, error) {
	if s.webhooks == nil {
		return nil, scim.Errorf(http.StatusNotFound, "", "webhooks are not enabled on this server")
	}
	return s.webhooks, nil
}

// webhookPath is the admin API path of a webhook.
func webhookPath(id string) string {
	return adminPrefix + "/webhooks/" + url.PathEscape(id)
}

// adminCreateWebhook creates a webhook and answers it with its signing
// secret, the only time the secret is shown.
func (s *Server) adminCreateWebhook(w http.ResponseWriter, r *adminRequest) error {
	h, err := s.hooks()
	if err != nil {
		return err
	}
	var in webhooks.NewWebhook
	if err := s.decodeAdminBody(w, r.Request, &in); err != nil {
		return err
	}
	v, err := h.Create(r.Context(), r.tenant, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", webhookPath(v.ID))
	writeAdminJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) adminListWebhooks(w http.ResponseWriter, r *adminRequest) error {
	h, err := s.hooks()
	if err != nil {
		return err
	}
	list, err := h.List(r.Context(), r.tenant)
	if err != nil {
		return err
	}
	writeAdminJSON(w, http.StatusOK, list)
	return nil
}

func (s *Server) adminGetWebhook(w http.ResponseWriter, r *adminRequest) error {
	h, err := s.hooks()
	if err != nil {
		return err
	}
	v, err := h.Get(r.Context(), r.tenant, r.params["id"])
	if err != nil {
		return err
	}
	writeAdminJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) adminDeleteWebhook(w http.ResponseWriter, r *adminRequest) error {
	h, err := s.hooks()
	if err != nil {
		return err
	}
	if err := h.Delete(r.Context(), r.tenant, r.params["id"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// adminTestWebhook sends a signed ping now; a receiver that fails it is
// reported in the answer, not as an error.
func (s *Server) adminTestWebhook(w http.ResponseWriter, r *adminRequest) error {
	h, err := s.hooks()
	if err != nil {
		return err
	}
	res, err := h.Test(r.Context(), r.tenant, r.params["id"])
	if err != nil {
		return err
	}
	writeAdminJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) adminWebhookDeliveries(w http.ResponseWriter, r *adminRequest) error {
	h, err := s.hooks()
	if err != nil {
		return err
	}
	limit, err := limitParam(r.URL.Query())
	if err != nil {
		return err
	}
	log, err := h.Deliveries(r.Context(), r.tenant, r.params["id"], limit)
	if err != nil {
		return err
	}
	writeAdminJSON(w, http.StatusOK, log)
	return nil
}
