package login

import (
	"context"
	"fmt"

	"github.com/gosid/gosid/selfservice"
)

// Self-service flow kinds.
const (
	KindLogin = "login"
)

// SelfFlow is a flow of this package: the engine's one flow record with the
// state each kind keeps in it.
type SelfFlow struct {
	*selfservice.Flow
	Rec *recState
}

// selfState is how a SelfFlow's own state is kept in the record.
type selfState struct {
	Rec *recState `json:"rec,omitempty"`
}

// newSelfFlow is a flow of kind in state, for the API or a browser.
func newSelfFlow(kind, state string, api bool, returnTo string) *SelfFlow {
	return &SelfFlow{Flow: &selfservice.Flow{Kind: kind, State: state, API: api, ReturnTo: returnTo}}
}

// recState is what a recovery carries between steps.
type recState struct {
	Channel   string `json:"channel"`
	Contact   string `json:"contact"`
	AccountID string `json:"account_id,omitempty"`
	Verified  bool   `json:"verified,omitempty"`
	// Taken marks a contact of another account (contact flow): no code is
	// sent and none is accepted.
	Taken bool `json:"taken,omitempty"`
}

// selfFlows keeps SelfFlows in the engine's flow store.
type selfFlows struct{ store *selfservice.FlowStore }

func (s selfFlows) encode(f *SelfFlow) error {
	return f.Encode(selfState{Rec: f.Rec})
}

func decode(f *selfservice.Flow) (*SelfFlow, error) {
	var st selfState
	if err := f.Decode(&st); err != nil {
		return nil, err
	}
	return &SelfFlow{Flow: f, Rec: st.Rec}, nil
}

// create stores a new flow and returns its flow token.
func (s selfFlows) create(ctx context.Context, f *SelfFlow) (string, error) {
	if err := s.encode(f); err != nil {
		return "", err
	}
	return s.store.Create(ctx, f.Flow)
}

func (s selfFlows) save(ctx context.Context, f *SelfFlow) error {
	if err := s.encode(f); err != nil {
		return err
	}
	return s.store.Save(ctx, f.Flow)
}

// load returns the flow of the given kind if token is its flow token;
// browser flows are refused to API callers and vice versa.
func (s selfFlows) load(ctx context.Context, id, kind string, api bool, token string) (*SelfFlow, error) {
	f, err := s.store.Load(ctx, id, kind, api, token)
	if err != nil {
		return nil, err
	}
	return decode(f)
}

// loadAny returns a flow of the given kind without checking its token: only
// for the e-mail link, whose own single-use token is the proof.
func (s selfFlows) loadAny(ctx context.Context, id, kind string) (*SelfFlow, error) {
	f, err := s.store.LoadAny(ctx, id, kind)
	if err != nil {
		return nil, err
	}
	return decode(f)
}

func (s selfFlows) delete(ctx context.Context, id string) error {
	if err := s.store.Delete(ctx, id); err != nil {
		return fmt.Errorf("end flow: %w", err)
	}
	return nil
}

func withRec(f *SelfFlow, st *recState) *SelfFlow { f.Rec = st; return f }
