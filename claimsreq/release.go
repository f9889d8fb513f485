package claimsreq

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"time"
)

// Item is a consent item a request needs beyond its scopes: one claim, as
// the consent page lists it.
type Item struct {
	// Name is the consent entry ("claim:given_name",
	// "claim:verified_claims.snils").
	Name      string
	Essential bool
	// Purpose is the service's reason, if it gave one.
	Purpose string
}

// Items returns the consent items of every personal-data claim the request
// names that the scopes do not release, sorted by name, each once (with
// the strongest wording either target gave it).
func (r *Request) Items(scopes []string) []Item {
	if r == nil {
		return nil
	}
	byName := map[string]*Item{}
	add := func(name string, c *Claim) {
		if Covered(scopes, name) {
			return
		}
		it := byName[name]
		if it == nil {
			it = &Item{Name: name}
			byName[name] = it
		}
		it.Essential = it.Essential || c.Essential
		if it.Purpose == "" {
			it.Purpose = c.Purpose
		}
	}
	for _, m := range []Member{r.IDToken, r.UserInfo} {
		for name, c := range m.Claims {
			if ScopeOf(name) != "" {
				add(item(name), c)
			}
		}
		for _, v := range m.Verified {
			for name, c := range v.Claims {
				if slices.Contains(verifiedClaims, name) {
					add(verifiedItem(name), c)
				}
			}
		}
	}
	out := make([]Item, 0, len(byName))
	for _, it := range byName {
		out = append(out, *it)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ItemNames returns the names of Items.
func (r *Request) ItemNames(scopes []string) []string {
	items := r.Items(scopes)
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Name
	}
	return out
}

// Allowed returns the request without the personal-data claims that the
// consent given (scopes and claim items) does not cover: what is left may
// be released. Claims that are not personal data (acr, auth_time) stay.
func (r *Request) Allowed(granted []string) *Request {
	if r == nil {
		return nil
	}
	return &Request{UserInfo: r.UserInfo.allowed(granted), IDToken: r.IDToken.allowed(granted)}
}

func (m Member) allowed(granted []string) Member {
	out := Member{}
	for name, c := range m.Claims {
		if ScopeOf(name) == "" || Covered(granted, item(name)) {
			if out.Claims == nil {
				out.Claims = map[string]*Claim{}
			}
			out.Claims[name] = c
		}
	}
	for _, v := range m.Verified {
		kept := *v
		kept.Claims = map[string]*Claim{}
		for name, c := range v.Claims {
			if slices.Contains(verifiedClaims, name) && Covered(granted, verifiedItem(name)) {
				kept.Claims[name] = c
			}
		}
		if len(kept.Claims) > 0 {
			out.Verified = append(out.Verified, &kept)
		}
	}
	return out
}

// Within returns the request without the personal-data claims of scopes
// other than those listed (the scopes a client is registered for): a
// claims request reaches past the scopes a service asked for, never past
// those it may ask for.
func (r *Request) Within(scopes []string) *Request {
	// A scope covers every claim it releases, as a consent to it does.
	return r.Allowed(scopes)
}

// Scopes returns the scopes whose claim sources hold what the member asks
// for, so that a caller loads only those.
func (m Member) Scopes() []string {
	var out []string
	for name := range m.Claims {
		if s := ScopeOf(name); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if len(m.Verified) > 0 {
		out = append(out, ScopeVerified)
	}
	sort.Strings(out)
	return out
}

// Select returns, of the claims available (the claim sources' output for
// Scopes), the personal-data claims the member asks for. A claim asked
// for with value(s) is released only with one of them; a verified_claims
// request is answered only when the trust framework and the
// verification's age meet its constraints, with the verification elements
// it asked for and only the verified claims it named.
func (m Member) Select(avail map[string]any, now time.Time) map[string]any {
	out := map[string]any{}
	for name, c := range m.Claims {
		if ScopeOf(name) == "" {
			continue
		}
		if v, ok := avail[name]; ok && c.accepts(v) {
			out[name] = v
		}
	}
	if vc, ok := avail["verified_claims"].(map[string]any); ok && len(m.Verified) > 0 {
		if sel := selectVerified(m.Verified, vc, now); sel != nil {
			out["verified_claims"] = sel
		}
	}
	return out
}

// selectVerified answers verified_claims requests from the citizen's one
// set of verified data: the claims of every request it meets, merged.
func selectVerified(reqs []*Verified, vc map[string]any, now time.Time) map[string]any {
	ver, _ := vc["verification"].(map[string]any)
	have, _ := vc["claims"].(map[string]any)
	claims := map[string]any{}
	outVer := map[string]any{"trust_framework": ver["trust_framework"]}
	for _, r := range reqs {
		if r.TrustFramework != nil && !r.TrustFramework.accepts(ver["trust_framework"]) {
			continue
		}
		if r.MaxAge >= 0 && !verifiedWithin(ver["time"], time.Duration(r.MaxAge)*time.Second, now) {
			continue
		}
		met := false
		for name, c := range r.Claims {
			if v, ok := have[name]; ok && slices.Contains(verifiedClaims, name) && c.accepts(v) {
				claims[name] = v
				met = true
			}
		}
		if !met {
			continue
		}
		if r.Time {
			outVer["time"] = ver["time"]
		}
		if r.Evidence && ver["evidence"] != nil {
			outVer["evidence"] = ver["evidence"]
		}
	}
	if len(claims) == 0 {
		return nil
	}
	return map[string]any{"verification": outVer, "claims": claims}
}

func verifiedWithin(t any, maxAge time.Duration, now time.Time) bool {
	s, _ := t.(string)
	at, err := time.Parse(time.RFC3339, s)
	return err == nil && now.Sub(at) <= maxAge
}

// accepts reports whether a value meets the claim's value(s). Values are
// compared as JSON, so 1 and 1.0 are one number and types never mix.
func (c *Claim) accepts(v any) bool {
	if c == nil || len(c.Values) == 0 {
		return true
	}
	have := asJSON(v)
	for _, want := range c.Values {
		if reflect.DeepEqual(asJSON(want), have) {
			return true
		}
	}
	return false
}

func asJSON(v any) any {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	_ = json.Unmarshal(raw, &out)
	return out
}

// ACR returns the acr values the id_token member asks for (value and
// values; none when acr is not constrained) and whether acr is essential.
func (r *Request) ACR() (values []string, essential bool) {
	if r == nil {
		return nil, false
	}
	c := r.IDToken.Claims["acr"]
	if c == nil {
		return nil, false
	}
	for _, v := range c.Values {
		if s, ok := v.(string); ok {
			values = append(values, s)
		}
	}
	return values, c.Essential
}

// Subjects returns the sub values the id_token member demands (§5.5.1:
// the answer must be about one of them) and whether it demands any.
func (r *Request) Subjects() (values []string, constrained bool) {
	if r == nil {
		return nil, false
	}
	c := r.IDToken.Claims["sub"]
	if c == nil || len(c.Values) == 0 {
		return nil, false
	}
	for _, v := range c.Values {
		if s, ok := v.(string); ok {
			values = append(values, s)
		}
	}
	return values, true
}
