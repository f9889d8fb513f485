package redis

import (
	"slices"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		url   string
		check func(t *testing.T, e endpoint)
	}{
		{"redis://127.0.0.1:6379/2", func(t *testing.T, e endpoint) {
			o := e.single
			if o == nil || o.Addr != "127.0.0.1:6379" || o.DB != 2 || o.TLSConfig != nil {
				t.Fatalf("got %+v", e)
			}
		}},
		{"rediss://u:p%40ss@cache.example:6380?dial_timeout=3s", func(t *testing.T, e endpoint) {
			o := e.single
			if o == nil || o.Addr != "cache.example:6380" || o.Username != "u" || o.Password != "p@ss" ||
				o.TLSConfig == nil || o.DialTimeout.Seconds() != 3 {
				t.Fatalf("got %+v", o)
			}
		}},
		{"redis+cluster://h1:7000,h2:7001,h3", func(t *testing.T, e endpoint) {
			o := e.cluster
			if o == nil || !slices.Equal(o.Addrs, []string{"h1:7000", "h2:7001", "h3:6379"}) || o.TLSConfig != nil {
				t.Fatalf("got %+v", e)
			}
		}},
		{"rediss+cluster://user:secret@h1:7000,[::1]:7001/?pool_size=20", func(t *testing.T, e endpoint) {
			o := e.cluster
			if o == nil || !slices.Equal(o.Addrs, []string{"h1:7000", "[::1]:7001"}) ||
				o.Username != "user" || o.Password != "secret" || o.TLSConfig == nil || o.PoolSize != 20 {
				t.Fatalf("got %+v", o)
			}
		}},
		{"redis+sentinel://mymaster@s1:26379,s2:26380,s3/1", func(t *testing.T, e endpoint) {
			o := e.failover
			if o == nil || o.MasterName != "mymaster" || o.DB != 1 ||
				!slices.Equal(o.SentinelAddrs, []string{"s1:26379", "s2:26380", "s3:26379"}) {
				t.Fatalf("got %+v", e)
			}
		}},
		{"rediss+sentinel://s1,s2?master_name=m&password=mp&sentinel_password=sp", func(t *testing.T, e endpoint) {
			o := e.failover
			if o == nil || o.MasterName != "m" || o.Password != "mp" || o.SentinelPassword != "sp" ||
				o.TLSConfig == nil || !slices.Equal(o.SentinelAddrs, []string{"s1:26379", "s2:26379"}) {
				t.Fatalf("got %+v", o)
			}
		}},
	} {
		t.Run(tc.url, func(t *testing.T) {
			e, err := parseURL(tc.url)
			if err != nil {
				t.Fatalf("parseURL: %v", err)
			}
			tc.check(t, e)
			_ = e.client().Close()
		})
	}
}

func TestParseURLErrors(t *testing.T) {
	for _, u := range []string{
		"",
		"127.0.0.1:6379",
		"http://127.0.0.1",
		"redis+mesh://h1",
		"redis://h:6379/notanumber",
		"redis://h:6379?no_such_option=1",
		"redis+cluster://",
		"redis+cluster://h1:notaport,h2",
		"redis+cluster://h1,h2/3",
		"redis+sentinel://s1,s2",
		"redis+sentinel://m:secret@s1",
		"redis+sentinel://m@s1?master_name=other",
		"redis+sentinel://m@s1:99999",
	} {
		if _, err := parseURL(u); err == nil {
			t.Errorf("parseURL(%q): no error", u)
		}
	}
}

func TestParseURLErrorHidesPassword(t *testing.T) {
	for _, u := range []string{
		"redis://user:hunter2@h:bad/0",
		"redis+cluster://user:hunter2@h1,h2/%zz",
		"redis+sentinel://m:hunter2@s1",
	} {
		_, err := parseURL(u)
		if err == nil {
			t.Fatalf("parseURL(%q): no error", u)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error for %q shows the password: %v", u, err)
		}
	}
}

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{
		"redis://127.0.0.1:6379/0",
		"rediss://u:p@h:1?dial_timeout=1",
		"redis+cluster://h1:1,h2:2",
		"redis+sentinel://m@s1:26379,s2/2?sentinel_password=x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := parseURL(s)
		if err != nil {
			return
		}
		set := 0
		for _, ok := range []bool{e.single != nil, e.cluster != nil, e.failover != nil} {
			if ok {
				set++
			}
		}
		if set != 1 {
			t.Fatalf("parseURL(%q) set %d kinds of options, want 1", s, set)
		}
	})
}
