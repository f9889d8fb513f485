package main

import (
	"net/url"
	"reflect"
	"testing"
)

func TestHiddenInputs(t *testing.T) {
	tests := []struct {
		name    string
		page    string
		action  string
		want    url.Values
		wantErr bool
	}{
		{
			name:   "login form",
			page:   `<form method="post" action="/login"><input type="hidden" name="flow" value="f1"><input type="hidden" name="csrf_token" value="c1"><input name="login"><input type="password" name="password"></form>`,
			action: "/login",
			want:   url.Values{"flow": {"f1"}, "csrf_token": {"c1"}},
		},
		{
			name:   "action with query and absolute URL",
			page:   `<form action="http://127.0.0.1:8080/login?lang=en"><input type="hidden" name="flow" value="f"></form>`,
			action: "/login",
			want:   url.Values{"flow": {"f"}},
		},
		{
			name: "other forms skipped",
			page: `<form action="/lang"><input type="hidden" name="csrf_token" value="wrong"></form>
				<form action="/login"><input type="hidden" name="csrf_token" value="right"></form>
				<form action="/login"><input type="hidden" name="csrf_token" value="second"></form>`,
			action: "/login",
			want:   url.Values{"csrf_token": {"right"}},
		},
		{
			name:   "attribute order, case and quoting",
			page:   `<FORM ACTION='/login'><INPUT value=abc NAME=flow TYPE=HIDDEN><input value='x y' type='hidden' name='csrf_token'/></FORM>`,
			action: "/login",
			want:   url.Values{"flow": {"abc"}, "csrf_token": {"x y"}},
		},
		{
			name:   "entities unescaped",
			page:   `<form action="/login"><input type="hidden" name="csrf_token" value="a&amp;b&#61;c&quot;"></form>`,
			action: "/login",
			want:   url.Values{"csrf_token": {`a&b=c"`}},
		},
		{
			name:   "no value is empty, no name is skipped",
			page:   `<form action="/login"><input type="hidden" name="flow"><input type="hidden" value="orphan"></form>`,
			action: "/login",
			want:   url.Values{"flow": {""}},
		},
		{
			name:   "inputs outside the form ignored",
			page:   `<input type="hidden" name="flow" value="outside"><form action="/login"><input type="hidden" name="csrf_token" value="in"></form><input type="hidden" name="after" value="x">`,
			action: "/login",
			want:   url.Values{"csrf_token": {"in"}},
		},
		{
			name:   "nested markup inside the form",
			page:   `<!doctype html><html><body><main><form action="/login"><div><label>Login <input name="login"></label><p><input type="hidden" name="flow" value="deep"></p></div></form></main></body></html>`,
			action: "/login",
			want:   url.Values{"flow": {"deep"}},
		},
		{
			name:   "form without hidden inputs",
			page:   `<form action="/login"><input name="login"></form>`,
			action: "/login",
			want:   url.Values{},
		},
		{
			name:    "no matching form",
			page:    `<form action="/consent"><input type="hidden" name="flow" value="f"></form>`,
			action:  "/login",
			wantErr: true,
		},
		{
			name:    "empty page",
			page:    ``,
			action:  "/login",
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := hiddenInputs([]byte(tt.page), tt.action)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func FuzzHiddenInputs(f *testing.F) {
	f.Add([]byte(`<form action="/login"><input type="hidden" name="flow" value="f"></form>`))
	f.Add([]byte(`<form action="/login"><input type=hidden name=a value="&amp`))
	f.Fuzz(func(t *testing.T, page []byte) {
		_, _ = hiddenInputs(page, "/login")
	})
}
