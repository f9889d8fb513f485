package claimsreq

import (
	"slices"
	"strings"
)

// The claims gosid releases about a citizen, and the scope that releases
// each (OpenID Connect Core §5.4). A claim named in a claims request is
// released only when the citizen agreed to its scope or to the claim
// itself; a claim not listed here is never released through a request.
var scopeOf = map[string]string{
	"name": "profile", "family_name": "profile", "given_name": "profile", "middle_name": "profile",
	"locale": "profile", "updated_at": "profile",
	"email": "email", "email_verified": "email",
	"phone_number": "phone", "phone_number_verified": "phone",
}

// ScopeVerified is the scope that releases every verified claim.
const ScopeVerified = "verified_claims"

// verifiedClaims are the claims inside verified_claims (OpenID Connect for
// Identity Assurance): only values the state registries confirmed.
var verifiedClaims = []string{"family_name", "given_name", "middle_name", "birthdate", "snils", "inn", "document"}

// TrustFramework is the trust framework of gosid's verified claims.
const TrustFramework = "ru_gosid"

// VerifiedClaimNames lists the claims verified_claims can hold (for
// discovery's claims_in_verified_claims_supported).
func VerifiedClaimNames() []string { return slices.Clone(verifiedClaims) }

// ScopeOf returns the scope that releases the claim, or "" for a claim
// that is not personal data gosid releases (protocol claims such as acr or
// auth_time, and claims gosid does not have).
func ScopeOf(claim string) string { return scopeOf[claim] }

// itemPrefix marks a consent item that is a single claim rather than a
// scope.
const itemPrefix = "claim:"

// item is the consent item of a claim released on its own: the claim's
// name, with a "_verified" companion folded into the claim it describes
// (agreeing to share an e-mail address covers saying whether it is
// confirmed).
func item(claim string) string {
	switch claim {
	case "email_verified":
		claim = "email"
	case "phone_number_verified":
		claim = "phone_number"
	}
	return itemPrefix + claim
}

// verifiedItem is the consent item of one verified claim.
func verifiedItem(claim string) string { return itemPrefix + ScopeVerified + "." + claim }

// Covered reports whether a consent (scopes and claim items) covers item,
// a scope or a claim item: a claim is covered by its own item or by the
// scope that releases it.
func Covered(granted []string, item string) bool {
	if slices.Contains(granted, item) {
		return true
	}
	claim, ok := strings.CutPrefix(item, itemPrefix)
	if !ok {
		return false
	}
	if _, ok := strings.CutPrefix(claim, ScopeVerified+"."); ok {
		return slices.Contains(granted, ScopeVerified)
	}
	s := ScopeOf(claim)
	return s != "" && slices.Contains(granted, s)
}

// AllItems lists every claim item a request can need, sorted (for the
// pages' translations).
func AllItems() []string {
	var out []string
	for claim := range scopeOf {
		if it := item(claim); !slices.Contains(out, it) {
			out = append(out, it)
		}
	}
	for _, claim := range verifiedClaims {
		out = append(out, verifiedItem(claim))
	}
	slices.Sort(out)
	return out
}

// IsItem reports whether a consent entry is a claim item.
func IsItem(entry string) bool { return strings.HasPrefix(entry, itemPrefix) }

// LabelKey is the translation key naming a claim item on the consent
// and connected-services pages: "claim.given_name",
// "claim.verified_claims.snils".
func LabelKey(item string) string { return "claim." + strings.TrimPrefix(item, itemPrefix) }
