package web

import (
	"fmt"
	"reflect"
	"time"
)

// Field is one exported field of a value, for pages that list records
// whose type belongs to another package (the development outbox).
type Field struct {
	Name  string
	Value string
}

// fieldsOf lists the exported, non-empty fields of a struct (or a pointer
// to one) as text; any other value is one unnamed field. A time is shown
// by when: the deployment's zone, as every other time on the pages.
func fieldsOf(when func(time.Time) string, v any) []Field {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
		if rv.IsNil() {
			return nil
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct || rv.Type() == reflect.TypeFor[time.Time]() {
		return []Field{{Value: text(when, rv)}}
	}
	var out []Field
	for i := 0; i < rv.NumField(); i++ {
		f := rv.Type().Field(i)
		if !f.IsExported() || rv.Field(i).IsZero() {
			continue
		}
		out = append(out, Field{Name: f.Name, Value: text(when, rv.Field(i))})
	}
	return out
}

func text(when func(time.Time) string, v reflect.Value) string {
	if t, ok := v.Interface().(time.Time); ok {
		return when(t)
	}
	return fmt.Sprint(v.Interface())
}
