package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosid/gosid/federation/devbank"
)

func TestBanksListCheck(t *testing.T) {
	t.Setenv("GOSID_DATA_DIR", t.TempDir())
	t.Setenv("GOSID_LOG_LEVEL", "error")
	dev, err := devbank.Start("127.0.0.1:0", devbank.Options{ClientID: "gosid", ClientSecret: "x", RedirectURI: "http://localhost:8080/bank/callback"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dev.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	_ = ln.Close()
	cfg := filepath.Join(t.TempDir(), "gosid.yaml")
	yaml := `banks:
  - {id: alive, name_ru: Живой, issuer: "` + dev.URL + `", client_id: gosid, vouches: [snils], enabled: true}
  - {id: dead, name_ru: Мёртвый, issuer: "` + dead + `", client_id: gosid, vouches: [snils], enabled: true}
`
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOSID_BANK_ALIVE_CLIENT_SECRET", "x")
	t.Setenv("GOSID_BANK_DEAD_CLIENT_SECRET", "y")
	out, err := gosid(t, "banks", "list", "--config", cfg)
	if err != nil || !strings.Contains(out, "alive") || !strings.Contains(out, "Мёртвый") || !strings.Contains(out, "client_secret_basic") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	out, err = gosid(t, "banks", "check", "--config", cfg)
	if err == nil || !strings.Contains(out, "ok") || !strings.Contains(out, "FAILED") {
		t.Fatalf("check: %v\n%s", err, out)
	}
	if !strings.Contains(err.Error(), "1 of 2") {
		t.Fatalf("check: %v", err)
	}
}
