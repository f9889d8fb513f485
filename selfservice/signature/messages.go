package signature

import (
	"errors"
	"net/http"

	"github.com/gosid/gosid/esign"
)

// Code is the API error code of an outcome, "" for a failure of gosid.
func Code(err error) string {
	var mm *MismatchError
	switch {
	case errors.As(err, &mm):
		return "data_mismatch"
	case errors.Is(err, esign.ErrNoCertificate):
		return "certificate_not_found"
	case errors.Is(err, esign.ErrBadSignature):
		return "invalid_signature"
	case errors.Is(err, esign.ErrExpired):
		return "certificate_expired"
	case errors.Is(err, esign.ErrNotYetValid):
		return "certificate_not_yet_valid"
	case errors.Is(err, esign.ErrRevoked):
		return "certificate_revoked"
	case errors.Is(err, esign.ErrUntrusted):
		return "untrusted_issuer"
	case errors.Is(err, esign.ErrKeyUsage):
		return "certificate_key_usage"
	case errors.Is(err, esign.ErrNoSNILS):
		return "snils_absent"
	case errors.Is(err, esign.ErrRevocationUnknown):
		return "revocation_unknown"
	case errors.Is(err, esign.ErrUnsupported):
		return "unsupported_algorithm"
	case errors.Is(err, esign.ErrGOSTUnavailable):
		return "esign_unavailable"
	case errors.Is(err, ErrChallenge):
		return "invalid_challenge"
	case errors.Is(err, ErrNoAccount):
		return "account_not_found"
	case errors.Is(err, ErrNotVerified):
		return "not_verified"
	}
	return ""
}

func statusOf(code string) int {
	switch code {
	case "certificate_not_found", "invalid_challenge":
		return http.StatusBadRequest
	case "data_mismatch", "not_verified":
		return http.StatusConflict
	case "revocation_unknown", "esign_unavailable":
		return http.StatusServiceUnavailable
	}
	return http.StatusForbidden
}

// Describe is the message for code in lang, with what to do: the
// translations esign.error.<code> (web/i18n), shared with the pages.
func (s *Service) Describe(code, lang string) string {
	return s.Web.T(lang, "esign.error."+code)
}
