package notify_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/gosid/gosid/notify"
)

func ExampleRender() {
	r, err := notify.Render(notify.Message{
		Channel:  notify.ChannelSMS,
		To:       "+79161234567",
		Template: "otp",
		Data:     map[string]string{"code": "123456", "minutes": "5"},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Text)

	r, err = notify.Render(notify.Message{
		Channel:  notify.ChannelEmail,
		To:       "ivan@example.com",
		Template: "recovery_code",
		Lang:     "en",
		Data:     map[string]string{"code": "123456", "minutes": "10"},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Subject)
	// Output:
	// Код gosid: 123456. Никому не сообщайте его. Действует 5 минут.
	// Your gosid access recovery code
}

// In development mode no SMS operator exists: the Router hands SMS to the
// outbox, where the development page (and tests) read the code.
func ExampleRouter_development() {
	outbox := notify.NewOutbox(0, slog.New(slog.DiscardHandler))
	router := &notify.Router{Outbox: outbox}
	err := router.Deliver(context.Background(), notify.Message{
		Channel:  notify.ChannelSMS,
		To:       "+79161234567",
		Template: "otp",
		Data:     map[string]string{"code": "654321", "minutes": "5", "purpose": "register"},
	})
	if err != nil {
		panic(err)
	}
	e, _ := outbox.Latest("+79161234567")
	fmt.Println(e.Message.Data["code"])
	fmt.Println(e.Text)
	// Output:
	// 654321
	// Код для регистрации в gosid: 654321. Никому не сообщайте его. Действует 5 минут.
}

func ExampleMask() {
	fmt.Println(notify.Mask("+79161234567"))
	fmt.Println(notify.Mask("ivan@example.com"))
	// Output:
	// +7******4567
	// i***@example.com
}
