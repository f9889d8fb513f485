// Package geoip names the approximate place of an IP address ("Москва,
// Россия") for the citizen's list of sessions, from a MaxMind-format
// database (GeoLite2-City, DB-IP City Lite or compatible) that the operator
// configures with GOSID_GEOIP_DB. Without one, places are simply not shown.
package geoip

import (
	"fmt"
	"net/netip"

	"github.com/oschwald/maxminddb-golang/v2"
)

// Locator looks places up in an open database.
type Locator struct {
	r *maxminddb.Reader
}

// Open opens the database at path.
func Open(path string) (*Locator, error) {
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("geoip: open %s: %w", path, err)
	}
	return &Locator{r: r}, nil
}

// Close releases the database.
func (l *Locator) Close() error { return l.r.Close() }

type names struct {
	Names map[string]string `maxminddb:"names"`
}

type record struct {
	City    names `maxminddb:"city"`
	Country names `maxminddb:"country"`
}

func (n names) pick() string {
	if v := n.Names["ru"]; v != "" {
		return v
	}
	return n.Names["en"]
}

// Locate returns "city, country" (Russian names where the database has
// them), the country alone, or "" for an unknown or private address.
func (l *Locator) Locate(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil || addr.IsPrivate() || addr.IsLoopback() {
		return ""
	}
	var rec record
	if err := l.r.Lookup(addr.Unmap()).Decode(&rec); err != nil {
		return ""
	}
	city, country := rec.City.pick(), rec.Country.pick()
	switch {
	case city != "" && country != "":
		return city + ", " + country
	case country != "":
		return country
	}
	return city
}
