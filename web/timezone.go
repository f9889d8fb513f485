package web

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Moscow is the default zone of pages and notices (UTC+3, no daylight
// saving since 2014).
var Moscow = func() *time.Location {
	if l, err := time.LoadLocation("Europe/Moscow"); err == nil {
		return l
	}
	return time.FixedZone("MSK", 3*60*60)
}()

// Location is the zone the Renderer shows times in.
func (r *Renderer) Location() *time.Location { return r.opts.Location }

// DateTime is t as a citizen reads it in lang: the deployment's local time
// with its zone, «03.12.2026 11:12 МСК».
func (r *Renderer) DateTime(lang string, t time.Time) string {
	t = t.In(r.opts.Location)
	return t.Format("02.01.2006 15:04") + " " + r.zoneName(lang, t)
}

// Date is t's day in the deployment's zone, «03.12.2026».
func (r *Renderer) Date(t time.Time) string { return t.In(r.opts.Location).Format("02.01.2006") }

// zoneName names t's zone: a translated name where there is one (tz.MSK:
// «МСК»), else its abbreviation, an offset reading «UTC+5».
func (r *Renderer) zoneName(lang string, t time.Time) string {
	abbr, off := t.Zone()
	if s := r.T(lang, "tz."+abbr); s != "tz."+abbr {
		return s
	}
	if !strings.HasPrefix(abbr, "+") && !strings.HasPrefix(abbr, "-") {
		return abbr
	}
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	s := "UTC" + sign + strconv.Itoa(off/3600)
	if m := off % 3600 / 60; m != 0 {
		s += fmt.Sprintf(":%02d", m)
	}
	return s
}

// timeOf is a template argument as a time: a time or a pointer to one.
func timeOf(v any) time.Time {
	switch t := v.(type) {
	case time.Time:
		return t
	case *time.Time:
		if t != nil {
			return *t
		}
	}
	return time.Time{}
}
