package server

import (
	"net/http"
	"strings"
	"time"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/schema"
)

// serviceProviderConfig answers /ServiceProviderConfig (RFC 7643 §5) with
// what this server actually does and its real limits.
func (s *Server) serviceProviderConfig(w http.ResponseWriter, r *http.Request) {
	base := baseURL(r)
	writeJSON(w, http.StatusOK, map[string]any{
		"schemas":          []string{scim.ServiceProviderConfigURN},
		"documentationUri": "https://github.com/ferryid/ferry",
		"patch":            map[string]any{"supported": true},
		"bulk": map[string]any{
			"supported":      true,
			"maxOperations":  s.cfg.MaxBulkOperations,
			"maxPayloadSize": s.cfg.MaxBulkBytes,
		},
		"filter": map[string]any{"supported": true, "maxResults": s.cfg.MaxResults},
		// RFC 9865 §4. A request that names neither startIndex nor cursor
		// is paged by index, as before cursors existed (§2.4); count
		// beyond maxPageSize is answered with maxPageSize, as RFC 7644
		// §3.4.2.4 has it for index pages.
		"pagination": map[string]any{
			"cursor":                  true,
			"index":                   true,
			"defaultPaginationMethod": "index",
			"defaultPageSize":         s.cfg.DefaultCount,
			"maxPageSize":             s.cfg.MaxResults,
			"cursorTimeout":           int(s.cfg.CursorTimeout / time.Second),
		},
		"changePassword": map[string]any{"supported": false},
		"sort":           map[string]any{"supported": true},
		"etag":           map[string]any{"supported": true},
		"authenticationSchemes": []any{map[string]any{
			"type":        "oauthbearertoken",
			"name":        "OAuth Bearer Token",
			"description": "Authentication with a bearer token created by `ferry tokens create`; the token decides the tenant.",
			"primary":     true,
		}},
		"meta": map[string]any{
			"resourceType": "ServiceProviderConfig",
			"location":     base + "/ServiceProviderConfig",
		},
	})
}

// resourceTypeJSON is a resource type as served (RFC 7643 §6).
func resourceTypeJSON(rt *schema.ResourceType, base string) map[string]any {
	exts := make([]any, 0, len(rt.Extensions))
	for _, e := range rt.Extensions {
		exts = append(exts, map[string]any{"schema": e.Schema.ID, "required": e.Required})
	}
	out := map[string]any{
		"schemas":     []string{scim.ResourceTypeURN},
		"id":          rt.ID,
		"name":        rt.Name,
		"endpoint":    rt.Endpoint,
		"description": rt.Description,
		"schema":      rt.Schema.ID,
		"meta": map[string]any{
			"resourceType": "ResourceType",
			"location":     base + "/ResourceTypes/" + rt.ID,
		},
	}
	if len(exts) > 0 {
		out["schemaExtensions"] = exts
	}
	return out
}

func (s *Server) resourceTypes(w http.ResponseWriter, r *http.Request, cat *schema.Catalog, rest []string) {
	base := baseURL(r)
	if len(rest) == 1 {
		for _, rt := range cat.ResourceTypes() {
			if strings.EqualFold(rt.ID, rest[0]) {
				writeJSON(w, http.StatusOK, resourceTypeJSON(rt, base))
				return
			}
		}
		writeError(w, scim.Errorf(http.StatusNotFound, "", "no resource type %q", rest[0]))
		return
	}
	var list []any
	for _, rt := range cat.ResourceTypes() {
		list = append(list, resourceTypeJSON(rt, base))
	}
	writeJSON(w, http.StatusOK, newListResponse(len(list), 1, list))
}

// schemaJSON is a schema as served from /Schemas (RFC 7643 §7): the
// catalog's definition unchanged, plus schemas and meta.
type schemaJSON struct {
	Schemas []string `json:"schemas"`
	*schema.Schema
	Meta map[string]string `json:"meta"`
}

func newSchemaJSON(sc *schema.Schema, base string) schemaJSON {
	return schemaJSON{
		Schemas: []string{scim.SchemaURN},
		Schema:  sc,
		Meta:    map[string]string{"resourceType": "Schema", "location": base + "/Schemas/" + sc.ID},
	}
}

func (s *Server) schemas(w http.ResponseWriter, r *http.Request, cat *schema.Catalog, rest []string) {
	base := baseURL(r)
	if len(rest) == 1 {
		if sc := cat.Schema(rest[0]); sc != nil {
			writeJSON(w, http.StatusOK, newSchemaJSON(sc, base))
			return
		}
		writeError(w, scim.Errorf(http.StatusNotFound, "", "no schema %q", rest[0]))
		return
	}
	var list []any
	for _, sc := range cat.Schemas() {
		list = append(list, newSchemaJSON(sc, base))
	}
	writeJSON(w, http.StatusOK, newListResponse(len(list), 1, list))
}
