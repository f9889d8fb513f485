package main

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// cmdPII manages the keys that encrypt personal data: "rotate" makes a new
// data key for new writes (old data stays readable); "rewrap" re-wraps
// every data key under the current master key after a master-key change
// (run every node with GOSID_MASTER_KEY set to the new key and
// GOSID_PREVIOUS_MASTER_KEYS to the old one, run rewrap, then drop the old
// key once rewrap reports 0).
func cmdPII(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "rotate" && args[0] != "rewrap") {
		return errors.New("usage: gosid pii rotate|rewrap")
	}
	var c common
	fs := newFlagSet("pii "+args[0], stderr)
	c.register(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	st, err := openStores(ctx, &c)
	if err != nil {
		return err
	}
	defer st.Close()
	if args[0] == "rotate" {
		if err := st.PII.RotateDataKey(ctx); err != nil {
			return fmt.Errorf("rotate data key: %w", err)
		}
		fmt.Fprintln(stdout, "a new data key encrypts new personal data; earlier data stays readable")
		return nil
	}
	n, err := st.PII.Rewrap(ctx)
	if err != nil {
		return fmt.Errorf("rewrap: %w", err)
	}
	fmt.Fprintf(stdout, "re-wrapped %d keys under the current master key\n", n)
	return nil
}
