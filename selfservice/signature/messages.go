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

// messages are the seed's words and what to do, in Russian and English.
var messages = map[string][2]string{
	"certificate_not_found": {"Сертификат не найден: файл подписи не читается или в нём нет сертификата. Проверьте подключение носителя и подпишите заново.",
		"Certificate not found: the signature file cannot be read or carries no certificate. Check the token is connected and sign again."},
	"invalid_signature": {"Подпись неверна: она сделана не над этим запросом. Подпишите запрос заново.",
		"The signature is not valid for this challenge. Sign the challenge again."},
	"certificate_expired": {"Срок действия сертификата истёк. Получите новый сертификат в аккредитованном удостоверяющем центре.",
		"The certificate has expired. Get a new certificate from an accredited certification authority."},
	"certificate_not_yet_valid": {"Сертификат ещё не действует. Повторите попытку, когда наступит срок его действия.",
		"The certificate is not valid yet. Try again when its validity begins."},
	"certificate_revoked": {"Сертификат отозван. Обратитесь в удостоверяющий центр, выдавший сертификат.",
		"The certificate is revoked. Contact the certification authority that issued it."},
	"untrusted_issuer": {"Сертификат выдан не аккредитованным удостоверяющим центром. Используйте квалифицированный сертификат аккредитованного центра.",
		"The certificate is not issued by an accredited certification authority. Use a qualified certificate from an accredited authority."},
	"certificate_key_usage": {"Ключ сертификата не предназначен для электронной подписи. Используйте сертификат подписи.",
		"The certificate's key is not for signatures. Use a signing certificate."},
	"snils_absent": {"В сертификате нет СНИЛС. Используйте квалифицированный сертификат физического лица со СНИЛС.",
		"The certificate carries no SNILS. Use a person's qualified certificate that carries the SNILS."},
	"revocation_unknown": {"Не удалось проверить, не отозван ли сертификат. Повторите попытку позже.",
		"The certificate's revocation status could not be checked. Try again later."},
	"unsupported_algorithm": {"Алгоритм подписи не поддерживается. Используйте ГОСТ Р 34.10-2012, RSA или ECDSA.",
		"The signature algorithm is not supported. Use GOST R 34.10-2012, RSA or ECDSA."},
	"esign_unavailable": {"Проверка подписей ГОСТ временно недоступна. Повторите попытку позже.",
		"GOST signatures cannot be checked at the moment. Try again later."},
	"invalid_challenge": {"Запрос на подпись устарел или уже использован. Получите новый запрос и подпишите его.",
		"The challenge has expired or was used already. Get a new challenge and sign it."},
	"account_not_found": {"Учётная запись с подтверждённым СНИЛС из сертификата не найдена. Войдите другим способом и подтвердите СНИЛС.",
		"No account has the certificate's SNILS verified. Sign in another way and have your SNILS verified."},
	"not_verified": {"Сначала паспорт и СНИЛС должны пройти проверку.",
		"Your passport and SNILS must be verified first."},
	"data_mismatch": {"Несоответствие данных: сертификат не совпадает с проверенными данными учётной записи.",
		"Data mismatch: the certificate differs from the account's verified data."},
}

// Describe is the message for code in lang ("ru" unless "en").
func Describe(code, lang string) string {
	m, ok := messages[code]
	if !ok {
		return code
	}
	if lang == "en" {
		return m[1]
	}
	return m[0]
}
