package settings

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/audit"
	"github.com/gosid/gosid/mfa"
	"github.com/gosid/gosid/selfservice"
	"github.com/gosid/gosid/session"
	"github.com/gosid/gosid/verify"
	"github.com/gosid/gosid/web"
)

// Personal data, documents and their verification; the activity log; the
// export of a citizen's data. Pages and JSON API.

// profileFields are the form fields of the profile, in order.
var profileFields = []string{"family_name", "given_name", "middle_name", "birth_date", "sex", "birthplace", "citizenship",
	"passport_series", "passport_number", "passport_issue_date", "passport_issued_by", "passport_dept_code", "snils", "inn",
	"licence_number", "licence_issue_date", "licence_expiry_date",
	"foreign_passport_number", "foreign_passport_issue_date", "foreign_passport_expiry_date",
	"registration_postal_index", "registration_region", "registration_city", "registration_street", "registration_house", "registration_flat",
	"residence_postal_index", "residence_region", "residence_city", "residence_street", "residence_house", "residence_flat"}

// ProfileView is the profile as both faces show it.
type ProfileView struct {
	Status     verify.Status      `json:"status"`
	Level      account.Level      `json:"level"`
	Rejections []verify.Rejection `json:"rejections,omitempty"`
	// Pending is the data as last entered; Verified what the registries
	// confirmed (and what relying services get).
	Pending    *verify.Data      `json:"pending,omitempty"`
	Verified   *verify.Data      `json:"verified,omitempty"`
	VerifiedAt *time.Time        `json:"verified_at,omitempty"`
	Values     map[string]string `json:"-"`
	// CodeSent asks for the code confirming a change of verified data;
	// Contact is where it went.
	CodeSent bool `json:"code_required,omitempty"`
	// Scans are the uploaded scans of documents.
	Scans    []*verify.Scan        `json:"scans,omitempty"`
	Contact  string                `json:"contact,omitempty"`
	Errors   []selfservice.Message `json:"errors,omitempty"`
	Messages []selfservice.Message `json:"messages,omitempty"`
}

// Err returns the error text for a field, for templates.
func (v *ProfileView) Err(field string) string {
	for _, e := range v.Errors {
		if e.Field == field {
			return e.Text
		}
	}
	return ""
}

// Value returns a form value, for templates.
func (v *ProfileView) Value(field string) string { return v.Values[field] }

// ProfilePage is the data of the profile page.
type ProfilePage struct {
	web.Page
	View *ProfileView
}

// ActivityPage is the data of the activity log page.
type ActivityPage struct {
	web.Page
	Entries []ActivityEntry
	// Older is the link to the next page, "" on the last.
	Older string
}

// ActivityEntry is one line of the activity log.
type ActivityEntry struct {
	ID      int64             `json:"id"`
	Type    string            `json:"type"`
	Text    string            `json:"text"`
	Service string            `json:"service,omitempty"`
	Device  string            `json:"device,omitempty"`
	IP      string            `json:"ip,omitempty"`
	At      time.Time         `json:"at"`
	Data    map[string]string `json:"data,omitempty"`
}

func (s *Service) registerProfile(r *mux.Router, api *mux.Router) {
	r.HandleFunc(PathProfile, s.profilePage).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(PathProfile, s.profileSubmit).Methods(http.MethodPost)
	r.HandleFunc(PathActivity, s.activityPage).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(PathExport, s.exportPage).Methods(http.MethodGet)
	api.HandleFunc("/profile", s.apiProfile).Methods(http.MethodGet)
	api.HandleFunc("/profile", s.apiProfileSubmit).Methods(http.MethodPut)
	api.HandleFunc("/activity", s.apiActivity).Methods(http.MethodGet)
	api.HandleFunc("/export", s.apiExport).Methods(http.MethodGet)
}

// profileView loads the profile of the account.
func (s *Service) profileView(ctx context.Context, accountID string) (*ProfileView, error) {
	// The check's state first, the account second: a check that finishes
	// commits both in one transaction, so a "verified" read here is always
	// followed by an account read that has the raised level (the other
	// order could show "verified" beside the old level).
	p, _, err := s.d.Verify.Get(ctx, accountID)
	if err != nil {
		return nil, err
	}
	a, err := s.Accounts.GetAccount(ctx, accountID)
	if err != nil {
		return nil, err
	}
	v := &ProfileView{Status: p.Status, Level: a.Level, Rejections: p.Rejections, Pending: p.Pending, Verified: p.Verified}
	if !p.VerifiedAt.IsZero() {
		t := p.VerifiedAt
		v.VerifiedAt = &t
	}
	d := p.Pending
	if d == nil {
		d = &verify.Data{FamilyName: a.FamilyName, GivenName: a.GivenName, MiddleName: a.MiddleName, Citizenship: "RUS"}
	}
	v.Values = valuesOf(d)
	return v, nil
}

// valuesOf fills the form from data (dates as ДД.ММ.ГГГГ).
func valuesOf(d *verify.Data) map[string]string {
	ru := func(iso string) string {
		t, err := time.Parse(time.DateOnly, iso)
		if err != nil {
			return ""
		}
		return t.Format("02.01.2006")
	}
	out := map[string]string{}
	if l := d.DriverLicence; l != nil {
		out["licence_number"], out["licence_issue_date"], out["licence_expiry_date"] = account.FormatDriverLicence(l.Number), ru(l.IssueDate), ru(l.ExpiryDate)
	}
	if f := d.ForeignPassport; f != nil {
		out["foreign_passport_number"], out["foreign_passport_issue_date"], out["foreign_passport_expiry_date"] = account.FormatForeignPassport(f.Number), ru(f.IssueDate), ru(f.ExpiryDate)
	}
	for prefix, a := range map[string]*verify.Address{"registration": d.Registration, "residence": d.Residence} {
		if a == nil {
			continue
		}
		out[prefix+"_postal_index"], out[prefix+"_region"], out[prefix+"_city"] = a.PostalIndex, a.Region, a.City
		out[prefix+"_street"], out[prefix+"_house"], out[prefix+"_flat"] = a.Street, a.House, a.Flat
	}
	for k, v := range map[string]string{
		"family_name": d.FamilyName, "given_name": d.GivenName, "middle_name": d.MiddleName,
		"birth_date": ru(d.BirthDate), "sex": d.Sex, "birthplace": d.Birthplace, "citizenship": d.Citizenship,
		"passport_series": d.Passport.Series, "passport_number": d.Passport.Number,
		"passport_issue_date": ru(d.Passport.IssueDate), "passport_issued_by": d.Passport.IssuedBy,
		"passport_dept_code": d.Passport.DeptCode, "snils": account.FormatSNILS(d.SNILS), "inn": d.INN,
	} {
		out[k] = v
	}
	return out
}

// maxProfileField bounds every profile field (bytes).
const maxProfileField = 300

// SubmitProfile validates and stores the citizen's data and starts its
// check. The view carries every error, each naming its field.
func (s *Service) SubmitProfile(ctx context.Context, accountID string, in selfservice.Input, m selfservice.Meta) (*ProfileView, error) {
	v, err := s.profileView(ctx, accountID)
	if err != nil {
		return nil, err
	}
	clean := map[string]string{}
	for _, f := range profileFields {
		clean[f] = strings.TrimSpace(in[f])
		v.Values[f] = clean[f]
		if len(clean[f]) > maxProfileField {
			s.addProfileErr(v, m, f, "field.too_long")
		}
	}
	if fe := selfservice.CheckInput(selfservice.Input(clean)); fe != nil {
		s.addProfileErr(v, m, fe.Field, fe.Code)
	}
	if len(v.Errors) > 0 {
		return v, nil
	}
	d, errs := verify.Validate(clean, s.Now())
	for _, fe := range errs {
		s.addProfileErr(v, m, fe.Field, fe.Code)
	}
	if len(v.Errors) > 0 {
		return v, nil
	}
	// A change of verified data is confirmed with a code to a confirmed
	// contact (the submitted form comes back with a code field).
	if v.Verified != nil && verify.ChangesVerified(v.Verified, d) {
		ok, err := s.confirmChange(ctx, v, accountID, in.Get("code"), m)
		if err != nil || !ok {
			return v, err
		}
	}
	switch err := s.d.Verify.Submit(ctx, accountID, d, "citizen"); {
	case errors.Is(err, verify.ErrBusy):
		s.addProfileErr(v, m, "", "profile.busy")
		return v, nil
	case err != nil:
		return nil, err
	}
	s.Record(ctx, m, accountID, "profile.changed", "", nil)
	nv, err := s.profileView(ctx, accountID)
	if err != nil {
		return nil, err
	}
	nv.Messages = append(nv.Messages, selfservice.Message{Code: "profile.submitted", Text: s.Web.T(m.Lang, "msg.profile.submitted")})
	return nv, nil
}

// confirmChange sends a code (none typed yet) or checks it.
func (s *Service) confirmChange(ctx context.Context, v *ProfileView, accountID, code string, m selfservice.Meta) (bool, error) {
	a, err := s.Accounts.GetAccount(ctx, accountID)
	if err != nil {
		return false, err
	}
	method := mfa.KindSMS
	contact := a.Phone
	if !(a.PhoneVerified && a.Phone != "") {
		method, contact = mfa.KindEmail, a.Email
	}
	v.CodeSent, v.Contact = true, s.d.SecondFactor.MaskedContact(a, method)
	if code == "" {
		if err := s.d.SecondFactor.SendSecondFactorCode(ctx, a, method, "profile", m); err != nil {
			key := selfservice.CodeErrorKey(err)
			if key == "" {
				return false, err
			}
			s.addProfileErr(v, m, "", key)
			return false, nil
		}
		v.Messages = append(v.Messages, selfservice.Message{Code: "profile.code_sent", Text: s.Web.T(m.Lang, "msg.profile.code_sent", v.Contact)})
		return false, nil
	}
	tmp := &selfservice.View{}
	ok, err := s.VerifyCode(ctx, tmp, m, "mfa_profile", contact, code)
	for _, e := range tmp.Errors {
		v.Errors = append(v.Errors, e)
	}
	return ok, err
}

func (s *Service) addProfileErr(v *ProfileView, m selfservice.Meta, field, code string) {
	text := s.Web.T(m.Lang, "err."+code)
	if text == "err."+code {
		text = s.Web.T(m.Lang, "err.field.invalid")
	}
	v.Errors = append(v.Errors, selfservice.Message{Field: field, Code: code, Text: text})
}

func (s *Service) profilePage(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.SignedIn(w, r, selfservice.PathLogin)
	if !ok {
		return
	}
	v, err := s.profileView(r.Context(), sess.AccountID)
	if err == nil {
		err = s.fillScans(r.Context(), v, sess.AccountID)
	}
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	s.Web.Render(w, r, http.StatusOK, "profile", &ProfilePage{Page: s.Page(w, r), View: v})
}

func (s *Service) profileSubmit(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.SignedInForm(w, r, selfservice.PathLogin, PathProfile)
	if !ok {
		return
	}
	m := s.Meta(r)
	v, err := s.SubmitProfile(r.Context(), sess.AccountID, selfservice.FormInput(r.PostForm), m)
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	status := http.StatusOK
	if len(v.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	}
	s.Web.Render(w, r, status, "profile", &ProfilePage{Page: s.Page(w, r), View: v})
}

func (s *Service) apiProfile(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.APISession(w, r)
	if !ok {
		return
	}
	v, err := s.profileView(r.Context(), sess.AccountID)
	if err != nil {
		s.APIServerError(w, r, err)
		return
	}
	selfservice.WriteJSON(w, http.StatusOK, v)
}

func (s *Service) apiProfileSubmit(w http.ResponseWriter, r *http.Request) {
	sess, in, ok := s.APIInput(w, r)
	if !ok {
		return
	}
	v, err := s.SubmitProfile(r.Context(), sess.AccountID, in, s.Meta(r))
	if err != nil {
		s.APIServerError(w, r, err)
		return
	}
	switch {
	case v.CodeSent && len(v.Errors) == 0:
		// A code went to the citizen: send the same data again with it.
		selfservice.WriteJSON(w, http.StatusOK, v)
	case len(v.Errors) == 1 && v.Errors[0].Code == "profile.busy":
		selfservice.WriteJSON(w, http.StatusConflict, v)
	case len(v.Errors) > 0:
		selfservice.WriteJSON(w, http.StatusUnprocessableEntity, v)
	default:
		selfservice.WriteJSON(w, http.StatusAccepted, v)
	}
}

// activityPageSize is how many entries a page of the activity log holds.
const activityPageSize = 50

// Activity returns a page of the account's activity log, newest first, in
// the caller's language.
func (s *Service) Activity(ctx context.Context, accountID string, before int64, limit int, lang string) ([]ActivityEntry, error) {
	if s.Audit == nil {
		return nil, nil
	}
	events, err := s.Audit.ListEvents(ctx, accountID, before, limit)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	out := make([]ActivityEntry, 0, len(events))
	for _, e := range events {
		out = append(out, s.activityEntry(ctx, e, lang, names))
	}
	return out, nil
}

func (s *Service) activityEntry(ctx context.Context, e *audit.Event, lang string, names map[string]string) ActivityEntry {
	var args []any
	if e.Type == "login.blocked_attempt" {
		// One event counts the attempts of a whole lockout; one written
		// before they were counted stands for one attempt.
		n := e.Data[audit.CountKey]
		if n == "" {
			n = "1"
		}
		args = append(args, n)
	}
	if e.Type == "identity.confirmed_centre" || e.Type == "operator.lookup" {
		args = append(args, e.Data["centre_name"])
	}
	text := s.Web.T(lang, "activity."+e.Type, args...)
	if text == "activity."+e.Type {
		text = s.Web.T(lang, "activity.other")
	}
	entry := ActivityEntry{ID: e.ID, Type: e.Type, Text: text, IP: e.IP, At: e.At, Data: e.Data}
	if e.UserAgent != "" {
		entry.Device = session.DeviceName(e.UserAgent)
	}
	if e.ClientID != "" {
		name, ok := names[e.ClientID]
		if !ok {
			name = s.ClientName(ctx, e.ClientID)
			if name == "" {
				name = e.ClientID
			}
			names[e.ClientID] = name
		}
		entry.Service = name
	}
	return entry
}

func (s *Service) activityPage(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.SignedIn(w, r, selfservice.PathLogin)
	if !ok {
		return
	}
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	list, err := s.Activity(r.Context(), sess.AccountID, before, activityPageSize, s.Web.Lang(r))
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	p := &ActivityPage{Page: s.Page(w, r), Entries: list}
	if len(list) == activityPageSize {
		p.Older = PathActivity + "?before=" + strconv.FormatInt(list[len(list)-1].ID, 10)
	}
	s.Web.Render(w, r, http.StatusOK, "activity", p)
}

func (s *Service) apiActivity(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.APISession(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	before, _ := strconv.ParseInt(q.Get("before"), 10, 64)
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit <= 0 || limit > 200 {
		limit = activityPageSize
	}
	list, err := s.Activity(r.Context(), sess.AccountID, before, limit, s.Meta(r).Lang)
	if err != nil {
		s.APIServerError(w, r, err)
		return
	}
	body := map[string]any{"entries": list}
	if len(list) == limit {
		body["next_before"] = list[len(list)-1].ID
	}
	selfservice.WriteJSON(w, http.StatusOK, body)
}

// Export is everything gosid holds about the citizen, as JSON (the
// personal-data subject's right of access).
type Export struct {
	ExportedAt time.Time                `json:"exported_at"`
	Account    map[string]any           `json:"account"`
	Profile    *ProfileView             `json:"profile"`
	Factors    []selfservice.FactorView `json:"second_factors"`
	Sessions   []SessionView            `json:"sessions"`
	Services   []ServiceView            `json:"connected_services"`
	Activity   []ActivityEntry          `json:"activity"`
	Settings   map[string]string        `json:"settings"`
}

// maxExportActivity bounds the activity entries in an export.
const maxExportActivity = 5000

// ExportData gathers the citizen's data.
func (s *Service) ExportData(ctx context.Context, sess *session.Session, lang string) (*Export, error) {
	a, err := s.Accounts.GetAccount(ctx, sess.AccountID)
	if err != nil {
		return nil, err
	}
	x := &Export{ExportedAt: s.Now().UTC(), Settings: map[string]string{
		"login_notice": account.ParseNotifyPrefs(a.NotifyPrefs).LoginNotice(), "locale": a.Locale}}
	x.Account = map[string]any{"id": a.ID, "phone": a.Phone, "phone_verified": a.PhoneVerified, "email": a.Email,
		"email_verified": a.EmailVerified, "family_name": a.FamilyName, "given_name": a.GivenName,
		"middle_name": a.MiddleName, "level": a.Level, "status": a.Status, "created_at": a.CreatedAt,
		"password_changed_at": a.PasswordChangedAt}
	if x.Profile, err = s.profileView(ctx, a.ID); err != nil {
		return nil, err
	}
	if err := s.fillScans(ctx, x.Profile, a.ID); err != nil {
		return nil, err
	}
	if x.Factors, _, err = s.d.SecondFactor.Factors(ctx, a.ID); err != nil {
		return nil, err
	}
	if x.Sessions, err = s.SessionViews(ctx, a.ID, sess.ID); err != nil {
		return nil, err
	}
	if x.Services, err = s.Services(ctx, a.ID); err != nil {
		return nil, err
	}
	if x.Activity, err = s.Activity(ctx, a.ID, 0, maxExportActivity, lang); err != nil {
		return nil, err
	}
	return x, nil
}

func (s *Service) writeExport(w http.ResponseWriter, r *http.Request, sess *session.Session, lang string) {
	x, err := s.ExportData(r.Context(), sess, lang)
	if err != nil {
		s.APIServerError(w, r, err)
		return
	}
	s.Record(r.Context(), s.Meta(r), sess.AccountID, "data.exported", "", nil)
	w.Header().Set("Content-Disposition", `attachment; filename="gosid-data.json"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	selfservice.WriteJSON(w, http.StatusOK, x)
}

func (s *Service) exportPage(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.SignedIn(w, r, selfservice.PathLogin)
	if !ok {
		return
	}
	s.writeExport(w, r, sess, s.Web.Lang(r))
}

func (s *Service) apiExport(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.APISession(w, r)
	if !ok {
		return
	}
	s.writeExport(w, r, sess, s.Meta(r).Lang)
}
