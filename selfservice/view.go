package selfservice

import (
	"encoding/json"
	"html/template"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gosid/gosid/account"
)

// Meta describes the caller of a step.
type Meta struct {
	IP        string
	UserAgent string
	Lang      string
	// API marks a request through the JSON API (for the audit trail).
	API bool
	// Device is the device id the caller presented (the device cookie of
	// a browser, an app's device_token); "" for none.
	Device string
}

// MaxCredentialJSON bounds a WebAuthn response.
const MaxCredentialJSON = 16 << 10

// View is the state of a self-service flow as both faces show it: the HTML
// pages render it with a template, the JSON API returns it as is. It never
// carries a password, a code or a token other than the ones meant for the
// caller (flow_token once at creation, session_token once at the end).
type View struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	State     string    `json:"state"`
	ExpiresAt time.Time `json:"expires_at"`
	// Values echoes what the citizen typed (safe fields only), so that a
	// page with errors keeps it.
	Values   map[string]string `json:"values,omitempty"`
	Errors   []Message         `json:"errors,omitempty"`
	Messages []Message         `json:"messages,omitempty"`
	// Contact is the masked contact a code was sent to.
	Contact string `json:"contact,omitempty"`
	// Channel is "phone" or "email" while a code is awaited.
	Channel      string `json:"channel,omitempty"`
	FlowToken    string `json:"flow_token,omitempty"`
	SessionToken string `json:"session_token,omitempty"`
	// DeviceToken identifies the app's device to gosid: an app keeps it and
	// sends it as device_token when it signs in again, so that the owner
	// is not told of a new device each time.
	DeviceToken string `json:"device_token,omitempty"`
	// ReturnTo is set on a finished browser flow that continues elsewhere.
	ReturnTo string `json:"-"`
	// Methods are the second factors usable now (a challenge); Method is
	// the one chosen or being turned on.
	Methods []MethodView `json:"methods,omitempty"`
	Method  string       `json:"method,omitempty"`
	// WebAuthn holds the options for navigator.credentials.get or create.
	WebAuthn json.RawMessage `json:"webauthn,omitempty"`
	// TOTPSecret, TOTPURL and QR set up an authenticator app (the QR code
	// is a PNG data URL rendered by gosid).
	TOTPSecret string       `json:"totp_secret,omitempty"`
	TOTPURL    string       `json:"totp_url,omitempty"`
	QR         template.URL `json:"qr_png,omitempty"`
	// RecoveryCodes are shown once, when they are created.
	RecoveryCodes []string `json:"recovery_codes,omitempty"`
	// AccountID is the account a finished flow signed in (registration)
	// or identified; the face that renders the view starts the session.
	AccountID string `json:"-"`
	// AMR is what a finished second-factor flow used.
	AMR []string `json:"-"`
	// Start is set by a step that finished an authentication: the face
	// starts this session (a cookie for a browser, session_token for an
	// app).
	Start *SessionStart `json:"-"`
}

// MethodView is a second factor usable now, as a challenge offers it.
type MethodView struct {
	Method string `json:"method"`
	// Contact is the masked phone or e-mail a code goes to.
	Contact string `json:"contact,omitempty"`
}

// Message is an error or notice: a stable code, the field it concerns (if
// any) and the text in the caller's language.
type Message struct {
	Field string `json:"field,omitempty"`
	Code  string `json:"code"`
	Text  string `json:"text"`
}

// Err returns the error text for a field, for templates.
func (v *View) Err(field string) string {
	for _, e := range v.Errors {
		if e.Field == field {
			return e.Text
		}
	}
	return ""
}

// FormErrors returns errors not tied to a field, for templates.
func (v *View) FormErrors() []Message {
	var out []Message
	for _, e := range v.Errors {
		if e.Field == "" {
			out = append(out, e)
		}
	}
	return out
}

// Value returns an echoed value, for templates.
func (v *View) Value(field string) string { return v.Values[field] }

// Input is what a step submits.
type Input map[string]string

// Get returns a trimmed field value.
func (in Input) Get(k string) string { return strings.TrimSpace(in[k]) }

// Limits on submitted fields (bytes); anything longer is refused before any
// other processing.
var fieldLimits = map[string]int{
	"family_name": 400, "given_name": 400, "middle_name": 400, "contact": 254, "login": 254,
	"password": 512, "password_confirm": 512, "current_password": 512, "code": 16, "consent": 8,
	"action": 32, "method": 16, "device_token": 64, "name": 64, "credential": MaxCredentialJSON,
}

// CheckInput refuses invalid UTF-8, control characters and oversize fields.
func CheckInput(in Input) *account.FieldError {
	for k, v := range in {
		limit, known := fieldLimits[k]
		if !known {
			continue
		}
		if len(v) > limit {
			return &account.FieldError{Field: k, Code: "field.too_long"}
		}
		if !utf8.ValidString(v) {
			return &account.FieldError{Field: k, Code: "field.invalid_utf8"}
		}
		for _, r := range v {
			if r < 0x20 || r == 0x7f {
				return &account.FieldError{Field: k, Code: "field.control_chars"}
			}
		}
	}
	return nil
}

// MaskContact shows enough of a contact to recognise it: +7(912)***-**-89,
// i***@example.ru.
func MaskContact(channel, c string) string {
	if channel == "phone" && len(c) == 12 {
		return "+7(" + c[2:5] + ")***-**-" + c[10:]
	}
	at := strings.IndexByte(c, '@')
	if at <= 0 {
		return "***"
	}
	first, _ := utf8.DecodeRuneInString(c)
	return string(first) + "***" + c[at:]
}

// FieldLimit is the most bytes a submitted field may hold (0 for a field
// with no limit of its own).
func FieldLimit(name string) int { return fieldLimits[name] }
