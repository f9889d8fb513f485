package federation

import (
	"strings"
	"testing"
)

func TestBankValidate(t *testing.T) {
	ok := func() *Bank {
		return &Bank{ID: "sber", Issuer: "https://bank.example", ClientID: "gosid", ClientSecret: "s",
			Vouches: []Field{SNILS, FamilyName}}
	}
	if err := ok().Validate(); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(b *Bank){
		"id with capitals":      func(b *Bank) { b.ID = "Sber" },
		"no id":                 func(b *Bank) { b.ID = "" },
		"issuer not a URL":      func(b *Bank) { b.Issuer = "bank.example" },
		"no credentials":        func(b *Bank) { b.ClientSecret = "" },
		"no identifier vouched": func(b *Bank) { b.Vouches = []Field{FamilyName, Phone} },
		"unknown vouched field": func(b *Bank) { b.Vouches = append(b.Vouches, "email") },
		"unknown claim field":   func(b *Bank) { b.Claims = map[Field]string{"email": "mail"} },
	} {
		b := ok()
		edit(b)
		if err := b.Validate(); err == nil || !strings.Contains(err.Error(), "sber") && b.ID == "sber" {
			t.Errorf("%s: %v", name, err)
		}
	}
	r, err := NewRegistry([]Bank{*ok(), *ok()}, func(*Bank) (Connector, error) { return nil, nil })
	if err == nil {
		t.Fatalf("a bank twice: %v", r)
	}
}
