package redis_test

import (
	"context"
	"log"
	"time"

	"github.com/gosid/gosid/storage/redis"
)

// A one-time code that can be redeemed once, on any node.
func ExampleOpen() {
	ctx := context.Background()
	s, err := redis.Open(ctx, "redis+sentinel://mymaster@10.0.0.1:26379,10.0.0.2:26379/0", "gosid:")
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	if err := s.Put(ctx, "otp:flow-1", []byte("483920"), 5*time.Minute); err != nil {
		log.Fatal(err)
	}
	code, err := s.Take(ctx, "otp:flow-1")
	if err != nil {
		log.Fatal(err)
	}
	_ = code
}
