package sim

import (
	"os"
	"strings"
	"testing"
)

func TestDefaultDataset(t *testing.T) {
	ds := Default()
	if len(ds.Persons) < 10 {
		t.Fatalf("%d persons, want at least 10", len(ds.Persons))
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	behaviours := map[Behaviour]bool{}
	for _, p := range ds.Persons {
		behaviours[p.Behaviour] = true
		// README.md is how humans find the seeded persons: keep it whole.
		for _, v := range []string{"`" + p.ID + "`", p.SNILS, p.INN} {
			if !strings.Contains(string(readme), v) {
				t.Errorf("README.md does not mention %s of %q", v, p.ID)
			}
		}
		for _, pp := range p.Passports {
			if !strings.Contains(string(readme), pp.Series+" "+pp.Number) {
				t.Errorf("README.md does not mention passport %s %s of %q", pp.Series, pp.Number, p.ID)
			}
		}
	}
	for _, b := range []Behaviour{Normal, Slow, Unavailable, RateLimited, InternalError, Malformed, Oversize} {
		if !behaviours[b] {
			t.Errorf("no person behaves %q", b)
		}
	}
}

func TestLoadRefuses(t *testing.T) {
	valid := `{"id":"a","family_name":"А","given_name":"Б","middle_name":"","birth_date":"1990-01-01",` +
		`"passports":[{"series":"4505","number":"123456","issued_at":"2010-01-01"}],"snils":"12345678964","inn":"770112345695"`
	for name, doc := range map[string]string{
		"unknown field":      `{"persons":[` + valid + `,"colour":"red"}]}`,
		"bad snils digits":   `{"persons":[` + strings.Replace(valid, "12345678964", "12345678965", 1) + `}]}`,
		"bad inn digits":     `{"persons":[` + strings.Replace(valid, "770112345695", "770112345696", 1) + `}]}`,
		"bad birth date":     `{"persons":[` + strings.Replace(valid, "1990-01-01", "01.01.1990", 1) + `}]}`,
		"bad series":         `{"persons":[` + strings.Replace(valid, `"4505"`, `"45 05"`, 1) + `}]}`,
		"no family name":     `{"persons":[` + strings.Replace(valid, `"А"`, `" "`, 1) + `}]}`,
		"unknown behaviour":  `{"persons":[` + valid + `,"behaviour":"sleepy"}]}`,
		"negative times":     `{"persons":[` + valid + `,"times":-1}]}`,
		"unknown status":     `{"persons":[` + valid + `,"snils_status":"lost"}]}`,
		"repeated id":        `{"persons":[` + valid + `},` + strings.Replace(valid, "12345678964", "13579246894", 1) + `}]}`,
		"shared document":    `{"persons":[` + valid + `},` + strings.Replace(valid, `"id":"a"`, `"id":"b"`, 1) + `}]}`,
		"not json":           `persons: []`,
		"passport status":    `{"persons":[` + strings.Replace(valid, `"2010-01-01"}`, `"2010-01-01","status":"stolen"}`, 1) + `}]}`,
		"inn status unknown": `{"persons":[` + valid + `,"inn_status":"suspended"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Load(strings.NewReader(doc)); err == nil {
				t.Fatal("loaded")
			}
		})
	}
	if _, err := Load(strings.NewReader(`{"persons":[` + valid + `}]}`)); err != nil {
		t.Fatalf("the valid base document: %v", err)
	}
}

func TestLoadFile(t *testing.T) {
	ds, err := LoadFile("dataset.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Persons) != len(Default().Persons) {
		t.Fatal("dataset.json and Default differ")
	}
	if _, err := LoadFile("testdata/absent.json"); err == nil {
		t.Fatal("loaded a missing file")
	}
}

func TestPersonQueries(t *testing.T) {
	p, ok := Default().Person("kuznetsov")
	if !ok {
		t.Fatal("no kuznetsov")
	}
	// The current passport is the valid one, whatever the order.
	if q := p.PassportQuery(); q.Series != "4520" || q.IssuedAt.Format(dateLayout) != "2020-11-25" {
		t.Errorf("passport query %+v", q)
	}
	if q := p.INNQuery(); q.PassportNumber != "456789" || q.INN != p.INN {
		t.Errorf("inn query %+v", q)
	}
	if q := p.SNILSQuery(); q.SNILS != p.SNILS || q.BirthDate.Format(dateLayout) != p.BirthDate {
		t.Errorf("snils query %+v", q)
	}
	if _, ok := Default().Person("nobody"); ok {
		t.Error("found nobody")
	}
}

func TestSameName(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"Семёнова", "семенова", true},
		{"СЕМЁНОВА", "Семенова", true},
		{"Алёна", "АЛЕНА", true},
		{"Анна  Мария", " анна мария ", true},
		{"Иванов", "Иванова", false},
		{"", "", true},
		{"Олегович", "", false},
	} {
		if got := sameName(tc.a, tc.b); got != tc.same {
			t.Errorf("sameName(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}
