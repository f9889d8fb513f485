package signature

import (
	"slices"
	"testing"

	"github.com/gosid/gosid/esign"
	"github.com/gosid/gosid/verify"
)

func TestCompare(t *testing.T) {
	d := &verify.Data{FamilyName: "Иванов", GivenName: "Пётр", MiddleName: "Иванович", SNILS: "123-456-789 64", INN: "770112345695"}
	cert := esign.Attributes{SNILS: "12345678964", INN: "770112345695", FamilyName: "ИВАНОВ", GivenName: "Петр", MiddleName: "Иванович"}
	for _, tc := range []struct {
		name string
		edit func(a *esign.Attributes)
		want []string
	}{
		{"match (case, ё)", func(*esign.Attributes) {}, nil},
		{"no INN in the certificate", func(a *esign.Attributes) { a.INN = "" }, nil},
		{"no patronymic in the certificate", func(a *esign.Attributes) { a.MiddleName = "" }, nil},
		{"SNILS", func(a *esign.Attributes) { a.SNILS = "11223344595" }, []string{"snils"}},
		{"INN", func(a *esign.Attributes) { a.INN = "500100732259" }, []string{"inn"}},
		{"names", func(a *esign.Attributes) { a.FamilyName, a.MiddleName = "Петров", "Петрович" }, []string{"family_name", "middle_name"}},
	} {
		a := cert
		tc.edit(&a)
		if got := Compare(a, d); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
