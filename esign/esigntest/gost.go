package esigntest

import (
	"crypto/x509"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gosid/gosid/esign"
)

// RequireGOST skips the test when the OpenSSL GOST engine is missing,
// unless GOSID_TEST_GOST=1 (scripts/test installed it), where a missing
// engine fails the test.
func RequireGOST(t testing.TB) {
	t.Helper()
	out, err := exec.Command("openssl", "engine", "gost", "-t").CombinedOutput()
	if err == nil && strings.Contains(string(out), "available") {
		return
	}
	if os.Getenv("GOSID_TEST_GOST") == "1" || os.Getenv("CI") == "true" {
		t.Fatalf("the OpenSSL GOST engine is required (libengine-gost-openssl): %v: %s", err, out)
	}
	t.Skip("the OpenSSL GOST engine is not installed (apt-get install libengine-gost-openssl)")
}

const gostConf = `openssl_conf = openssl_def
[openssl_def]
engines = engine_section
[engine_section]
gost = gost_section
[gost_section]
engine_id = gost
default_algorithms = ALL
[ca]
default_ca = d
[d]
database = index.txt
crlnumber = crlnumber
default_md = md_gost12_256
default_crl_days = 1
`

// GOSTCA is a GOST R 34.10-2012 authority made with openssl and the GOST
// engine; it serves its CRL (made with openssl ca -gencrl) over HTTP.
type GOSTCA struct {
	Cert   *x509.Certificate
	CRLURL string
	dir    string
	mu     sync.Mutex
	n      int
}

type gostCitizen struct {
	ca        *GOSTCA
	cert, key string
}

func (ca *GOSTCA) openssl(t testing.TB, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Dir = ca.dir
	cmd.Env = append(os.Environ(), "OPENSSL_CONF="+filepath.Join(ca.dir, "openssl.cnf"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return out
}

func readCert(t testing.TB, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := esign.ParseCertificates(b)
	if err != nil {
		t.Fatal(err)
	}
	return cs[0]
}

// NewGOSTCA makes a GOST root authority named name.
func NewGOSTCA(t testing.TB, name string) *GOSTCA {
	t.Helper()
	RequireGOST(t)
	ca := &GOSTCA{dir: t.TempDir()}
	for f, s := range map[string]string{"openssl.cnf": gostConf, "index.txt": "", "crlnumber": "01\n"} {
		if err := os.WriteFile(filepath.Join(ca.dir, f), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ca.openssl(t, "genpkey", "-algorithm", "gost2012_256", "-pkeyopt", "paramset:A", "-out", "ca.key")
	ca.openssl(t, "req", "-x509", "-new", "-key", "ca.key", "-md_gost12_256", "-subj", "/CN="+name+"/O=Test CA",
		"-days", "3650", "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", "ca.pem")
	ca.Cert = readCert(t, filepath.Join(ca.dir, "ca.pem"))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ca.mu.Lock()
		defer ca.mu.Unlock()
		http.ServeFile(w, r, filepath.Join(ca.dir, "crl.pem"))
	}))
	t.Cleanup(srv.Close)
	ca.CRLURL = srv.URL + "/ca.crl"
	ca.gencrl(t)
	return ca
}

func (ca *GOSTCA) gencrl(t testing.TB) {
	ca.openssl(t, "ca", "-gencrl", "-keyfile", "ca.key", "-cert", "ca.pem", "-out", "crl.pem")
}

// Issue issues p a GOST R 34.10-2012 (256-bit) certificate valid for
// days from now.
func (ca *GOSTCA) Issue(t testing.TB, p Person, days int) *Citizen {
	t.Helper()
	ca.mu.Lock()
	ca.n++
	n := ca.n
	ca.mu.Unlock()
	key, csr, cert, ext := fmt.Sprintf("u%d.key", n), fmt.Sprintf("u%d.csr", n), fmt.Sprintf("u%d.pem", n), fmt.Sprintf("u%d.ext", n)
	subj := "/SN=" + p.FamilyName + "/GN=" + p.GivenName + "/CN=" + p.FamilyName + " " + p.GivenName
	if p.SNILS != "" {
		subj += "/SNILS=" + p.SNILS
	}
	if p.INN != "" {
		subj += "/INN=" + p.INN
	}
	if err := os.WriteFile(filepath.Join(ca.dir, ext), []byte("keyUsage=critical,digitalSignature,nonRepudiation\ncrlDistributionPoints=URI:"+ca.CRLURL+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ca.openssl(t, "genpkey", "-algorithm", "gost2012_256", "-pkeyopt", "paramset:A", "-out", key)
	ca.openssl(t, "req", "-new", "-utf8", "-key", key, "-md_gost12_256", "-subj", subj, "-out", csr)
	args := []string{"x509", "-req", "-in", csr, "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", fmt.Sprint(1000 + n),
		"-md_gost12_256", "-extfile", ext, "-out", cert}
	ca.openssl(t, append(args, "-days", fmt.Sprint(days))...)
	return &Citizen{Cert: readCert(t, filepath.Join(ca.dir, cert)), gost: &gostCitizen{ca: ca, cert: cert, key: key}}
}

// Revoke lists c in the CRL.
func (ca *GOSTCA) Revoke(t testing.TB, c *Citizen) {
	t.Helper()
	ca.mu.Lock()
	defer ca.mu.Unlock()
	ca.openssl(t, "ca", "-revoke", c.gost.cert, "-keyfile", "ca.key", "-cert", "ca.pem")
	ca.gencrl(t)
}

func (g *gostCitizen) signDetached(t testing.TB, msg []byte) []byte {
	t.Helper()
	in := filepath.Join(t.TempDir(), "msg")
	out := in + ".p7s"
	if err := os.WriteFile(in, msg, 0o600); err != nil {
		t.Fatal(err)
	}
	g.ca.openssl(t, "cms", "-sign", "-binary", "-in", in, "-signer", g.cert, "-inkey", g.key,
		"-md", "md_gost12_256", "-outform", "DER", "-out", out, "-nosmimecap")
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// SignRaw signs msg with the key: SHA-256 with RSA PKCS#1 v1.5 or ECDSA,
// or as openssl dgst -sign does with GOST.
func (c *Citizen) SignRaw(t testing.TB, msg []byte) []byte {
	t.Helper()
	g := c.gost
	if g == nil {
		return c.signRawGo(t, msg)
	}
	in := filepath.Join(t.TempDir(), "msg")
	if err := os.WriteFile(in, msg, 0o600); err != nil {
		t.Fatal(err)
	}
	g.ca.openssl(t, "dgst", "-md_gost12_256", "-sign", g.key, "-out", in+".sig", in)
	b, err := os.ReadFile(in + ".sig")
	if err != nil {
		t.Fatal(err)
	}
	return b
}
