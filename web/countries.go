package web

import (
	"sync"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/gosid/gosid/account"
)

// CountryOption is one entry of the citizenship list.
type CountryOption struct {
	Code string // ISO 3166-1 alpha-3, what the form sends
	Name string // in the page's language
}

var (
	countryOnce  sync.Once
	countryLists map[string][]CountryOption
)

// countries is the citizenship list in lang: Russia first, then every
// other country by name.
func countries(lang string) []CountryOption {
	countryOnce.Do(func() {
		countryLists = map[string][]CountryOption{}
		for _, l := range languages {
			tag := language.Make(l)
			names := display.Regions(tag)
			var first []CountryOption
			var rest []CountryOption
			for _, c := range account.Countries() {
				name := c.Alpha3
				if r, err := language.ParseRegion(c.Alpha2); err == nil {
					if n := names.Name(r); n != "" {
						name = n
					}
				}
				o := CountryOption{Code: c.Alpha3, Name: name}
				if c.Alpha3 == account.CitizenshipRussia {
					first = append(first, o)
				} else {
					rest = append(rest, o)
				}
			}
			col := collate.New(tag)
			sortOptions(rest, func(a, b string) bool { return col.CompareString(a, b) < 0 })
			countryLists[l] = append(first, rest...)
		}
	})
	return countryLists[lang]
}

func sortOptions(o []CountryOption, less func(a, b string) bool) {
	for i := 1; i < len(o); i++ {
		for j := i; j > 0 && less(o[j].Name, o[j-1].Name); j-- {
			o[j], o[j-1] = o[j-1], o[j]
		}
	}
}
