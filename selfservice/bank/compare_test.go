package bank

import (
	"slices"
	"testing"

	"github.com/gosid/gosid/federation"
	"github.com/gosid/gosid/verify"
)

func TestCompare(t *testing.T) {
	d := &verify.Data{FamilyName: "Фёдоров", GivenName: "Иван", MiddleName: "Иванович", BirthDate: "1985-03-14",
		SNILS: "12345678964", Passport: verify.Passport{Series: "4505", Number: "123456"}}
	all := []federation.Field{federation.FamilyName, federation.GivenName, federation.MiddleName, federation.BirthDate,
		federation.SNILS, federation.INN, federation.Passport}
	good := map[federation.Field]string{federation.FamilyName: "ФЕДОРОВ", federation.GivenName: "иван",
		federation.MiddleName: "Иванович", federation.BirthDate: "1985-03-14", federation.SNILS: "12345678964",
		federation.Passport: "4505123456", federation.INN: "770112345695", federation.Phone: "+79160000000"}
	with := func(f federation.Field, v string) map[federation.Field]string {
		m := map[federation.Field]string{}
		for k, x := range good {
			m[k] = x
		}
		if v == "" {
			delete(m, f)
		} else {
			m[f] = v
		}
		return m
	}
	for _, tc := range []struct {
		name    string
		vouches []federation.Field
		values  map[federation.Field]string
		want    []federation.Field
	}{
		{"everything matches (ё/е and case aside; INN not on the account)", all, good, nil},
		{"birth date differs", all, with(federation.BirthDate, "1985-03-15"), []federation.Field{federation.BirthDate}},
		{"SNILS missing at the bank", all, with(federation.SNILS, ""), []federation.Field{federation.SNILS}},
		{"two fields differ", all, map[federation.Field]string{federation.FamilyName: "Петров", federation.GivenName: "Иван",
			federation.MiddleName: "Иванович", federation.BirthDate: "1985-03-14", federation.SNILS: "12345678964",
			federation.Passport: "4505000000"}, []federation.Field{federation.FamilyName, federation.Passport}},
		{"patronymic the account has and the bank lacks", all, with(federation.MiddleName, ""), []federation.Field{federation.MiddleName}},
		{"only names vouched: no identifier, no match", []federation.Field{federation.FamilyName, federation.GivenName},
			good, []federation.Field{federation.SNILS}},
		{"phone alone never links", []federation.Field{federation.Phone}, good, []federation.Field{federation.SNILS}},
		{"unvouched differences are ignored", []federation.Field{federation.SNILS}, with(federation.BirthDate, "2000-01-01"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &federation.Bank{ID: "b", Vouches: tc.vouches}
			got := Compare(b, &federation.Identity{Values: tc.values}, d)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}
