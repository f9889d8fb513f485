package esia

import (
	"encoding/json"
	"net/http"
	"net/url"
)

// Error is an answer in ESIA's form: an OAuth error code and a
// description that begins with the ESIA code.
type Error struct {
	OAuth string // invalid_request, access_denied, ...
	Code  string // ESIA-007014
	Text  string
}

func (e *Error) Error() string { return e.Code + ": " + e.Text }

func esiaErr(oauth, code, text string) *Error { return &Error{OAuth: oauth, Code: code, Text: text} }

// The codes of go-api-epgu's table (esia-interface.md §5.3).
func errCertMismatch() *Error {
	return esiaErr("invalid_client", "ESIA-007002", "Несоответствие сертификата и мнемоники информационной системы")
}
func errBadParam(name string) *Error {
	return esiaErr("invalid_request", "ESIA-007003", "В запросе отсутствует обязательный параметр, запрос включает в себя неверное значение параметра или включает параметр несколько раз ["+name+"]")
}
func errDenied() *Error {
	return esiaErr("access_denied", "ESIA-007004", "Владелец ресурса или сервис авторизации отклонил запрос")
}
func errUnauthorizedClient() *Error {
	return esiaErr("unauthorized_client", "ESIA-007005", "The client is not authorized to request an access token using this method.")
}
func errBadScope(scope string) *Error {
	return esiaErr("invalid_scope", "ESIA-007006", "Запрошенная область доступа (scope) указана неверно ["+scope+"]")
}
func errInternal() *Error {
	return esiaErr("server_error", "ESIA-007007", "Внутренняя ошибка сервиса авторизации")
}
func errGrantType() *Error {
	return esiaErr("unsupported_grant_type", "ESIA-007009", "Сервис авторизации не поддерживает тип гранта авторизации")
}
func errBadGrant() *Error {
	return esiaErr("invalid_grant", "ESIA-007011", "The provided authorization grant or refresh token is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client")
}
func errNoScope() *Error {
	return esiaErr("invalid_scope", "ESIA-007013", "Запрос не содержит указания на область доступа (scope)")
}
func errMissing(name string) *Error {
	return esiaErr("invalid_request", "ESIA-007014", "Запрос не содержит обязательного параметра ["+name+"]")
}
func errTime() *Error {
	return esiaErr("invalid_request", "ESIA-007015", "Неверное время запроса")
}
func errRedirect() *Error {
	return esiaErr("invalid_request", "ESIA-007023", "Указанный адрес перенаправления (redirect_uri) не разрешён для системы-клиента")
}
func errSecret() *Error {
	return esiaErr("access_denied", "ESIA-007053", "OAuthErrorEnum.clientSecretWrong")
}
func errUnconfirmed() *Error {
	return esiaErr("access_denied", "ESIA-007055", "Вход в систему осуществляется с неподтвержденной учетной записью")
}

// writeJSONError answers the token endpoint's way: 400 JSON with state.
func writeJSONError(w http.ResponseWriter, e *Error, state string) {
	status := http.StatusBadRequest
	if e.Code == "ESIA-007007" {
		status = http.StatusInternalServerError
	}
	body := map[string]string{"error": e.OAuth, "error_description": e.Error()}
	if state != "" {
		body["state"] = state
	}
	writeJSON(w, status, body)
}

// redirectError answers the authorization endpoint's way: back to the
// client's (checked) redirect_uri with error, error_description and state.
func redirectError(w http.ResponseWriter, r *http.Request, redirectURI string, e *Error, state string) {
	u, err := url.Parse(redirectURI)
	if err != nil {
		writeJSONError(w, e, state)
		return
	}
	q := u.Query()
	q.Set("error", e.OAuth)
	q.Set("error_description", e.Error())
	if state != "" {
		q.Set("state", state)
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
