package settings

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/internal/httpx"
	"github.com/gosid/gosid/selfservice"
	"github.com/gosid/gosid/storage"
	"github.com/gosid/gosid/verify"
)

// Scans of documents: uploaded from the profile page or the API, checked
// by content (JPG, PNG or PDF, at most 5 MB), stored encrypted, served back
// only to their owner, as attachments.

// PathScans (see settings.go) takes uploads from the profile page;
// /profile/scans/{id} downloads one.

// scanBodyMax is the body limit of an upload: the file and the form around it.
const scanBodyMax = account.MaxScanSize + 64<<10

func (s *Service) registerScans(r *mux.Router, api *mux.Router) {
	r.Handle(PathScans, httpx.MaxBody(scanBodyMax, http.HandlerFunc(s.scanUploadPage))).Methods(http.MethodPost)
	r.HandleFunc(PathScans+"/{id}", s.scanDownloadPage).Methods(http.MethodGet)
	api.HandleFunc("/scans", s.apiScans).Methods(http.MethodGet)
	api.Handle("/scans", httpx.MaxBody(scanBodyMax, http.HandlerFunc(s.apiScanUpload))).Methods(http.MethodPost)
	api.HandleFunc("/scans/{id}", s.apiScanDownload).Methods(http.MethodGet)
	api.HandleFunc("/scans/{id}", s.apiScanDelete).Methods(http.MethodDelete)
}

// readScan reads the uploaded file: a multipart form field "file", or the
// raw body (API).
func readScan(r *http.Request) ([]byte, string, error) {
	kind := r.URL.Query().Get("kind")
	if ct := r.Header.Get("Content-Type"); len(ct) >= 19 && ct[:19] == "multipart/form-data" {
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			return nil, "", err
		}
		if k := r.FormValue("kind"); k != "" {
			kind = k
		}
		f, _, err := r.FormFile("file")
		if err != nil {
			return nil, kind, err
		}
		defer f.Close()
		data, err := io.ReadAll(io.LimitReader(f, account.MaxScanSize+1))
		return data, kind, err
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, account.MaxScanSize+1))
	return data, kind, err
}

// uploadScan stores an upload; the error is a code for the citizen when
// the file or its kind is refused.
func (s *Service) uploadScan(ctx context.Context, accountID string, r *http.Request, m selfservice.Meta) (*verify.Scan, string, error) {
	data, kind, err := readScan(r)
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, "scan.too_large", nil
	case err != nil:
		return nil, "scan.empty", nil
	}
	sc, err := s.d.Verify.AddScan(ctx, s.d.Scans, accountID, kind, data)
	var fe *account.FieldError
	switch {
	case errors.As(err, &fe):
		return nil, fe.Code, nil
	case errors.Is(err, verify.ErrScanKind):
		return nil, "scan.kind", nil
	case errors.Is(err, verify.ErrTooManyScan):
		return nil, "scan.too_many", nil
	case err != nil:
		return nil, "", err
	}
	s.Record(ctx, m, accountID, "scan.uploaded", "", map[string]string{"kind": kind})
	return sc, "", nil
}

func (s *Service) scanUploadPage(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.SignedIn(w, r, selfservice.PathLogin)
	if !ok {
		return
	}
	m := s.Meta(r)
	// The CSRF token travels in the multipart form.
	if err := r.ParseMultipartForm(1 << 20); err != nil || !s.Web.CheckCSRF(r) {
		s.Web.Error(w, r, http.StatusForbidden, "error.title", "csrf.error", PathProfile)
		return
	}
	_, code, err := s.uploadScan(r.Context(), sess.AccountID, r, m)
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	v, err := s.profileView(r.Context(), sess.AccountID)
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	status := http.StatusOK
	if code != "" {
		s.addProfileErr(v, m, "scan", code)
		status = http.StatusUnprocessableEntity
	} else {
		v.Messages = append(v.Messages, selfservice.Message{Code: "scan.uploaded", Text: s.Web.T(m.Lang, "msg.scan.uploaded")})
	}
	if err := s.fillScans(r.Context(), v, sess.AccountID); err != nil {
		s.ServerError(w, r, err)
		return
	}
	s.Web.Render(w, r, status, "profile", &ProfilePage{Page: s.Page(w, r), View: v})
}

// fillScans lists the account's scans on the profile view.
func (s *Service) fillScans(ctx context.Context, v *ProfileView, accountID string) error {
	if s.d.Scans == nil {
		return nil
	}
	list, err := s.d.Scans.ListScans(ctx, accountID)
	v.Scans = list
	return err
}

func (s *Service) writeScan(w http.ResponseWriter, r *http.Request, accountID, id string, api bool) {
	var sc *verify.Scan
	err := storage.ErrNotFound
	if httpx.ValidID(id) {
		sc, err = s.d.Verify.OpenScan(r.Context(), s.d.Scans, accountID, id)
	}
	if errors.Is(err, storage.ErrNotFound) {
		if api {
			selfservice.APIFail(w, http.StatusNotFound, "not_found", "No such scan.")
		} else {
			s.Web.Error(w, r, http.StatusNotFound, "error.title", "error.not_found", PathProfile)
		}
		return
	} else if err != nil {
		if api {
			s.APIServerError(w, r, err)
		} else {
			s.ServerError(w, r, err)
		}
		return
	}
	ext := map[string]string{account.ScanJPEG: ".jpg", account.ScanPNG: ".png", account.ScanPDF: ".pdf"}[sc.ContentType]
	w.Header().Set("Content-Type", sc.ContentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+sc.Kind+ext+`"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	_, _ = w.Write(sc.Data)
}

func (s *Service) scanDownloadPage(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.SignedIn(w, r, selfservice.PathLogin)
	if !ok {
		return
	}
	s.writeScan(w, r, sess.AccountID, mux.Vars(r)["id"], false)
}

func (s *Service) apiScans(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.APISession(w, r)
	if !ok {
		return
	}
	list, err := s.d.Scans.ListScans(r.Context(), sess.AccountID)
	if err != nil {
		s.APIServerError(w, r, err)
		return
	}
	if list == nil {
		list = []*verify.Scan{}
	}
	selfservice.WriteJSON(w, http.StatusOK, map[string]any{"scans": list})
}

func (s *Service) apiScanUpload(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.APISession(w, r)
	if !ok {
		return
	}
	m := s.Meta(r)
	sc, code, err := s.uploadScan(r.Context(), sess.AccountID, r, m)
	switch {
	case err != nil:
		s.APIServerError(w, r, err)
	case code == "scan.too_large":
		selfservice.WriteJSON(w, http.StatusRequestEntityTooLarge, selfservice.APIError{Error: code, Description: s.Web.T(m.Lang, "err."+code)})
	case code != "":
		selfservice.WriteJSON(w, http.StatusUnprocessableEntity, selfservice.APIError{Error: code, Description: s.Web.T(m.Lang, "err."+code)})
	default:
		selfservice.WriteJSON(w, http.StatusCreated, sc)
	}
}

func (s *Service) apiScanDownload(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.APISession(w, r)
	if !ok {
		return
	}
	s.writeScan(w, r, sess.AccountID, mux.Vars(r)["id"], true)
}

func (s *Service) apiScanDelete(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.APISession(w, r)
	if !ok {
		return
	}
	id, err := mux.Vars(r)["id"], error(storage.ErrNotFound)
	if httpx.ValidID(id) {
		err = s.d.Scans.DeleteScan(r.Context(), sess.AccountID, id)
	}
	s.APINoContent(w, r, err, "No such scan.")
}
