package signin

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gosid/gosid/account"
	"github.com/gosid/gosid/codes"
	"github.com/gosid/gosid/selfservice"
)

func TestCheckInput(t *testing.T) {
	tests := []struct {
		name string
		in   selfservice.Input
		want *account.FieldError
	}{
		{"empty", selfservice.Input{}, nil},
		{"ordinary", selfservice.Input{"family_name": "Иванова", "contact": "+7 912 123-45-89", "password": testPassword}, nil},
		{"at the limit", selfservice.Input{"contact": strings.Repeat("a", 254)}, nil},
		{"over the limit", selfservice.Input{"contact": strings.Repeat("a", 255)}, &account.FieldError{Field: "contact", Code: "field.too_long"}},
		{"limit in bytes, not characters", selfservice.Input{"code": strings.Repeat("й", 9)}, &account.FieldError{Field: "code", Code: "field.too_long"}},
		{"password of 512 bytes", selfservice.Input{"password": strings.Repeat("p", 512)}, nil},
		{"password of 513 bytes", selfservice.Input{"password": strings.Repeat("p", 513)}, &account.FieldError{Field: "password", Code: "field.too_long"}},
		{"invalid UTF-8", selfservice.Input{"given_name": "Ма\xffрия"}, &account.FieldError{Field: "given_name", Code: "field.invalid_utf8"}},
		{"NUL", selfservice.Input{"login": "a\x00b"}, &account.FieldError{Field: "login", Code: "field.control_chars"}},
		{"newline", selfservice.Input{"password": "line\nbreak"}, &account.FieldError{Field: "password", Code: "field.control_chars"}},
		{"tab", selfservice.Input{"code": "12\t34"}, &account.FieldError{Field: "code", Code: "field.control_chars"}},
		{"DEL", selfservice.Input{"middle_name": "x\x7fy"}, &account.FieldError{Field: "middle_name", Code: "field.control_chars"}},
		{"unknown field is not checked", selfservice.Input{"zzz": strings.Repeat("\x00", 10000)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := selfservice.CheckInput(tt.in)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("checkInput = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMaskContact(t *testing.T) {
	tests := []struct {
		channel, contact, want string
	}{
		{"phone", "+79121234589", "+7(912)***-**-89"},
		{"phone", "+7912123458", "***"}, // not a normalised phone
		{"email", "ivanova@example.ru", "i***@example.ru"},
		{"email", "ёлка@пример.рф", "ё***@пример.рф"},
		{"email", "@example.ru", "***"},
		{"email", "", "***"},
		{"email", "no-at-sign", "***"},
	}
	for _, tt := range tests {
		if got := selfservice.MaskContact(tt.channel, tt.contact); got != tt.want {
			t.Errorf("selfservice.MaskContact(%q, %q) = %q, want %q", tt.channel, tt.contact, got, tt.want)
		}
	}
}

func TestViewErrors(t *testing.T) {
	v := &selfservice.View{Errors: []selfservice.Message{
		{Field: "password", Code: "password.too_short", Text: "short"},
		{Code: "code.too_soon", Text: "wait"},
		{Field: "password", Code: "password.mismatch", Text: "second"},
		{Code: "flow.error.action", Text: "refresh"},
	}, Values: map[string]string{"contact": "+79121234589"}}
	tests := []struct{ field, want string }{
		{"password", "short"}, // the first error of a field
		{"contact", ""},
		{"", "wait"},
	}
	for _, tt := range tests {
		if got := v.Err(tt.field); got != tt.want {
			t.Errorf("Err(%q) = %q, want %q", tt.field, got, tt.want)
		}
	}
	var form []string
	for _, m := range v.FormErrors() {
		form = append(form, m.Code)
	}
	if want := []string{"code.too_soon", "flow.error.action"}; !slices.Equal(form, want) {
		t.Errorf("FormErrors = %v, want %v", form, want)
	}
	if (&selfservice.View{}).FormErrors() != nil || (&selfservice.View{}).Err("x") != "" {
		t.Error("a view without errors has errors")
	}
	if v.Value("contact") != "+79121234589" || v.Value("password") != "" {
		t.Errorf("Value: %q, %q", v.Value("contact"), v.Value("password"))
	}
}

func TestInputGet(t *testing.T) {
	in := selfservice.Input{"login": "  +79121234589 \t", "password": " spaced "}
	if got := in.Get("login"); got != "+79121234589" {
		t.Errorf("Get(login) = %q", got)
	}
	if got := in.Get("missing"); got != "" {
		t.Errorf("Get(missing) = %q", got)
	}
	// The flows read passwords raw (in["password"]): spaces are part of them.
	if in["password"] != " spaced " {
		t.Error("selfservice.Input changed the password")
	}
}

func TestCodeErrorKey(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{codes.ErrInvalid, "code.invalid"},
		{codes.ErrExpired, "code.expired"},
		{codes.ErrBurned, "code.burned"},
		{codes.ErrTooSoon, "code.too_soon"},
		{codes.ErrHourlyLimit, "code.hourly_limit"},
		{codes.ErrBlocked, "code.blocked"},
		{fmt.Errorf("issue: %w", codes.ErrTooSoon), "code.too_soon"},
		{errors.New("database is down"), ""},
	}
	for _, tt := range tests {
		if got := selfservice.CodeErrorKey(tt.err); got != tt.want {
			t.Errorf("selfservice.CodeErrorKey(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestLoginPageError(t *testing.T) {
	tests := []struct {
		code   string
		status int
		key    string
	}{
		{"login.required", http.StatusBadRequest, "login.error.required"},
		{"login.rate", http.StatusTooManyRequests, "login.error.rate"},
		{"login.locked", http.StatusForbidden, "login.error.locked"},
		{"login.invalid", http.StatusUnauthorized, "login.error.invalid"},
		// A field refused by the input checks shows as a wrong login or
		// password on the page, with no hint of which rule it broke.
		{"field.too_long", http.StatusBadRequest, "login.error.invalid"},
		{"field.control_chars", http.StatusBadRequest, "login.error.invalid"},
	}
	for _, tt := range tests {
		status, key := loginPageError(tt.code)
		if status != tt.status || key != tt.key {
			t.Errorf("loginPageError(%q) = %d, %q; want %d, %q", tt.code, status, key, tt.status, tt.key)
		}
	}
}
