package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

// staticFiles is the embedded static/ folder, hashed once at start.
type staticFiles struct {
	byName map[string]*asset
}

type asset struct {
	body        []byte
	hash        string // first 16 hex digits of the SHA-256 of body
	contentType string
}

func loadStatic(fsys fs.FS) (*staticFiles, error) {
	s := &staticFiles{byName: map[string]*asset{}}
	err := fs.WalkDir(fsys, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ct := mime.TypeByExtension(path.Ext(p))
		switch path.Ext(p) {
		case ".css":
			ct = "text/css; charset=utf-8"
		case ".js":
			ct = "text/javascript; charset=utf-8"
		case ".svg":
			ct = "image/svg+xml"
		}
		if ct == "" {
			ct = "application/octet-stream"
		}
		s.byName[strings.TrimPrefix(p, "static/")] = &asset{body: body, hash: hex.EncodeToString(sum[:8]), contentType: ct}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: load static files: %w", err)
	}
	return s, nil
}

// url is the versioned address of a static file, for templates. An unknown
// name is a bug in a template; it fails the render rather than linking to
// nothing.
func (s *staticFiles) url(name string) (string, error) {
	a, ok := s.byName[name]
	if !ok {
		return "", fmt.Errorf("web: no static file %q", name)
	}
	return "/static/" + name + "?v=" + a.hash, nil
}

// Static serves the embedded static files. It accepts the path with or
// without the /static/ prefix, so it can be mounted with or without
// http.StripPrefix. A request carrying the current version (?v=, as the
// asset links do) may be cached for a year; any other is revalidated by
// ETag.
func (r *Renderer) Static() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name, ok := strings.CutPrefix(req.URL.Path, "/static/")
		if !ok {
			name = strings.TrimPrefix(req.URL.Path, "/")
		}
		a, found := r.static.byName[name]
		if !found {
			http.NotFound(w, req)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.contentType)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'")
		h.Set("ETag", `"`+a.hash+`"`)
		if req.URL.Query().Get("v") == a.hash {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		http.ServeContent(w, req, name, time.Time{}, bytes.NewReader(a.body))
	})
}
