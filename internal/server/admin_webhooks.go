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

// webhookHandler is a webhook route's handler, given the webhook service.
type webhookHandler func(s *Server, h *webhooks.Service, w http.ResponseWriter, r *adminRequest) error

// withWebhooks serves a webhook route: the 404 of a server without
// webhooks, else fn.
func withWebhooks(fn webhookHandler) func(*Server, http.ResponseWriter, *adminRequest) error {
	return func(s *Server, w http.ResponseWriter, r *adminRequest) error {
		if s.webhooks == nil {
			return scim.Errorf(http.StatusNotFound, "", "webhooks are not enabled on this server")
		}
		return fn(s, s.webhooks, w, r)
	}
}

// answer writes v as a 200, or returns err.
func answer[T any](w http.ResponseWriter, v T, err error) error {
	if err != nil {
		return err
	}
	writeAdminJSON(w, http.StatusOK, v)
	return nil
}

// adminCreateWebhook creates a webhook and answers it with its signing
// secret, the only time the secret is shown.
func (s *Server) adminCreateWebhook(h *webhooks.Service, w http.ResponseWriter, r *adminRequest) error {
	var in webhooks.NewWebhook
	if err := s.decodeAdminBody(w, r.Request, &in); err != nil {
		return err
	}
	v, err := h.Create(r.Context(), r.tenant, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", adminPrefix+"/webhooks/"+url.PathEscape(v.ID))
	writeAdminJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) adminListWebhooks(h *webhooks.Service, w http.ResponseWriter, r *adminRequest) error {
	list, err := h.List(r.Context(), r.tenant)
	return answer(w, list, err)
}

func (s *Server) adminGetWebhook(h *webhooks.Service, w http.ResponseWriter, r *adminRequest) error {
	v, err := h.Get(r.Context(), r.tenant, r.params["id"])
	return answer(w, v, err)
}

func (s *Server) adminDeleteWebhook(h *webhooks.Service, w http.ResponseWriter, r *adminRequest) error {
	if err := h.Delete(r.Context(), r.tenant, r.params["id"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// adminTestWebhook sends a signed ping now; a receiver that fails it is
// reported in the answer, not as an error.
func (s *Server) adminTestWebhook(h *webhooks.Service, w http.ResponseWriter, r *adminRequest) error {
	res, err := h.Test(r.Context(), r.tenant, r.params["id"])
	return answer(w, res, err)
}

func (s *Server) adminWebhookDeliveries(h *webhooks.Service, w http.ResponseWriter, r *adminRequest) error {
	limit, err := limitParam(r.URL.Query())
	if err != nil {
		return err
	}
	log, err := h.Deliveries(r.Context(), r.tenant, r.params["id"], limit)
	return answer(w, log, err)
}
