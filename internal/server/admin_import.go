package server

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/ferryid/ferry/internal/csvimport"
	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/store"
)

// importPath is the admin API's CSV import, which may run far longer
// than other requests (withTimeout gives it Config.ImportTimeout).
const importPath = adminPrefix + "/import"

// ndjsonContentType is the progress stream of an import, one JSON object
// a line, asked for with Accept.
const ndjsonContentType = "application/x-ndjson"

// progressEvery is the least time between two progress lines of an
// import's stream.
const progressEvery = 250 * time.Millisecond

// adminImport imports a CSV file of users into the tenant's directory
// (package csvimport). With Accept: application/x-ndjson it streams
// progress lines and ends with the result; otherwise it answers the result
// alone.
func (s *Server) adminImport(w http.ResponseWriter, r *adminRequest) error {
	var req csvimport.Request
	if err := s.decodeImportBody(w, r.Request, &req); err != nil {
		return err
	}
	// A column may name an attribute of an extension the tenant declared.
	users, err := s.tenantType(r.Context(), r.tenant, store.UserType)
	if err != nil {
		return err
	}
	if !acceptsNDJSON(r.Request) {
		res, err := csvimport.Run(r.Context(), s.store, r.tenant, users, req, nil)
		if err != nil {
			return importError(err)
		}
		writeAdminJSON(w, http.StatusOK, res)
		return nil
	}
	// The file is read and planned before the first line, so that a file
	// that cannot be used is still an error status.
	stream := &progressStream{w: w}
	res, err := csvimport.Run(r.Context(), s.store, r.tenant, users, req, stream.progress)
	if err != nil && !stream.started {
		return importError(err)
	}
	if err != nil {
		// The status is sent: the stream ends with the error as its last
		// line, which the client reads as the request's failure.
		s.log.Error("import failed mid-stream", "error", err)
		stream.line(map[string]string{"error": "the import stopped: " + err.Error()})
		return nil
	}
	stream.line(csvimport.Progress{Done: stream.done, Total: stream.total, Result: res})
	return nil
}

// importError turns a file the import cannot use into a 400.
func importError(err error) error {
	if fe, ok := errors.AsType[*csvimport.FileError](err); ok {
		return scim.BadRequest(scim.InvalidValue, "%s", fe.Error())
	}
	return err
}

// acceptsNDJSON reports whether the request asks for a progress stream.
func acceptsNDJSON(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == ndjsonContentType {
			return true
		}
	}
	return false
}

// progressStream writes an import's progress lines, at most one per
// progressEvery, flushing each.
type progressStream struct {
	w           http.ResponseWriter
	started     bool
	last        time.Time
	done, total int // the last progress
}

func (p *progressStream) progress(done, total int) {
	p.done, p.total = done, total
	if done < total && time.Since(p.last) < progressEvery {
		return
	}
	p.last = time.Now()
	p.line(csvimport.Progress{Done: done, Total: total})
}

func (p *progressStream) line(v any) {
	if !p.started {
		p.started = true
		p.w.Header().Set("Content-Type", ndjsonContentType)
		p.w.WriteHeader(http.StatusOK)
	}
	b, _ := json.Marshal(v)
	p.w.Write(append(b, '\n'))
	http.NewResponseController(p.w).Flush()
}

// decodeImportBody decodes an import request, whose file may be far larger
// than other admin requests' bodies (Config.MaxImportBytes).
func (s *Server) decodeImportBody(w http.ResponseWriter, r *http.Request, req *csvimport.Request) error {
	given, err := decodeAdminJSON(w, r, req, s.cfg.MaxImportBytes, "ferry serve --max-import-bytes")
	if err == nil && !given {
		return scim.BadRequest(scim.InvalidSyntax, "the request body is empty; send a JSON object with the file as csv")
	}
	return err
}
