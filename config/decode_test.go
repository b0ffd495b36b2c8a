package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

type decodeInner struct {
	Name string `config:"name,required"`
}

type decodeEmbedded struct {
	ClientID string `config:"clientId,required"`
}

type decodeTarget struct {
	decodeEmbedded
	Secret   string            `config:"secret"`
	On       bool              `config:"on"`
	N        int               `config:"n"`
	Timeout  time.Duration     `config:"timeout"`
	Opt      *bool             `config:"opt"`
	List     []string          `config:"list"`
	Scopes   StringOrList      `config:"scopes"`
	Params   map[string]string `config:"params"`
	Inner    decodeInner       `config:"inner"`
	Items    []decodeInner     `config:"items"`
	SignIn   Section           `config:"signIn"`
	Anything any               `config:"anything"`
}

func TestDecode(t *testing.T) {
	sec := SectionFromMap(map[string]any{
		"clientId": "c", "secret": 42, "on": "true", "n": "7", "timeout": "2m", "opt": false,
		"list": []any{"a", "b"}, "scopes": "x, y|z", "params": map[string]any{"k": "v"},
		"inner": map[string]any{"name": "i"}, "items": []any{map[string]any{"name": "j"}},
		"signIn": map[string]any{"resolvers": []any{}}, "anything": []any{1.5},
	})
	var d decodeTarget
	d.Timeout = time.Second
	if ps := Decode(sec, &d, DecodeOptions{}); len(ps) != 0 {
		t.Fatalf("problems: %v", ps)
	}
	want := decodeTarget{
		decodeEmbedded: decodeEmbedded{ClientID: "c"}, Secret: "42", On: true, N: 7, Timeout: 2 * time.Minute,
		List: []string{"a", "b"}, Scopes: StringOrList{"x", "y", "z"}, Params: map[string]string{"k": "v"},
		Inner: decodeInner{Name: "i"}, Items: []decodeInner{{Name: "j"}}, Anything: []any{1.5},
	}
	f := false
	want.Opt = &f
	got := d
	got.SignIn = Section{}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	if d.SignIn.Path() != "signIn" || !d.SignIn.Has("resolvers") {
		t.Errorf("signIn section = %+v", d.SignIn)
	}
}

func TestDecodeKeepsDefaultsAndPointersNil(t *testing.T) {
	var d decodeTarget
	d.Timeout = time.Second
	d.On = true
	ps := Decode(SectionFromMap(map[string]any{"clientId": "c", "inner": map[string]any{"name": "x"}}), &d, DecodeOptions{})
	if len(ps) != 0 || d.Timeout != time.Second || !d.On || d.Opt != nil || d.List != nil {
		t.Fatalf("problems %v, decoded %+v", ps, d)
	}
}

func TestDecodeProblems(t *testing.T) {
	sec := NewSection(map[string]any{"p": map[string]any{
		"secret": []any{1}, "on": "maybe", "timeout": "soon", "inner": "flat", "items": []any{"x", map[string]any{}},
		"typo": 1, "callbackUrl": "http://x",
	}}, map[string]string{"": "app-config.yaml"}).Sub("p")
	var d decodeTarget
	ps := Decode(sec, &d, DecodeOptions{Known: []string{"callbackUrl"}})
	for _, want := range []string{
		"p.clientId: missing required config value (app-config.yaml)",
		"p.secret: must be a string, got a list",
		`p.on: must be a boolean, got "maybe"`,
		"p.timeout: ",
		"p.inner: must be an object, got a string",
		"p.inner.name: missing required config value",
		"p.items[0]: must be an object, got a string",
		"p.items[1].name: missing required config value",
	} {
		if !hasProblem(ps, want) {
			t.Errorf("missing problem %q in\n%v", want, ps)
		}
	}
	if w := ps.Warnings(); len(w) != 1 || w[0].Path != "p.typo" || !strings.Contains(w[0].Message, "unknown key") {
		t.Errorf("warnings = %v, want one for p.typo", w)
	}
	var d2 decodeTarget
	ps = Decode(sec, &d2, DecodeOptions{Unknown: UnknownKeysError, Known: []string{"callbackUrl"}})
	found := false
	for _, p := range ps.Errors() {
		found = found || (p.Path == "p.typo" && p.Message == "unknown key")
	}
	if !found {
		t.Errorf("UnknownKeysError: no error for p.typo in %v", ps)
	}
}

func TestFieldKeys(t *testing.T) {
	keys := FieldKeys(&decodeTarget{})
	if keys[0] != "clientId" || len(keys) != 13 {
		t.Fatalf("keys = %v", keys)
	}
}
