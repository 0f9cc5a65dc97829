package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/scim/schema"
	"github.com/ferryid/ferry/internal/store"
)

// bulkRequest is the RFC 7644 §3.7 BulkRequest message.
type bulkRequest struct {
	Schemas      []string        `json:"schemas"`
	FailOnErrors int             `json:"failOnErrors"`
	Operations   []bulkOperation `json:"Operations"`
}

type bulkOperation struct {
	Method  string          `json:"method"`
	BulkID  string          `json:"bulkId,omitempty"`
	Version string          `json:"version,omitempty"`
	Path    string          `json:"path"`
	Data    json.RawMessage `json:"data,omitempty"`
}

type bulkResult struct {
	Location string      `json:"location,omitempty"`
	Method   string      `json:"method"`
	BulkID   string      `json:"bulkId,omitempty"`
	Version  string      `json:"version,omitempty"`
	Status   string      `json:"status"`
	Response *scim.Error `json:"response,omitempty"`
}

// bulk runs a BulkRequest. Each operation is atomic on its own (RFC 7644
// §3.7: Bulk is not a transaction); "bulkId:x" references in paths and data
// are replaced with the id the operation with bulkId x created, running
// operations out of order when one refers to a later one. An operation whose
// reference cannot be resolved (unknown, failed, or circular) fails with 409.
func (s *Server) bulk(w http.ResponseWriter, r *http.Request, cat *schema.Catalog) {
	body, err := readBody(w, r, s.cfg.MaxBulkBytes)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req bulkRequest
	if err := json.Unmarshal(body, &req); err != nil {
		s.fail(w, r, scim.BadRequest(scim.InvalidSyntax, "BulkRequest is not valid: %v", err))
		return
	}
	if !listsURN(req.Schemas, scim.BulkRequestURN) {
		s.fail(w, r, scim.BadRequest(scim.InvalidSyntax, "schemas must contain %q", scim.BulkRequestURN))
		return
	}
	if len(req.Operations) > s.cfg.MaxBulkOperations {
		s.fail(w, r, scim.Errorf(http.StatusRequestEntityTooLarge, scim.TooMany, "the request has %d operations; at most %d are allowed", len(req.Operations), s.cfg.MaxBulkOperations))
		return
	}
	ids := map[string]string{}   // bulkId → created id
	failed := map[string]bool{}  // bulkIds whose operation failed
	defined := map[string]bool{} // bulkIds some operation declares
	for _, op := range req.Operations {
		if op.BulkID != "" {
			defined[op.BulkID] = true
		}
	}
	results := make([]*bulkResult, len(req.Operations))
	pending := make([]int, len(req.Operations))
	for i := range pending {
		pending[i] = i
	}
	errorsSeen := 0
	for len(pending) > 0 {
		var next []int
		progressed := false
		for _, i := range pending {
			if req.FailOnErrors > 0 && errorsSeen >= req.FailOnErrors {
				break
			}
			op := req.Operations[i]
			refs := bulkRefs(op)
			waiting := false
			var broken string
			for _, ref := range refs {
				switch {
				case ids[ref] != "":
				case failed[ref] || !defined[ref]:
					broken = ref
				default:
					waiting = true
				}
			}
			if broken == "" && waiting {
				next = append(next, i)
				continue
			}
			progressed = true
			var res *bulkResult
			if broken != "" {
				res = bulkFailure(op, scim.Errorf(http.StatusConflict, "", "bulkId %q does not refer to a successful operation of this request", broken))
			} else {
				res = s.bulkOne(r, cat, op, ids)
			}
			results[i] = res
			if res.Response != nil {
				errorsSeen++
				if op.BulkID != "" {
					failed[op.BulkID] = true
				}
			}
		}
		if req.FailOnErrors > 0 && errorsSeen >= req.FailOnErrors {
			break
		}
		if !progressed {
			// The rest refer to each other in a cycle.
			for _, i := range next {
				results[i] = bulkFailure(req.Operations[i], scim.Errorf(http.StatusConflict, "", "circular bulkId references cannot be resolved"))
			}
			break
		}
		pending = next
	}
	out := make([]*bulkResult, 0, len(results))
	for _, res := range results {
		if res != nil {
			out = append(out, res)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"schemas":    []string{scim.BulkResponseURN},
		"Operations": out,
	})
}

func listsURN(list []string, urn string) bool {
	for _, s := range list {
		if strings.EqualFold(s, urn) {
			return true
		}
	}
	return false
}

func bulkFailure(op bulkOperation, e *scim.Error) *bulkResult {
	return &bulkResult{Method: op.Method, BulkID: op.BulkID, Status: strconv.Itoa(e.Status), Response: e}
}

// bulkRefs lists the bulkIds an operation refers to, in its path or data.
func bulkRefs(op bulkOperation) []string {
	var refs []string
	for _, text := range []string{op.Path, string(op.Data)} {
		for {
			i := strings.Index(text, "bulkId:")
			if i < 0 {
				break
			}
			text = text[i+len("bulkId:"):]
			end := strings.IndexAny(text, `"/?`)
			if end < 0 {
				end = len(text)
			}
			if ref := text[:end]; ref != "" {
				refs = append(refs, ref)
			}
			text = text[end:]
		}
	}
	return refs
}

// resolveRefs replaces "bulkId:x" with the id x created, in a path or in
// JSON data (where ids are JSON strings and need no escaping beyond what
// they had).
func resolveRefs(text string, ids map[string]string) string {
	for ref, id := range ids {
		text = strings.ReplaceAll(text, "bulkId:"+ref+`"`, id+`"`)
		text = strings.ReplaceAll(text, "bulkId:"+ref+"/", id+"/")
		if strings.HasSuffix(text, "bulkId:"+ref) {
			text = strings.TrimSuffix(text, "bulkId:"+ref) + id
		}
	}
	return text
}

// bulkOne runs one operation through the same code as the single-resource
// endpoints, with the operation's version as If-Match.
func (s *Server) bulkOne(r *http.Request, cat *schema.Catalog, op bulkOperation, ids map[string]string) *bulkResult {
	path := resolveRefs(op.Path, ids)
	data := []byte(resolveRefs(string(op.Data), ids))
	segs, err := pathSegments(path)
	if err != nil || len(segs) == 0 || len(segs) > 2 {
		return bulkFailure(op, scim.BadRequest(scim.InvalidPath, "bulk operation path %q is not /Users, /Groups or one of their resources", op.Path))
	}
	rt := resourceTypeAt(cat, segs[0])
	if rt == nil {
		return bulkFailure(op, scim.BadRequest(scim.InvalidPath, "bulk operation path %q is not /Users, /Groups or one of their resources", op.Path))
	}
	sub := r.Clone(r.Context())
	sub.Header = http.Header{}
	if op.Version != "" {
		sub.Header.Set("If-Match", op.Version)
	}
	method := strings.ToUpper(op.Method)
	var res *store.Resource
	status := http.StatusOK
	switch {
	case method == http.MethodPost && len(segs) == 1:
		res, err = s.createFrom(sub, rt, data)
		status = http.StatusCreated
	case method == http.MethodPut && len(segs) == 2:
		res, err = s.replaceFrom(sub, rt, segs[1], data)
	case method == http.MethodPatch && len(segs) == 2:
		res, err = s.patchFrom(sub, rt, segs[1], data)
	case method == http.MethodDelete && len(segs) == 2:
		err = s.deleteFrom(sub, rt, segs[1])
		status = http.StatusNoContent
	default:
		return bulkFailure(op, scim.BadRequest(scim.InvalidSyntax, "bulk method %q is not allowed on %q", op.Method, op.Path))
	}
	if err != nil {
		e, ok := clientError(err)
		if !ok {
			s.log.Error("bulk operation failed", "method", method, "path", op.Path, "err", err)
			e = scim.Errorf(http.StatusInternalServerError, "", "internal server error")
		}
		return bulkFailure(op, e)
	}
	out := &bulkResult{Method: op.Method, BulkID: op.BulkID, Status: strconv.Itoa(status)}
	if res != nil {
		out.Location = baseURL(r) + rt.Endpoint + "/" + res.ID
		out.Version = etag(res.Version)
		if op.BulkID != "" && method == http.MethodPost {
			ids[op.BulkID] = res.ID
		}
	} else {
		out.Location = baseURL(r) + rt.Endpoint + "/" + segs[len(segs)-1]
	}
	return out
}
