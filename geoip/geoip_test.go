package geoip_test

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/gosid/gosid/geoip"
)

// writeDB writes a small City database with two networks.
func writeDB(t *testing.T) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-City", RecordSize: 24, IncludeReservedNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	place := func(city map[string]string, country map[string]string) mmdbtype.Map {
		m := mmdbtype.Map{}
		toNames := func(n map[string]string) mmdbtype.Map {
			out := mmdbtype.Map{}
			for k, v := range n {
				out[mmdbtype.String(k)] = mmdbtype.String(v)
			}
			return mmdbtype.Map{"names": out}
		}
		if city != nil {
			m["city"] = toNames(city)
		}
		m["country"] = toNames(country)
		return m
	}
	for cidr, rec := range map[string]mmdbtype.Map{
		"81.19.64.0/19":  place(map[string]string{"ru": "Москва", "en": "Moscow"}, map[string]string{"ru": "Россия", "en": "Russia"}),
		"203.0.113.0/24": place(nil, map[string]string{"en": "Exampleland"}),
		"2001:db8::/32":  place(map[string]string{"en": "Kazan"}, map[string]string{"ru": "Россия"}),
	} {
		_, n, _ := net.ParseCIDR(cidr)
		if err := tree.Insert(n, rec); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "city.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLocate(t *testing.T) {
	l, err := geoip.Open(writeDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for ip, want := range map[string]string{
		"81.19.70.3":        "Москва, Россия",
		"::ffff:81.19.70.3": "Москва, Россия",
		"203.0.113.9":       "Exampleland",
		"2001:db8::1":       "Kazan, Россия",
		"198.51.100.1":      "",
		"10.0.0.1":          "",
		"127.0.0.1":         "",
		"not an ip":         "",
		"":                  "",
	} {
		if got := l.Locate(ip); got != want {
			t.Errorf("Locate(%q) = %q, want %q", ip, got, want)
		}
	}
	if _, err := geoip.Open(filepath.Join(t.TempDir(), "missing.mmdb")); err == nil {
		t.Fatal("a missing database opened")
	}
}
