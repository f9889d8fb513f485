package redis

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// endpoint is a parsed Open URL: exactly one of the fields is set.
type endpoint struct {
	single   *goredis.Options
	cluster  *goredis.ClusterOptions
	failover *goredis.FailoverOptions
}

// client builds the client; go-redis connects lazily, so this does no I/O.
func (e endpoint) client() goredis.UniversalClient {
	switch {
	case e.cluster != nil:
		return goredis.NewClusterClient(e.cluster)
	case e.failover != nil:
		return goredis.NewFailoverClient(e.failover)
	}
	return goredis.NewClient(e.single)
}

// parseURL reads the forms listed in the package comment. Errors never quote
// the URL, which may carry a password.
func parseURL(raw string) (endpoint, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return endpoint{}, errors.New("invalid URL: missing scheme")
	}
	base, topology, _ := strings.Cut(strings.ToLower(scheme), "+")
	if base != "redis" && base != "rediss" {
		return endpoint{}, fmt.Errorf("invalid URL: unsupported scheme %q", scheme)
	}
	switch topology {
	case "":
		o, err := goredis.ParseURL(base + "://" + rest)
		if err != nil {
			return endpoint{}, urlErr(err)
		}
		t := timeoutsOf(rest)
		t.apply(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout)
		return endpoint{single: o}, nil
	case "cluster":
		u, err := multiHostURL(base, rest, "6379")
		if err != nil {
			return endpoint{}, err
		}
		if p := strings.Trim(u.Path, "/"); p != "" && p != "0" {
			return endpoint{}, errors.New("invalid URL: a cluster has only database 0")
		}
		u.Path = ""
		o, err := goredis.ParseClusterURL(u.String())
		if err != nil {
			return endpoint{}, urlErr(err)
		}
		t := timeoutsOf(rest)
		t.apply(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout)
		return endpoint{cluster: o}, nil
	case "sentinel":
		u, err := multiHostURL(base, rest, "26379")
		if err != nil {
			return endpoint{}, err
		}
		if err := sentinelCredentials(u); err != nil {
			return endpoint{}, err
		}
		o, err := goredis.ParseFailoverURL(u.String())
		if err != nil {
			return endpoint{}, urlErr(err)
		}
		if o.MasterName == "" {
			return endpoint{}, errors.New("invalid URL: sentinel needs a master name (master-name@hosts or ?master_name=)")
		}
		t := timeoutsOf(rest)
		t.apply(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout)
		return endpoint{failover: o}, nil
	}
	return endpoint{}, fmt.Errorf("invalid URL: unsupported scheme %q", scheme)
}

// multiHostURL turns "[userinfo@]h1:p1,h2:p2[/path][?query]" into the form
// go-redis parses: the first host in the authority, the others as addr=
// query parameters.
func multiHostURL(base, rest, defaultPort string) (*url.URL, error) {
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	userinfo, hosts := "", authority
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		userinfo, hosts = authority[:i+1], authority[i+1:]
	}
	var addrs []string
	for _, h := range strings.Split(hosts, ",") {
		if h = strings.TrimSpace(h); h == "" {
			continue
		}
		a, err := hostPort(h, defaultPort)
		if err != nil {
			return nil, err
		}
		addrs = append(addrs, a)
	}
	if len(addrs) == 0 {
		return nil, errors.New("invalid URL: no hosts")
	}
	u, err := url.Parse(base + "://" + userinfo + "placeholder" + tail)
	if err != nil {
		return nil, urlErr(err)
	}
	u.Host = addrs[0]
	q := u.Query()
	for _, a := range addrs[1:] {
		q.Add("addr", a)
	}
	u.RawQuery = q.Encode()
	u.Fragment = ""
	return u, nil
}

func hostPort(h, defaultPort string) (string, error) {
	host, port, err := net.SplitHostPort(h)
	if err != nil {
		// No port: "host", "[::1]" or a bare "::1".
		host, port = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"), defaultPort
	}
	if host == "" {
		return "", errors.New("invalid URL: empty host")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("invalid URL: bad port %q", port)
	}
	return net.JoinHostPort(host, port), nil
}

// sentinelCredentials moves the master name from the userinfo to
// ?master_name=, and ?sentinel_username= and ?sentinel_password= to the
// userinfo, where go-redis reads the sentinels' credentials.
func sentinelCredentials(u *url.URL) error {
	q := u.Query()
	if u.User != nil {
		if _, hasPassword := u.User.Password(); hasPassword {
			return errors.New("invalid URL: sentinel userinfo is the master name; pass credentials as ?password= or ?sentinel_password=")
		}
		name := u.User.Username()
		if q.Has("master_name") && q.Get("master_name") != name {
			return errors.New("invalid URL: two different master names")
		}
		q.Set("master_name", name)
		u.User = nil
	}
	user, pass := q.Get("sentinel_username"), q.Get("sentinel_password")
	q.Del("sentinel_username")
	q.Del("sentinel_password")
	switch {
	case pass != "":
		u.User = url.UserPassword(user, pass)
	case user != "":
		u.User = url.User(user)
	}
	u.RawQuery = q.Encode()
	return nil
}

// urlErr drops the URL that net/url puts in its errors: it may hold a password.
func urlErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("invalid URL: %w", err)
}

// Default timeouts, shorter than go-redis's (5 s to dial, 3 s to read): a
// citizen waiting on a page should learn within about a second that Redis
// is away, and the circuit breaker then answers at once. A URL that sets a
// timeout keeps its own.
const (
	defaultDialTimeout = time.Second
	defaultIOTimeout   = time.Second
	defaultPoolTimeout = 1500 * time.Millisecond
)

// timeouts says which timeouts a URL sets itself.
type timeouts struct{ dial, read, write, pool bool }

func timeoutsOf(rest string) timeouts {
	_, query, _ := strings.Cut(rest, "?")
	q, _ := url.ParseQuery(query)
	return timeouts{dial: q.Has("dial_timeout"), read: q.Has("read_timeout"), write: q.Has("write_timeout"), pool: q.Has("pool_timeout")}
}

func (t timeouts) apply(dial, read, write, pool *time.Duration) {
	if !t.dial {
		*dial = defaultDialTimeout
	}
	if !t.read {
		*read = defaultIOTimeout
	}
	if !t.write {
		*write = defaultIOTimeout
	}
	if !t.pool {
		*pool = defaultPoolTimeout
	}
}
