package app

import (
	"crypto/rand"
	"crypto/tls"
	"net/http"

	"github.com/gosid/gosid/federation"
	"github.com/gosid/gosid/federation/devbank"
	fedoidc "github.com/gosid/gosid/federation/oidc"
	"github.com/gosid/gosid/selfservice/bank"
)

// DevBankID names the development bank.
const DevBankID = "devbank"

// newBanks builds the partner banks of the configuration. Nothing is
// fetched here: a bank that is down fails its own button, never the start
// of gosid nor its readiness. In development mode, unless turned off or
// configured otherwise, the development bank (fictional persons) runs on
// loopback and is offered too; stop ends it.
func (srv *Server) newBanks() (reg *federation.Registry, stop func(), err error) {
	cfg := srv.Config
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	opts := fedoidc.Options{RedirectURL: cfg.Issuer + bank.PathCallback, Transport: t}
	open := func(b *federation.Bank) (federation.Connector, error) { return fedoidc.New(b, opts) }
	if reg, err = federation.NewRegistry(cfg.Banks, open); err != nil {
		return nil, nil, err
	}
	stop = func() {}
	if !cfg.Dev || !cfg.DevBank {
		return reg, stop, nil
	}
	for _, b := range cfg.Banks {
		if b.ID == DevBankID {
			return reg, stop, nil
		}
	}
	secret := rand.Text()
	dev, err := devbank.Start("127.0.0.1:0", devbank.Options{ClientID: "gosid", ClientSecret: secret,
		RedirectURI: opts.RedirectURL})
	if err != nil {
		return nil, nil, err
	}
	b := &federation.Bank{ID: DevBankID, NameRU: "Банк для разработки", NameEN: "Development bank", Issuer: dev.URL,
		ClientID: "gosid", ClientSecret: secret, Claims: map[federation.Field]string{federation.BirthDate: "birthdate"},
		Vouches: []federation.Field{federation.FamilyName, federation.GivenName, federation.MiddleName, federation.BirthDate,
			federation.SNILS, federation.Passport},
		MinACR: devbank.ACR, Enabled: true}
	c, err := open(b)
	if err == nil {
		err = reg.Add(b, c)
	}
	if err != nil {
		_ = dev.Close()
		return nil, nil, err
	}
	srv.Log.Warn("development mode: the development bank (fictional persons) is offered for confirming identities", "url", dev.URL)
	return reg, func() { _ = dev.Close() }, nil
}
