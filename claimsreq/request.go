// Package claimsreq is the claims request parameter of OpenID Connect Core
// §5.5: a relying service names the claims it wants in the id_token and
// from userinfo, one by one, as essential or voluntary, optionally with the
// value(s) it expects; and the verified_claims request structure of OpenID
// Connect for Identity Assurance 1.0. It parses and bounds the request,
// says which consent it needs (a claim asked for outside the granted scopes
// is a consent item of its own) and selects what may be released. It knows
// no HTTP and no storage, so that the provider, the consent domain and the
// consent page share one reading of a request.
package claimsreq

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Limits on a request from outside.
const (
	// MaxLength bounds the claims parameter (bytes of JSON).
	MaxLength = 8192
	maxClaims = 64 // per member, and per verified_claims request
	maxValues = 32
	// maxVerified bounds the verified_claims requests of a member.
	maxVerified = 8
	// A purpose is shown to the citizen: 3 to 300 characters (Identity
	// Assurance §6.1).
	minPurpose, maxPurpose = 3, 300
)

// ErrInvalid is wrapped by every refusal of Parse; its text says why and
// may be shown to the service.
var ErrInvalid = errors.New("invalid claims parameter")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Request is a parsed claims parameter. The zero value and nil ask for
// nothing.
type Request struct {
	UserInfo Member
	IDToken  Member
}

// Member is what one target (id_token or userinfo) asks for.
type Member struct {
	// Claims by name; a claim asked for with null has a zero Claim.
	Claims map[string]*Claim
	// Verified are the verified_claims requests (one object or an array).
	Verified []*Verified
}

// Claim is how one claim is asked for.
type Claim struct {
	Essential bool
	// Values holds value and values together: the claim is wanted only
	// with one of them. Empty: any value.
	Values []any
	// Purpose is why the service asks, shown on the consent page.
	Purpose string
}

// Verified is one verified_claims request: constraints on the
// verification, and which verified claims.
type Verified struct {
	// TrustFramework constrains the trust framework; nil: any.
	TrustFramework *Claim
	// Time and Evidence ask for those verification elements; MaxAge (seconds,
	// -1 for none) wants a verification at most that old.
	Time     bool
	MaxAge   int64
	Evidence bool
	Claims   map[string]*Claim
}

// Parse reads a claims parameter; "" is no request (nil, nil).
func Parse(raw string) (*Request, error) {
	if raw == "" {
		return nil, nil
	}
	if len(raw) > MaxLength {
		return nil, invalid("longer than %d bytes", MaxLength)
	}
	top, err := object([]byte(raw), "the claims parameter")
	if err != nil {
		return nil, err
	}
	r := &Request{}
	if r.UserInfo, err = parseMember(top["userinfo"], "userinfo"); err != nil {
		return nil, err
	}
	if r.IDToken, err = parseMember(top["id_token"], "id_token"); err != nil {
		return nil, err
	}
	return r, nil
}

// ParseMember reads a member as MarshalJSON writes it.
func ParseMember(raw []byte) (Member, error) { return parseMember(raw, "member") }

// object decodes a JSON object into its members; null is an empty object.
func object(raw []byte, what string) (map[string]json.RawMessage, error) {
	if isNull(raw) {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, invalid("%s is not a JSON object", what)
	}
	return m, nil
}

func isNull(raw []byte) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

func parseMember(raw json.RawMessage, what string) (Member, error) {
	m, err := object(raw, what)
	if err != nil || len(m) == 0 {
		return Member{}, err
	}
	if len(m) > maxClaims {
		return Member{}, invalid("%s asks for more than %d claims", what, maxClaims)
	}
	out := Member{Claims: map[string]*Claim{}}
	for name, v := range m {
		if name == "verified_claims" {
			if out.Verified, err = parseVerifiedList(v, what); err != nil {
				return Member{}, err
			}
			continue
		}
		c, err := parseClaim(v, what+"."+name)
		if err != nil {
			return Member{}, err
		}
		out.Claims[name] = c
	}
	return out, nil
}

func parseClaim(raw json.RawMessage, what string) (*Claim, error) {
	m, err := object(raw, what)
	if err != nil {
		return nil, err
	}
	c := &Claim{}
	if e, ok := m["essential"]; ok && !isNull(e) {
		if err := json.Unmarshal(e, &c.Essential); err != nil {
			return nil, invalid("%s.essential is not a boolean", what)
		}
	}
	if v, ok := m["value"]; ok {
		var x any
		if err := json.Unmarshal(v, &x); err != nil {
			return nil, invalid("%s.value is not JSON", what)
		}
		c.Values = append(c.Values, x)
	}
	if v, ok := m["values"]; ok && !isNull(v) {
		var xs []any
		if err := json.Unmarshal(v, &xs); err != nil {
			return nil, invalid("%s.values is not an array", what)
		}
		if len(xs) > maxValues {
			return nil, invalid("%s.values has more than %d values", what, maxValues)
		}
		c.Values = append(c.Values, xs...)
	}
	if p, ok := m["purpose"]; ok && !isNull(p) {
		if err := json.Unmarshal(p, &c.Purpose); err != nil {
			return nil, invalid("%s.purpose is not a string", what)
		}
		if n := utf8.RuneCountInString(c.Purpose); n < minPurpose || n > maxPurpose {
			return nil, invalid("%s.purpose must be %d to %d characters", what, minPurpose, maxPurpose)
		}
	}
	return c, nil
}

func parseVerifiedList(raw json.RawMessage, what string) ([]*Verified, error) {
	what += ".verified_claims"
	var list []json.RawMessage
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '[' {
		if err := json.Unmarshal(t, &list); err != nil {
			return nil, invalid("%s is not an array of objects", what)
		}
	} else {
		list = []json.RawMessage{raw}
	}
	if len(list) == 0 || len(list) > maxVerified {
		return nil, invalid("%s must hold 1 to %d requests", what, maxVerified)
	}
	out := make([]*Verified, 0, len(list))
	for _, item := range list {
		v, err := parseVerified(item, what)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func parseVerified(raw json.RawMessage, what string) (*Verified, error) {
	m, err := object(raw, what)
	if err != nil {
		return nil, err
	}
	v := &Verified{MaxAge: -1}
	ver, err := object(m["verification"], what+".verification")
	if err != nil {
		return nil, err
	}
	if tf, ok := ver["trust_framework"]; ok {
		if v.TrustFramework, err = parseClaim(tf, what+".verification.trust_framework"); err != nil {
			return nil, err
		}
	}
	if t, ok := ver["time"]; ok {
		v.Time = true
		tm, err := object(t, what+".verification.time")
		if err != nil {
			return nil, err
		}
		if ma, ok := tm["max_age"]; ok && !isNull(ma) {
			if err := json.Unmarshal(ma, &v.MaxAge); err != nil || v.MaxAge < 0 {
				return nil, invalid("%s.verification.time.max_age is not a number of seconds", what)
			}
		}
	}
	_, v.Evidence = ver["evidence"]
	// Identity Assurance §6: claims is required and must not be empty.
	claims, err := object(m["claims"], what+".claims")
	if err != nil {
		return nil, err
	}
	if len(claims) == 0 {
		return nil, invalid("%s.claims must name at least one claim", what)
	}
	if len(claims) > maxClaims {
		return nil, invalid("%s.claims asks for more than %d claims", what, maxClaims)
	}
	v.Claims = make(map[string]*Claim, len(claims))
	for name, c := range claims {
		if v.Claims[name], err = parseClaim(c, what+".claims."+name); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// MarshalJSON writes the member in the request's own shape (without
// purposes, which only the consent page needs), so that a token can carry
// what userinfo may release and ParseMember read it back.
func (m Member) MarshalJSON() ([]byte, error) {
	out := make(map[string]any, len(m.Claims)+1)
	for name, c := range m.Claims {
		out[name] = c.wire()
	}
	if len(m.Verified) > 0 {
		list := make([]any, 0, len(m.Verified))
		for _, v := range m.Verified {
			ver := map[string]any{}
			if v.TrustFramework != nil {
				ver["trust_framework"] = v.TrustFramework.wire()
			}
			if v.Time {
				t := map[string]any{}
				if v.MaxAge >= 0 {
					t["max_age"] = v.MaxAge
				}
				ver["time"] = t
			}
			if v.Evidence {
				ver["evidence"] = nil
			}
			claims := make(map[string]any, len(v.Claims))
			for name, c := range v.Claims {
				claims[name] = c.wire()
			}
			list = append(list, map[string]any{"verification": ver, "claims": claims})
		}
		out["verified_claims"] = list
	}
	return json.Marshal(out)
}

// wire is the claim as a request writes it: null, or its constraints.
func (c *Claim) wire() any {
	if c == nil || !c.Essential && len(c.Values) == 0 {
		return nil
	}
	w := map[string]any{}
	if c.Essential {
		w["essential"] = true
	}
	if len(c.Values) > 0 {
		w["values"] = c.Values
	}
	return w
}

// Empty reports whether the member asks for nothing.
func (m Member) Empty() bool { return len(m.Claims) == 0 && len(m.Verified) == 0 }
