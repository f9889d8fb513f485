package claimsreq

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	cases := []struct {
		name, raw string
		bad       string // part of the error, "" when valid
	}{
		{"empty", "", ""},
		{"both members", `{"userinfo":{"email":null,"given_name":{"essential":true}},"id_token":{"acr":{"essential":true,"values":["urn:gosid:loa:standard"]}}}`, ""},
		{"unknown members ignored", `{"other":1,"userinfo":{"email":{"essential":true,"x":1}}}`, ""},
		{"null members", `{"userinfo":null,"id_token":null}`, ""},
		{"verified object", `{"userinfo":{"verified_claims":{"verification":{"trust_framework":null},"claims":{"snils":null}}}}`, ""},
		{"verified array", `{"userinfo":{"verified_claims":[{"verification":{"trust_framework":{"value":"x"}},"claims":{"snils":null}},{"claims":{"inn":null}}]}}`, ""},
		{"not JSON", `{"userinfo":`, "not a JSON object"},
		{"an array", `[1]`, "not a JSON object"},
		{"garbled request object", `map[userinfo:map[email:<nil>]]`, "not a JSON object"},
		{"member not an object", `{"userinfo":[]}`, "userinfo is not a JSON object"},
		{"claim not an object", `{"userinfo":{"email":true}}`, "userinfo.email is not a JSON object"},
		{"essential not a boolean", `{"id_token":{"acr":{"essential":"yes"}}}`, "essential is not a boolean"},
		{"values not an array", `{"id_token":{"acr":{"values":"a"}}}`, "values is not an array"},
		{"too many values", `{"id_token":{"acr":{"values":[` + strings.Repeat(`"a",`, 40) + `"a"]}}}`, "more than"},
		{"purpose too short", `{"userinfo":{"email":{"purpose":"x"}}}`, "purpose must be"},
		{"verified without claims", `{"userinfo":{"verified_claims":{"verification":{"trust_framework":null}}}}`, "must name at least one claim"},
		{"verified with empty claims", `{"userinfo":{"verified_claims":{"verification":{},"claims":{}}}}`, "must name at least one claim"},
		{"verified empty array", `{"userinfo":{"verified_claims":[]}}`, "1 to 8 requests"},
		{"negative max_age", `{"userinfo":{"verified_claims":{"verification":{"time":{"max_age":-1}},"claims":{"snils":null}}}}`, "max_age"},
		{"too long", `{"userinfo":{"email":{"purpose":"` + strings.Repeat("a", MaxLength) + `"}}}`, "longer than"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.raw)
			switch {
			case tc.bad == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.bad != "" && (err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.bad)):
				t.Fatalf("error %v, want one about %q", err, tc.bad)
			}
		})
	}
}

func mustParse(t *testing.T, raw string) *Request {
	t.Helper()
	r, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestItemsAndAllowed: a claim outside the granted scopes is a consent item
// of its own; what the consent does not cover is dropped before release.
func TestItemsAndAllowed(t *testing.T) {
	r := mustParse(t, `{"userinfo":{"email":{"essential":true,"purpose":"to send receipts"},"email_verified":null,"given_name":null,
		"nickname":null,"verified_claims":{"verification":{"trust_framework":null},"claims":{"snils":null,"shoe_size":null}}},
		"id_token":{"phone_number":null,"acr":{"essential":true},"auth_time":null}}`)
	items := r.Items([]string{"openid", "profile"})
	want := []Item{{Name: "claim:email", Essential: true, Purpose: "to send receipts"}, {Name: "claim:phone_number"},
		{Name: "claim:verified_claims.snils"}}
	if !reflect.DeepEqual(items, want) {
		t.Fatalf("Items = %+v\nwant %+v", items, want)
	}
	if got := r.ItemNames([]string{"openid", "profile", "email", "phone", "verified_claims"}); len(got) != 0 {
		t.Fatalf("items the scopes cover: %v", got)
	}

	allowed := r.Allowed([]string{"openid", "profile", "claim:phone_number"})
	if _, ok := allowed.UserInfo.Claims["email"]; ok {
		t.Fatal("a claim without consent survived")
	}
	if _, ok := allowed.UserInfo.Claims["given_name"]; !ok {
		t.Fatal("a claim of a granted scope was dropped")
	}
	if _, ok := allowed.IDToken.Claims["phone_number"]; !ok {
		t.Fatal("a claim with its own consent was dropped")
	}
	if _, ok := allowed.IDToken.Claims["acr"]; !ok {
		t.Fatal("acr (no personal data) was dropped")
	}
	if len(allowed.UserInfo.Verified) != 0 {
		t.Fatal("verified claims without consent survived")
	}
	if got := r.Allowed([]string{"verified_claims"}).UserInfo.Verified; len(got) != 1 || len(got[0].Claims) != 1 {
		t.Fatalf("verified request under the verified_claims scope: %+v", got)
	}
}

func TestSelect(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	avail := map[string]any{
		"email": "a@example.org", "email_verified": true, "given_name": "Иван", "updated_at": int64(1700000000),
		"verified_claims": map[string]any{
			"verification": map[string]any{"trust_framework": TrustFramework, "time": "2026-02-01T00:00:00Z",
				"evidence": []any{map[string]any{"type": "electronic_record"}}},
			"claims": map[string]any{"snils": "12345678964", "inn": "500100732259", "given_name": "Иван"},
		},
	}
	cases := []struct {
		name, member string
		want         map[string]any
	}{
		{"named claims only", `{"email":null,"acr":null,"nickname":null}`, map[string]any{"email": "a@example.org"}},
		{"a value that matches", `{"given_name":{"value":"Иван"},"updated_at":{"values":[1700000000.0]}}`,
			map[string]any{"given_name": "Иван", "updated_at": int64(1700000000)}},
		{"a value that does not", `{"given_name":{"values":["Пётр"]},"email_verified":{"value":"true"}}`, map[string]any{}},
		{"verified, constraints met", `{"verified_claims":{"verification":{"trust_framework":{"value":"ru_gosid"},"time":{"max_age":2678400}},"claims":{"snils":null}}}`,
			map[string]any{"verified_claims": map[string]any{"verification": map[string]any{"trust_framework": TrustFramework, "time": "2026-02-01T00:00:00Z"},
				"claims": map[string]any{"snils": "12345678964"}}}},
		{"verified, evidence asked", `{"verified_claims":{"verification":{"evidence":null},"claims":{"inn":null,"document":null}}}`,
			map[string]any{"verified_claims": map[string]any{"verification": map[string]any{"trust_framework": TrustFramework,
				"evidence": []any{map[string]any{"type": "electronic_record"}}}, "claims": map[string]any{"inn": "500100732259"}}}},
		{"verified, another trust framework", `{"verified_claims":{"verification":{"trust_framework":{"values":["eidas"]}},"claims":{"snils":null}}}`, map[string]any{}},
		{"verified, too old", `{"verified_claims":{"verification":{"time":{"max_age":86400}},"claims":{"snils":null}}}`, map[string]any{}},
		{"verified, nothing it has", `{"verified_claims":{"verification":{},"claims":{"birthdate":null}}}`, map[string]any{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseMember([]byte(tc.member))
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Select(avail, now); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Select = %v\nwant %v", got, tc.want)
			}
		})
	}
}

// TestMemberRoundTrip: a member written for a token reads back the same
// (purposes aside).
func TestMemberRoundTrip(t *testing.T) {
	r := mustParse(t, `{"userinfo":{"email":{"essential":true,"purpose":"receipts"},"given_name":{"values":["a","b"]},"phone_number":null,
		"verified_claims":[{"verification":{"trust_framework":{"value":"ru_gosid"},"time":{"max_age":60},"evidence":[]},"claims":{"snils":{"essential":true}}}]}}`)
	raw, err := json.Marshal(r.UserInfo)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseMember(raw)
	if err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	r.UserInfo.Claims["email"].Purpose = ""
	if !reflect.DeepEqual(back, r.UserInfo) {
		t.Fatalf("round trip of %s:\n%+v\nwant %+v", raw, back, r.UserInfo)
	}
	if got := r.UserInfo.Scopes(); !reflect.DeepEqual(got, []string{"email", "phone", "profile", "verified_claims"}) {
		t.Fatalf("Scopes = %v", got)
	}
}

func TestACRAndSubjects(t *testing.T) {
	r := mustParse(t, `{"id_token":{"acr":{"essential":true,"value":"a","values":["b",3]},"sub":{"value":"u1"}}}`)
	if v, e := r.ACR(); !reflect.DeepEqual(v, []string{"a", "b"}) || !e {
		t.Fatalf("ACR = %v, %v", v, e)
	}
	if v, ok := r.Subjects(); !ok || !reflect.DeepEqual(v, []string{"u1"}) {
		t.Fatalf("Subjects = %v, %v", v, ok)
	}
	var none *Request
	if v, e := none.ACR(); v != nil || e {
		t.Fatal("a nil request asks for an acr")
	}
	if _, ok := none.Subjects(); ok {
		t.Fatal("a nil request demands a subject")
	}
}

func TestCovered(t *testing.T) {
	granted := []string{"openid", "email", "claim:given_name", "verified_claims"}
	for item, want := range map[string]bool{
		"email": true, "profile": false, "claim:email": true, "claim:email_verified": true,
		"claim:given_name": true, "claim:family_name": false, "claim:verified_claims.snils": true, "claim:nickname": false,
	} {
		if got := Covered(granted, item); got != want {
			t.Errorf("Covered(%s) = %v, want %v", item, got, want)
		}
	}
}

// FuzzParse: no input makes Parse panic, and what it accepts survives a
// round trip through a token.
func FuzzParse(f *testing.F) {
	for _, s := range []string{`{"userinfo":{"email":null}}`, `{"id_token":{"acr":{"essential":true,"values":["x"]}}}`,
		`{"userinfo":{"verified_claims":[{"verification":{"time":{"max_age":5}},"claims":{"snils":null}}]}}`, `null`, `{}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		r, err := Parse(raw)
		if err != nil || r == nil {
			return
		}
		out, err := json.Marshal(r.UserInfo)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		if _, err := ParseMember(out); err != nil {
			t.Fatalf("%s does not read back: %v", out, err)
		}
	})
}
