package server

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"time"
)

// backupHandler serves the whole-server backup (eddy backup --to DIR):
//
//	POST /eddy/backup  {"To":"/abs/dir"}  → {"To":"/abs/dir","Seconds":0.12}
//
// It writes an online, consistent copy of the database into To, a
// directory on the server's machine that must not exist
// (store.DB.Checkpoint): eddy serve --data To starts from it. Writers are
// not blocked. An in-memory server has no files to copy: 400.
func (s *Server) backupHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			writeMessage(w, http.StatusMethodNotAllowed, "POST a backup: {\"To\":\"DIR\"}")
			return
		}
		var req struct{ To string }
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<16))
		if err == nil {
			err = json.Unmarshal(body, &req)
		}
		switch {
		case err != nil:
			writeMessage(w, http.StatusBadRequest, "the body must be {\"To\":\"DIR\"}: "+err.Error())
			return
		case req.To == "" || !filepath.IsAbs(req.To):
			writeMessage(w, http.StatusBadRequest, "To must be an absolute directory path on the server's machine")
			return
		case s.opts.InMemory:
			writeMessage(w, http.StatusBadRequest, "an in-memory server has no data directory to back up")
			return
		}
		start := time.Now()
		if err := s.db.Checkpoint(req.To); err != nil {
			writeMessage(w, http.StatusInternalServerError, err.Error())
			return
		}
		s.log.Info("whole-server backup written", "to", req.To, "took", time.Since(start))
		writeJSONBody(w, http.StatusOK, map[string]any{"To": req.To, "Seconds": time.Since(start).Seconds()})
	})
}
