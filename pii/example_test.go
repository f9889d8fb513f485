package pii_test

import (
	"context"
	"fmt"
	"log"

	"github.com/gosid/gosid/pii"
)

func Example() {
	ctx := context.Background()
	// In gosid the store is the database (*sqlstore.Store) and the master
	// key comes from the configuration.
	c, err := pii.New(pii.NewMemKeyStore(), pii.Options{MasterKey: testMaster(7), Logger: quiet})
	if err != nil {
		log.Fatal(err)
	}
	if err := c.Init(ctx); err != nil {
		log.Fatal(err)
	}

	// Store the ciphertext and the blind index; never the number.
	snils := "11223344595"
	aad := pii.AAD("account", "a1", "snils")
	ct, err := c.EncryptString(snils, aad)
	if err != nil {
		log.Fatal(err)
	}
	index := c.BlindIndex(pii.KindSNILS, snils)

	// Sign-in by SNILS: look the account up by the index of what was typed,
	// then decrypt to show it.
	fmt.Println(c.BlindIndex(pii.KindSNILS, "11223344595") == index)
	got, err := c.DecryptString(ctx, ct, aad)
	fmt.Println(got, err)
	// Copied to another account's row, it does not decrypt.
	_, err = c.DecryptString(ctx, ct, pii.AAD("account", "a2", "snils"))
	fmt.Println(err)
	// Output:
	// true
	// 11223344595 <nil>
	// pii: cannot decrypt (altered, truncated, or stored for another owner or field)
}
