package esia

import (
	"context"
	"crypto/sha1" //nolint:gosec // eTag is a change marker in ESIA's 40-hex form, not a security hash
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/keys"
	"github.com/gosid/gosid/storage"
	"github.com/gosid/gosid/verify"
)

// The person REST API (esia-interface.md §1.5, §4): GET /rs/prns/{oid} and
// its collections, with ESIA's formats. A bad or expired token gets 401;
// a token for another person or without the scope a resource needs, 403.

// granted is a verified access token: whose it is and what it allows.
type granted struct {
	oid    int64
	scopes []string
}

func (g *granted) has(any ...string) bool {
	for _, s := range any {
		if slices.Contains(g.scopes, s) {
			return true
		}
	}
	return false
}

// bearer verifies the request's access token and returns the scopes it
// grants on person oid; nil after answering 401 or 403.
func (s *Service) bearer(w http.ResponseWriter, r *http.Request) (*granted, *account.Account, bool) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		unauthorized(w)
		return nil, nil, false
	}
	_, payload, err := s.o.Keys.Verify(tok, keys.RS256)
	if err != nil || headerSBT(tok) != "access" {
		unauthorized(w)
		return nil, nil, false
	}
	var c struct {
		Exp   int64  `json:"exp"`
		Nbf   int64  `json:"nbf"`
		Iss   string `json:"iss"`
		Scope string `json:"scope"`
		Sbj   int64  `json:"urn:esia:sbj_id"`
	}
	now := s.o.Now().Unix()
	if json.Unmarshal(payload, &c) != nil || c.Iss != s.tokenIssuer() || now >= c.Exp || now+60 < c.Nbf {
		unauthorized(w)
		return nil, nil, false
	}
	oid, err := strconv.ParseInt(mux.Vars(r)["oid"], 10, 64)
	if err != nil || oid != c.Sbj {
		forbidden(w)
		return nil, nil, false
	}
	g := &granted{oid: oid}
	suffix := fmt.Sprintf("?oid=%d", oid)
	for _, sc := range strings.Fields(c.Scope) {
		if name, ok := strings.CutSuffix(sc, suffix); ok {
			g.scopes = append(g.scopes, name)
		}
	}
	ctx := r.Context()
	id, err := s.o.ESIA.AccountByESIAOid(ctx, oid)
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			forbidden(w)
		} else {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error"})
		}
		return nil, nil, false
	}
	a, err := s.o.Accounts.GetAccount(ctx, id)
	if err != nil || a.Status != account.StatusActive {
		unauthorized(w)
		return nil, nil, false
	}
	return g, a, true
}

func headerSBT(tok string) string {
	h, _, _ := strings.Cut(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return ""
	}
	var v struct {
		SBT string `json:"sbt"`
	}
	_ = json.Unmarshal(raw, &v)
	return v.SBT
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "Unauthorized"})
}

func forbidden(w http.ResponseWriter) {
	writeJSON(w, http.StatusForbidden, map[string]string{"error": "insufficient_scope", "error_description": "Forbidden"})
}

// person is the citizen's data as ESIA shows it.
type person struct {
	a        *account.Account
	d        *verify.Data
	verified bool
}

func (s *Service) load(ctx context.Context, a *account.Account) person {
	p := person{a: a}
	if s.o.Profiles != nil {
		if pr, _, err := s.o.Profiles.Get(ctx, a.ID); err == nil && pr != nil {
			if pr.Verified != nil {
				p.d, p.verified = pr.Verified, true
			} else {
				p.d = pr.Pending
			}
		}
	}
	return p
}

// ESIA's formats.
func dmy(iso string) string {
	if len(iso) != 10 || iso[4] != '-' || iso[7] != '-' {
		return iso
	}
	return iso[8:10] + "." + iso[5:7] + "." + iso[0:4]
}

// FormatSNILS writes 11 digits as XXX-XXX-XXX YY.
func FormatSNILS(s string) string {
	if len(s) != 11 {
		return s
	}
	return s[0:3] + "-" + s[3:6] + "-" + s[6:9] + " " + s[9:11]
}

var phoneRU = regexp.MustCompile(`^\+7(\d{3})(\d{7})$`)

// FormatPhone writes +7XXXXXXXXXX as +7(XXX)XXXXXXX.
func FormatPhone(p string) string {
	if m := phoneRU.FindStringSubmatch(p); m != nil {
		return "+7(" + m[1] + ")" + m[2]
	}
	return p
}

func etag(v any) string {
	b, _ := json.Marshal(v)
	h := sha1.Sum(b) //nolint:gosec // see import
	return strings.ToUpper(hex.EncodeToString(h[:]))
}

func vrf(ok bool) string {
	if ok {
		return "VERIFIED"
	}
	return "NOT_VERIFIED"
}

// personJSON is /rs/prns/{oid}: the fields the scopes allow.
func (p person) personJSON(g *granted) map[string]any {
	a := p.a
	out := map[string]any{
		"stateFacts": []string{"EntityRoot"}, "trusted": a.Level == account.LevelConfirmed,
		"status": "REGISTERED", "verifying": false, "containsUpCfmCode": false, "updatedOn": a.UpdatedAt.Unix(),
	}
	if g.has("fullname") {
		fam, giv, mid := a.FamilyName, a.GivenName, a.MiddleName
		if p.verified {
			fam, giv, mid = p.d.FamilyName, p.d.GivenName, p.d.MiddleName
		}
		setNonEmpty(out, "lastName", fam)
		setNonEmpty(out, "firstName", giv)
		setNonEmpty(out, "middleName", mid)
	}
	if d := p.d; d != nil {
		if g.has("birthdate") {
			setNonEmpty(out, "birthDate", dmy(d.BirthDate))
		}
		if g.has("birthplace") {
			setNonEmpty(out, "birthPlace", d.Birthplace)
		}
		if g.has("gender") {
			switch d.Sex {
			case account.SexMale:
				out["gender"] = "M"
			case account.SexFemale:
				out["gender"] = "F"
			}
		}
		if g.has("fullname", "birthdate") {
			c := d.Citizenship
			if c == "" || strings.EqualFold(c, "ru") || strings.EqualFold(c, "rus") {
				c = "RUS"
			}
			out["citizenship"] = c
		}
		if g.has("snils") {
			setNonEmpty(out, "snils", FormatSNILS(d.SNILS))
		}
		if g.has("inn") {
			setNonEmpty(out, "inn", d.INN)
		}
		if g.has("id_doc") && d.Passport.Number != "" {
			out["rIdDoc"] = 1
		}
	}
	out["eTag"] = etag(out)
	return out
}

// element is one item of a collection, with its id.
type element map[string]any

func (p person) collection(coll string, g *granted) ([]element, bool) {
	var out []element
	add := func(e element) {
		e["eTag"] = etag(e)
		out = append(out, e)
	}
	a, d := p.a, p.d
	switch coll {
	case "ctts":
		if !g.has("contacts", "email", "mobile") {
			return nil, false
		}
		if a.Email != "" && g.has("contacts", "email") {
			add(element{"stateFacts": []string{"Identifiable"}, "id": 1, "type": "EML", "vrfStu": vrf(a.EmailVerified), "value": a.Email})
		}
		if a.Phone != "" && g.has("contacts", "mobile") {
			add(element{"stateFacts": []string{"Identifiable"}, "id": 2, "type": "MBT", "vrfStu": vrf(a.PhoneVerified), "value": FormatPhone(a.Phone)})
		}
	case "addrs":
		if !g.has("addresses") {
			return nil, false
		}
		if d != nil {
			for i, ad := range []*verify.Address{d.Registration, d.Residence} {
				if ad == nil {
					continue
				}
				typ := []string{"PRG", "PLV"}[i]
				parts := []string{ad.PostalIndex, ad.Region, ad.City, ad.Street, ad.House}
				if ad.Flat != "" {
					parts = append(parts, "кв. "+ad.Flat)
				}
				e := element{"stateFacts": []string{"Identifiable"}, "id": i + 1, "type": typ, "countryId": "RUS",
					"addressStr": strings.Join(nonEmpty(parts...), ", ")}
				setNonEmpty(e, "zipCode", ad.PostalIndex)
				setNonEmpty(e, "region", ad.Region)
				setNonEmpty(e, "city", ad.City)
				setNonEmpty(e, "street", ad.Street)
				setNonEmpty(e, "house", ad.House)
				setNonEmpty(e, "flat", ad.Flat)
				add(e)
			}
		}
	case "docs":
		if !g.has("id_doc", "drivers_licence_doc", "foreign_passport_doc") {
			return nil, false
		}
		if d != nil {
			if g.has("id_doc") && d.Passport.Number != "" {
				// VERIFIED only for a passport the registry (MVD) confirmed.
				e := element{"stateFacts": []string{"EntityRoot"}, "id": 1, "type": "RF_PASSPORT", "vrfStu": vrf(p.verified),
					"series": d.Passport.Series, "number": d.Passport.Number, "issueDate": dmy(d.Passport.IssueDate),
					"issueId": strings.ReplaceAll(d.Passport.DeptCode, "-", ""), "issuedBy": d.Passport.IssuedBy}
				add(e)
			}
			// Optional documents are stored, never checked against a
			// registry: NOT_VERIFIED.
			if g.has("drivers_licence_doc") && d.DriverLicence != nil {
				add(docElement(2, "RF_DRIVING_LICENSE", d.DriverLicence))
			}
			if g.has("foreign_passport_doc") && d.ForeignPassport != nil {
				add(docElement(3, "FRGN_PASS", d.ForeignPassport))
			}
		}
	}
	return out, true
}

func docElement(id int, typ string, doc *verify.Document) element {
	e := element{"stateFacts": []string{"EntityRoot"}, "id": id, "type": typ, "vrfStu": "NOT_VERIFIED",
		"issueDate": dmy(doc.IssueDate)}
	num := doc.Number
	if len(num) > 4 && typ == "RF_DRIVING_LICENSE" {
		e["series"], num = num[:4], num[4:]
	} else if len(num) > 2 && typ == "FRGN_PASS" {
		e["series"], num = num[:2], num[2:]
	}
	e["number"] = num
	setNonEmpty(e, "expiryDate", dmy(doc.ExpiryDate))
	return e
}

func (s *Service) collectionURL(oid int64, coll string) string {
	return fmt.Sprintf("%s%s/%d/%s", s.o.Issuer, PathPersons, oid, coll)
}

// envelope is ESIA's collection: elements as absolute URLs, or inline
// with embed=(elements).
func (s *Service) envelope(oid int64, coll string, els []element, embed bool) map[string]any {
	items := make([]any, 0, len(els))
	for _, e := range els {
		if embed {
			items = append(items, e)
		} else {
			items = append(items, fmt.Sprintf("%s/%v", s.collectionURL(oid, coll), e["id"]))
		}
	}
	out := map[string]any{"stateFacts": []string{"hasSize"}, "size": len(els), "elements": items}
	out["eTag"] = etag(out)
	return out
}

var embedNames = map[string]string{"contacts": "ctts", "addresses": "addrs", "documents": "docs"}

func (s *Service) handlePerson(w http.ResponseWriter, r *http.Request) {
	g, a, ok := s.bearer(w, r)
	if !ok {
		return
	}
	p := s.load(r.Context(), a)
	out := p.personJSON(g)
	// embed=(contacts.elements,addresses.elements,documents.elements)
	for _, item := range strings.Split(strings.Trim(r.URL.Query().Get("embed"), "()"), ",") {
		name, elements := strings.CutSuffix(strings.TrimSpace(item), ".elements")
		coll, known := embedNames[name]
		if !known {
			continue
		}
		if els, allowed := p.collection(coll, g); allowed {
			out[name] = s.envelope(g.oid, coll, els, elements)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Service) handleCollection(w http.ResponseWriter, r *http.Request) {
	g, a, ok := s.bearer(w, r)
	if !ok {
		return
	}
	coll := mux.Vars(r)["coll"]
	els, allowed := s.load(r.Context(), a).collection(coll, g)
	if !allowed {
		forbidden(w)
		return
	}
	embed := strings.Contains(r.URL.Query().Get("embed"), "elements")
	writeJSON(w, http.StatusOK, s.envelope(g.oid, coll, els, embed))
}

func (s *Service) handleItem(w http.ResponseWriter, r *http.Request) {
	g, a, ok := s.bearer(w, r)
	if !ok {
		return
	}
	vars := mux.Vars(r)
	els, allowed := s.load(r.Context(), a).collection(vars["coll"], g)
	if !allowed {
		forbidden(w)
		return
	}
	for _, e := range els {
		if fmt.Sprint(e["id"]) == vars["id"] {
			writeJSON(w, http.StatusOK, e)
			return
		}
	}
	writeJSON(w, http.StatusNotFound, map[string]string{"error": "not_found"})
}

func setNonEmpty(m map[string]any, k, v string) {
	if v != "" {
		m[k] = v
	}
}

func nonEmpty(vs ...string) []string {
	var out []string
	for _, v := range vs {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}
